"""Roles are Django groups; what each role may do is its group's Django permissions.

Role checks deliberately ignore `is_superuser`: a superuser gets no bypass of roles or of
segregation of duties. Administrators configure the system; they do not take credit decisions.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
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

# The roles that sign in with a second factor (TOTP) after the password, and confirm a credit
# decision, a committee close, a disbursement and a write-off with a fresh one (step-up):
# those who take credit decisions (a credit reviewer's decline ends an application) or commit
# the bank's money, and those who administer the system (org.second_factor).
SECOND_FACTOR_ROLES = frozenset(
    {
        Role.CREDIT_REVIEWER,
        Role.APPROVER,
        Role.COMMITTEE_MEMBER,
        Role.DISBURSEMENT_CHECKER,
        Role.RISK_OFFICER,
        Role.ADMINISTRATOR,
    }
)

# The permissions a role's group is created with: the loan application's (declared on
# applications.LoanApplication.Meta), post-loan monitoring's (postloan models' Meta), the
# company bindings' (customers.CompanyBinding.Meta), the post-review concerns'
# (approvals.PostReviewConcern.Meta), complaints' (complaints.Complaint.Meta) and
# facilities' (facilities.Facility.Meta).
# After that the group's permissions in the database are what the role may do
# (org.permissions).
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
        "contracts.prepare_contracts",
        "contracts.sign_contract",
        "postloan.record_repayment",
        "postloan.file_prepayment",
        "postloan.propose_classification",
        "postloan.flag_loan",
        "postloan.propose_write_off",
        "postloan.complete_inspection",
        "customers.confirm_companybinding",
        "customers.revoke_companybinding",
        "complaints.record_complaint",
        "complaints.handle_complaint",
    },
    # A post-reviewer's concern is cleared by a credit reviewer or the branch head who did
    # not raise it (approvals.services.post_review_concern_clear).
    Role.CREDIT_REVIEWER: {
        "applications.decide_application",
        "applications.request_information",
        "approvals.clear_concern",
    },
    Role.APPROVER: {
        "applications.decide_application",
        "applications.request_information",
        "facilities.approve_drawdown",
    },
    # Approving a rate below the pricing floor (pricing.calc) is for the committee and the
    # risk officers, not for an approver's own authority.
    Role.COMMITTEE_MEMBER: {"applications.decide_application", "pricing.approve_below_floor"},
    Role.DISBURSEMENT_OFFICER: {
        "applications.disburse_application",
        "postloan.record_repayment",
        "postloan.file_prepayment",
    },
    # A prepayment rebuilds the schedule or closes the loan: the checker who confirms
    # payouts confirms it, never the person who filed it (postloan.services).
    Role.DISBURSEMENT_CHECKER: {
        "applications.disburse_application",
        "postloan.confirm_prepayment",
    },
    Role.RISK_OFFICER: {
        "applications.close_application",
        "applications.write_off_application",
        "applications.decide_application",
        "pricing.approve_below_floor",
        "postloan.record_repayment",
        "postloan.decide_classification",
        "postloan.triage_alert",
        "postloan.flag_loan",
        "postloan.propose_write_off",
        "postloan.decide_write_off",
        "postloan.complete_inspection",
        "facilities.freeze_facility",
        "facilities.approve_drawdown",
    },
    # Who may act for a company on the portal: confirmed and revoked by the company's branch.
    Role.BRANCH_HEAD: {
        "approvals.clear_concern",
        "contracts.sign_for_bank",
        "customers.confirm_companybinding",
        "customers.revoke_companybinding",
        # A complaint is handled by the company's relationship manager or the head of its
        # branch (complaints.permissions).
        "complaints.record_complaint",
        "complaints.handle_complaint",
    },
    Role.ADMINISTRATOR: set(),
    Role.APPLICANT: {
        "applications.submit_application",
        "applications.record_contract",
        "applications.withdraw_application",
        "complaints.file_complaint",
        "contracts.sign_contract",
    },
}


def role_grants(user) -> dict[str, frozenset[str]]:
    """Each of the user's roles with the "app.codename" permissions its group holds in the
    database (what the admin edits). One query, read with the roles and cached on the user
    for the request (dropping `_loanflow_roles` drops it all); never through is_superuser."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    # getattr, not user.__dict__: request.user is a SimpleLazyObject.
    if getattr(user, "_loanflow_roles", None) is None:
        remember_role_grants(
            user,
            user.groups.values_list(
                "name", "permissions__content_type__app_label", "permissions__codename"
            ),
        )
    return user._loanflow_role_grants


def role_grant_rows(user_ref: str) -> ArraySubquery:
    """The user's (role, app label, codename) rows as one array column of the query that
    reads the user (org.auth): what role_grants would read next, in the same statement."""
    from django.contrib.auth.models import Group

    return ArraySubquery(
        Group.objects.filter(user=OuterRef(user_ref)).values(
            row=JSONObject(
                role="name",
                app_label="permissions__content_type__app_label",
                codename="permissions__codename",
            )
        )
    )


def remember_role_grants(user, rows) -> None:
    """Keep the user's roles and their groups' permissions on the user for the request, from
    (role, app label, codename) rows, codename None for a group without permissions."""
    grants: dict[str, set[str]] = {}
    for role, app_label, codename in rows:
        perms = grants.setdefault(role, set())
        if codename is not None:
            perms.add(f"{app_label}.{codename}")
    user._loanflow_role_grants = {role: frozenset(perms) for role, perms in grants.items()}
    user._loanflow_roles = frozenset(grants)
    user._loanflow_role_perms = frozenset().union(*grants.values())


def role_grants_load(users) -> None:
    """role_grants for many users in one query, kept on each as role_grants keeps them (a
    check run over many people, such as who may take an approval task, reads no more)."""
    from django.contrib.auth import get_user_model

    users = [user for user in users if getattr(user, "_loanflow_roles", None) is None]
    if not users:
        return
    rows: dict[int, list] = {user.pk: [] for user in users}
    for user_id, *row in (
        get_user_model()
        .groups.through.objects.filter(user_id__in=list(rows))
        .values_list(
            "user_id",
            "group__name",
            "group__permissions__content_type__app_label",
            "group__permissions__codename",
        )
    ):
        rows[user_id].append(row)
    for user in users:
        remember_role_grants(user, rows[user.pk])


def roles_of(user) -> frozenset[str]:
    """The user's roles (the names of their groups), cached on the user for the request."""
    return user._loanflow_roles if role_grants(user) else frozenset()


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def role_permissions(user) -> frozenset[str]:
    """Permissions the user holds through their roles' groups (never through is_superuser)."""
    return user._loanflow_role_perms if role_grants(user) else frozenset()


def roles_granting(user, permission: str) -> set[str]:
    """Which of the user's roles hold `permission` (the role the audit trail records)."""
    return {role for role, perms in role_grants(user).items() if permission in perms}


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


def sync_role_groups(*, using: str = "default", **kwargs) -> None:
    """Create the group of each role that has none, with the role's default permissions.

    An existing group is left as it is: its permissions are what the bank's administrator
    set in the admin, and they are what the role may do (org.permissions)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # The permissions of the apps after org in INSTALLED_APPS are created by their own
    # post_migrate, which on a fresh database has not run yet when org's does.
    for app_label in sorted(
        {dotted.split(".", 1)[0] for perms in ROLE_PERMISSIONS.values() for dotted in perms}
    ):
        create_permissions(global_apps.get_app_config(app_label), verbosity=0, using=using)
    existing = set(Group.objects.using(using).values_list("name", flat=True))
    for role in Role:
        if role.value in existing:
            continue
        group = Group.objects.using(using).create(name=role.value)
        wanted = [
            Permission.objects.using(using).get(
                content_type__app_label=app_label, codename=codename
            )
            for app_label, codename in (
                dotted.split(".", 1) for dotted in sorted(ROLE_PERMISSIONS.get(role.value, ()))
            )
        ]
        group.permissions.set(wanted)
