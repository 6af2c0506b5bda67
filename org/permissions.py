"""What each role may do, as django-rules rules: one rule per product permission.

A rule is the role part (one of the user's roles' groups holds the permission in the
database, as the admin edits it; org.roles.role_grants reads it once per request) and, where
the permission is about one application, the object rules of segregation of duties on top
(applications.permissions), whatever the group holds. `has_role_perm` tests a rule; it never
looks at `is_superuser`: administrators configure the system, they do not take credit
decisions. Tested without an object, a rule answers whether the role may take the action at
all (the object rules do not refuse then).
"""

import rules
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission, IsAuthenticated

from applications.permissions import (
    filed_it,
    investigated_it,
    manages_it,
    recorded_the_disbursement,
)
from common.errors import Forbidden
from complaints.permissions import handles_it
from org.roles import ROLE_PERMISSIONS, Role, role_permissions, roles_of
from org.selectors import is_sme_owner

# --- Role predicates: one per role, from the user's groups -------------------------------


def _holds(role: Role) -> rules.Predicate:
    @rules.predicate(name=f"is_{role.value}")
    def holds(user) -> bool:
        return role.value in roles_of(user)

    return holds


is_relationship_manager = _holds(Role.RELATIONSHIP_MANAGER)
is_credit_reviewer = _holds(Role.CREDIT_REVIEWER)
is_approver = _holds(Role.APPROVER)
is_committee_member = _holds(Role.COMMITTEE_MEMBER)
is_disbursement_officer = _holds(Role.DISBURSEMENT_OFFICER)
is_disbursement_checker = _holds(Role.DISBURSEMENT_CHECKER)
is_risk_officer = _holds(Role.RISK_OFFICER)
is_branch_head = _holds(Role.BRANCH_HEAD)
is_administrator = _holds(Role.ADMINISTRATOR)
is_applicant = _holds(Role.APPLICANT)


def a_role_grants(permission: str) -> rules.Predicate:
    """One of the user's roles holds `permission` (its group's permissions in the database)."""

    @rules.predicate(name=f"a_role_grants:{permission}")
    def grants(user) -> bool:
        return permission in role_permissions(user)

    return grants


# --- The rules -------------------------------------------------------------------------------

# The object rules each permission has on top of the role's, when tested with an object.
OBJECT_RULES: dict[str, rules.Predicate] = {
    # 审贷分离: whoever filed, manages or investigated an application never decides it.
    "applications.decide_application": ~filed_it & ~manages_it & ~investigated_it,
    # Maker-checker: whoever recorded the disbursement does not confirm it.
    "applications.disburse_application": ~recorded_the_disbursement,
    # A complaint is handled by its relationship manager or a branch head over its branch.
    "complaints.handle_complaint": handles_it,
}

PRODUCT_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())

PERMISSIONS = rules.RuleSet()
for _permission in sorted(PRODUCT_PERMISSIONS):
    PERMISSIONS.add_rule(
        _permission, a_role_grants(_permission) & OBJECT_RULES.get(_permission, rules.always_allow)
    )


def has_role_perm(user, permission: str, obj=None) -> bool:
    """May `user` do `permission` (on `obj`)? Through their roles only, never is_superuser."""
    return PERMISSIONS.test_rule(permission, user, obj)


class HasRule(BasePermission):
    """DRF: the request's user passes the rule `permission` (without an object; the service
    checks the object rules with the object). `permission_classes = [HasRule("app.perm")]`."""

    def __init__(self, permission: str):
        self.permission = permission

    def __call__(self):
        return self

    def has_permission(self, request, view) -> bool:
        # Forbidden rather than False: the answer has the API's body ({"detail", "code"}).
        if not has_role_perm(request.user, self.permission):
            raise Forbidden()
        return True


# --- Who an endpoint is for: the bank's staff, SME owners, or both ----------------------------
#
# REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES is StaffOnly: every API view is internal to the
# bank unless it says otherwise, so an endpoint added tomorrow refuses owners without anyone
# remembering to. The owners' own endpoints (/api/v1/portal/, the portal app) say OwnersOnly;
# the few that are about the user rather than the bank's work (who am I, my notifications)
# say OpenToOwners. A view that sets its own permission_classes keeps StaffOnly among them.
# tests/core/test_owner_scope.py walks every API path as an owner and lists what each answers.


class StaffOnly(IsAuthenticated):
    """Signed in, and not an SME owner: an owner's token gets 403 on an internal endpoint,
    whatever application it names (their own included)."""

    message = _("This endpoint is internal to the bank; SME owners use /api/v1/portal/.")

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if is_sme_owner(request.user):
            raise Forbidden(self.message, code="staff_only")
        return True


class OwnersOnly(IsAuthenticated):
    """Signed in as an SME owner with a company (the portal's user): staff use the internal
    endpoints, which show them more."""

    message = _("This endpoint is for SME owners; staff use the internal endpoints.")

    def has_permission(self, request, view) -> bool:
        from applications.selectors import is_portal_user

        if not super().has_permission(request, view):
            return False
        if not is_portal_user(request.user):
            raise Forbidden(self.message, code="owners_only")
        return True


class OpenToOwners(IsAuthenticated):
    """Any signed-in user, owners too: for endpoints about the user themselves (who am I,
    their notifications), never about the bank's handling of an application."""
