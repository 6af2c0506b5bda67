"""The daily job, set-based: one SQL statement per step for every active loan at once.

0. overdue interest (罚息): the day before the business date accrues on the principal overdue
   at its end, at the contract rate plus the product's surcharge (and, where the product
   compounds, on the overdue contract interest too); one row per loan and day;
1. positions: repayments pay the overdue interest accrued first, then the instalments (oldest
   first, interest before principal); outstanding, days past due;
2. classification floors (only ever worse; history rows inserted alongside, audit rows through
   audit.services): by days past due, and a restructured loan's floor through its monitoring
   period (postloan.changes);
3. inspections: next periodic due date by classification, tasks created when due soon;
4. early warnings: alerts for every rule that fires, extra inspections where configured; the
   new alerts' SLA clocks and one batch of notifications (postloan.services.alerts_raised).

Every step is idempotent: updates are guarded with IS DISTINCT FROM, inserts with the partial
unique constraints (ON CONFLICT DO NOTHING), so a second run the same day changes nothing.
`loan_ids` restricts a run to some loans (the repayment service recomputes one loan through the
same statements). Why SQL here and the ORM everywhere else: docs/adr/0001. Table and column
names come from the models' _meta (_Names); values from the models' choices, as parameters.
"""

import logging
import time
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from applications.models import DayCount, LoanApplication
from audit.models import AuditEvent
from audit.services import audit_record_many
from disbursement.models import Instalment
from postloan.models import (
    CLASS_RANK,
    Alert,
    ClassificationChange,
    ClassificationFloor,
    InspectionMethod,
    InspectionRule,
    InspectionTask,
    Loan,
    OverdueInterestAccrual,
    Repayment,
    ServicingTerms,
    WarningRule,
)
from postloan.position import LoanPosition
from postloan.reminders import repayment_reminders_send

logger = logging.getLogger(__name__)


class _Names:
    """A model's table and columns for SQL text, quoted, from its _meta: formatted alone it is
    the table; each attribute is the column of the field of that name ({loan.application}
    is "application_id")."""

    def __init__(self, model):
        self._meta = model._meta

    def __format__(self, spec: str) -> str:
        return connection.ops.quote_name(self._meta.db_table)

    def __getattr__(self, name: str) -> str:
        return connection.ops.quote_name(self._meta.get_field(name).column)


def _sql(template: str, **extra) -> str:
    return template.format(
        loan=_Names(Loan),
        repayment=_Names(Repayment),
        instalment=_Names(Instalment),
        floor=_Names(ClassificationFloor),
        inspection_rule=_Names(InspectionRule),
        change=_Names(ClassificationChange),
        task=_Names(InspectionTask),
        warning_rule=_Names(WarningRule),
        alert=_Names(Alert),
        accrual=_Names(OverdueInterestAccrual),
        application=_Names(LoanApplication),
        terms=_Names(ServicingTerms),
        **extra,
    )


# The values the statements compare and write, from the models' choices.
_VALUES = {
    "active": Loan.Status.ACTIVE,
    "periodic_rule": InspectionRule.Kind.PERIODIC,
    "periodic_task": InspectionTask.Kind.PERIODIC,
    "warning_task": InspectionTask.Kind.WARNING,
    "task_open": InspectionTask.Status.OPEN,
    "site_visit": InspectionMethod.SITE_VISIT,
    "alert_open": Alert.Status.OPEN,
    "automatic": ClassificationChange.Kind.AUTOMATIC,
    "applied": ClassificationChange.Status.APPLIED,
    "dpd_kinds": [WarningRule.Kind.OVERDUE_INSTALMENT, WarningRule.Kind.DPD_THRESHOLD],
    "litigation": WarningRule.Kind.LITIGATION,
    "guarantor_trouble": WarningRule.Kind.GUARANTOR_TROUBLE,
    "inspection_overdue": WarningRule.Kind.INSPECTION_OVERDUE,
    "actual_365": DayCount.ACTUAL_365,
}


def _rank_case(column: str) -> str:
    whens = " ".join(f"WHEN '{cls}' THEN {rank}" for cls, rank in CLASS_RANK.items())
    return f"(CASE {column} {whens} ELSE 0 END)"


def _class_case(column: str) -> str:
    whens = " ".join(f"WHEN {rank} THEN '{cls}'" for cls, rank in CLASS_RANK.items())
    return f"(CASE {column} {whens} END)"


def daily_run(*, as_of: date | None = None, loan_ids: list[int] | None = None) -> dict:
    """Recompute everything for active loans (all, or `loan_ids`). Returns counts."""
    as_of = as_of or timezone.localdate()
    started = time.monotonic()
    with transaction.atomic():
        counts = _run_sql(as_of=as_of, loan_ids=loan_ids)
        _start_clocks(counts.pop("new_task_ids"))
        counts["alert_notifications"] = _alerts_raised(counts.pop("new_alert_ids"))
    counts["seconds"] = round(time.monotonic() - started, 3)
    if loan_ids is None:
        logger.info("postloan daily job for %s: %s", as_of, counts)
    return counts


def daily_job_run(*, as_of: date | None = None) -> dict:
    """The nightly job, whoever starts it (the beat task, `manage.py postloan_daily`, the
    "Run the daily job now" API): the positions and everything after them (daily_run), then
    the exposure snapshot and the alerts of customers above a concentration limit in it
    (postloan.snapshot, postloan.exposure), then the owners' repayment reminders from the
    positions just computed, then the SLA clocks of inspections and alerts that have none
    yet (left over by a large run or a broker outage).
    Every step is idempotent, so running it twice a day sends and creates nothing more."""
    as_of = as_of or timezone.localdate()
    counts = daily_run(as_of=as_of)
    counts["exposure_alerts_raised"] = _exposure_limits_flag(as_of=as_of)
    counts["reminders_sent"] = repayment_reminders_send(as_of=as_of)
    counts["clocks_started"] = clocks_catch_up()
    return counts


def _exposure_limits_flag(*, as_of: date) -> int:
    """The bank's exposure as of tonight (a snapshot, postloan.snapshot: what the risk
    officer's view shows tomorrow), then the customers and groups whose exposure in it is
    above the active matrix version's limits (after a repayment reversal, a
    reclassification, a facility change): one alert per customer while it stays above, with
    its clocks and notifications."""
    from postloan.exposure import exposure_limits_flag
    from postloan.models import ExposureSnapshot
    from postloan.snapshot import exposure_snapshot_take

    snapshot = exposure_snapshot_take(trigger=ExposureSnapshot.Trigger.NIGHTLY)
    with transaction.atomic():
        alert_ids = exposure_limits_flag(snapshot=snapshot, as_of=as_of)
        _alerts_raised(alert_ids)
    return len(alert_ids)


# Clocks started inside the job's transaction; beyond this, a Celery task catches up in
# batches (a first run over a large book can create tens of thousands of inspections).
INLINE_CLOCKS = 200


def _start_clocks(task_ids: list[int]) -> None:
    """SLA clocks for tasks the job created (usually a handful a day, not one per loan)."""
    if not task_ids:
        return
    from postloan.services import task_clock_start

    tasks = InspectionTask.objects.filter(pk__in=task_ids[:INLINE_CLOCKS]).select_related(
        "loan__application__branch", "loan__application__product", "owner"
    )
    for task in tasks:
        task_clock_start(task=task)
    if len(task_ids) > INLINE_CLOCKS:
        from common.queue import enqueue_on_commit
        from postloan.tasks import start_missing_clocks

        enqueue_on_commit(start_missing_clocks)


def _alerts_raised(alert_ids: list[int]) -> int:
    """The clocks and the notifications of the run's new alerts: one batch for the run."""
    from postloan.services import alerts_raised

    return alerts_raised(alert_ids=alert_ids)


def tasks_without_clock(*, limit: int = 500) -> list[int]:
    """Open inspections that have no SLA deadline yet (oldest first)."""
    from sla.models import Deadline

    return list(
        InspectionTask.objects.filter(status=InspectionTask.Status.OPEN)
        .exclude(
            pk__in=Deadline.objects.filter(subject_type="postloan.inspectiontask").values(
                "subject_id"
            )
        )
        .order_by("due_date", "id")
        .values_list("id", flat=True)[:limit]
    )


def alerts_without_clock(*, limit: int = 500) -> list[int]:
    """Open alerts that have no SLA deadline yet (oldest first)."""
    from sla.models import Deadline

    return list(
        Alert.objects.filter(status=Alert.Status.OPEN)
        .exclude(pk__in=Deadline.objects.filter(subject_type="postloan.alert").values("subject_id"))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def clocks_catch_up(*, batch_size: int = 500, max_batches: int = 1000) -> int:
    """Start the clocks of open inspections and open alerts that have none, in batches.
    Returns how many."""
    from postloan.services import alert_clock_start, task_clock_start

    started = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            ids = alerts_without_clock(limit=batch_size)
            if not ids:
                break
            for alert in Alert.objects.filter(pk__in=ids).select_related(
                "loan__application__product", "loan__branch"
            ):
                alert_clock_start(alert=alert)
                started += 1
    for _batch in range(max_batches):
        with transaction.atomic():
            ids = tasks_without_clock(limit=batch_size)
            if not ids:
                break
            for task in InspectionTask.objects.filter(pk__in=ids).select_related(
                "loan__application__branch", "loan__application__product", "owner"
            ):
                task_clock_start(task=task)
                started += 1
    return started


# --- The statements --------------------------------------------------------------------------


def _run_sql(*, as_of: date, loan_ids: list[int] | None) -> dict:
    params = {"as_of": as_of, "ids": loan_ids or [], "repaid_until": None, **_VALUES}
    only = " AND l.{loan.id} = ANY(%(ids)s)" if loan_ids is not None else ""
    counts: dict = {}
    steps: dict[str, float] = {}
    mark = time.monotonic()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        steps[name] = round(now - mark, 3)
        mark = now

    with connection.cursor() as cursor:
        if loan_ids is None:
            # The whole book: let the window sort over every instalment stay in memory.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            # JIT compilation costs more than it saves on these one-pass statements.
            cursor.execute("SET LOCAL jit = off")
        # The day that ended: its overdue interest, from the position at its end, for the
        # loans that can have some (an instalment unpaid and due before that day when last
        # computed, or a row for the day already) rather than a second pass over the book.
        day = as_of - timedelta(days=1)
        cursor.execute(
            _sql(
                _with_position(
                    _OVERDUE_INTEREST_SQL.replace("{only}", only),
                    scope="l.{loan.status} = %(active)s" + only + _MAY_ACCRUE,
                )
            ),
            {**params, "as_of": day, "repaid_until": day},
        )
        counts["overdue_interest_accrued"] = cursor.rowcount
        lap("overdue_interest")
        cursor.execute(
            _sql(
                _with_position(
                    _LOAN_STATE_SQL.replace("{only}", only),
                    scope="l.{loan.status} = %(active)s" + only,
                ),
                rank_floor=_rank_case("classification"),
                rank_old=_rank_case("l.classification"),
                rank_restructured=_rank_case("l.restructured_floor"),
                class_new=_class_case("fl.new_rank"),
            ),
            params,
        )
        rows = cursor.fetchall()
        raised = [row[1:] for row in rows if row[1] is not None]
        counts["positions_updated"], counts["classifications_raised"] = rows[0][0], len(raised)
        audit_record_many(
            [
                {
                    "kind": AuditEvent.Kind.SYSTEM,
                    "action": "classification_floor",
                    "application_id": application_id,
                    "subject_type": "postloan.loan",
                    "subject_id": loan_id,
                    "from_state": old,
                    "to_state": new,
                    "data": {"days_past_due": dpd},
                }
                for loan_id, application_id, old, new, dpd in raised
            ]
        )
        lap("loan_state")
        cursor.execute(_sql(_PERIODIC_TASKS_SQL.replace("{only}", only)), params)
        new_tasks = [row[0] for row in cursor.fetchall()]
        counts["inspections_created"] = len(new_tasks)
        lap("inspections")
        cursor.execute(_sql(_ALERTS_SQL.replace("{only}", only)), params)
        rows = cursor.fetchall()
        new_alerts = [pk for kind, pk in rows if kind == "alert"]
        warning_tasks = [pk for kind, pk in rows if kind == "task"]
        counts["alerts_raised"] = len(new_alerts)
        counts["new_alert_ids"] = new_alerts
        counts["warning_inspections_created"] = len(warning_tasks)
        lap("alerts")
    counts["new_task_ids"] = new_tasks + warning_tasks
    if loan_ids is None:
        counts["step_seconds"] = steps
    return counts


# The position of a loan, the one definition of the allocation rule: its repayments (with a
# value date up to %(repaid_until)s, or all when it is NULL) pay first the overdue interest
# accrued before %(as_of)s (and up to %(repaid_until)s) and before each one's value date, then
# its instalments oldest first,
# and within an instalment interest before principal; days past due count from the
# due date of the oldest instalment not fully paid, once that date is before %(as_of)s (an
# instalment due that day is not yet overdue). {scope} chooses the loans. The nightly job
# writes these figures (_LOAN_STATE_SQL); one loan's page, the owner's portal and the
# month-end positions read them (loan_positions).
_POSITION_CTES = """
paid AS (
    SELECT r.{repayment.loan} AS loan_id, SUM(r.{repayment.amount}) AS paid
    FROM {repayment} r JOIN {loan} l ON l.{loan.id} = r.{repayment.loan}
    WHERE {scope}
      AND (%(repaid_until)s::date IS NULL OR r.{repayment.value_date} <= %(repaid_until)s::date)
    GROUP BY r.{repayment.loan}
), penalty AS (
    SELECT oa.{accrual.loan} AS loan_id, SUM(oa.{accrual.amount}) AS charged
    FROM {accrual} oa JOIN {loan} l ON l.{loan.id} = oa.{accrual.loan}
    WHERE {scope} AND oa.{accrual.accrued_on} < %(as_of)s::date
      AND (%(repaid_until)s::date IS NULL
           OR oa.{accrual.accrued_on} <= %(repaid_until)s::date)
    GROUP BY oa.{accrual.loan}
), penalty_paid AS (
    -- A repayment pays the overdue interest accrued before its value date and not paid yet,
    -- never interest that accrues after it: paid_k = min(accrued before d_k, paid_k-1 + r_k),
    -- which unrolls to the least of (accrued before the j-th repayment + the repayments after
    -- it) over j, and of all the repayments. Only loans with overdue interest.
    SELECT loan_id, LEAST(MIN(accrued_before + after), MAX(repaid)) AS amount
    FROM (
        SELECT rp.{repayment.loan} AS loan_id,
               COALESCE(SUM(rp.{repayment.amount}) OVER (
                   PARTITION BY rp.{repayment.loan}
                   ORDER BY rp.{repayment.value_date}, rp.{repayment.id}
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0) AS after,
               SUM(rp.{repayment.amount}) OVER (PARTITION BY rp.{repayment.loan}) AS repaid,
               (SELECT COALESCE(SUM(oa.{accrual.amount}), 0) FROM {accrual} oa
                WHERE oa.{accrual.loan} = rp.{repayment.loan}
                  AND oa.{accrual.accrued_on} < rp.{repayment.value_date}
                  AND oa.{accrual.accrued_on} < %(as_of)s::date) AS accrued_before
        FROM {repayment} rp JOIN penalty pe ON pe.loan_id = rp.{repayment.loan}
        WHERE %(repaid_until)s::date IS NULL
           OR rp.{repayment.value_date} <= %(repaid_until)s::date
    ) AS repayments
    GROUP BY loan_id
), inst AS (
    SELECT l.{loan.id} AS loan_id, i.{instalment.number} AS number,
           i.{instalment.due_date} AS due_date,
           i.{instalment.principal} AS principal, i.{instalment.interest} AS interest,
           i.{instalment.total} AS total,
           SUM(i.{instalment.total}) OVER (PARTITION BY l.{loan.id}
                                           ORDER BY i.{instalment.number}) AS cum_total,
           -- The overdue interest takes what it may of the repayments; the instalments the
           -- rest.
           COALESCE(p.paid, 0) - COALESCE(pp.amount, 0) AS paid,
           COALESCE(p.paid, 0) AS repaid,
           COALESCE(pe.charged, 0) AS penalty,
           COALESCE(pp.amount, 0) AS penalty_paid
    FROM {loan} l
    JOIN {instalment} i ON i.{instalment.application} = l.{loan.application}
    LEFT JOIN paid p ON p.loan_id = l.{loan.id}
    LEFT JOIN penalty pe ON pe.loan_id = l.{loan.id}
    LEFT JOIN penalty_paid pp ON pp.loan_id = l.{loan.id}
    WHERE {scope}
), alloc AS (
    SELECT loan_id, number, due_date, principal, interest, total, paid, paid_in, repaid,
           penalty, penalty_paid, GREATEST(0, paid_in - interest) AS principal_paid_in
    FROM (SELECT inst.*, LEAST(total, GREATEST(0, paid - (cum_total - total))) AS paid_in
          FROM inst) AS allocated
), pos AS (
    SELECT loan_id,
           SUM(total) AS scheduled_total,
           MAX(repaid) AS paid_total,
           GREATEST(0, SUM(total) - MAX(paid)) + MAX(penalty) - MAX(penalty_paid)
               AS outstanding_total,
           SUM(principal) - SUM(principal_paid_in) AS outstanding_principal,
           COUNT(*) FILTER (WHERE paid_in >= total)::integer AS paid_instalments,
           MIN(due_date) FILTER (WHERE paid_in < total) AS oldest_unpaid_due,
           COALESCE(%(as_of)s::date - MIN(due_date) FILTER (WHERE paid_in < total
                                                            AND due_date < %(as_of)s::date),
                    0) AS dpd,
           MAX(penalty) - MAX(penalty_paid) AS overdue_interest_unpaid
    FROM alloc GROUP BY loan_id
)"""

_POSITIONS_SQL = """
WITH {position}
SELECT a.loan_id, a.number, a.due_date, a.principal, a.interest, a.total, a.paid_in,
       p.scheduled_total, p.paid_total, p.outstanding_total, p.outstanding_principal,
       p.paid_instalments, p.oldest_unpaid_due, p.dpd, p.overdue_interest_unpaid
FROM alloc a JOIN pos p ON p.loan_id = a.loan_id
ORDER BY a.loan_id, a.number
"""


def _with_position(template: str, *, scope: str) -> str:
    return template.replace("{position}", _POSITION_CTES).replace("{scope}", scope)


def loan_positions(
    *, loan_ids: list[int], as_of: date, repaid_until: date | None = None
) -> dict[int, LoanPosition]:
    """The positions of some loans on `as_of` (counting the repayments with a value date up to
    `repaid_until`, or all), read with the nightly job's own definition (_POSITION_CTES). A
    loan without a schedule has no entry."""
    if not loan_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(_with_position(_POSITIONS_SQL, scope="l.{loan.id} = ANY(%(ids)s)")),
            {"ids": list(loan_ids), "as_of": as_of, "repaid_until": repaid_until},
        )
        rows = cursor.fetchall()
    positions: dict[int, LoanPosition] = {}
    for loan_id, number, due_date, principal, interest, total, paid_in, *figures in rows:
        if loan_id not in positions:
            positions[loan_id] = LoanPosition.of(*figures)
        positions[loan_id].add_instalment(
            number=number,
            due_date=due_date,
            principal=principal,
            interest=interest,
            total=total,
            paid=paid_in,
            as_of=as_of,
        )
    return positions


# One statement per loan row: the position (_POSITION_CTES), the classification floor (never
# better than before) and the next periodic inspection date, written with a single UPDATE of
# the rows that changed. Raised classifications get their history rows from the same
# statement and come back (with the count of loans updated on every row, and on a row of
# NULLs when none was raised) for their audit rows.
_LOAN_STATE_SQL = """
WITH {position}, floors AS (
    SELECT {floor.min_days_past_due} AS m, {rank_floor} AS rk
    FROM {floor} WHERE {floor.is_active}
), base AS (
    -- Loans without a schedule keep their figures.
    SELECT l.{loan.id} AS id, l.{loan.application} AS application_id,
           l.{loan.classification} AS old_class, {rank_old} AS old_rank,
           COALESCE(l.{loan.last_inspection_on}, l.{loan.disbursed_on}) AS inspected_from,
           COALESCE(p.scheduled_total, l.{loan.scheduled_total}) AS scheduled_total,
           COALESCE(p.paid_total, l.{loan.paid_total}) AS paid_total,
           COALESCE(p.outstanding_total, l.{loan.outstanding_total}) AS outstanding_total,
           COALESCE(p.outstanding_principal, l.{loan.outstanding_principal})
               AS outstanding_principal,
           COALESCE(p.paid_instalments, l.{loan.paid_instalments}) AS paid_instalments,
           CASE WHEN p.loan_id IS NULL THEN l.{loan.oldest_unpaid_due}
                ELSE p.oldest_unpaid_due END AS oldest_unpaid_due,
           CASE WHEN p.loan_id IS NULL THEN l.{loan.days_past_due} ELSE p.dpd END AS dpd,
           COALESCE(p.overdue_interest_unpaid, l.{loan.overdue_interest_unpaid})
               AS overdue_interest_unpaid,
           l.{loan.next_inspection_due} AS old_next,
           -- A restructured loan's floor holds through its monitoring period.
           CASE WHEN l.{loan.monitoring_until} >= %(as_of)s::date THEN {rank_restructured}
                ELSE 0 END AS restructured_rank
    FROM {loan} l LEFT JOIN pos p ON p.loan_id = l.{loan.id}
    WHERE l.{loan.status} = %(active)s{only}
), fl AS (
    SELECT b.*,
           GREATEST(b.old_rank, b.restructured_rank,
                    COALESCE((SELECT MAX(f.rk) FROM floors f WHERE f.m <= b.dpd), 0))
               AS new_rank
    FROM base b
), final AS (
    SELECT fl.*, {class_new} AS new_class,
           COALESCE(fl.inspected_from + r.{inspection_rule.days}, fl.old_next) AS next_due
    FROM fl
    LEFT JOIN {inspection_rule} r
      ON r.{inspection_rule.kind} = %(periodic_rule)s AND r.{inspection_rule.is_active}
     AND r.{inspection_rule.classification} = {class_new}
), raised AS (
    SELECT * FROM final WHERE new_rank > old_rank
), history AS (
    INSERT INTO {change}
        ({change.loan}, {change.kind}, {change.status}, {change.from_classification},
         {change.to_classification}, {change.days_past_due}, {change.reason},
         {change.created_at}, {change.decided_at}, {change.decision_comment})
    SELECT id, %(automatic)s, %(applied)s, old_class, new_class, dpd, '', now(), now(), ''
    FROM raised
), upd AS (
    UPDATE {loan} l
    SET {loan.scheduled_total} = f.scheduled_total, {loan.paid_total} = f.paid_total,
        {loan.outstanding_total} = f.outstanding_total,
        {loan.outstanding_principal} = f.outstanding_principal,
        {loan.paid_instalments} = f.paid_instalments,
        {loan.oldest_unpaid_due} = f.oldest_unpaid_due,
        {loan.days_past_due} = f.dpd, {loan.classification} = f.new_class,
        {loan.overdue_interest_unpaid} = f.overdue_interest_unpaid,
        {loan.next_inspection_due} = f.next_due, {loan.recomputed_on} = %(as_of)s::date
    FROM final f
    WHERE l.{loan.id} = f.id
      AND (l.{loan.scheduled_total}, l.{loan.paid_total}, l.{loan.outstanding_total},
           l.{loan.outstanding_principal}, l.{loan.paid_instalments},
           l.{loan.oldest_unpaid_due}, l.{loan.days_past_due}, l.{loan.classification},
           l.{loan.next_inspection_due}, l.{loan.overdue_interest_unpaid})
          IS DISTINCT FROM
          (f.scheduled_total, f.paid_total, f.outstanding_total, f.outstanding_principal,
           f.paid_instalments, f.oldest_unpaid_due, f.dpd, f.new_class, f.next_due,
           f.overdue_interest_unpaid)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM upd), r.id, r.application_id, r.old_class, r.new_class, r.dpd
FROM (SELECT 1) AS one LEFT JOIN raised r ON true
ORDER BY r.id
"""

# Overdue interest (罚息) for the day %(as_of)s (the day before the run's business date), from
# the position at its end (repayments valued that day count): the principal of instalments
# due before it and unpaid, and where the product compounds the contract interest of those
# instalments unpaid, at the contract rate times (100 + the product's surcharge) / 100, over
# 360 days a year (365 under actual/365), to the cent (half up). Loans of products without
# servicing terms accrue nothing. One row per loan and day: a rerun rewrites (or removes) the
# day's row only when its figures changed (a repayment valued that day recorded later), and
# the loan's total is the sum of its rows.
_MAY_ACCRUE = """
 AND (COALESCE(l.{loan.oldest_unpaid_due}, l.{loan.disbursed_on}) < %(as_of)s::date
      OR EXISTS (SELECT 1 FROM {accrual} x0 WHERE x0.{accrual.loan} = l.{loan.id}
                 AND x0.{accrual.accrued_on} = %(as_of)s::date))"""

_OVERDUE_INTEREST_SQL = """
WITH {position}, overdue AS (
    SELECT loan_id,
           SUM(principal - principal_paid_in) FILTER (WHERE due_date < %(as_of)s::date) AS op,
           SUM(interest - LEAST(paid_in, interest)) FILTER (WHERE due_date < %(as_of)s::date)
               AS oi
    FROM alloc GROUP BY loan_id
), charged AS (
    SELECT o.loan_id, COALESCE(o.op, 0) AS op,
           CASE WHEN t.{terms.compound_overdue_interest} THEN COALESCE(o.oi, 0) ELSE 0 END
               AS oi,
           a.{application.interest_rate} * (100 + t.{terms.overdue_surcharge_rate}) AS rate100,
           CASE WHEN a.{application.product_snapshot} ->> 'day_count' = %(actual_365)s
                THEN 365 ELSE 360 END AS basis
    FROM overdue o
    JOIN {loan} l ON l.{loan.id} = o.loan_id
    JOIN {application} a ON a.{application.id} = l.{loan.application}
    JOIN {terms} t ON t.{terms.product} = a.{application.product}
), daily AS (
    SELECT loan_id, op, oi, rate100, ROUND((op + oi) * rate100 / (10000 * basis), 2) AS amount
    FROM charged
), written AS (
    INSERT INTO {accrual}
        ({accrual.loan}, {accrual.accrued_on}, {accrual.overdue_principal},
         {accrual.overdue_interest}, {accrual.annual_rate}, {accrual.amount})
    SELECT loan_id, %(as_of)s::date, op, oi, ROUND(rate100 / 100, 5), amount
    FROM daily WHERE amount > 0
    ON CONFLICT ({accrual.loan}, {accrual.accrued_on}) DO UPDATE
    SET {accrual.overdue_principal} = EXCLUDED.{accrual.overdue_principal},
        {accrual.overdue_interest} = EXCLUDED.{accrual.overdue_interest},
        {accrual.annual_rate} = EXCLUDED.{accrual.annual_rate},
        {accrual.amount} = EXCLUDED.{accrual.amount}
    WHERE ({accrual}.{accrual.overdue_principal}, {accrual}.{accrual.overdue_interest},
           {accrual}.{accrual.amount})
          IS DISTINCT FROM
          (EXCLUDED.{accrual.overdue_principal}, EXCLUDED.{accrual.overdue_interest},
           EXCLUDED.{accrual.amount})
    RETURNING {accrual.loan} AS loan_id, {accrual.amount} AS amount
), cleared AS (
    -- A day that accrues nothing after all (a repayment valued that day, recorded later).
    DELETE FROM {accrual} x USING daily
    WHERE x.{accrual.loan} = daily.loan_id AND x.{accrual.accrued_on} = %(as_of)s::date
      AND daily.amount <= 0
    RETURNING x.{accrual.loan} AS loan_id, 0 AS amount
), changed AS (
    SELECT * FROM written UNION ALL SELECT * FROM cleared
)
UPDATE {loan} l
SET {loan.overdue_interest} = w.amount + COALESCE(
    (SELECT SUM(x.{accrual.amount}) FROM {accrual} x
     WHERE x.{accrual.loan} = l.{loan.id} AND x.{accrual.accrued_on} <> %(as_of)s::date), 0)
FROM changed w
WHERE l.{loan.id} = w.loan_id
"""

_PERIODIC_TASKS_SQL = """
INSERT INTO {task}
    ({task.loan}, {task.kind}, {task.rule}, {task.owner}, {task.due_date}, {task.method},
     {task.questions}, {task.answers}, {task.findings}, {task.outcome}, {task.status},
     {task.created_at})
SELECT l.{loan.id}, %(periodic_task)s, r.{inspection_rule.id}, l.{loan.relationship_manager},
       l.{loan.next_inspection_due}, r.{inspection_rule.method}, r.{inspection_rule.questions},
       '{{}}'::jsonb, '', '', %(task_open)s, now()
FROM {loan} l
JOIN {inspection_rule} r
  ON r.{inspection_rule.kind} = %(periodic_rule)s AND r.{inspection_rule.is_active}
 AND r.{inspection_rule.classification} = l.{loan.classification}
WHERE l.{loan.status} = %(active)s{only}
  AND l.{loan.next_inspection_due} <= %(as_of)s::date + r.{inspection_rule.lead_days}
-- The partial unique index (one open scheduled inspection per loan) skips loans that have
-- one. Deliberately no NOT EXISTS on the same table: rows this statement inserts are
-- physically present, and a planner that chose a scan there would go quadratic.
ON CONFLICT DO NOTHING
RETURNING {task.id}
"""

# The evidence of each alert kind (tests/postloan/test_daily_evidence.py pins it): amounts and
# thresholds as decimal strings ("30.00"), dates as ISO dates, days as integers, as the
# inspection-based rules write theirs (postloan.services.inspection_warning_evidence).
_ALERTS_SQL = """
WITH rules AS (
    SELECT {warning_rule.id} AS id, {warning_rule.kind} AS kind,
           {warning_rule.threshold} AS threshold, {warning_rule.severity} AS severity
    FROM {warning_rule} WHERE {warning_rule.is_active}
), candidates AS (
    SELECT l.{loan.id} AS loan_id, r.id AS rule_id, r.severity,
           jsonb_build_object('days_past_due', l.{loan.days_past_due},
                              'oldest_unpaid_due', l.{loan.oldest_unpaid_due},
                              'threshold', r.threshold::text,
                              'outstanding_principal', l.{loan.outstanding_principal}::text)
               AS evidence
    FROM {loan} l JOIN rules r ON r.kind = ANY(%(dpd_kinds)s)
    WHERE l.{loan.status} = %(active)s{only}
      AND l.{loan.days_past_due} >= GREATEST(r.threshold, 1)
    UNION ALL
    SELECT l.{loan.id}, r.id, r.severity,
           jsonb_build_object('flag', r.kind, 'note', l.{loan.flags_note})
    FROM {loan} l JOIN rules r
      ON (r.kind = %(litigation)s AND l.{loan.litigation_flag})
      OR (r.kind = %(guarantor_trouble)s AND l.{loan.guarantor_trouble_flag})
    WHERE l.{loan.status} = %(active)s{only}
    UNION ALL
    -- The loan's oldest open inspection, when it is overdue by the threshold.
    SELECT l.{loan.id}, r.id, r.severity,
           jsonb_build_object('task', (ARRAY_AGG(t.{task.id} ORDER BY t.{task.due_date},
                                                 t.{task.id}))[1],
                              'due_date', MIN(t.{task.due_date}),
                              'days_overdue', %(as_of)s::date - MIN(t.{task.due_date}),
                              'threshold', r.threshold::text)
    FROM {task} t
    JOIN {loan} l ON l.{loan.id} = t.{task.loan}
    JOIN rules r ON r.kind = %(inspection_overdue)s
    WHERE t.{task.status} = %(task_open)s AND l.{loan.status} = %(active)s{only}
      AND %(as_of)s::date - t.{task.due_date} >= GREATEST(r.threshold, 1)
    GROUP BY l.{loan.id}, r.id, r.severity, r.threshold
)
, new_alerts AS (
    INSERT INTO {alert}
        ({alert.loan}, {alert.rule}, {alert.severity}, {alert.evidence}, {alert.status},
         {alert.action_plan}, {alert.created_at}, {alert.close_comment})
    SELECT c.loan_id, c.rule_id, c.severity, c.evidence, %(alert_open)s, '', now(), ''
    FROM candidates c
    -- At most one open alert per (loan, rule): the partial unique index decides.
    ON CONFLICT DO NOTHING
    RETURNING {alert.id} AS id, {alert.loan} AS loan_id, {alert.rule} AS rule_id
), new_tasks AS (
    -- Rules that ask for it get an extra inspection with each new alert.
    INSERT INTO {task}
        ({task.loan}, {task.kind}, {task.rule}, {task.alert}, {task.owner}, {task.due_date},
         {task.method}, {task.questions}, {task.answers}, {task.findings}, {task.outcome},
         {task.status}, {task.created_at})
    SELECT na.loan_id, %(warning_task)s, NULL, na.id, l.{loan.relationship_manager},
           %(as_of)s::date + w.{warning_rule.inspection_within_days}, %(site_visit)s,
           '[]'::jsonb, '{{}}'::jsonb, '', '', %(task_open)s, now()
    FROM new_alerts na
    JOIN {warning_rule} w
      ON w.{warning_rule.id} = na.rule_id AND w.{warning_rule.creates_inspection}
    JOIN {loan} l ON l.{loan.id} = na.loan_id
    ON CONFLICT DO NOTHING
    RETURNING {task.id}
)
SELECT 'alert', id FROM new_alerts
UNION ALL
SELECT 'task', id FROM new_tasks
"""
