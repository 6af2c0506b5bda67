"""Reads of complaints: the owner's (their company's, through the portal's scope) and the
staff's (their branch subtree, head office all), the categories offered, who handles one and
what a user may do with it now."""

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_fsm import can_proceed, has_transition_perm

from applications.models import LoanApplication
from applications.selectors import applicant_company_id, is_portal_user
from audit.models import AuditEvent
from common.errors import NotFound
from complaints.models import TRANSITION_NAMES, Complaint, ComplaintCategory
from customers.models import Company
from org.permissions import has_role_perm
from org.roles import Role
from org.selectors import branch_heads_over, branch_scope_q, is_staff_member, staff_serving

SUBJECT_TYPE = "complaints.complaint"


def complaint_categories() -> QuerySet[ComplaintCategory]:
    """The categories a new complaint may be filed under, in their configured order."""
    return ComplaintCategory.objects.filter(is_active=True)


def _with_relations(qs: QuerySet[Complaint]) -> QuerySet[Complaint]:
    return qs.select_related("company", "branch", "category", "application", "relationship_manager")


# --- The owner's --------------------------------------------------------------------------


def portal_complaint_list(*, user) -> QuerySet[Complaint]:
    """The complaints of the company the owner acts for (filed by anyone who acts for it, or
    recorded by the bank on its behalf), newest first; nothing for anyone else."""
    company_id = applicant_company_id(user) if is_portal_user(user) else None
    if company_id is None:
        return Complaint.objects.none()
    return _with_relations(Complaint.objects.filter(company_id=company_id))


def portal_complaint_get(*, user, pk) -> Complaint:
    """One complaint of the owner's company: NotFound for any other, as for no such row."""
    complaint = portal_complaint_list(user=user).filter(pk=pk).first()
    if complaint is None:
        raise NotFound()
    return complaint


def portal_complaint_applications(*, user) -> QuerySet[LoanApplication]:
    """The owner's company's applications a complaint may be about (drafts are not the
    bank's yet), newest first."""
    company_id = applicant_company_id(user) if is_portal_user(user) else None
    return (
        LoanApplication.objects.filter(company_id=company_id)
        .exclude(status="draft")
        .select_related("product")
        .order_by("-created_at", "-id")
    )


# --- The staff's ----------------------------------------------------------------------------


def complaint_scope_q(user) -> Q:
    """The complaints a staff member sees: those of their branch subtree (head office all);
    nobody else sees any."""
    if not is_staff_member(user):
        return Q(pk__in=[])
    return branch_scope_q(user, field="branch")


# The staff list's status filter: a status, or "open" for the two that wait on the bank.
OPEN = "open"


def complaint_list(*, user, status: str = "", mine: bool = False) -> QuerySet[Complaint]:
    """The complaints in the staff member's scope, those still open first (oldest received
    first: the longest waiting), then the answered, newest first. `status`: one status or
    "open"; `mine`: only those given to them as relationship manager."""
    qs = Complaint.objects.filter(complaint_scope_q(user))
    if status == OPEN:
        qs = qs.filter(status__in=[Complaint.Status.RECEIVED, Complaint.Status.ACKNOWLEDGED])
    elif status in Complaint.Status.values:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(relationship_manager=user)
    is_open = Q(status__in=[Complaint.Status.RECEIVED, Complaint.Status.ACKNOWLEDGED])
    waiting = Case(When(is_open, then=Value(0)), default=Value(1), output_field=IntegerField())
    # Open ones oldest first (the key is null for the answered), the answered newest first.
    return _with_relations(qs).order_by(
        waiting,
        Case(When(is_open, then=F("received_at"))).asc(nulls_last=True),
        "-received_at",
        "-id",
    )


def complaint_get(*, user, pk, for_update: bool = False) -> Complaint:
    """One complaint in the staff member's scope (NotFound otherwise); locked FOR UPDATE (the
    complaint row only) with `for_update`, inside the caller's transaction."""
    qs = Complaint.objects.filter(complaint_scope_q(user))
    if for_update:
        qs = qs.select_for_update(of=("self",))
    complaint = _with_relations(qs).filter(pk=pk).first()
    if complaint is None:
        raise NotFound()
    return complaint


def complaint_company_get(*, user, company_id=None, credit_code: str = "") -> Company:
    """The company a staff member records a complaint for, by id or unified social credit
    code: a customer of a branch in their scope (NotFound otherwise)."""
    if not is_staff_member(user):
        raise NotFound()
    qs = Company.objects.filter(branch_scope_q(user, field="home_branch")).select_related(
        "home_branch"
    )
    if company_id is not None:
        company = qs.filter(pk=company_id).first()
    else:
        company = (
            qs.filter(credit_code=credit_code.strip().upper()).first() if credit_code else None
        )
    if company is None:
        raise NotFound()
    return company


def complaint_actions(*, user, complaint: Complaint) -> list[str]:
    """The transitions `user` may take on the complaint now (the detail page's buttons)."""
    if not has_role_perm(user, "complaints.handle_complaint", complaint):
        return []
    return [
        name
        for name in TRANSITION_NAMES
        if can_proceed(getattr(complaint, name), check_conditions=False)
        and has_transition_perm(getattr(complaint, name), user)
    ]


def complaint_handlers(*, complaint: Complaint) -> list:
    """Who handles the complaint and hears of it: its relationship manager (when active) and
    the branch heads of its branch, else of the nearest branch above that has one. A company
    without a relationship manager: the relationship managers of the nearest branch (its own
    or above) that has some, besides the heads."""
    people = {head.pk: head for head in branch_heads_over(complaint.branch)}
    manager = complaint.relationship_manager
    if manager is not None and manager.is_active:
        people.setdefault(manager.pk, manager)
    elif manager is None:
        managers = list(staff_serving(branch=complaint.branch, role=Role.RELATIONSHIP_MANAGER))
        nearest = managers[0].staff_profile.branch.path if managers else None
        for person in managers:
            if person.staff_profile.branch.path == nearest:
                people.setdefault(person.pk, person)
    return list(people.values())


# What each event of a complaint's trail says, for the detail page.
TRAIL_LABELS = {
    "complaint_file": gettext_lazy("Filed on the customer portal"),
    "complaint_record": gettext_lazy("Recorded by the bank"),
    "complaint_acknowledge": pgettext_lazy("complaint", "Acknowledged"),
    "complaint_resolve": pgettext_lazy("complaint", "Resolved"),
    "complaint_reject": pgettext_lazy("complaint", "Rejected"),
}


def complaint_trail(*, complaint: Complaint) -> list[AuditEvent]:
    """The complaint's audit trail, oldest first, with who acted and what each event says
    (`label`)."""
    events = list(
        AuditEvent.objects.filter(subject_type=SUBJECT_TYPE, subject_id=complaint.pk)
        .select_related("actor")
        .order_by("at", "id")
    )
    for event in events:
        event.label = str(TRAIL_LABELS.get(event.action, event.action))
    return events
