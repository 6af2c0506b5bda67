"""The daily job, set-based: one SQL statement per step for every active loan at once.

1. positions: instalments paid (oldest first), outstanding, days past due;
2. classification floors (only ever worse; history rows and audit rows inserted alongside);
3. inspections: next periodic due date by classification, tasks created when due soon;
4. early warnings: alerts for every rule that fires, extra inspections where configured.

Every step is idempotent: updates are guarded with IS DISTINCT FROM, inserts with NOT EXISTS
and the partial unique constraints (ON CONFLICT DO NOTHING), so a second run the same day
changes nothing. `loan_ids` restricts a run to some loans (the repayment service recomputes
one loan through the same statements).

PostgreSQL runs the SQL; SQLite (the embedded mode) takes a simpler ORM path per loan.
"""

import logging
import time
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from postloan.models import (
    CLASS_RANK,
    ClassificationChange,
    ClassificationFloor,
    InspectionRule,
    InspectionTask,
    Loan,
    WarningRule,
)

logger = logging.getLogger(__name__)


def _instalment_table() -> str:
    from disbursement.models import Instalment

    return Instalment._meta.db_table


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
        if connection.vendor == "postgresql":
            counts = _run_sql(as_of=as_of, loan_ids=loan_ids)
        else:
            counts = _run_orm(as_of=as_of, loan_ids=loan_ids)
        _start_clocks(counts.pop("new_task_ids"))
    counts["seconds"] = round(time.monotonic() - started, 3)
    if loan_ids is None:
        logger.info("postloan daily job for %s: %s", as_of, counts)
    return counts


# Clocks started inside the job's transaction; beyond this, a Celery task catches up in
# batches (a first run over a large book can create tens of thousands of inspections).
INLINE_CLOCKS = 200


def _start_clocks(task_ids: list[int]) -> None:
    """SLA clocks for tasks the job created (usually a handful a day, not one per loan)."""
    if not task_ids:
        return
    from postloan.services import task_clock_start

    tasks = (InspectionTask.objects.filter(pk__in=task_ids[:INLINE_CLOCKS])
             .select_related("loan__application__branch", "loan__application__product",
                             "owner"))
    for task in tasks:
        task_clock_start(task=task)
    if len(task_ids) > INLINE_CLOCKS:
        from loanflow.queue import enqueue_on_commit
        from postloan.tasks import start_missing_clocks

        enqueue_on_commit(start_missing_clocks)


def tasks_without_clock(*, limit: int = 500) -> list[int]:
    """Open inspections that have no SLA deadline yet (oldest first)."""
    from sla.models import Deadline

    return list(InspectionTask.objects.filter(status=InspectionTask.Status.OPEN)
                .exclude(pk__in=Deadline.objects.filter(subject_type="postloan.inspectiontask")
                         .values("subject_id"))
                .order_by("due_date", "id").values_list("id", flat=True)[:limit])


def clocks_catch_up(*, batch_size: int = 500, max_batches: int = 1000) -> int:
    """Start the clocks of open inspections that have none, in batches. Returns how many."""
    from postloan.services import task_clock_start

    started = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            ids = tasks_without_clock(limit=batch_size)
            if not ids:
                break
            for task in (InspectionTask.objects.filter(pk__in=ids)
                         .select_related("loan__application__branch",
                                         "loan__application__product", "owner")):
                task_clock_start(task=task)
                started += 1
    return started


# --- PostgreSQL ----------------------------------------------------------------------------

def _run_sql(*, as_of: date, loan_ids: list[int] | None) -> dict:
    params = {"as_of": as_of, "ids": loan_ids or []}
    only = " AND l.id = ANY(%(ids)s)" if loan_ids is not None else ""
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
        cursor.execute(_LOAN_STATE_SQL.format(
            inst=_instalment_table(), only=only,
            rank_floor=_rank_case("classification"), rank_old=_rank_case("l.classification"),
            class_new=_class_case("fl.new_rank")), params)
        counts["positions_updated"], counts["classifications_raised"] = cursor.fetchone()
        lap("loan_state")
        cursor.execute(_PERIODIC_TASKS_SQL.format(only=only), params)
        new_tasks = [row[0] for row in cursor.fetchall()]
        counts["inspections_created"] = len(new_tasks)
        lap("inspections")
        cursor.execute(_ALERTS_SQL.format(only=only), params)
        rows = cursor.fetchall()
        new_alerts = [pk for kind, pk in rows if kind == "alert"]
        warning_tasks = [pk for kind, pk in rows if kind == "task"]
        counts["alerts_raised"] = len(new_alerts)
        counts["warning_inspections_created"] = len(warning_tasks)
        lap("alerts")
    counts["new_task_ids"] = new_tasks + warning_tasks
    if loan_ids is None:
        counts["step_seconds"] = steps
    return counts


# One statement per loan row: position (allocation oldest first, interest before principal),
# days past due, the classification floor (never better than before) and the next periodic
# inspection date, written with a single UPDATE of the rows that changed. Raised
# classifications get their history and audit rows from the same statement.
_LOAN_STATE_SQL = """
WITH paid AS (
    SELECT r.loan_id, SUM(r.amount) AS paid
    FROM postloan_repayment r JOIN postloan_loan l ON l.id = r.loan_id
    WHERE l.status = 'active'{only}
    GROUP BY r.loan_id
), inst AS (
    SELECT l.id AS loan_id, i.due_date, i.principal, i.interest, i.total,
           SUM(i.total) OVER (PARTITION BY l.id ORDER BY i.number) AS cum_total,
           COALESCE(p.paid, 0) AS paid
    FROM postloan_loan l
    JOIN {inst} i ON i.application_id = l.application_id
    LEFT JOIN paid p ON p.loan_id = l.id
    WHERE l.status = 'active'{only}
), alloc AS (
    SELECT loan_id, due_date, principal, interest, total, paid,
           LEAST(total, GREATEST(0, paid - (cum_total - total))) AS paid_in
    FROM inst
), pos AS (
    SELECT loan_id,
           SUM(total) AS scheduled_total,
           MAX(paid) AS paid_total,
           GREATEST(0, SUM(total) - MAX(paid)) AS outstanding_total,
           SUM(principal) - SUM(GREATEST(0, paid_in - interest)) AS outstanding_principal,
           COUNT(*) FILTER (WHERE paid_in >= total)::integer AS paid_instalments,
           MIN(due_date) FILTER (WHERE paid_in < total) AS oldest_unpaid_due
    FROM alloc GROUP BY loan_id
), floors AS (
    SELECT min_days_past_due AS m, {rank_floor} AS rk
    FROM postloan_classificationfloor WHERE is_active
), base AS (
    -- Loans without a schedule keep their figures.
    SELECT l.id, l.application_id, l.classification AS old_class, {rank_old} AS old_rank,
           COALESCE(l.last_inspection_on, l.disbursed_on) AS inspected_from,
           COALESCE(p.scheduled_total, l.scheduled_total) AS scheduled_total,
           COALESCE(p.paid_total, l.paid_total) AS paid_total,
           COALESCE(p.outstanding_total, l.outstanding_total) AS outstanding_total,
           COALESCE(p.outstanding_principal, l.outstanding_principal) AS outstanding_principal,
           COALESCE(p.paid_instalments, l.paid_instalments) AS paid_instalments,
           CASE WHEN p.loan_id IS NULL THEN l.oldest_unpaid_due
                ELSE p.oldest_unpaid_due END AS oldest_unpaid_due,
           CASE WHEN p.loan_id IS NULL THEN l.days_past_due
                WHEN p.oldest_unpaid_due < %(as_of)s::date
                THEN %(as_of)s::date - p.oldest_unpaid_due ELSE 0 END AS dpd,
           l.next_inspection_due AS old_next
    FROM postloan_loan l LEFT JOIN pos p ON p.loan_id = l.id
    WHERE l.status = 'active'{only}
), fl AS (
    SELECT b.*,
           GREATEST(b.old_rank, COALESCE((SELECT MAX(f.rk) FROM floors f WHERE f.m <= b.dpd),
                                         0)) AS new_rank
    FROM base b
), final AS (
    SELECT fl.*, {class_new} AS new_class,
           COALESCE(fl.inspected_from + r.days, fl.old_next) AS next_due
    FROM fl
    LEFT JOIN postloan_inspectionrule r
      ON r.kind = 'periodic' AND r.is_active AND r.classification = {class_new}
), raised AS (
    SELECT * FROM final WHERE new_rank > old_rank
), history AS (
    INSERT INTO postloan_classificationchange
        (loan_id, kind, status, from_classification, to_classification, days_past_due,
         reason, created_at, decided_at, decision_comment)
    SELECT id, 'automatic', 'applied', old_class, new_class, dpd, '', now(), now(), ''
    FROM raised
), audit AS (
    INSERT INTO audit_auditevent
        (at, kind, application_id, subject_type, subject_id, actor_id, actor_role, action,
         from_state, to_state, comment, data)
    SELECT now(), 'system', application_id, 'postloan.loan', id, NULL, 'system',
           'classification_floor', old_class, new_class, '',
           jsonb_build_object('days_past_due', dpd)
    FROM raised
), upd AS (
    UPDATE postloan_loan l
    SET scheduled_total = f.scheduled_total, paid_total = f.paid_total,
        outstanding_total = f.outstanding_total,
        outstanding_principal = f.outstanding_principal,
        paid_instalments = f.paid_instalments, oldest_unpaid_due = f.oldest_unpaid_due,
        days_past_due = f.dpd, classification = f.new_class,
        next_inspection_due = f.next_due, recomputed_on = %(as_of)s::date
    FROM final f
    WHERE l.id = f.id
      AND (l.scheduled_total, l.paid_total, l.outstanding_total, l.outstanding_principal,
           l.paid_instalments, l.oldest_unpaid_due, l.days_past_due, l.classification,
           l.next_inspection_due)
          IS DISTINCT FROM
          (f.scheduled_total, f.paid_total, f.outstanding_total, f.outstanding_principal,
           f.paid_instalments, f.oldest_unpaid_due, f.dpd, f.new_class, f.next_due)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM upd), (SELECT COUNT(*) FROM raised)
"""

_PERIODIC_TASKS_SQL = """
INSERT INTO postloan_inspectiontask
    (loan_id, kind, rule_id, owner_id, due_date, method, questions, answers, findings, outcome,
     status, created_at)
SELECT l.id, 'periodic', r.id, l.relationship_manager_id, l.next_inspection_due, r.method,
       r.questions, '{{}}'::jsonb, '', '', 'open', now()
FROM postloan_loan l
JOIN postloan_inspectionrule r
  ON r.kind = 'periodic' AND r.is_active AND r.classification = l.classification
WHERE l.status = 'active'{only}
  AND l.next_inspection_due <= %(as_of)s::date + r.lead_days
-- The partial unique index (one open scheduled inspection per loan) skips loans that have
-- one. Deliberately no NOT EXISTS on the same table: rows this statement inserts are
-- physically present, and a planner that chose a scan there would go quadratic.
ON CONFLICT DO NOTHING
RETURNING id
"""

_ALERTS_SQL = """
WITH rules AS (
    SELECT id, kind, threshold, severity FROM postloan_warningrule WHERE is_active
), candidates AS (
    SELECT l.id AS loan_id, r.id AS rule_id, r.severity,
           jsonb_build_object('days_past_due', l.days_past_due,
                              'oldest_unpaid_due', l.oldest_unpaid_due,
                              'threshold', r.threshold,
                              'outstanding_principal', l.outstanding_principal) AS evidence
    FROM postloan_loan l JOIN rules r ON r.kind IN ('overdue_instalment', 'dpd_threshold')
    WHERE l.status = 'active'{only} AND l.days_past_due >= GREATEST(r.threshold, 1)
    UNION ALL
    SELECT l.id, r.id, r.severity, jsonb_build_object('flag', r.kind, 'note', l.flags_note)
    FROM postloan_loan l JOIN rules r
      ON (r.kind = 'litigation' AND l.litigation_flag)
      OR (r.kind = 'guarantor_trouble' AND l.guarantor_trouble_flag)
    WHERE l.status = 'active'{only}
    UNION ALL
    SELECT l.id, r.id, r.severity,
           jsonb_build_object('task', MIN(t.id), 'due_date', MIN(t.due_date),
                              'days_overdue', %(as_of)s::date - MIN(t.due_date),
                              'threshold', r.threshold)
    FROM postloan_inspectiontask t
    JOIN postloan_loan l ON l.id = t.loan_id
    JOIN rules r ON r.kind = 'inspection_overdue'
    WHERE t.status = 'open' AND l.status = 'active'{only}
      AND %(as_of)s::date - t.due_date >= GREATEST(r.threshold, 1)
    GROUP BY l.id, r.id, r.severity, r.threshold
)
, new_alerts AS (
    INSERT INTO postloan_alert
        (loan_id, rule_id, severity, evidence, status, action_plan, created_at, close_comment)
    SELECT c.loan_id, c.rule_id, c.severity, c.evidence, 'open', '', now(), ''
    FROM candidates c
    -- At most one open alert per (loan, rule): the partial unique index decides.
    ON CONFLICT DO NOTHING
    RETURNING id, loan_id, rule_id
), new_tasks AS (
    -- Rules that ask for it get an extra inspection with each new alert.
    INSERT INTO postloan_inspectiontask
        (loan_id, kind, rule_id, alert_id, owner_id, due_date, method, questions, answers,
         findings, outcome, status, created_at)
    SELECT na.loan_id, 'warning', NULL, na.id, l.relationship_manager_id,
           %(as_of)s::date + w.inspection_within_days, 'site_visit', '[]'::jsonb,
           '{{}}'::jsonb, '', '', 'open', now()
    FROM new_alerts na
    JOIN postloan_warningrule w ON w.id = na.rule_id AND w.creates_inspection
    JOIN postloan_loan l ON l.id = na.loan_id
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT 'alert', id FROM new_alerts
UNION ALL
SELECT 'task', id FROM new_tasks
"""



# --- SQLite (embedded mode): the same rules through the ORM ---------------------------------

def _run_orm(*, as_of: date, loan_ids: list[int] | None) -> dict:
    from postloan.selectors import loan_position_for
    from postloan.services import alert_raise

    loans = Loan.objects.filter(status=Loan.Status.ACTIVE).select_related("application")
    if loan_ids is not None:
        loans = loans.filter(pk__in=loan_ids)
    floors = list(ClassificationFloor.objects.filter(is_active=True))
    periodic = {r.classification: r for r in InspectionRule.objects.filter(
        kind=InspectionRule.Kind.PERIODIC, is_active=True)}
    rules = list(WarningRule.objects.filter(is_active=True))
    counts = {"positions_updated": 0, "classifications_raised": 0, "inspections_created": 0,
              "alerts_raised": 0, "warning_inspections_created": 0}
    new_tasks: list[int] = []
    for loan in loans:
        before = (loan.scheduled_total, loan.paid_total, loan.outstanding_total,
                  loan.outstanding_principal, loan.paid_instalments, loan.oldest_unpaid_due,
                  loan.days_past_due)
        pos = loan_position_for(loan=loan, as_of=as_of)
        if pos.instalments:
            after = (pos.scheduled_total, pos.paid_total, pos.outstanding_total,
                     pos.outstanding_principal, pos.paid_instalments, pos.oldest_unpaid_due,
                     pos.days_past_due)
            if after != before:
                (loan.scheduled_total, loan.paid_total, loan.outstanding_total,
                 loan.outstanding_principal, loan.paid_instalments, loan.oldest_unpaid_due,
                 loan.days_past_due) = after
                loan.recomputed_on = as_of
                loan.save()
                counts["positions_updated"] += 1
        floor_rank = max((CLASS_RANK[f.classification] for f in floors
                          if f.min_days_past_due <= loan.days_past_due), default=0)
        if floor_rank > CLASS_RANK[loan.classification]:
            new = next(c for c, r in CLASS_RANK.items() if r == floor_rank)
            ClassificationChange.objects.create(
                loan=loan, kind="automatic", status="applied",
                from_classification=loan.classification, to_classification=new,
                days_past_due=loan.days_past_due, decided_at=timezone.now())
            from audit.services import audit_record

            audit_record(action="classification_floor", actor=None, actor_role="system",
                         application=loan.application, kind="system",
                         from_state=loan.classification, to_state=new,
                         subject_type="postloan.loan", subject_id=loan.pk,
                         data={"days_past_due": loan.days_past_due})
            loan.classification = new
            loan.save(update_fields=["classification"])
            counts["classifications_raised"] += 1
        rule = periodic.get(loan.classification)
        if rule:
            from datetime import timedelta

            due = (loan.last_inspection_on or loan.disbursed_on) + timedelta(days=rule.days)
            if loan.next_inspection_due != due:
                loan.next_inspection_due = due
                loan.save(update_fields=["next_inspection_due"])
            if due <= as_of + timedelta(days=rule.lead_days) and not loan.tasks.filter(
                    status="open", kind__in=["first_use_of_funds", "periodic"]).exists():
                task = InspectionTask.objects.create(
                    loan=loan, kind="periodic", rule=rule, owner_id=loan.relationship_manager_id,
                    due_date=due, method=rule.method, questions=rule.questions)
                new_tasks.append(task.pk)
                counts["inspections_created"] += 1
        for wrule in rules:
            evidence = _orm_fires(loan, wrule, as_of)
            if evidence is None:
                continue
            alert, task = alert_raise(loan=loan, rule=wrule, evidence=evidence, as_of=as_of,
                                      start_clock=False)
            if alert:
                counts["alerts_raised"] += 1
            if task:
                new_tasks.append(task.pk)
                counts["warning_inspections_created"] += 1
    counts["new_task_ids"] = new_tasks
    return counts


def _orm_fires(loan: Loan, rule: WarningRule, as_of: date) -> dict | None:
    kind = rule.kind
    if kind in (WarningRule.Kind.OVERDUE_INSTALMENT, WarningRule.Kind.DPD_THRESHOLD):
        if loan.days_past_due >= max(rule.threshold, 1):
            return {"days_past_due": loan.days_past_due, "threshold": str(rule.threshold),
                    "oldest_unpaid_due": str(loan.oldest_unpaid_due)}
    elif kind == WarningRule.Kind.LITIGATION and loan.litigation_flag or kind == WarningRule.Kind.GUARANTOR_TROUBLE and loan.guarantor_trouble_flag:
        return {"flag": kind, "note": loan.flags_note}
    elif kind == WarningRule.Kind.INSPECTION_OVERDUE:
        oldest = loan.tasks.filter(status="open").order_by("due_date").first()
        if oldest and (as_of - oldest.due_date).days >= max(rule.threshold, 1):
            return {"task": oldest.pk, "due_date": str(oldest.due_date),
                    "days_overdue": (as_of - oldest.due_date).days}
    return None

