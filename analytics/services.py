"""Writes of the analytics app: stage visits (recorded as each stage ends), their backfill from
the audit trail, and the business-time recomputation."""

import functools
import logging
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from analytics.models import MEASURED_STAGES, StageVisit
from applications.models import LoanApplication, Status
from loanflow.rawsql import insert_row, update_row

logger = logging.getLogger(__name__)

STAGE_ORDER = {
    Status.DRAFT: 0, Status.SUBMITTED: 1, Status.INVESTIGATION: 2, Status.IN_APPROVAL: 3,
    Status.APPROVED: 4, Status.CONTRACT_SIGNED: 5, Status.DISBURSED: 6,
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


def business_seconds(start: datetime, end: datetime, *, region: str = "CN") -> tuple[int, bool]:
    """(seconds, exact): business seconds from the SLA calendar, or the calendar seconds with
    exact=False when no business calendar is available (recomputed later)."""
    calendar_seconds = max(0, int((end - start).total_seconds()))
    try:
        from sla.calendar import business_seconds_between, cached_calendar
    except ImportError:
        return calendar_seconds, False
    try:
        calendar = cached_calendar(region)
        if calendar is not None:  # nothing to read: no savepoint (two round trips) needed
            return max(0, int(business_seconds_between(start, end, calendar=calendar))), True
        # A savepoint: a missing calendar table must not abort the transition's transaction.
        with transaction.atomic():
            return max(0, int(business_seconds_between(start, end, region=region))), True
    except (DatabaseError, LookupError, ValueError, TypeError) as exc:
        logger.warning("Business time unavailable (%s); recording calendar time.", exc)
        return calendar_seconds, False


def _close(visit: StageVisit, *, left_at: datetime, transition: str, outcome: str, actor,
           actor_role: str, region: str, previous_left_at: datetime | None,
           previous_rework_left_at: datetime | None) -> None:
    visit.left_at = left_at
    visit.previous_left_at = previous_left_at
    visit.previous_rework_left_at = previous_rework_left_at
    visit.calendar_seconds = max(0, int((left_at - visit.entered_at).total_seconds()))
    visit.business_seconds, visit.business_time_exact = business_seconds(
        visit.entered_at, left_at, region=region)
    visit.transition = transition
    visit.outcome = outcome
    visit.actor = actor
    visit.actor_role = actor_role or ("system" if actor is None else "")
    visit.is_rework = is_rework(visit.stage, outcome)


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
    transition's transaction (analytics.receivers), so the visit commits with the move."""
    at = at or timezone.now()
    region = _region_of(application)
    common = {"branch_id": application.branch_id, "product_id": application.product_id,
              "route": application.route_recommendation or ""}
    visit, previous = _open_visit(application.pk)
    closed = None
    if visit is None and from_state in MEASURED_STAGES:
        # No open visit (the record predates analytics, or a draft): the stage began at the
        # previous transition, or when the application was filed.
        entered_at = _previous_transition_at(application, before=at)
        visit = StageVisit(application_id=application.pk, stage=from_state,
                           entered_at=entered_at, **common)
        last = StageVisit.objects.filter(
            application_id=application.pk, stage=from_state, left_at__isnull=False,
        ).aggregate(left=Max("left_at"), rework=Max("left_at", filter=Q(is_rework=True)))
        previous = (last["left"], last["rework"])
    if visit is not None:
        for key, value in common.items():
            setattr(visit, key, value)
        _close(visit, left_at=at, transition=transition, outcome=to_state, actor=actor,
               actor_role=actor_role, region=region, previous_left_at=previous[0],
               previous_rework_left_at=previous[1])
        if visit.pk:
            update_row(visit, _CLOSED_FIELDS)
        else:
            insert_row(visit)
        closed = visit
    if to_state in MEASURED_STAGES:
        insert_row(StageVisit(application_id=application.pk, stage=to_state, entered_at=at,
                              **common))
    return closed


# What closing a visit writes (_close and the application's branch, product and route).
_CLOSED_FIELDS = ["left_at", "previous_left_at", "previous_rework_left_at", "calendar_seconds",
                  "business_seconds", "business_time_exact", "transition", "outcome", "actor",
                  "actor_role", "is_rework", "branch", "product", "route"]


@functools.cache
def _open_visit_sql() -> tuple:
    """The SELECT of _open_visit, and the converters of its columns (the visit's, then the
    two times)."""
    from loanflow.rawsql import Columns, model_columns, quote, table

    visit_columns, left = model_columns(StageVisit, "v"), StageVisit._meta.get_field("left_at")
    visits, left_at = table(StageVisit), quote("left_at")
    same = (f"e.{quote('application_id')} = v.{quote('application_id')} "
            f"AND e.{quote('stage')} = v.{quote('stage')} AND e.{left_at} IS NOT NULL")
    sql = (f"SELECT {Columns(visit_columns).sql}, "
           f"(SELECT MAX(e.{left_at}) FROM {visits} e WHERE {same}), "
           f"(SELECT MAX(e.{left_at}) FROM {visits} e WHERE {same} "
           f"AND e.{quote('is_rework')}) "
           f"FROM {visits} v WHERE v.{quote('application_id')} = %s AND v.{left_at} IS NULL "
           f"ORDER BY v.{quote('entered_at')}, v.{quote('id')} LIMIT 1")
    return sql, Columns([*visit_columns, ("e", left), ("e", left)])


def _open_visit(application_id: int) -> tuple[StageVisit | None, tuple]:
    """The application's open visit, locked, with when the application last left that stage
    and last left it for rework: one statement, in plain SQL (every transition reads it, and
    composing it through the ORM cost more than running it)."""
    from django.db import connection

    from loanflow.rawsql import instance

    sql, columns = _open_visit_sql()
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF v"
    with connection.cursor() as cursor:
        cursor.execute(sql, [application_id])
        row = cursor.fetchone()
    if row is None:
        return None, (None, None)
    *values, last_left_at, last_rework_left_at = columns.convert(row)
    return instance(StageVisit, values), (last_left_at, last_rework_left_at)


def _previous_transition_at(application: LoanApplication, *, before: datetime) -> datetime:
    from audit.models import AuditEvent

    previous = (AuditEvent.objects
                .filter(application_id=application.pk, kind=AuditEvent.Kind.TRANSITION,
                        at__lt=before)
                .order_by("-at", "-id").values_list("at", flat=True).first())
    return previous or application.created_at


@transaction.atomic
def stage_visits_rebuild(*, application_ids: list[int]) -> int:
    """Rebuild the stage visits of these applications from their audit trail (for records
    that predate analytics, and for demo data written with back-dated audit rows). One query
    for the audit rows; the visits are bulk-inserted. Returns the number of visits written."""
    from audit.models import AuditEvent

    ids = list(application_ids)
    if not ids:
        return 0
    apps = {a.pk: a for a in LoanApplication.objects.filter(pk__in=ids).select_related("branch")}
    events = (AuditEvent.objects
              .filter(Q(kind=AuditEvent.Kind.TRANSITION) & ~Q(from_state="")
                      | Q(action="create"), application_id__in=ids)
              .order_by("application_id", "at", "id")
              .values_list("application_id", "at", "action", "from_state", "to_state",
                           "actor_id", "actor_role"))
    StageVisit.objects.filter(application_id__in=ids).delete()
    visits: list[StageVisit] = []
    open_visit: dict[int, StageVisit] = {}
    created: dict[int, datetime] = {}
    # (application, stage) -> when its last visit, and its last rework visit, ended.
    last_left: dict[tuple[int, str], datetime] = {}
    last_rework_left: dict[tuple[int, str], datetime] = {}
    for app_id, at, action, from_state, to_state, actor_id, actor_role in events.iterator():
        application = apps.get(app_id)
        if application is None:
            continue
        if action == "create" and not from_state:
            created[app_id] = at
            continue
        common = {"application_id": app_id, "branch_id": application.branch_id,
                  "product_id": application.product_id,
                  "route": application.route_recommendation or ""}
        visit = open_visit.pop(app_id, None)
        if visit is None and from_state in MEASURED_STAGES:
            # Demo rows are back-dated, so the filing time may come after the first move.
            entered_at = created.get(app_id, min(application.created_at, at))
            visit = StageVisit(stage=from_state, entered_at=entered_at, **common)
            visits.append(visit)
        if visit is not None:
            key = (app_id, visit.stage)
            _close(visit, left_at=at, transition=action, outcome=to_state, actor=None,
                   actor_role=actor_role, region=application.branch.region,
                   previous_left_at=last_left.get(key),
                   previous_rework_left_at=last_rework_left.get(key))
            visit.actor_id = actor_id
            last_left[key] = at
            if visit.is_rework:
                last_rework_left[key] = at
        if to_state in MEASURED_STAGES:
            nxt = StageVisit(stage=to_state, entered_at=at, **common)
            visits.append(nxt)
            open_visit[app_id] = nxt
    StageVisit.objects.bulk_create(visits, batch_size=1000)
    return len(visits)


def stage_visits_recompute_business_time(*, batch_size: int = 1000) -> int:
    """Fill in the business time of visits recorded while no business calendar was available.
    Returns how many visits were updated."""
    updated = 0
    while True:
        with transaction.atomic():
            rows = list(
                StageVisit.objects.select_for_update(skip_locked=True)
                .filter(business_time_exact=False, left_at__isnull=False)
                .select_related("branch").order_by("id")[:batch_size]
            )
            if not rows:
                return updated
            changed = []
            for visit in rows:
                seconds, exact = business_seconds(visit.entered_at, visit.left_at,
                                                  region=visit.branch.region)
                if not exact:
                    return updated
                visit.business_seconds, visit.business_time_exact = seconds, True
                changed.append(visit)
            StageVisit.objects.bulk_update(changed, ["business_seconds", "business_time_exact"])
            updated += len(changed)
