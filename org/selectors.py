from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q, QuerySet

from org.models import Branch
from org.roles import STAFF_ROLES, Role, roles_of


def staff_branch(user) -> Branch | None:
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return profile.branch if profile else None


def is_staff_member(user) -> bool:
    return bool(roles_of(user) & STAFF_ROLES) and staff_branch(user) is not None


def is_sme_owner(user) -> bool:
    """An SME owner (the applicant role) who is not also a member of staff: what the bank
    keeps internal (routes, grades, staff names and comments, monitoring) is never theirs to
    read, and they reach only the pages and endpoints opened to owners (org.audience)."""
    return Role.APPLICANT in roles_of(user) and not is_staff_member(user)


def branch_subtree_ids(branch: Branch) -> list[int]:
    """The ids of the branch and the branches below it (one query)."""
    return list(_subtree(branch.path).values_list("id", flat=True))


def _subtree(path) -> QuerySet[Branch]:
    return Branch.objects.filter(path__startswith=path)


def branch_subtree_column(path_ref: str) -> ArraySubquery:
    """branch_subtree_ids as one array column of the query that reads the user (org.auth),
    for the staff branch whose path is `path_ref` in that query."""
    return ArraySubquery(_subtree(OuterRef(path_ref)).values("id"))


def remember_branch_subtree(user, ids: list[int] | None) -> None:
    """Keep the subtree of the user's branch, read with the user, for branch_scope_ids."""
    if ids is not None:
        user._loanflow_branch_ids = ids


def branch_scope_ids(user) -> list[int] | None:
    """The branch ids the user's scope covers: None for all (head office), [] for none. The
    subtree is resolved once per request (cached on the user)."""
    branch = staff_branch(user)
    if branch is None or not is_staff_member(user):
        return []
    if branch.is_head_office:
        return None
    ids = getattr(user, "_loanflow_branch_ids", None)
    if ids is None:
        ids = user._loanflow_branch_ids = branch_subtree_ids(branch)
    return ids


def branch_scope_q(user, *, field: str = "branch") -> Q:
    """A filter restricting rows to the user's branch and the branches below it.

    Head-office staff see everything; a user without a branch sees nothing. The subtree is an
    `IN` list on the row's own branch column: it uses the (…, branch, …) indexes and needs no
    join to org_branch.
    """
    ids = branch_scope_ids(user)
    if ids is None:
        return Q()
    if not ids:
        return Q(pk__in=[])
    return Q(**{f"{field}__in": ids})


def branches_in_scope(user) -> QuerySet[Branch]:
    """The branches the user's scope covers, in tree order (the filters' choices)."""
    return Branch.objects.filter(branch_scope_q(user, field="id")).order_by("path")


def user_sees_branch(user, branch: Branch) -> bool:
    own = staff_branch(user)
    return bool(own and is_staff_member(user) and own.contains(branch))


def branch_and_ancestor_paths(branch: Branch) -> list[str]:
    """The materialised paths of the branch and of every branch above it ("HO/BJ/BJ01/" ->
    "HO/", "HO/BJ/", "HO/BJ/BJ01/"), read from its own path: no query."""
    parts = branch.path.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def staff_serving_q(*, branch: Branch, role: str, prefix: str = "") -> Q:
    """A filter on users: active staff holding `role` whose scope covers `branch` (their own
    branch is it or one above it), the rule of user_sees_branch and of the role queues
    (approvals.selectors.task_scope_q) turned around to find the people."""
    return Q(
        **{
            f"{prefix}is_active": True,
            f"{prefix}groups__name": role,
            f"{prefix}staff_profile__branch__path__in": branch_and_ancestor_paths(branch),
        }
    )


def staff_serving(*, branch: Branch, role: str) -> QuerySet:
    """The people holding `role` whose scope covers `branch` (one query), nearest branch
    first, with their staff profile and branch."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(staff_serving_q(branch=branch, role=role))
        .select_related("staff_profile__branch")
        .order_by("-staff_profile__branch__path", "pk")
    )


def branch_heads_over(branch: Branch) -> list:
    """The branch heads of the branch, else of the nearest branch above it that has one (the
    people an escalation reaches; one query)."""
    heads = list(staff_serving(branch=branch, role=Role.BRANCH_HEAD))
    if not heads:
        return []
    nearest = heads[0].staff_profile.branch.path
    return [head for head in heads if head.staff_profile.branch.path == nearest]
