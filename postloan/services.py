"""Post-loan writes: opening the post-loan record at disbursement, inspections, repayments
(staff and core-banking CSV), early-warning alerts and their triage, classification changes
(maker-checker) and write-offs (maker-checker). Every change is atomic, locked and audited."""

import csv
import io
import logging
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, has_transition_perm

from applications.services import application_transition
from audit.services import audit_record, audit_refusal
from common.errors import Conflict, Forbidden, InvalidInput, SegregationOfDuties
from common.middleware import UNSTORABLE
from notifications.models import Kind as NotificationKind
from notifications.services import Message, notify, notify_many, with_notification_preferences
from org.permissions import has_role_perm
from org.roles import Role, primary_role
from org.selectors import is_staff_member, staff_serving
from postloan.daily import daily_run
from postloan.models import (
    CLASS_RANK,
    Alert,
    Classification,
    ClassificationChange,
    ClassificationFloor,
    InspectionMethod,
    InspectionRule,
    InspectionTask,
    Loan,
    OwnerRequest,
    Prepayment,
    Repayment,
    RepaymentImport,
    ScheduleRevision,
    Severity,
    TaskAttachment,
    WarningRule,
    WriteOff,
)
from postloan.selectors import alert_get, loan_get, loan_scope_q, task_get
from sla import services as sla_services

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
TASK_STEPS = {
    InspectionTask.Kind.FIRST_USE_OF_FUNDS: "first_check",
    InspectionTask.Kind.PERIODIC: "periodic_inspection",
    InspectionTask.Kind.WARNING: "warning_review",
}
TASK_SUBJECT = "postloan.inspectiontask"
ALERT_SUBJECT = "postloan.alert"
CHANGE_SUBJECT = "postloan.classificationchange"


def _require(actor, perm: str) -> None:
    if not has_role_perm(actor, f"postloan.{perm}"):
        raise Forbidden(_("Your role may not do this."), code="role")


def _audit(
    *,
    action: str,
    actor,
    loan: Loan,
    subject,
    comment: str = "",
    data=None,
    from_state: str = "",
    to_state: str = "",
) -> None:
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor) if actor else "system",
        application=loan.application,
        kind="action",
        subject_type=f"postloan.{type(subject).__name__.lower()}",
        subject_id=subject.pk,
        comment=comment,
        data=data or {},
        from_state=from_state,
        to_state=to_state,
    )


# --- SLA clocks of the inspection tasks -------------------------------------------------------


def task_clock_start(*, task: InspectionTask) -> None:
    application = task.loan.application
    sla_services.clock_start(
        subject_type=TASK_SUBJECT,
        subject_id=task.pk,
        step=TASK_STEPS[task.kind],
        application=application,
        owner=task.owner,
        role="relationship_manager",
        branch=application.branch,
    )


def _task_clock_stop(*, task: InspectionTask) -> None:
    sla_services.clock_stop(subject_type=TASK_SUBJECT, subject_id=task.pk)


# --- Opening the post-loan record ----------------------------------------------------------


def loan_terms_from(application) -> dict:
    """The customer and terms a loan copies from its application when it opens (Loan: the
    book's figures read them on the loan), as Loan field values."""
    return {
        "company_id": application.company_id,
        "interest_rate": application.interest_rate,
        "term_months": application.term_months,
    }


def loan_open(*, application, actor=None, data: dict | None = None) -> Loan:
    """Called inside the disbursement transition's transaction: the post-loan record and the
    first check on the use of funds. The schedule is fixed later in the same transaction, so
    the position is computed after commit (and by every repayment and the daily job)."""
    data = data or {}
    try:
        disbursed_on = date.fromisoformat(str(data["value_date"]))
    except (KeyError, ValueError):
        disbursed_on = (
            timezone.localdate(application.disbursed_at)
            if application.disbursed_at
            else timezone.localdate()
        )
    try:
        principal = Decimal(str(data["amount"]))
    except (KeyError, InvalidOperation):
        principal = application.amount
    loan, created = Loan.objects.get_or_create(
        application=application,
        defaults={
            "branch_id": application.branch_id,
            "relationship_manager_id": application.relationship_manager_id,
            **loan_terms_from(application),
            "currency": application.currency,
            "principal": principal,
            "outstanding_principal": principal,
            "disbursed_on": disbursed_on,
        },
    )
    if not created:
        return loan
    loan.application = application
    rule = InspectionRule.objects.filter(
        kind=InspectionRule.Kind.FIRST_USE_OF_FUNDS, is_active=True
    ).first()
    if rule is not None:
        task = InspectionTask.objects.create(
            loan=loan,
            kind=InspectionTask.Kind.FIRST_USE_OF_FUNDS,
            rule=rule,
            owner_id=loan.relationship_manager_id,
            due_date=loan.disbursed_on + timedelta(days=rule.days),
            method=rule.method,
            questions=rule.questions,
        )
        task.loan = loan
        task_clock_start(task=task)
    audit_record(
        action="postloan_open",
        actor=actor,
        actor_role="system",
        application=application,
        kind="system",
        subject_type="postloan.loan",
        subject_id=loan.pk,
        data={"principal": str(loan.principal)},
    )
    loan_id = loan.pk
    transaction.on_commit(lambda: daily_run(loan_ids=[loan_id]))
    return loan


def loan_recompute(*, loan_ids: list[int], as_of: date | None = None) -> dict:
    return daily_run(as_of=as_of, loan_ids=list(loan_ids))


# --- Repayments ----------------------------------------------------------------------------


# Money in a file is a plain decimal number: digits, optionally grouped by thousands, and at
# most two decimals. Decimal() alone also reads 1e3, NaN, +5 and 1_000.
MONEY = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?")


def parse_amount(value: str) -> Decimal | None:
    value = value.strip()
    if not MONEY.fullmatch(value):
        return None
    amount = Decimal(value.replace(",", ""))
    return amount if amount > 0 else None


def _repayment_problems(
    *, loan: Loan, amount: Decimal, currency: str, value_date: date, already: Decimal = ZERO
) -> list[str]:
    problems = []
    if loan.status != Loan.Status.ACTIVE:
        problems.append(_("The loan is no longer active."))
    if currency != loan.currency:
        problems.append(_("The loan is in %(cur)s.") % {"cur": loan.currency})
    if value_date > timezone.localdate():
        problems.append(_("The value date is in the future."))
    if value_date < loan.disbursed_on:
        problems.append(_("The value date is before the disbursement."))
    if amount + already > loan.outstanding_total:
        problems.append(
            _("The amount exceeds what is outstanding (%(out)s).")
            % {"out": f"{loan.outstanding_total - already:,.2f}"}
        )
    return problems


def repayment_record(
    *,
    application_id: int,
    actor,
    amount: Decimal,
    value_date: date,
    currency: str | None = None,
    external_id: str | None = None,
) -> Repayment:
    """Record one repayment by staff. Closes the loan when nothing is outstanding any more."""
    _require(actor, "record_repayment")
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        daily_run(loan_ids=[loan.pk])
        loan.refresh_from_db()
        currency = currency or loan.currency
        problems = _repayment_problems(
            loan=loan, amount=Decimal(amount), currency=currency, value_date=value_date
        )
        if problems:
            raise InvalidInput(problems[0], details={"amount": problems})
        external_id = (external_id or "").strip() or None
        if external_id and Repayment.objects.filter(external_id=external_id).exists():
            raise Conflict(
                _("A repayment with this core-banking id was already recorded."),
                code="duplicate_repayment",
            )
        try:
            with transaction.atomic():
                repayment = Repayment.objects.create(
                    loan=loan,
                    amount=amount,
                    currency=currency,
                    value_date=value_date,
                    external_id=external_id,
                    recorded_by=actor,
                )
        except IntegrityError:
            raise Conflict(
                _("A repayment with this core-banking id was already recorded."),
                code="duplicate_repayment",
            ) from None
        _audit(
            action="repayment_record",
            actor=actor,
            loan=loan,
            subject=repayment,
            data={
                "amount": str(amount),
                "currency": currency,
                "value_date": value_date.isoformat(),
                "external_id": external_id,
            },
        )
        _after_repayments(loan_ids=[loan.pk], actor=actor)
    return repayment


CSV_COLUMNS = ("reference", "value_date", "amount", "currency", "external_id")


def _line_problem(line: int, problem: str) -> str:
    return _("Line %(line)d: %(problems)s") % {"line": line, "problems": problem}


def _import_rejected(errors: list[str]) -> InvalidInput:
    return InvalidInput(
        _("The file was rejected; nothing was imported. %(first)s") % {"first": errors[0]},
        code="import_rejected",
        details={"rows": errors},
    )


def _csv_rows(text: str) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """The header's line, the header, and each row with the FILE line it starts on. A record
    may span lines (a quoted newline) and blank lines are skipped, so csv's record count is
    not the line: the line a record starts on is one after where the previous one ended."""
    reader = csv.reader(io.StringIO(text))
    header_line, header = 1, None
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[str] = []
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # csv cannot go on after an error; report it on the line where it gave up. Its
            # errors have no codes, only English messages.
            if "field larger than field limit" in str(exc):
                problem = _("a field is longer than %(limit)s characters") % {
                    "limit": f"{csv.field_size_limit():,}"
                }
            else:
                problem = _("the line is not valid CSV")
            errors.append(_line_problem(max(reader.line_num, start), problem))
            raise _import_rejected(errors) from None
        if not record:
            continue
        if any(UNSTORABLE.search(cell) for cell in record):
            errors.append(_line_problem(start, _("it contains a NUL or an invalid character")))
        elif header is None:
            header_line, header = start, [name.strip() for name in record]
        elif len(record) != len(header):
            errors.append(
                _line_problem(
                    start,
                    _("%(found)d fields, but the header has %(expected)d")
                    % {"found": len(record), "expected": len(header)},
                )
            )
        else:
            rows.append((start, dict(zip(header, record, strict=True))))
    if errors:
        raise _import_rejected(errors)
    return header_line, header or [], rows


def repayment_import(*, actor, file_name: str, content: bytes) -> RepaymentImport:
    """Import a core-banking CSV (reference, value_date, amount, currency, external_id).

    All or nothing: every row is validated first; any bad row rejects the whole file with the
    line numbers of the problems, and nothing is applied."""
    _require(actor, "record_repayment")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            _("The file is not UTF-8 text."), details={"file": [_("The file is not UTF-8 text.")]}
        ) from None
    header_line, header, rows = _csv_rows(text)
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        message = _line_problem(
            header_line, _("missing columns: %(cols)s") % {"cols": ", ".join(missing)}
        )
        raise InvalidInput(message, details={"rows": [message], "line": header_line})
    if not rows:
        raise InvalidInput(
            _("The file has no rows."), details={"rows": [_("The file has no rows.")]}
        )
    with transaction.atomic():
        references = {(row.get("reference") or "").strip() for _line, row in rows}
        loans = {
            loan.application.reference: loan
            for loan in Loan.objects.select_for_update(of=("self",))
            .filter(loan_scope_q(actor), application__reference__in=references)
            .select_related("application")
        }
        # Bring each loan's outstanding up to date before checking amounts against it.
        if loans:
            daily_run(loan_ids=[loan.pk for loan in loans.values()])
            for loan in loans.values():
                loan.refresh_from_db()
        ext_ids = [(row.get("external_id") or "").strip() for _line, row in rows]
        known = set(
            Repayment.objects.filter(external_id__in=[e for e in ext_ids if e]).values_list(
                "external_id", flat=True
            )
        )
        seen: set[str] = set()
        running: dict[int, Decimal] = {}
        errors: list[str] = []
        prepared = []
        for line, row in rows:
            row_errors = []
            reference = (row.get("reference") or "").strip()
            loan = loans.get(reference)
            if loan is None:
                row_errors.append(_("unknown loan reference '%(ref)s'") % {"ref": reference})
            try:
                value_date = date.fromisoformat((row.get("value_date") or "").strip())
            except ValueError:
                value_date = None
                row_errors.append(_("value_date must be a date (YYYY-MM-DD)"))
            amount = parse_amount(row.get("amount") or "")
            if amount is None:
                row_errors.append(
                    _(
                        "amount must be a plain positive decimal number with at most 2 "
                        "decimals, such as 1000.00"
                    )
                )
            currency = (row.get("currency") or "").strip().upper()
            external_id = (row.get("external_id") or "").strip()
            if not external_id:
                row_errors.append(_("external_id is required"))
            elif external_id in known:
                row_errors.append(
                    _("external_id %(id)s was already imported") % {"id": external_id}
                )
            elif external_id in seen:
                row_errors.append(
                    _("external_id %(id)s appears twice in the file") % {"id": external_id}
                )
            seen.add(external_id)
            if loan is not None and value_date is not None and amount is not None:
                row_errors.extend(
                    _repayment_problems(
                        loan=loan,
                        amount=amount,
                        currency=currency,
                        value_date=value_date,
                        already=running.get(loan.pk, ZERO),
                    )
                )
                running[loan.pk] = running.get(loan.pk, ZERO) + amount
            if row_errors:
                errors.append(
                    _("Line %(line)d: %(problems)s")
                    % {"line": line, "problems": "; ".join(str(e) for e in row_errors)}
                )
            else:
                prepared.append((loan, amount, currency, value_date, external_id))
        if errors:
            raise _import_rejected(errors)
        batch = RepaymentImport.objects.create(
            file_name=file_name[:255], uploaded_by=actor, row_count=len(prepared)
        )
        Repayment.objects.bulk_create(
            [
                Repayment(
                    loan=loan,
                    amount=amount,
                    currency=currency,
                    value_date=value_date,
                    external_id=external_id,
                    source=Repayment.Source.IMPORT,
                    batch=batch,
                    recorded_by=actor,
                )
                for loan, amount, currency, value_date, external_id in prepared
            ]
        )
        for loan in {loan.pk: loan for loan, *_rest in prepared}.values():
            _audit(
                action="repayment_import",
                actor=actor,
                loan=loan,
                subject=batch,
                data={"amount": str(running[loan.pk]), "file": batch.file_name},
            )
        _after_repayments(loan_ids=list(running), actor=actor)
    return batch


def _after_repayments(*, loan_ids: list[int], actor) -> None:
    """Recompute the loans and close those with nothing left to pay."""
    daily_run(loan_ids=loan_ids)
    repaid = Loan.objects.filter(
        pk__in=loan_ids, status=Loan.Status.ACTIVE, outstanding_total__lte=0, scheduled_total__gt=0
    )
    for loan in repaid.select_related("application"):
        loan_end(
            loan=loan,
            status=Loan.Status.CLOSED,
            actor=actor,
            comment=_("Repaid in full."),
            data={"note": "repaid_in_full"},
        )


def loan_end(
    *,
    loan: Loan,
    status: str,
    actor,
    comment: str = "",
    system: bool = True,
    data: dict | None = None,
) -> None:
    """Close (repaid) or write off a loan: the application transition, then the post-loan
    record; open inspections are cancelled and their clocks stopped."""
    transition = "close" if status == Loan.Status.CLOSED else "write_off"
    application_transition(
        application_id=loan.application_id,
        transition=transition,
        actor=actor,
        comment=comment,
        system=system,
        data=data,
    )
    Loan.objects.filter(pk=loan.pk).update(status=status, closed_at=timezone.now())
    for task in loan.tasks.filter(status=InspectionTask.Status.OPEN):
        _task_clock_stop(task=task)
    loan.tasks.filter(status=InspectionTask.Status.OPEN).update(
        status=InspectionTask.Status.CANCELLED
    )


# --- Inspections -------------------------------------------------------------------------


def task_complete(
    *,
    task_id: int,
    actor,
    findings: str,
    outcome: str,
    answers: dict | None = None,
    method: str | None = None,
    revenue_previous: Decimal | None = None,
    revenue_current: Decimal | None = None,
) -> InspectionTask:
    """Complete an inspection (its owner or a risk officer). A negative finding or a revenue
    drop beyond a warning rule's threshold raises an alert; the next periodic inspection is
    scheduled from today."""
    _require(actor, "complete_inspection")
    with transaction.atomic():
        task = task_get(user=actor, task_id=task_id, for_update=True)
        if task.status != InspectionTask.Status.OPEN:
            raise Conflict(_("This inspection is already closed."), code="task_closed")
        if task.owner_id != actor.pk and not has_role_perm(actor, "postloan.triage_alert"):
            raise Forbidden(_("Only the task's owner or a risk officer may complete it."))
        answers = answers or {}
        unanswered = [
            q.get("label", q.get("key"))
            for q in task.questions
            if q.get("required") and not str(answers.get(q.get("key"), "")).strip()
        ]
        if unanswered:
            raise InvalidInput(
                details={"answers": [_("Please answer: %(q)s") % {"q": ", ".join(unanswered)}]}
            )
        if outcome not in InspectionTask.Outcome.values:
            raise InvalidInput(details={"outcome": [_("Choose an outcome.")]})
        if method and method not in InspectionMethod.values:
            raise InvalidInput(details={"method": [_("Choose site visit or remote.")]})
        task.answers = answers
        task.findings = findings
        task.outcome = outcome
        if method:
            task.method = method
        task.revenue_previous = revenue_previous
        task.revenue_current = revenue_current
        task.status = InspectionTask.Status.DONE
        task.completed_by = actor
        task.completed_at = timezone.now()
        task.save()
        _task_clock_stop(task=task)
        loan = Loan.objects.select_for_update().select_related("application").get(pk=task.loan_id)
        loan.last_inspection_on = timezone.localdate()
        loan.save(update_fields=["last_inspection_on"])
        _audit(
            action="inspection_complete",
            actor=actor,
            loan=loan,
            subject=task,
            comment=findings,
            from_state="open",
            to_state="done",
            data={"outcome": outcome, "kind": task.kind},
        )
        for rule in WarningRule.objects.filter(
            is_active=True,
            kind__in=[WarningRule.Kind.NEGATIVE_FINDING, WarningRule.Kind.REVENUE_DROP],
        ):
            evidence = inspection_warning_evidence(task=task, rule=rule)
            if evidence is not None:
                alert_raise(loan=loan, rule=rule, evidence=evidence)
        daily_run(loan_ids=[loan.pk])
    return task


def inspection_warning_evidence(*, task: InspectionTask, rule: WarningRule) -> dict | None:
    """What a completed inspection shows for an inspection-based rule (None: no signal)."""
    if rule.kind == WarningRule.Kind.NEGATIVE_FINDING:
        if task.outcome == InspectionTask.Outcome.NEGATIVE:
            return {"task": task.pk, "findings": task.findings[:500]}
        return None
    if rule.kind == WarningRule.Kind.REVENUE_DROP:
        prev, cur = task.revenue_previous, task.revenue_current
        if prev is None or cur is None or prev <= 0:
            return None
        drop = ((prev - cur) / prev * 100).quantize(Decimal("0.01"))
        if drop >= rule.threshold:
            return {
                "task": task.pk,
                "revenue_previous": str(prev),
                "revenue_current": str(cur),
                "drop_percent": str(drop),
                "threshold": str(rule.threshold),
            }
    return None


def task_attachment_add(*, task_id: int, actor, file) -> TaskAttachment:
    """Attach a file to an inspection: checked like every upload (size, type by content) and
    stored under a server-generated name; the client's name is kept for display only."""
    import uuid

    from intake.services import validate_upload

    _require(actor, "complete_inspection")
    kind, display = validate_upload(file)
    file.name = f"{uuid.uuid4().hex}{kind.extension}"
    with transaction.atomic():
        task = task_get(user=actor, task_id=task_id, for_update=True)
        if task.status != InspectionTask.Status.OPEN:
            raise Conflict(_("This inspection is already closed."), code="task_closed")
        attachment = TaskAttachment.objects.create(
            task=task, file=file, name=display[:255], uploaded_by=actor
        )
        loan = Loan.objects.select_related("application").get(pk=task.loan_id)
        _audit(
            action="inspection_attachment",
            actor=actor,
            loan=loan,
            subject=task,
            data={"name": attachment.name},
        )
    return attachment


# --- Early warnings ------------------------------------------------------------------------


def alert_raise(
    *,
    loan: Loan,
    rule: WarningRule,
    evidence: dict,
    as_of: date | None = None,
    start_clock: bool = True,
) -> tuple[Alert | None, InspectionTask | None]:
    """Raise an alert unless one for this loan and rule is still open (the partial unique
    constraint decides under concurrency). Returns (alert, extra inspection) or (None, None)."""
    as_of = as_of or timezone.localdate()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                loan=loan, rule=rule, severity=rule.severity, evidence=evidence
            )
    except IntegrityError:
        return None, None
    task = None
    if rule.creates_inspection:
        task = InspectionTask.objects.create(
            loan=loan,
            kind=InspectionTask.Kind.WARNING,
            alert=alert,
            owner_id=loan.relationship_manager_id,
            due_date=as_of + timedelta(days=rule.inspection_within_days),
        )
        if start_clock:
            task.loan = loan
            task_clock_start(task=task)
    alerts_raised(alert_ids=[alert.pk])
    return alert, task


def alert_raise_on_event(
    *, loan: Loan, kind: str, evidence: dict, action: str, actor=None, comment: str = ""
) -> Alert | None:
    """An alert an event raises outside the nightly job (a post-reviewer's concern, new bad
    news at a re-query of the sources): the active rule of `kind`, not again while one of its
    alerts on the loan is open or acknowledged, audited as `action`, with its clock and
    notifications as every alert. None when no rule of the kind is active, or one is open."""
    rule = WarningRule.objects.filter(kind=kind, is_active=True).order_by("pk").first()
    if rule is None:
        return None
    alert, _task = alert_raise(loan=loan, rule=rule, evidence=evidence)
    if alert is not None:
        _audit(
            action=action,
            actor=actor,
            loan=loan,
            subject=alert,
            comment=comment,
            data={"rule": rule.code, **evidence},
            to_state=Alert.Status.OPEN,
        )
    return alert


def alert_clock_start(*, alert: Alert) -> None:
    """The alert waits on the risk officers of its branch until one acknowledges it, records
    an action plan or closes it (step warning_review; escalated by the SLA sweep)."""
    sla_services.clock_start(
        subject_type=ALERT_SUBJECT,
        subject_id=alert.pk,
        step="warning_review",
        application=alert.loan.application,
        role=Role.RISK_OFFICER,
        branch=alert.loan.branch,
    )


# Clocks started inline for the alerts of one run; beyond this, the catch-up task starts them
# (a first run over a large book can raise thousands of alerts).
INLINE_ALERT_CLOCKS = 200

_ALERT_TITLE = gettext_lazy("Early warning on {reference}: {rule}")
_ALERT_BODY = gettext_lazy(
    "Severity: {severity}. A risk officer should acknowledge it or record an action plan."
)


def alerts_raised(*, alert_ids: list[int]) -> int:
    """What follows new alerts, in a fixed number of queries however many there are: their SLA
    clocks; the freeze of the company's active credit facilities for a rule that freezes them
    (WarningRule.freezes_facilities; one query, and a few per company with a facility); and one
    notification batch telling each loan's relationship manager and the risk officers whose
    branch scope covers the loan, each in their own language. Returns how many notifications were made."""
    if not alert_ids:
        return 0
    alerts = list(
        Alert.objects.filter(pk__in=alert_ids)
        .select_related("loan__application", "loan__branch", "loan__relationship_manager", "rule")
        .order_by("pk")
    )
    for alert in alerts[:INLINE_ALERT_CLOCKS]:
        alert_clock_start(alert=alert)
    if len(alerts) > INLINE_ALERT_CLOCKS:
        from common.queue import enqueue_on_commit
        from postloan.tasks import start_missing_clocks

        enqueue_on_commit(start_missing_clocks)
    freezing = [alert for alert in alerts if alert.rule.freezes_facilities]
    if freezing:
        from facilities.models import Facility
        from facilities.services import facilities_freeze_for_alert

        # One query finds the companies with a facility to freeze; the others cost nothing.
        with_facility = set(
            Facility.objects.filter(
                status=Facility.Status.ACTIVE,
                company_id__in={alert.loan.application.company_id for alert in freezing},
            ).values_list("company_id", flat=True)
        )
        for alert in freezing:
            if alert.loan.application.company_id in with_facility:
                facilities_freeze_for_alert(alert=alert)
    risk_officers = list(
        get_user_model()
        .objects.filter(
            groups__name=Role.RISK_OFFICER, is_active=True, staff_profile__branch__isnull=False
        )
        .select_related("staff_profile__branch")
        .distinct()
    )
    messages = []
    for alert in alerts:
        loan = alert.loan
        recipients = {
            officer.pk: officer
            for officer in risk_officers
            if loan.branch.path.startswith(officer.staff_profile.branch.path)
        }
        if loan.relationship_manager is not None:
            recipients.setdefault(loan.relationship_manager.pk, loan.relationship_manager)
        title = format_lazy(
            _ALERT_TITLE,
            reference=loan.application.reference,
            rule=WarningRule.Kind(alert.rule.kind).label,
        )
        body = format_lazy(_ALERT_BODY, severity=Severity(alert.severity).label)
        url = reverse("postloan-alert", args=[alert.pk])
        messages.extend(
            Message(
                user=user,
                kind=NotificationKind.EARLY_WARNING,
                title=title,
                body=body,
                url=url,
                application=loan.application,
            )
            for user in recipients.values()
        )
    return len(notify_many(messages))


def _alert_clock_stop(*, alert: Alert) -> None:
    sla_services.clock_stop(subject_type=ALERT_SUBJECT, subject_id=alert.pk)


def _alert_for_triage(*, alert_id: int, actor) -> Alert:
    _require(actor, "triage_alert")
    alert = alert_get(user=actor, alert_id=alert_id, for_update=True)
    if alert.status == Alert.Status.CLOSED:
        raise Conflict(_("This alert is closed."), code="alert_closed")
    return alert


def _loan_of(alert_or_task) -> Loan:
    return Loan.objects.select_related("application").get(pk=alert_or_task.loan_id)


@transaction.atomic
def alert_acknowledge(*, alert_id: int, actor, comment: str = "") -> Alert:
    alert = _alert_for_triage(alert_id=alert_id, actor=actor)
    if alert.status != Alert.Status.OPEN:
        raise Conflict(_("This alert was already acknowledged."), code="already_acknowledged")
    alert.status = Alert.Status.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    _alert_clock_stop(alert=alert)
    _audit(
        action="alert_acknowledge",
        actor=actor,
        loan=_loan_of(alert),
        subject=alert,
        comment=comment,
        from_state="open",
        to_state="acknowledged",
    )
    return alert


@transaction.atomic
def alert_record_plan(*, alert_id: int, actor, action_plan: str) -> Alert:
    alert = _alert_for_triage(alert_id=alert_id, actor=actor)
    if not action_plan.strip():
        raise InvalidInput(details={"action_plan": [_("Describe the action plan.")]})
    from_state = alert.status
    alert.action_plan = action_plan.strip()
    if alert.status == Alert.Status.OPEN:
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_by = actor
        alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["action_plan", "status", "acknowledged_by", "acknowledged_at"])
    _alert_clock_stop(alert=alert)
    _audit(
        action="alert_action_plan",
        actor=actor,
        loan=_loan_of(alert),
        subject=alert,
        comment=alert.action_plan,
        from_state=from_state,
        to_state=alert.status,
    )
    return alert


@transaction.atomic
def alert_close(*, alert_id: int, actor, comment: str) -> Alert:
    alert = _alert_for_triage(alert_id=alert_id, actor=actor)
    if not comment.strip():
        raise InvalidInput(details={"comment": [_("Say why the alert can be closed.")]})
    from_state = alert.status
    alert.status = Alert.Status.CLOSED
    alert.closed_by = actor
    alert.closed_at = timezone.now()
    alert.close_comment = comment.strip()
    alert.save(update_fields=["status", "closed_by", "closed_at", "close_comment"])
    _alert_clock_stop(alert=alert)
    _audit(
        action="alert_close",
        actor=actor,
        loan=_loan_of(alert),
        subject=alert,
        comment=alert.close_comment,
        from_state=from_state,
        to_state="closed",
    )
    return alert


def loan_flag(
    *,
    application_id: int,
    actor,
    litigation: bool | None = None,
    guarantor_trouble: bool | None = None,
    note: str = "",
) -> Loan:
    """Record litigation/enforcement or a guarantor in trouble; matching warning rules fire
    at once (and again from the daily job while the flag stays set)."""
    _require(actor, "flag_loan")
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        before = {
            "litigation": loan.litigation_flag,
            "guarantor_trouble": loan.guarantor_trouble_flag,
        }
        if litigation is not None:
            loan.litigation_flag = litigation
        if guarantor_trouble is not None:
            loan.guarantor_trouble_flag = guarantor_trouble
        if note:
            loan.flags_note = note
        loan.save(update_fields=["litigation_flag", "guarantor_trouble_flag", "flags_note"])
        loan = Loan.objects.select_related("application").get(pk=loan.pk)
        _audit(
            action="loan_flag",
            actor=actor,
            loan=loan,
            subject=loan,
            comment=note,
            data={
                "before": before,
                "after": {
                    "litigation": loan.litigation_flag,
                    "guarantor_trouble": loan.guarantor_trouble_flag,
                },
            },
        )
        daily_run(loan_ids=[loan.pk])
    return loan


# --- Classification (五级分类) ---------------------------------------------------------------


def classification_floor_for(*, days_past_due: int) -> str:
    floors = ClassificationFloor.objects.filter(
        is_active=True, min_days_past_due__lte=days_past_due
    )
    worst = max((CLASS_RANK[f.classification] for f in floors), default=0)
    return next(c for c, r in CLASS_RANK.items() if r == worst)


def classification_propose(
    *, application_id: int, actor, to_classification: str, reason: str
) -> ClassificationChange:
    """The relationship manager proposes a change; a different risk officer approves it."""
    _require(actor, "propose_classification")
    if to_classification not in Classification.values:
        raise InvalidInput(details={"to_classification": [_("Unknown classification.")]})
    if not reason.strip():
        raise InvalidInput(details={"reason": [_("Give the reason for the change.")]})
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        if loan.status != Loan.Status.ACTIVE:
            raise Conflict(_("The loan is no longer active."), code="loan_inactive")
        if to_classification == loan.classification:
            raise InvalidInput(
                details={"to_classification": [_("The loan is already in this class.")]}
            )
        floor = classification_floor_for(days_past_due=loan.days_past_due)
        if CLASS_RANK[to_classification] < CLASS_RANK[floor]:
            raise InvalidInput(
                details={
                    "to_classification": [
                        _("At %(dpd)d days past due the loan must be at least %(floor)s.")
                        % {"dpd": loan.days_past_due, "floor": Classification(floor).label}
                    ]
                }
            )
        from postloan.changes import floor_refusal

        refusal = floor_refusal(loan=loan, to_classification=to_classification)
        if refusal:
            raise InvalidInput(details={"to_classification": [refusal]})
        if ClassificationChange.objects.filter(
            loan=loan, status=ClassificationChange.Status.PROPOSED
        ).exists():
            raise Conflict(
                _("A proposed change is already waiting for approval."), code="pending_change"
            )
        change = ClassificationChange.objects.create(
            loan=loan,
            kind=ClassificationChange.Kind.PROPOSED,
            status=ClassificationChange.Status.PROPOSED,
            from_classification=loan.classification,
            to_classification=to_classification,
            days_past_due=loan.days_past_due,
            reason=reason.strip(),
            proposed_by=actor,
        )
        loan = Loan.objects.select_related("application", "branch").get(pk=loan.pk)
        # A different risk officer decides it within the step's time (escalated when late).
        sla_services.clock_start(
            subject_type=CHANGE_SUBJECT,
            subject_id=change.pk,
            step="classification_review",
            application=loan.application,
            role=Role.RISK_OFFICER,
            branch=loan.branch,
        )
        _audit(
            action="classification_propose",
            actor=actor,
            loan=loan,
            subject=change,
            comment=reason,
            from_state=change.from_classification,
            to_state=to_classification,
        )
        _awaits_a_risk_officer(
            loan=loan,
            actor=actor,
            title=format_lazy(
                _CHANGE_TITLE,
                reference=loan.application.reference,
                to=Classification(to_classification).label,
            ),
            body=format_lazy(
                _CHANGE_BODY,
                proposer=actor.get_full_name() or actor.username,
                frm=Classification(change.from_classification).label,
                to=Classification(to_classification).label,
                reason=change.reason,
            ),
        )
    return change


_CHANGE_TITLE = gettext_lazy("Waiting for your approval: {reference} to {to}")
_CHANGE_BODY = gettext_lazy("{proposer} proposes to move the loan from {frm} to {to}: {reason}")
_WRITE_OFF_TITLE = gettext_lazy("Waiting for your approval: write-off of {reference}")
_WRITE_OFF_BODY = gettext_lazy("{proposer} proposes to write off {amount} {currency}: {reason}")


def _awaits_a_risk_officer(*, loan: Loan, actor, title, body) -> None:
    """The risk officers serving the loan's branch hear that a proposal waits for one of
    them (never the proposer: a different person decides)."""
    url = reverse("postloan-queue")
    notify_many(
        Message(
            user=officer,
            kind=NotificationKind.AWAITING_YOU,
            title=title,
            body=body,
            url=url,
            application=loan.application,
        )
        for officer in with_notification_preferences(
            staff_serving(branch=loan.branch, role=Role.RISK_OFFICER).exclude(pk=actor.pk)
        )
    )


def classification_decide(
    *, change_id: int, actor, approve: bool, comment: str = ""
) -> ClassificationChange:
    _require(actor, "decide_classification")
    try:
        with transaction.atomic():
            try:
                change = (
                    ClassificationChange.objects.select_for_update()
                    .filter(loan_scope_q(actor, prefix="loan__"))
                    .get(pk=change_id)
                )
            except ClassificationChange.DoesNotExist:
                from common.errors import NotFound

                raise NotFound() from None
            loan = (
                Loan.objects.select_for_update()
                .select_related("application")
                .get(pk=change.loan_id)
            )
            if change.status != ClassificationChange.Status.PROPOSED:
                raise Conflict(_("This change was already decided."), code="already_decided")
            if change.proposed_by_id == actor.pk:
                raise _Refused(
                    _("You proposed this change, so a different risk officer must approve it."),
                    application=loan.application,
                    action="classification_decide",
                )
            if approve:
                floor = classification_floor_for(days_past_due=loan.days_past_due)
                if CLASS_RANK[change.to_classification] < CLASS_RANK[floor]:
                    raise Conflict(
                        _(
                            "The days past due have risen since the proposal; the loan "
                            "must now be at least %(floor)s."
                        )
                        % {"floor": Classification(floor).label},
                        code="below_floor",
                    )
                from postloan.changes import floor_refusal

                refusal = floor_refusal(loan=loan, to_classification=change.to_classification)
                if refusal:
                    raise Conflict(refusal, code="restructured_floor")
                change.apply(by=actor, comment=comment, from_classification=loan.classification)
                loan.classification = change.to_classification
                loan.save(update_fields=["classification"])
            else:
                change.reject(by=actor, comment=comment)
            _save_decided(change, already=_("This change was already decided."))
            sla_services.clock_stop(subject_type=CHANGE_SUBJECT, subject_id=change.pk)
            _audit(
                action="classification_approve" if approve else "classification_reject",
                actor=actor,
                loan=loan,
                subject=change,
                comment=comment,
                from_state=change.from_classification,
                to_state=change.to_classification,
            )
            if approve:
                daily_run(loan_ids=[loan.pk])
    except _Refused as exc:
        _record_refusal(exc, actor)
        raise
    return change


def _save_decided(decision: ClassificationChange | WriteOff, *, already: str) -> None:
    """Save a decided proposal; one decided meanwhile (past the caller's lock) is a 409."""
    try:
        decision.save()
    except ConcurrentTransition:
        raise Conflict(already, code="already_decided") from None


class _Refused(SegregationOfDuties):
    """A maker-checker refusal; recorded in the audit trail after the rollback."""

    def __init__(self, reason: str, *, application, action: str):
        super().__init__(reason)
        self.application = application
        self.action = action


def _record_refusal(exc: "_Refused", actor) -> None:
    audit_refusal(
        action=exc.action,
        actor=actor,
        actor_role=primary_role(actor),
        application=exc.application,
        reason=str(exc.message),
        code=exc.code,
    )


# --- Write-off -----------------------------------------------------------------------------


def write_off_propose(*, application_id: int, actor, reason: str) -> WriteOff:
    _require(actor, "propose_write_off")
    if not reason.strip():
        raise InvalidInput(details={"reason": [_("Give the reason for the write-off.")]})
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        if loan.status != Loan.Status.ACTIVE:
            raise Conflict(_("The loan is no longer active."), code="loan_inactive")
        if WriteOff.objects.filter(loan=loan, status=WriteOff.Status.PROPOSED).exists():
            raise Conflict(
                _("A write-off is already waiting for approval."), code="pending_write_off"
            )
        daily_run(loan_ids=[loan.pk])
        loan.refresh_from_db()
        write_off = WriteOff.objects.create(
            loan=loan,
            amount=loan.outstanding_principal,
            currency=loan.currency,
            reason=reason.strip(),
            proposed_by=actor,
        )
        loan = Loan.objects.select_related("application", "branch").get(pk=loan.pk)
        _audit(
            action="write_off_propose",
            actor=actor,
            loan=loan,
            subject=write_off,
            comment=reason,
            data={"amount": str(write_off.amount)},
        )
        _awaits_a_risk_officer(
            loan=loan,
            actor=actor,
            title=format_lazy(_WRITE_OFF_TITLE, reference=loan.application.reference),
            body=format_lazy(
                _WRITE_OFF_BODY,
                proposer=actor.get_full_name() or actor.username,
                amount=f"{write_off.amount:,.2f}",
                currency=write_off.currency,
                reason=write_off.reason,
            ),
        )
    return write_off


def write_off_decide(*, write_off_id: int, actor, approve: bool, comment: str = "") -> WriteOff:
    """A risk officer other than the proposer approves (the loan ends written_off) or
    rejects."""
    _require(actor, "decide_write_off")
    try:
        with transaction.atomic():
            try:
                write_off = (
                    WriteOff.objects.select_for_update()
                    .filter(loan_scope_q(actor, prefix="loan__"))
                    .get(pk=write_off_id)
                )
            except WriteOff.DoesNotExist:
                from common.errors import NotFound

                raise NotFound() from None
            loan = (
                Loan.objects.select_for_update()
                .select_related("application")
                .get(pk=write_off.loan_id)
            )
            if write_off.status != WriteOff.Status.PROPOSED:
                raise Conflict(_("This write-off was already decided."), code="already_decided")
            if write_off.proposed_by_id == actor.pk:
                raise _Refused(
                    _("You proposed this write-off, so a different risk officer must approve it."),
                    application=loan.application,
                    action="write_off_decide",
                )
            if approve:
                write_off.approve(by=actor, comment=comment)
            else:
                write_off.reject(by=actor, comment=comment)
            _save_decided(write_off, already=_("This write-off was already decided."))
            _audit(
                action="write_off_approve" if approve else "write_off_reject",
                actor=actor,
                loan=loan,
                subject=write_off,
                comment=comment,
            )
            if approve:
                loan_end(
                    loan=loan,
                    status=Loan.Status.WRITTEN_OFF,
                    actor=actor,
                    comment=comment or write_off.reason,
                    system=False,
                )
    except _Refused as exc:
        _record_refusal(exc, actor)
        raise
    return write_off


# --- Prepayment ----------------------------------------------------------------------------


def _refusal_error(exc) -> InvalidInput | Conflict:
    if exc.field:
        return InvalidInput(exc.message, code=exc.code, details={exc.field: [exc.message]})
    return Conflict(exc.message, code=exc.code)


def _quote_or_error(**kwargs):
    from postloan.payoff import PrepaymentRefused, payoff_quote

    try:
        return payoff_quote(**kwargs)
    except PrepaymentRefused as exc:
        raise _refusal_error(exc) from None


def _prepayment_checked(*, loan: Loan, kind: str, value_date: date, principal=None):
    """The quote of a prepayment the loan (locked) can take now: active, of a kind the
    product allows, none pending, no repayment after the value date, and (partial) a
    schedule that can be drawn; 400 or 409 otherwise. The rule for filing a prepayment and
    for an owner's request of one."""
    from postloan.payoff import PrepaymentRefused, rebuilt_schedule, servicing_terms_for

    if loan.status != Loan.Status.ACTIVE:
        raise Conflict(_("The loan is no longer active."), code="loan_inactive")
    if not servicing_terms_for(loan.application.product).allows(kind):
        raise Conflict(
            _("The product does not allow this kind of prepayment."), code="kind_not_allowed"
        )
    if Prepayment.objects.filter(loan=loan, status=Prepayment.Status.REQUESTED).exists():
        raise Conflict(
            _("A prepayment is already waiting for confirmation."), code="pending_prepayment"
        )
    if loan.repayments.filter(value_date__gt=value_date).exists():
        raise Conflict(
            _("A repayment was recorded with a later value date; quote from that date on."),
            code="later_repayment",
        )
    quote = _quote_or_error(loan=loan, value_date=value_date, kind=kind, principal=principal)
    if kind != Prepayment.Kind.FULL:
        # Draw the schedule now, so a prepayment that cannot be drawn is refused here.
        try:
            rebuilt_schedule(loan=loan, quote=quote)
        except PrepaymentRefused as exc:
            raise _refusal_error(exc) from None
    return quote


def prepayment_file(
    *,
    application_id: int,
    actor,
    kind: str,
    value_date: date,
    principal: Decimal | None = None,
    comment: str = "",
    request_id: int | None = None,
) -> Prepayment:
    """File a prepayment the borrower asked for, with its quote. A different person confirms
    it (prepayment_confirm) when the money is received. With `request_id`, the owner's open
    request on the portal (OwnerRequest) it answers is filed with it."""
    _require(actor, "file_prepayment")
    if kind not in Prepayment.Kind.values:
        raise InvalidInput(
            details={"kind": [_("Choose full prepayment, a shorter term or a lower instalment.")]}
        )
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        loan = Loan.objects.select_related("application__product").get(pk=loan.pk)
        quote = _prepayment_checked(
            loan=loan, kind=kind, value_date=value_date, principal=principal
        )
        try:
            with transaction.atomic():
                prepayment = Prepayment.objects.create(
                    loan=loan,
                    kind=kind,
                    value_date=value_date,
                    currency=loan.currency,
                    principal=quote.principal,
                    interest=quote.interest,
                    overdue_interest=quote.overdue_interest,
                    fee=quote.fee,
                    total=quote.total,
                    comment=comment.strip(),
                    filed_by=actor,
                )
        except IntegrityError:
            raise Conflict(
                _("A prepayment is already waiting for confirmation."), code="pending_prepayment"
            ) from None
        data = _prepayment_data(prepayment)
        if request_id is not None:
            request = owner_request_file(
                loan=loan, request_id=request_id, actor=actor, kind=kind, prepayment=prepayment
            )
            data["request"] = request.pk
        _audit(
            action="prepayment_file",
            actor=actor,
            loan=loan,
            subject=prepayment,
            comment=comment,
            to_state=prepayment.status,
            data=data,
        )
    return prepayment


# --- The owner's requests on the portal: a prepayment or a change ---------------------------

_ASKED_TITLE = {
    True: gettext_lazy("A borrower asks to prepay: {reference}"),
    False: gettext_lazy("A borrower asks for a change to {reference}"),
}
_ASKED_BODY = {
    True: gettext_lazy(
        "{owner} of {company} asks to prepay {reference} on {value_date}: {kind}. File it as a "
        "prepayment from the loan's page, or decline it with a reason."
    ),
    False: gettext_lazy(
        "{owner} of {company} asks for a {kind} of {reference}. File it as a change from the "
        "loan's page, or decline it with a reason."
    ),
}
_DECLINED_TITLE = gettext_lazy("Your request for {reference} was declined")


def owner_request_ask(
    *,
    application_id: int,
    actor,
    kind: str,
    value_date: date | None = None,
    principal: Decimal | None = None,
    note: str = "",
) -> OwnerRequest:
    """The owner asks on the portal for a prepayment or a change to their loan. A prepayment
    is checked as one is filed (_prepayment_checked: the product's kinds, the principal, no
    arrears for a partial one) on a value date from today to the latest a value date may be
    ahead (400); a change needs a loan being repaid (409). One open request a loan (409
    open_request, the database's constraint deciding between two at once). The loan's
    relationship manager hears of it and files it (prepayment_file or
    postloan.changes.change_file with request_id) or declines it (owner_request_decline)."""
    from postloan.selectors import prepayment_request_dates

    if is_staff_member(actor):
        raise Forbidden(
            _("The borrower asks on the portal; the bank files a prepayment or a change."),
            code="role",
        )
    if kind not in OwnerRequest.Kind.values:
        raise InvalidInput(
            details={"kind": [_("Choose a kind of prepayment or a change to the loan.")]}
        )
    prepaying = kind in Prepayment.Kind.values
    if prepaying:
        today, latest = prepayment_request_dates()
        if value_date is None or not today <= value_date <= latest:
            raise InvalidInput(
                details={
                    "value_date": [
                        _("Choose a date from %(today)s to %(latest)s.")
                        % {"today": today.isoformat(), "latest": latest.isoformat()}
                    ]
                }
            )
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        loan = Loan.objects.select_related(
            "application__product", "application__company", "relationship_manager"
        ).get(pk=loan.pk)
        data: dict = {"kind": kind}
        if prepaying:
            quote = _prepayment_checked(
                loan=loan, kind=kind, value_date=value_date, principal=principal
            )
            data.update(
                value_date=value_date.isoformat(),
                principal=str(quote.principal),
                total=str(quote.total),
                currency=loan.currency,
            )
        elif loan.status != Loan.Status.ACTIVE:
            raise Conflict(_("Only a loan being repaid can be changed."), code="loan_inactive")
        try:
            with transaction.atomic():
                request = OwnerRequest.objects.create(
                    loan=loan,
                    kind=kind,
                    value_date=value_date if prepaying else None,
                    principal=(
                        quote.principal if prepaying and kind != Prepayment.Kind.FULL else None
                    ),
                    note=(note or "").strip()[:4000],
                    asked_by=actor,
                )
        except IntegrityError:
            raise Conflict(
                _(
                    "A request of yours is already with the bank: your relationship manager will "
                    "answer it."
                ),
                code="open_request",
            ) from None
        _audit(
            action="owner_request_ask",
            actor=actor,
            loan=loan,
            subject=request,
            comment=request.note,
            to_state=request.status,
            data=data,
        )
        application = loan.application
        rm = loan.relationship_manager
        if rm is not None:
            notify(
                user=rm,
                kind=NotificationKind.AWAITING_YOU,
                title=format_lazy(_ASKED_TITLE[prepaying], reference=application.reference),
                body=format_lazy(
                    _ASKED_BODY[prepaying],
                    owner=actor.get_full_name() or actor.username,
                    company=application.company.name,
                    kind=request.get_kind_display(),
                    reference=application.reference,
                    value_date=value_date.isoformat() if value_date else "",
                ),
                url=reverse("application-detail", args=[application.pk]),
                application=application,
            )
    return request


def _owner_request_locked(*scope, request_id: int, **filters) -> OwnerRequest:
    """The request (locked), 404 unless it matches `scope` and `filters`; 409 once
    answered."""
    from common.errors import NotFound

    request = (
        OwnerRequest.objects.select_for_update(of=("self",))
        .select_related("loan__application")
        .filter(*scope, pk=request_id, **filters)
        .first()
    )
    if request is None:
        raise NotFound()
    if request.status != OwnerRequest.Status.OPEN:
        raise Conflict(_("This request was already answered."), code="request_answered")
    return request


def _owner_request_save(request: OwnerRequest) -> None:
    try:
        request.save()
    except ConcurrentTransition:
        raise Conflict(_("This request was already answered."), code="request_answered") from None


def _owner_request_may(request: OwnerRequest, method, actor) -> None:
    if not has_transition_perm(method, actor):
        raise Forbidden(
            _("A prepayment request is answered by staff who file prepayments.")
            if request.is_prepayment
            else _("Only the loan's relationship manager answers it."),
            code="role",
        )


def owner_request_file(
    *,
    loan: Loan,
    request_id: int,
    actor,
    kind: str,
    prepayment: Prepayment | None = None,
    change=None,
) -> OwnerRequest:
    """In the transaction that filed `prepayment` (prepayment_file) or the change application
    `change` (postloan.changes.change_file) on the locked `loan`: the owner's open request it
    answers is filed as it. A prepayment answers a prepayment request (of any kind the bank
    chose), a change a request for that change (400 otherwise)."""
    request = _owner_request_locked(request_id=request_id, loan=loan)
    if request.is_prepayment != (prepayment is not None) or (
        change is not None and request.kind != kind
    ):
        raise InvalidInput(
            details={"kind": [_("The owner asked for another kind of change.")]}
            if change is not None
            else {"request_id": [_("The owner asked for a change, not a prepayment.")]}
        )
    _owner_request_may(request, request.file, actor)
    request.file(by=actor, prepayment=prepayment, change=change)
    _owner_request_save(request)
    _audit(
        action="owner_request_file",
        actor=actor,
        loan=loan,
        subject=request,
        from_state=OwnerRequest.Status.OPEN,
        to_state=request.status,
        data={"prepayment": prepayment.pk} if prepayment else {"change": change.pk},
    )
    return request


def owner_request_decline(
    *, actor, request_id: int, comment: str, application_id: int | None = None
) -> OwnerRequest:
    """Staff decline an owner's open request, saying why (400 without a reason): a
    prepayment request staff who file prepayments, a change request the loan's relationship
    manager (403 otherwise). The owner reads the answer on the portal and hears of it."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(details={"comment": [_("Say why: the borrower reads it.")]})
    filters = {} if application_id is None else {"loan__application_id": application_id}
    with transaction.atomic():
        request = _owner_request_locked(
            loan_scope_q(actor, prefix="loan__"), request_id=request_id, **filters
        )
        _owner_request_may(request, request.decline, actor)
        request.decline(by=actor, answer=comment)
        _owner_request_save(request)
        loan = request.loan
        _audit(
            action="owner_request_decline",
            actor=actor,
            loan=loan,
            subject=request,
            comment=comment,
            from_state=OwnerRequest.Status.OPEN,
            to_state=request.status,
            data={"kind": request.kind},
        )
        application = loan.application
        notify(
            user=request.asked_by,
            kind=NotificationKind.DECISION,
            title=format_lazy(_DECLINED_TITLE, reference=application.reference),
            body=comment,
            url=reverse("portal-application", args=[application.pk]),
            application=application,
        )
    return request


def owner_request_withdraw(*, application_id: int, request_id: int, actor) -> OwnerRequest:
    """The owner withdraws their company's request while it is open (409 once answered)."""
    if is_staff_member(actor):
        raise Forbidden(_("Only the borrower withdraws their request."), code="role")
    with transaction.atomic():
        loan = loan_get(user=actor, application_id=application_id, for_update=True)
        request = _owner_request_locked(request_id=request_id, loan=loan)
        _owner_request_may(request, request.withdraw, actor)
        request.withdraw(by=actor)
        _owner_request_save(request)
        _audit(
            action="owner_request_withdraw",
            actor=actor,
            loan=loan,
            subject=request,
            from_state=OwnerRequest.Status.OPEN,
            to_state=request.status,
            data={"kind": request.kind},
        )
    return request


def _prepayment_data(prepayment: Prepayment) -> dict:
    return {
        "kind": prepayment.kind,
        "value_date": prepayment.value_date.isoformat(),
        "principal": str(prepayment.principal),
        "interest": str(prepayment.interest),
        "overdue_interest": str(prepayment.overdue_interest),
        "fee": str(prepayment.fee),
        "total": str(prepayment.total),
        "currency": prepayment.currency,
    }


def _prepayment_for_decision(*, prepayment_id: int, actor) -> tuple[Prepayment, Loan]:
    from common.errors import NotFound

    try:
        prepayment = (
            Prepayment.objects.select_for_update()
            .filter(loan_scope_q(actor, prefix="loan__"))
            .get(pk=prepayment_id)
        )
    except Prepayment.DoesNotExist:
        raise NotFound() from None
    loan = (
        Loan.objects.select_for_update()
        .select_related("application__product", "application__branch")
        .get(pk=prepayment.loan_id)
    )
    if prepayment.status != Prepayment.Status.REQUESTED:
        raise Conflict(_("This prepayment was already decided."), code="already_decided")
    return prepayment, loan


def prepayment_confirm(*, prepayment_id: int, actor, comment: str = "") -> Prepayment:
    """A person other than the one who filed it confirms the money was received: the
    repayment is recorded, the instalments due after the value date are replaced (the old
    schedule kept as a ScheduleRevision), and a full prepayment closes the loan."""
    from postloan.payoff import PrepaymentRefused, rebuilt_schedule

    if not has_role_perm(actor, "postloan.confirm_prepayment"):
        raise Forbidden(_("Your role may not do this."), code="role")
    try:
        with transaction.atomic():
            prepayment, loan = _prepayment_for_decision(prepayment_id=prepayment_id, actor=actor)
            if prepayment.filed_by_id == actor.pk:
                raise _Refused(
                    _("You filed this prepayment, so a different person must confirm it."),
                    application=loan.application,
                    action="prepayment_confirm",
                )
            if loan.status != Loan.Status.ACTIVE:
                raise Conflict(_("The loan is no longer active."), code="loan_inactive")
            if prepayment.value_date > timezone.localdate():
                raise Conflict(
                    _("The value date is in the future: confirm it when the money is received."),
                    code="value_date_future",
                )
            if loan.repayments.filter(value_date__gt=prepayment.value_date).exists():
                raise Conflict(
                    _("A repayment was recorded with a later value date; file it again."),
                    code="later_repayment",
                )
            if loan.overdue_accruals.filter(accrued_on__gte=prepayment.value_date).exists():
                raise Conflict(
                    _(
                        "Overdue interest was accrued on or after the value date; file the "
                        "prepayment again with a later value date."
                    ),
                    code="accrued_after_value_date",
                )
            quote = _quote_or_error(
                loan=loan,
                value_date=prepayment.value_date,
                kind=prepayment.kind,
                principal=prepayment.principal,
            )
            if (quote.principal, quote.interest, quote.overdue_interest, quote.fee) != (
                prepayment.principal,
                prepayment.interest,
                prepayment.overdue_interest,
                prepayment.fee,
            ):
                raise Conflict(
                    _("The loan's figures changed since the prepayment was filed; file it again."),
                    code="quote_changed",
                )
            try:
                rows = rebuilt_schedule(loan=loan, quote=quote)
            except PrepaymentRefused as exc:
                raise _refusal_error(exc) from None
            schedule_replace(loan=loan, rows=rows, after=quote.value_date, prepayment=prepayment)
            repayment = Repayment.objects.create(
                loan=loan,
                amount=quote.principal + quote.interest + quote.overdue_interest,
                currency=loan.currency,
                value_date=prepayment.value_date,
                recorded_by=actor,
            )
            prepayment.confirm(by=actor, comment=comment, repayment=repayment)
            _save_decided(prepayment, already=_("This prepayment was already decided."))
            _audit(
                action="prepayment_confirm",
                actor=actor,
                loan=loan,
                subject=prepayment,
                comment=comment,
                from_state=Prepayment.Status.REQUESTED,
                to_state=prepayment.status,
                data={**_prepayment_data(prepayment), "repayment": repayment.pk},
            )
            daily_run(loan_ids=[loan.pk])
            if prepayment.kind == Prepayment.Kind.FULL:
                loan.refresh_from_db()
                loan_end(
                    loan=loan,
                    status=Loan.Status.CLOSED,
                    actor=actor,
                    comment=_("Prepaid in full."),
                    data={"note": "prepaid_in_full", "prepayment": prepayment.pk},
                )
    except _Refused as exc:
        _record_refusal(exc, actor)
        raise
    return prepayment


def schedule_replace(
    *,
    loan: Loan,
    rows,
    after: date | None = None,
    prepayment: Prepayment | None = None,
    change=None,
) -> ScheduleRevision:
    """Keep the loan's schedule as it was (its next ScheduleRevision, naming the prepayment or
    the change application that replaced it) and replace the instalments due after `after`
    (all of them when None) by `rows`: a prepayment's new schedule from its value date, a
    renewal's payout, an extension or a restructuring (postloan.changes)."""
    from disbursement.models import Instalment

    current = Instalment.objects.filter(application_id=loan.application_id).order_by("number")
    revision = ScheduleRevision.objects.create(
        loan=loan,
        number=ScheduleRevision.objects.filter(loan=loan).count() + 1,
        prepayment=prepayment,
        change=change,
        instalments=[
            {
                "number": inst.number,
                "due_date": inst.due_date.isoformat(),
                "principal": str(inst.principal),
                "interest": str(inst.interest),
                "total": str(inst.total),
            }
            for inst in current
        ],
    )
    (current if after is None else current.filter(due_date__gt=after)).delete()
    Instalment.objects.bulk_create(
        [
            Instalment(
                application_id=loan.application_id,
                number=row.number,
                due_date=row.due_date,
                principal=row.principal,
                interest=row.interest,
                total=row.total,
                currency=loan.currency,
            )
            for row in rows
        ]
    )
    return revision


def prepayment_cancel(*, prepayment_id: int, actor, comment: str = "") -> Prepayment:
    """Withdraw a prepayment not yet confirmed (the borrower changed their mind, or the money
    did not arrive): whoever may file or confirm prepayments."""
    if not (
        has_role_perm(actor, "postloan.file_prepayment")
        or has_role_perm(actor, "postloan.confirm_prepayment")
    ):
        raise Forbidden(_("Your role may not do this."), code="role")
    with transaction.atomic():
        prepayment, loan = _prepayment_for_decision(prepayment_id=prepayment_id, actor=actor)
        prepayment.cancel(by=actor, comment=comment)
        _save_decided(prepayment, already=_("This prepayment was already decided."))
        _audit(
            action="prepayment_cancel",
            actor=actor,
            loan=loan,
            subject=prepayment,
            comment=comment,
            from_state=Prepayment.Status.REQUESTED,
            to_state=prepayment.status,
        )
    return prepayment
