"""Roles are Django groups; what each role may do is a set of Django permissions.

Role checks deliberately ignore `is_superuser`: a superuser gets no bypass of roles or of
segregation of duties. Administrators configure the system; they do not take credit decisions.
"""

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
    """The user's roles (the names of their groups), cached on the user for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_loanflow_roles", None)
    if cached is None:
        cached = user._loanflow_roles = frozenset(user.groups.values_list("name", flat=True))
    return cached


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
