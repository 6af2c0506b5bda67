"""Roles are Django groups; what each role may do is a set of Django permissions.

Role checks deliberately ignore `is_superuser`: a superuser gets no bypass of roles or of
segregation of duties. Administrators configure the system; they do not take credit decisions.
"""

import functools

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RELATIONSHIP_MANAGER = "relationship_manager", _("Relationship manager")
    CREDIT_REVIEWER = "credit_reviewer", _("Credit reviewer")
    APPROVER = "approver", _("Approver")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    DISBURSEMENT_OFFICER = "disbursement_officer", _("Disbursement officer")
    DISBURSEMENT_CHECKER = "disbursement_checker", _("Disbursement checker")
    RISK_OFFICER = "risk_officer", _("Risk officer")
    BRANCH_HEAD = "branch_head", _("Branch head")
    ADMINISTRATOR = "administrator", _("Administrator")
    APPLICANT = "applicant", _("Applicant (SME owner)")


STAFF_ROLES = frozenset(Role) - {Role.APPLICANT}

# Which permissions each role holds: the loan application's (declared on
# applications.LoanApplication.Meta) and post-loan monitoring's (postloan models' Meta).
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.RELATIONSHIP_MANAGER: {
        "applications.create_application",
        "applications.submit_application",
        "applications.start_investigation",
        "applications.send_to_approval",
        "applications.request_information",
        "applications.resume_application",
        "applications.record_contract",
        "applications.withdraw_application",
        "postloan.record_repayment",
        "postloan.propose_classification",
        "postloan.flag_loan",
        "postloan.propose_write_off",
        "postloan.complete_inspection",
    },
    Role.CREDIT_REVIEWER: {
        "applications.decide_application",
        "applications.request_information",
    },
    Role.APPROVER: {
        "applications.decide_application",
        "applications.request_information",
    },
    Role.COMMITTEE_MEMBER: {"applications.decide_application"},
    Role.DISBURSEMENT_OFFICER: {
        "applications.disburse_application",
        "postloan.record_repayment",
    },
    Role.DISBURSEMENT_CHECKER: {"applications.disburse_application"},
    Role.RISK_OFFICER: {
        "applications.close_application",
        "applications.write_off_application",
        "applications.decide_application",
        "postloan.record_repayment",
        "postloan.decide_classification",
        "postloan.triage_alert",
        "postloan.flag_loan",
        "postloan.propose_write_off",
        "postloan.decide_write_off",
        "postloan.complete_inspection",
    },
    Role.BRANCH_HEAD: set(),
    Role.ADMINISTRATOR: set(),
    Role.APPLICANT: {
        "applications.submit_application",
        "applications.record_contract",
        "applications.withdraw_application",
    },
}


def roles_of(user) -> frozenset[str]:
    """The user's roles, cached on the user instance for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_loanflow_roles", None)
    if cached is None:
        _load_access(user)
        cached = user._loanflow_roles
    return cached


def _loaded_branch(user):
    """The user's branch if it was loaded with the user (no query otherwise), else None."""
    from django.core.exceptions import ObjectDoesNotExist

    from org.models import Branch, StaffProfile

    descriptor = getattr(type(user), "staff_profile", None)
    if descriptor is None or not descriptor.is_cached(user):
        return None
    try:
        profile = user.staff_profile
    except ObjectDoesNotExist:
        return None
    if not StaffProfile.branch.is_cached(profile):
        return None
    branch = profile.branch
    return branch if isinstance(branch, Branch) else None


# The user's roles and their branch's subtree, as two columns aggregated into one text each:
# in the authentication query (org.auth), so that an API request learns its user, profiles,
# roles and branch scope in a single statement, and in _load_access for any other user. Group
# names and ids never hold the unit separator.
ACCESS_SEPARATOR = "\x1f"


def access_columns(*, user_alias: str, branch_alias: str) -> tuple[str, list]:
    """The SELECT-list SQL of the user's role names and of the ids of their branch's subtree
    (NULL when none), for a query where `user_alias` is auth_user and `branch_alias` the
    user's branch; and its parameters."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from loanflow.rawsql import quote, table
    from org.models import Branch

    aggregate = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    memberships = get_user_model().groups.through
    id_, path = quote("id"), quote("path")
    # The branch's path as a LIKE prefix: \, % and _ escaped (a code may hold an underscore).
    prefix = (f"replace(replace(replace({branch_alias}.{path}, '\\', '\\\\'), "
              f"'%%', '\\%%'), '_', '\\_') || '%%'")
    roles = (f"(SELECT {aggregate}(rg.{quote('name')}, %s) FROM {table(Group)} rg "
             f"JOIN {table(memberships)} rug ON rug.{quote('group_id')} = rg.{id_} "
             f"WHERE rug.{quote('user_id')} = {user_alias}.{id_})")
    subtree = (f"(SELECT {aggregate}(CAST(sb.{id_} AS TEXT), %s) FROM {table(Branch)} sb "
               f"WHERE sb.{path} LIKE {prefix} ESCAPE '\\')")
    return f"{roles}, {subtree}", [ACCESS_SEPARATOR, ACCESS_SEPARATOR]


def access_loaded(user, *, roles: str | None, branch_ids: str | None) -> None:
    """Keep on `user` the roles and the subtree read by the columns of access_columns (the
    subtree only for a user loaded with a branch below head office)."""
    user._loanflow_roles = frozenset(roles.split(ACCESS_SEPARATOR)) if roles else frozenset()
    branch = _loaded_branch(user)
    if branch is not None and not branch.is_head_office:
        user._loanflow_branch_ids = ([int(i) for i in branch_ids.split(ACCESS_SEPARATOR)]
                                     if branch_ids else [])


@functools.cache
def _access_sql() -> tuple[str, list]:
    """The user's roles and, given the branch they came with, its subtree: access_columns
    over one user row and that branch; the parameters before the branch's and user's ids."""
    from django.contrib.auth import get_user_model

    from loanflow.rawsql import quote, table
    from org.models import Branch

    access, params = access_columns(user_alias="u", branch_alias="b")
    id_ = quote("id")
    return (f"SELECT {access} FROM {table(get_user_model())} u "
            f"LEFT JOIN {table(Branch)} b ON b.{id_} = %s WHERE u.{id_} = %s"), params


def _load_access(user) -> None:
    """Roles and, when the user came with their staff profile and branch, the branch's
    subtree, in one statement, for a user not loaded by org.auth (which reads them with the
    user)."""
    from django.db import connection

    branch = _loaded_branch(user)
    sql, params = _access_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, branch.pk if branch is not None else None, user.pk])
        row = cursor.fetchone()
    roles, branch_ids = row if row is not None else (None, None)
    access_loaded(user, roles=roles, branch_ids=branch_ids)


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def role_permissions(user) -> frozenset[str]:
    """Permissions the user holds through roles (never through is_superuser)."""
    cached = getattr(user, "_loanflow_role_perms", None)
    if cached is None:
        perms: set[str] = set()
        for role in roles_of(user):
            perms |= ROLE_PERMISSIONS.get(role, set())
        cached = frozenset(perms)
        user._loanflow_role_perms = cached
    return cached


def has_role_perm(user, permission: str) -> bool:
    return permission in role_permissions(user)


def primary_role(user, among: set[str] | None = None) -> str:
    """The role recorded in the audit trail for an action by `user`."""
    roles = roles_of(user)
    if among:
        roles = roles & among or roles
    order = [role.value for role in Role]
    for role in order:
        if role in roles:
            return role
    return "system" if user is None else ""


def sync_role_groups(**kwargs) -> None:
    """Create one group per role and give it the role's Django permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in ROLE_PERMISSIONS.get(role.value, set()):
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm:
                wanted.append(perm)
        group.permissions.set(wanted)
