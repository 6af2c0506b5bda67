from django.db.models import Q

from org.models import Branch
from org.roles import STAFF_ROLES, roles_of


def staff_branch(user) -> Branch | None:
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return profile.branch if profile else None


def is_staff_member(user) -> bool:
    return bool(roles_of(user) & STAFF_ROLES) and staff_branch(user) is not None


def branch_scope_q(user, *, field: str = "branch") -> Q:
    """A filter restricting rows to the user's branch and the branches below it.

    Head-office staff see everything; a user without a branch sees nothing.
    """
    branch = staff_branch(user)
    if branch is None or not is_staff_member(user):
        return Q(pk__in=[])
    if branch.is_head_office:
        return Q()
    return Q(**{f"{field}__path__startswith": branch.path})


def user_sees_branch(user, branch: Branch) -> bool:
    own = staff_branch(user)
    return bool(own and is_staff_member(user) and own.contains(branch))
