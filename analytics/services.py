"""Writes of the analytics app: stage visits (recorded as each stage ends), their backfill from
the audit trail, the business-time recomputation, and the loans' positions at month ends (the
vintage curves)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analytics.models import MEASURED_STAGES, LoanMonthEnd, StageVisit
from applications.models import LoanApplication, Status
from audit.models import AuditEvent
from postloan.daily import loan_positions
from postloan.models import Loan
from postloan.position import LoanPosition
from sla.calendar import business_seconds_between

STAGE_ORDER = {
    Status.DRAFT: 0,
    Status.SUBMITTED: 1,
    Status.INVESTIGATION: 2,
    Status.IN_APPROVAL: 3,
    Status.APPROVED: 4,
    Status.CONTRACT_SIGNED: 5,
    Status.DISBURSED: 6,
}


def is_rework(from_state: str, to_state: str) -> bool:
    """A stage ends in rework when it goes back to an earlier stage or asks the applicant for
    information."""
    if to_state == Status.INFO_REQUESTED:
        return True
    if from_state in STAGE_ORDER and to_state in STAGE_ORDER:
        return STAGE_ORDER[to_state] < STAGE_ORDER[from_state]
    return False


def _region_of(application: LoanApplication) -> str:
    # Only if the branch is already loaded: a transition must not pay a query for this.
    branch = application._state.fields_cache.get("branch")
    return getattr(branch, "region", "") or "CN"


def business_seconds(start: datetime, end: datetime, *, region: str = "CN") -> int:
    """Business seconds from the region's SLA calendar (cached: sla.calendar)."""
    return max(0, int(business_seconds_between(start, end, region=region)))


@dataclass(frozen=True)
class Previous:
    """What a visit records, as it ends, of the application's visits that ended before it:
    when the application last left the visit's stage, and last left it for rework; and the
    same over all the measured stages (StageVisit's previous_* fields)."""

    stage_left_at: datetime | None = None
    stage_rework_left_at: datetime | None = None
    left_at: datetime | None = None
    rework_left_at: datetime | None = None

    @classmethod
    def of(cls, visits: list[StageVisit], stage: str) -> "Previous":
        """From the application's visits (the one ending among them, still open)."""
        ended = [v for v in visits if v.left_at is not None]
        same = [v for v in ended if v.stage == stage]
        return cls(
            stage_left_at=max((v.left_at for v in same), default=None),
            stage_rework_left_at=max((v.left_at for v in same if v.is_rework), default=None),
            left_at=max((v.left_at for v in ended), default=None),
            rework_left_at=max((v.left_at for v in ended if v.is_rework), default=None),
        )


def _close(
    visit: StageVisit,
    *,
    left_at: datetime,
    transition: str,
    outcome: str,
    actor,
    actor_role: str,
    region: str,
    previous: Previous,
) -> None:
    visit.left_at = left_at
    visit.previous_left_at = previous.stage_left_at
    visit.previous_rework_left_at = previous.stage_rework_left_at
    visit.application_previous_left_at = previous.left_at
    visit.application_previous_rework_left_at = previous.rework_left_at
    visit.calendar_seconds = max(0, int((left_at - visit.entered_at).total_seconds()))
    visit.business_seconds = business_seconds(visit.entered_at, left_at, region=region)
    visit.business_time_exact = True
    visit.transition = transition
    visit.outcome = outcome
    visit.actor = actor
    visit.actor_role = actor_role or ("system" if actor is None else "")
    visit.is_rework = is_rework(visit.stage, outcome)


@transaction.atomic(savepoint=False)
def stage_visit_record_transition(
    *,
    application: LoanApplication,
    transition: str,
    from_state: str,
    to_state: str,
    actor=None,
    actor_role: str = "",
    at: datetime | None = None,
) -> StageVisit | None:
    """Close the application's open stage visit and open the next one. Runs inside the
    transition's transaction, so the visit commits with the move."""
    at = at or timezone.now()
    region = _region_of(application)
    common = _copied_from(application)
    # An application has a handful of visits: read (and lock) them in one statement and find
    # the open one and when the application last left its stage here. The same read as one
    # row with two correlated MAX subqueries cost the client three times the CPU to compose.
    # No transition enters a draft: leaving it is the application's first transition, so it
    # has no visit yet and its draft began when it was filed (nothing to read).
    first = from_state == Status.DRAFT
    visits = (
        []
        if first
        else list(
            StageVisit.objects.select_for_update()
            .filter(application_id=application.pk)
            .order_by("entered_at", "id")
        )
    )
    visit = next((v for v in visits if v.left_at is None), None)
    closed = None
    if visit is None and from_state in MEASURED_STAGES:
        # No open visit (the record predates analytics, or a draft): the stage began at the
        # previous transition, or when the application was filed.
        entered_at = (
            application.created_at if first else _previous_transition_at(application, before=at)
        )
        visit = StageVisit(
            application_id=application.pk, stage=from_state, entered_at=entered_at, **common
        )
    if visit is not None:
        for key, value in common.items():
            setattr(visit, key, value)
        _close(
            visit,
            left_at=at,
            transition=transition,
            outcome=to_state,
            actor=actor,
            actor_role=actor_role,
            region=region,
            previous=Previous.of(visits, visit.stage),
        )
        if visit.pk:
            visit.save(update_fields=_CLOSED_FIELDS)
        closed = visit
    new = [closed] if closed is not None and closed.pk is None else []
    if opens_visit(application, to_state):
        new.append(
            StageVisit(application_id=application.pk, stage=to_state, entered_at=at, **common)
        )
    # A visit closed as it is first written (a draft's) and the next one: one INSERT.
    StageVisit.objects.bulk_create(new)
    return closed


def opens_visit(application: LoanApplication, stage: str) -> bool:
    """Whether entering `stage` opens a visit: a measured stage, except a facility
    application's signed contract. That contract activates the facility
    (facilities.services.facility_activate_on_contract) and nothing is paid out on it, so
    its stage ends there, as a loan's ends at disbursement: the facility's life (its
    drawdowns' loans have their own visits) is not process time."""
    if stage not in MEASURED_STAGES:
        return False
    return not (stage == Status.CONTRACT_SIGNED and application.is_facility_application)


def _copied_from(application: LoanApplication) -> dict:
    """What a visit copies from its application, as it is when the stage ends (StageVisit:
    the figures filter and group by them without joining the applications)."""
    return {
        "branch_id": application.branch_id,
        "product_id": application.product_id,
        "route": application.route_recommendation or "",
        "relationship_manager_id": application.relationship_manager_id,
    }


# What closing a visit writes (_close, and what it copies from the application).
_CLOSED_FIELDS = [
    "left_at",
    "previous_left_at",
    "previous_rework_left_at",
    "application_previous_left_at",
    "application_previous_rework_left_at",
    "calendar_seconds",
    "business_seconds",
    "business_time_exact",
    "transition",
    "outcome",
    "actor",
    "actor_role",
    "is_rework",
    "branch",
    "product",
    "route",
    "relationship_manager",
]


def _previous_transition_at(application: LoanApplication, *, before: datetime) -> datetime:
    previous = (
        AuditEvent.objects.filter(
            application_id=application.pk, kind=AuditEvent.Kind.TRANSITION, at__lt=before
        )
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    return previous or application.created_at


@transaction.atomic
def stage_visits_rebuild(*, application_ids: list[int]) -> int:
    """Rebuild the stage visits of these applications from their audit trail (for records
    that predate analytics, and for demo data written with back-dated audit rows). One query
    for the audit rows; the visits are bulk-inserted. Returns the number of visits written."""

    ids = list(application_ids)
    if not ids:
        return 0
    apps = {a.pk: a for a in LoanApplication.objects.filter(pk__in=ids).select_related("branch")}
    # A facility application's signed contract opens no visit (opens_visit).
    facility_ids = set(
        LoanApplication.objects.facility_applications()
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    events = (
        AuditEvent.objects.filter(
            Q(kind=AuditEvent.Kind.TRANSITION) & ~Q(from_state="") | Q(action="create"),
            application_id__in=ids,
        )
        .order_by("application_id", "at", "id")
        .values_list(
            "application_id", "at", "action", "from_state", "to_state", "actor_id", "actor_role"
        )
    )
    StageVisit.objects.filter(application_id__in=ids).delete()
    visits: list[StageVisit] = []
    open_visit: dict[int, StageVisit] = {}
    created: dict[int, datetime] = {}
    # (application, stage), and application (all its stages) -> when its last visit, and
    # its last rework visit, ended.
    last_left: dict[tuple[int, str] | int, datetime] = {}
    last_rework_left: dict[tuple[int, str] | int, datetime] = {}
    for app_id, at, action, from_state, to_state, actor_id, actor_role in events.iterator():
        application = apps.get(app_id)
        if application is None:
            continue
        if action == "create" and not from_state:
            created[app_id] = at
            continue
        common = {"application_id": app_id, **_copied_from(application)}
        visit = open_visit.pop(app_id, None)
        if visit is None and from_state in MEASURED_STAGES:
            # Demo rows are back-dated, so the filing time may come after the first move.
            entered_at = created.get(app_id, min(application.created_at, at))
            visit = StageVisit(stage=from_state, entered_at=entered_at, **common)
            visits.append(visit)
        if visit is not None:
            key = (app_id, visit.stage)
            _close(
                visit,
                left_at=at,
                transition=action,
                outcome=to_state,
                actor=None,
                actor_role=actor_role,
                region=application.branch.region,
                previous=Previous(
                    stage_left_at=last_left.get(key),
                    stage_rework_left_at=last_rework_left.get(key),
                    left_at=last_left.get(app_id),
                    rework_left_at=last_rework_left.get(app_id),
                ),
            )
            visit.actor_id = actor_id
            last_left[key] = last_left[app_id] = at
            if visit.is_rework:
                last_rework_left[key] = last_rework_left[app_id] = at
        if to_state in MEASURED_STAGES and not (
            to_state == Status.CONTRACT_SIGNED and app_id in facility_ids
        ):
            nxt = StageVisit(stage=to_state, entered_at=at, **common)
            visits.append(nxt)
            open_visit[app_id] = nxt
    StageVisit.objects.bulk_create(visits, batch_size=1000)
    return len(visits)


def stage_visits_recompute_business_time(*, batch_size: int = 1000) -> int:
    """Fill in the business time of visits recorded while no business calendar was available
    (rows written by earlier versions, which fell back to the calendar time). Returns how many
    visits were updated."""
    updated = 0
    while True:
        with transaction.atomic():
            rows = list(
                StageVisit.objects.select_for_update(skip_locked=True)
                .filter(business_time_exact=False, left_at__isnull=False)
                .select_related("branch")
                .order_by("id")[:batch_size]
            )
            if not rows:
                return updated
            for visit in rows:
                visit.business_seconds = business_seconds(
                    visit.entered_at, visit.left_at, region=visit.branch.region
                )
                visit.business_time_exact = True
            StageVisit.objects.bulk_update(rows, ["business_seconds", "business_time_exact"])
            updated += len(rows)


# --- Loan positions at month ends (the vintage curves) ---------------------------------------


def month_end_of(day: date) -> date:
    """The last day of `day`'s month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def loan_month_ends_record(*, month_end: date, batch_size: int = 2000) -> int:
    """Record every loan's position at `month_end` (a month's last day): the loans disbursed
    by then and not yet closed or written off at its end. The position is the nightly job's
    (postloan.daily.loan_positions: repayments with a value date up to the month end, allocated
    to the schedule oldest first),
    so a month end reads as the loan's page would have on that day. A second run of the same
    month replaces its rows (a late import of repayments corrects them). Returns the rows
    written."""
    if month_end != month_end_of(month_end):
        raise ValueError(f"{month_end} is not the last day of a month")
    loans = (
        Loan.objects.filter(disbursed_on__lte=month_end)
        .filter(Q(status=Loan.Status.ACTIVE) | Q(closed_at__date__gt=month_end))
        .order_by("pk")
        .values_list("pk", "branch_id", "disbursed_on")
    )
    written = 0
    batch: list[tuple] = []
    for row in loans.iterator(chunk_size=batch_size):
        batch.append(row)
        if len(batch) >= batch_size:
            written += _record_month_end(batch, month_end)
            batch = []
    if batch:
        written += _record_month_end(batch, month_end)
    return written


def _record_month_end(batch: list[tuple], month_end: date) -> int:
    positions = loan_positions(
        loan_ids=[pk for pk, _b, _d in batch], as_of=month_end, repaid_until=month_end
    )
    rows = []
    for pk, branch_id, disbursed_on in batch:
        position = positions.get(pk) or LoanPosition()
        rows.append(
            LoanMonthEnd(
                loan_id=pk,
                month_end=month_end,
                cohort=quarter_start(disbursed_on),
                months_on_book=months_between(disbursed_on, month_end),
                outstanding_principal=position.outstanding_principal,
                days_past_due=position.days_past_due,
                branch_id=branch_id,
            )
        )
    LoanMonthEnd.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["loan", "month_end"],
        update_fields=["cohort", "months_on_book", "outstanding_principal", "days_past_due"],
    )
    return len(rows)


def loan_month_ends_backfill(*, since: date, until: date | None = None) -> int:
    """Every month end from `since`'s month to the last month end before `until` (today)."""
    last = month_end_of((until or timezone.localdate()).replace(day=1) - timedelta(days=1))
    written, month_end = 0, month_end_of(since)
    while month_end <= last:
        written += loan_month_ends_record(month_end=month_end)
        month_end = month_end_of(month_end + timedelta(days=1))
    return written
