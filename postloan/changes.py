"""Changes to a live loan (issue 29): renewal (续贷, 无还本续贷), extension (展期),
restructuring (重组) and top-up. Read docs/changes.md first.

A change is a loan application of its own (`LoanApplication.change_of` = the loan's
application, `change_kind`), with a `LoanChange` beside it for what an application does not
carry. So it goes through the one transition service (applications.services), with the audit
trail, the SLA clocks, the approval route on the exposure after the change and the analytics'
stage measures of every application. Where a change differs, applications.effects asks this
module:

- filing (`change_file`): by the loan's relationship manager, submitted at once; the figures
  of the light review are prefilled (`change_review_figures`);
- review: a colleague starts the investigation and confirms the figures
  (`change_review_confirm`), the gate of `send_to_approval` (`change_missing`);
- an extension or restructuring, once approved, is applied with its supplementary agreement
  (`change_apply`): a new schedule from the change date, the old one kept
  (ScheduleRevision); a renewal or top-up is a new loan through offer, contract and payout,
  and a renewal's payout repays the old loan (`renewal_settle_on_payout`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import (
    IN_PLACE_CHANGES,
    OPEN_STATUSES,
    RENEWALS,
    ChangeKind,
    LoanApplication,
    RepaymentMethod,
    Status,
)
from applications.permissions import filed_it
from applications.selectors import application_get
from applications.services import application_transition, validate_against_product
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput
from disbursement.models import Instalment
from disbursement.schedule import InstalmentRow, add_months, build_schedule
from disbursement.selectors import schedule_conventions
from org.permissions import has_role_perm
from org.roles import primary_role
from postloan.daily import daily_run, loan_positions
from postloan.models import (
    CLASS_RANK,
    Alert,
    ChangeTerms,
    Classification,
    Loan,
    LoanChange,
    OverdueInterestAccrual,
    ScheduleRevision,
)

ZERO = Decimal("0.00")
OPEN_ALERT_STATUSES = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED)


def change_terms_for(product) -> ChangeTerms:
    """The product's change terms, or the defaults (unsaved) for a product without them."""
    return ChangeTerms.objects.filter(product=product).first() or ChangeTerms(product=product)


# --- What changed since the loan's investigation (the light review) ------------------------


def _month_index(day: date) -> int:
    return day.year * 12 + day.month


def days_past_due_history(*, loan: Loan, since: date, as_of: date) -> list[dict]:
    """The loan's days past due on each of its due dates since `since` and on `as_of`, by
    the nightly job's own position (postloan.daily.loan_positions, counting the repayments
    valued up to that day): the repayment behaviour a change is decided on."""
    dues = list(
        Instalment.objects.filter(
            application_id=loan.application_id, due_date__gte=since, due_date__lt=as_of
        )
        .order_by("due_date")
        .values_list("due_date", flat=True)
        .distinct()
    )
    history = []
    for day in [*dues, as_of]:
        # The day after a due date, the instalment is overdue if it was not paid on it.
        on = min(day + timedelta(days=1), as_of) if day != as_of else as_of
        position = loan_positions(loan_ids=[loan.pk], as_of=on, repaid_until=day).get(loan.pk)
        history.append(
            {"date": on.isoformat(), "days_past_due": position.days_past_due if position else 0}
        )
    return history


def change_review_figures(*, loan: Loan, months: int = 12, as_of: date | None = None) -> dict:
    """What a change's reviewer confirms: the repayment behaviour over the last `months`
    (days past due on each due date, the days overdue interest accrued), the overdue
    interest, the open early-warning alerts, the classification and the balances now, and
    what the loan's last decision was made on."""
    as_of = as_of or timezone.localdate()
    since = add_months(as_of, -months)
    history = days_past_due_history(loan=loan, since=since, as_of=as_of)
    alerts = list(
        Alert.objects.filter(loan=loan, status__in=OPEN_ALERT_STATUSES)
        .select_related("rule")
        .order_by("created_at")
    )
    last_due = (
        Instalment.objects.filter(application_id=loan.application_id)
        .order_by("-due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    application = loan.application
    return {
        "as_of": as_of.isoformat(),
        "months": months,
        "days_past_due": loan.days_past_due,
        "worst_days_past_due": max((row["days_past_due"] for row in history), default=0),
        "days_past_due_history": history,
        "overdue_days": OverdueInterestAccrual.objects.filter(
            loan=loan, accrued_on__gte=since
        ).count(),
        "overdue_interest": str(loan.overdue_interest),
        "overdue_interest_unpaid": str(loan.overdue_interest_unpaid),
        "open_alerts": [{"id": a.pk, "rule": a.rule.code, "severity": a.severity} for a in alerts],
        "classification": loan.classification,
        "restructured": bool(loan.restructured_on),
        "outstanding_principal": str(loan.outstanding_principal),
        "outstanding_total": str(loan.outstanding_total),
        "maturity": last_due.isoformat() if last_due else None,
        "previous_risk_grade": application.risk_grade,
        "previous_risk_score": application.risk_score,
        "interest_rate": str(application.interest_rate),
        "repayment_method": application.repayment_method,
    }


# --- Renewal eligibility ----------------------------------------------------------------------


def renewal_refusals(*, loan: Loan, figures: dict, terms: ChangeTerms) -> list[dict]:
    """The product's renewal rules the loan fails, each with its code and message (empty:
    eligible)."""
    failed = []
    if terms.renewal_requires_normal and loan.classification != Classification.NORMAL:
        failed.append(
            {
                "rule": "classification",
                "message": _("The loan is classified %(cls)s; renewal needs normal (正常).")
                % {"cls": Classification(loan.classification).label},
            }
        )
    if terms.renewal_clean_months and (
        figures["worst_days_past_due"] > 0 or figures["overdue_days"] > 0
    ):
        failed.append(
            {
                "rule": "overdue",
                "message": _("The loan was overdue in the last %(n)d months.")
                % {"n": terms.renewal_clean_months},
            }
        )
    if terms.renewal_no_open_alerts and figures["open_alerts"]:
        failed.append(
            {
                "rule": "open_alerts",
                "message": _("The loan has %(n)d open early-warning alerts.")
                % {"n": len(figures["open_alerts"])},
            }
        )
    return failed


# --- Filing ------------------------------------------------------------------------------------


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details={field: [message]})


def _applied_changes(loan: Loan, kind: str):
    return LoanChange.objects.filter(
        loan=loan,
        application__change_kind=kind,
        application__status=Status.CHANGE_APPLIED,
    )


def change_file(
    *,
    actor,
    application_id: int,
    kind: str,
    reason: str = "",
    amount: Decimal | None = None,
    term_months: int | None = None,
    interest_rate: Decimal | None = None,
    repayment_method: str = "",
    extension_months: int | None = None,
    grace_months: int = 0,
    request_id: int | None = None,
) -> LoanApplication:
    """The loan's relationship manager files a change to the loan of application
    `application_id`; it is submitted at once and waits for a colleague's review. 400 with
    field messages for terms outside the product or the product's limits, 409 with the
    failed rules for a renewal the loan is not eligible for."""
    if kind not in ChangeKind.values:
        raise _field_error("kind", _("Choose renewal, extension, restructuring or top-up."))
    with transaction.atomic():
        # The loan locked as a repayment locks it: the figures are read from one state.
        loan = (
            Loan.objects.select_for_update(of=("self",))
            .select_related("application__product", "application__branch")
            .filter(application_id=application_get(user=actor, pk=application_id).pk)
            .first()
        )
        if loan is None:
            raise Conflict(_("Only a disbursed loan can be changed."), code="not_a_loan")
        loan_application = loan.application
        if loan.relationship_manager_id != actor.pk or not has_role_perm(
            actor, "applications.create_application"
        ):
            raise Forbidden(
                _("Only the loan's relationship manager files a change to it."), code="role"
            )
        if loan.status != Loan.Status.ACTIVE:
            raise Conflict(_("The loan is no longer active."), code="loan_inactive")
        pending = LoanApplication.objects.filter(
            change_of=loan_application, status__in=OPEN_STATUSES
        ).first()
        if pending is not None:
            raise Conflict(
                _("A change to this loan is already open (%(ref)s).") % {"ref": pending.reference},
                code="open_change",
                details={"existing_id": pending.pk},
            )
        daily_run(loan_ids=[loan.pk])
        loan.refresh_from_db()
        terms = change_terms_for(loan_application.product)
        figures = change_review_figures(loan=loan, months=terms.renewal_clean_months or 12)
        product = loan_application.product
        outstanding = loan.outstanding_principal
        new = {
            "amount": outstanding,
            "term_months": loan_application.term_months,
            "interest_rate": loan_application.interest_rate,
            "repayment_method": loan_application.repayment_method,
        }
        if kind == ChangeKind.EXTENSION:
            new.update(_extension_terms(loan, terms, extension_months, figures))
        elif kind == ChangeKind.RESTRUCTURING:
            new.update(
                _restructuring_terms(
                    loan, term_months, interest_rate, repayment_method, grace_months
                )
            )
        elif kind in RENEWALS:
            failed = renewal_refusals(loan=loan, figures=figures, terms=terms)
            if failed:
                raise Conflict(
                    _("The loan is not eligible for renewal: %(reasons)s")
                    % {"reasons": " ".join(f["message"] for f in failed)},
                    code="not_eligible",
                    details={"rules": failed},
                )
            for key, value in (
                ("amount", amount),
                ("term_months", term_months),
                ("interest_rate", interest_rate),
                ("repayment_method", repayment_method),
            ):
                if value not in (None, ""):
                    new[key] = value
            if Decimal(new["amount"]) > outstanding:
                raise _field_error(
                    "amount",
                    _(
                        "A renewal repays the old loan and no more: at most the outstanding "
                        "principal, %(out)s."
                    )
                    % {"out": f"{outstanding:,.2f}"},
                )
        elif kind == ChangeKind.TOP_UP:
            if amount is None or Decimal(amount) <= 0:
                raise _field_error("amount", _("Give the amount to add."))
            new["amount"] = Decimal(amount)
        if kind not in IN_PLACE_CHANGES:
            errors = validate_against_product(
                product=product,
                amount=Decimal(new["amount"]),
                term_months=int(new["term_months"]),
                interest_rate=Decimal(new["interest_rate"]),
                repayment_method=new["repayment_method"],
                guarantee_type=loan_application.guarantee_type,
            )
            if errors:
                raise InvalidInput(_("The change does not fit the product."), details=errors)
        application = LoanApplication.objects.create(
            company_id=loan_application.company_id,
            branch_id=loan_application.branch_id,
            product=product,
            # An in-place change keeps the loan's terms; a new loan takes the product's now.
            product_snapshot=(
                loan_application.product_snapshot
                if kind in IN_PLACE_CHANGES or kind == ChangeKind.TOP_UP
                else product.snapshot()
            ),
            amount=Decimal(new["amount"]),
            currency=loan.currency,
            term_months=int(new["term_months"]),
            interest_rate=Decimal(new["interest_rate"]),
            repayment_method=new["repayment_method"],
            guarantee_type=loan_application.guarantee_type,
            purpose=reason.strip(),
            channel=LoanApplication.Channel.BRANCH,
            filed_by=actor,
            relationship_manager=actor,
            language=loan_application.language,
            change_of=loan_application,
            change_kind=kind,
            risk_grade=loan_application.risk_grade,
            route_recommendation="standard",
            flag_count=len(figures["open_alerts"]),
        )
        LoanChange.objects.create(
            application=application,
            loan=loan,
            reason=reason.strip(),
            extension_months=extension_months if kind == ChangeKind.EXTENSION else None,
            grace_months=grace_months if kind == ChangeKind.RESTRUCTURING else 0,
            figures=figures,
        )
        audit_record(
            action="change_file",
            actor=actor,
            actor_role=primary_role(actor),
            application=application,
            to_state=application.status,
            kind="action",
            data={
                "change_kind": kind,
                "loan_application": loan_application.pk,
                "amount": str(application.amount),
                "term_months": application.term_months,
                "interest_rate": str(application.interest_rate),
                "repayment_method": application.repayment_method,
            },
        )
        if request_id is not None:
            from postloan.services import owner_request_file

            owner_request_file(
                loan=loan, request_id=request_id, actor=actor, kind=kind, change=application
            )
        application_transition(application_id=application.pk, transition="submit", actor=actor)
    application.refresh_from_db()
    return application


def _extension_terms(loan: Loan, terms: ChangeTerms, months, figures: dict) -> dict:
    if not months or int(months) < 1:
        raise _field_error("extension_months", _("Give the months to extend the loan by."))
    months = int(months)
    done = list(
        _applied_changes(loan, ChangeKind.EXTENSION).values_list("extension_months", flat=True)
    )
    if len(done) >= terms.max_extensions:
        raise _field_error(
            "extension_months",
            _("The product allows %(n)d extension(s) of a loan; this loan had %(done)d.")
            % {"n": terms.max_extensions, "done": len(done)},
        )
    if sum(m or 0 for m in done) + months > terms.max_extension_months:
        raise _field_error(
            "extension_months",
            _("The product allows extensions of %(n)d months in all; at most %(left)d more.")
            % {
                "n": terms.max_extension_months,
                "left": max(0, terms.max_extension_months - sum(m or 0 for m in done)),
            },
        )
    if figures["days_past_due"] > 0:
        raise Conflict(
            _("Pay the instalments already due before an extension (or restructure the loan)."),
            code="arrears",
        )
    return {"term_months": loan.application.term_months + months}


def _restructuring_terms(loan: Loan, term_months, interest_rate, method, grace_months) -> dict:
    product = loan.application.product
    errors: dict[str, list[str]] = {}
    if not term_months or int(term_months) < 1:
        errors["term_months"] = [_("Give the new term in months from the change.")]
    if interest_rate is None:
        errors["interest_rate"] = [_("Give the new annual rate.")]
    elif not (product.min_rate <= Decimal(interest_rate) <= product.max_rate):
        errors["interest_rate"] = [
            _("The rate must be between %(min)s%% and %(max)s%% for this product.")
            % {"min": product.min_rate, "max": product.max_rate}
        ]
    method = method or loan.application.repayment_method
    if method not in RepaymentMethod.values:
        errors["repayment_method"] = [_("Unknown repayment method.")]
    if term_months and int(grace_months or 0) >= int(term_months):
        errors["grace_months"] = [_("The interest-only months must be fewer than the term.")]
    if errors:
        raise InvalidInput(_("The new terms are not valid."), details=errors)
    return {
        "term_months": int(term_months),
        "interest_rate": Decimal(interest_rate),
        "repayment_method": method,
    }


# --- The light review --------------------------------------------------------------------------


UPDATED_FIGURES = ("annual_revenue", "net_profit", "total_debt", "employees")


def change_review_confirm(
    *, actor, application_id: int, opinion: str, updated: dict | None = None
) -> LoanChange:
    """The investigator of a change confirms its figures, read again now (the loan may have
    moved since filing), with the borrower's updated figures and an opinion."""
    updated = dict(updated or {})
    unknown = sorted(set(updated) - set(UPDATED_FIGURES))
    if unknown:
        raise _field_error(
            "updated", _("Unknown figures: %(names)s.") % {"names": ", ".join(unknown)}
        )
    for key, value in updated.items():
        try:
            updated[key] = str(Decimal(str(value)))
        except Exception:  # noqa: BLE001 - any unreadable number is a field error
            raise _field_error("updated", _("%(name)s is not a number.") % {"name": key}) from None
    if not opinion.strip():
        raise _field_error("opinion", _("Give your opinion on the change."))
    with transaction.atomic():
        application = application_get(user=actor, pk=application_id, for_update=True)
        if not application.is_change:
            raise Conflict(_("This application is not a change to a loan."), code="not_a_change")
        if application.status != Status.INVESTIGATION:
            raise Conflict(_("The change is not under review."), code="not_in_review")
        if application.investigator_id != actor.pk:
            raise Forbidden(_("The change's reviewer confirms its figures."), code="role")
        change = LoanChange.objects.select_related("loan").get(application=application)
        loan = Loan.objects.select_related("application").get(pk=change.loan_id)
        figures = change_review_figures(loan=loan, months=change.figures.get("months", 12))
        change.review = {**figures, "updated": updated}
        change.review_opinion = opinion.strip()
        change.reviewed_by = actor
        change.reviewed_at = timezone.now()
        change.save(update_fields=["review", "review_opinion", "reviewed_by", "reviewed_at"])
        # Routing reads the flags on the record, as it does an investigation's.
        LoanApplication.objects.filter(pk=application.pk).update(
            flag_count=len(figures["open_alerts"])
        )
        audit_record(
            action="change_review_confirm",
            actor=actor,
            actor_role=primary_role(actor),
            application=application,
            kind="action",
            comment=change.review_opinion,
            data={"updated": updated, "days_past_due": figures["days_past_due"]},
        )
    return change


# --- Hooks for applications.effects -------------------------------------------------------------


def change_missing(application: LoanApplication, transition: str) -> list[str]:
    """What a change needs before `transition` (its own gates replace an application's)."""
    if transition == "send_to_approval":
        change = LoanChange.objects.filter(application=application).first()
        if change is None or change.reviewed_at is None:
            return [_("The reviewer's confirmation of the change's figures.")]
    if transition == "apply_change" and application.change_kind not in IN_PLACE_CHANGES:
        return [_("Only an extension or a restructuring is applied to the loan.")]
    return []


def change_duty_violation(application: LoanApplication, transition: str, *, actor) -> str | None:
    """A change is reviewed by someone other than the relationship manager who filed it."""
    if transition == "start_investigation" and filed_it(actor, application):
        return _("You filed this change, so a colleague reviews it.")
    return None


def exposure_added(application: LoanApplication) -> Decimal:
    """What granting the change adds to the customer's exposure: a top-up its amount, a
    renewal its amount less the principal of the loan it replaces, an extension or a
    restructuring nothing (the loan's principal is already counted)."""
    if application.change_kind in IN_PLACE_CHANGES:
        return ZERO
    if application.change_kind in RENEWALS:
        old = (
            Loan.objects.filter(application_id=application.change_of_id, status=Loan.Status.ACTIVE)
            .values_list("outstanding_principal", flat=True)
            .first()
        )
        return application.amount - (old or ZERO)
    return application.amount


# --- Applying an extension or a restructuring ---------------------------------------------------


def _kept_rows(position_instalments, *, capitalise: bool):
    """The instalments due on or before the change date, as they stay. Restructuring
    capitalises the principal they still owe into the new schedule; their interest stays
    (paid first, or paid by the capitalisation: past_due_interest)."""
    rows, capitalised = [], ZERO
    for inst in position_instalments:
        principal = inst.principal
        if capitalise:
            paid_principal = max(ZERO, inst.paid - inst.interest)
            principal = min(inst.principal, paid_principal)
            capitalised += inst.principal - principal
        rows.append((inst, principal))
    return rows, capitalised


def past_due_interest(position, *, on: date) -> tuple[Decimal, Decimal]:
    """What a loan owes in interest on `on` besides principal: the contract interest of its
    instalments due by then and unpaid, and the overdue interest (罚息) accrued and unpaid,
    from its position (the one allocation rule)."""
    interest = sum(
        (
            inst.interest - min(inst.paid, inst.interest)
            for inst in position.instalments
            if inst.due_date <= on
        ),
        ZERO,
    )
    return interest, position.overdue_interest_unpaid


def new_schedule(
    *, loan: Loan, change: LoanChange, on: date, interest_capitalised: Decimal = ZERO
) -> tuple[list[InstalmentRow], Decimal]:
    """The schedule after the change on `on`: the instalments due by then kept (their
    principal still owed capitalised by a restructuring), then the principal not yet due,
    with the capitalised principal and `interest_capitalised` (a restructuring's past-due
    interest, ChangeTerms.restructuring_arrears), drawn again by
    disbursement.schedule.build_schedule from the interest period's start (the money already
    paid of later instalments pays the new ones first, by the one allocation rule). Returns
    the rows and the principal capitalised."""
    from postloan.payoff import grid_start

    application = change.application
    loan_application = loan.application
    position = loan_positions(loan_ids=[loan.pk], as_of=on).get(loan.pk)
    if position is None:
        raise Conflict(_("The loan has no repayment schedule."), code="no_schedule")
    kept = [inst for inst in position.instalments if inst.due_date <= on]
    future = [inst for inst in position.instalments if inst.due_date > on]
    restructuring = application.change_kind == ChangeKind.RESTRUCTURING
    if not restructuring and any(inst.paid < inst.total for inst in kept):
        raise Conflict(
            _("Pay the instalments already due before an extension (or restructure the loan)."),
            code="arrears",
        )
    kept_rows, capitalised = _kept_rows(kept, capitalise=restructuring)
    amount = sum((inst.principal for inst in future), ZERO) + capitalised + interest_capitalised
    if amount <= 0:
        raise Conflict(_("No principal is left to reschedule."), code="nothing_outstanding")
    conventions = schedule_conventions(loan_application)
    if conventions.repayment_day is None and loan.disbursed_on.day <= 28:
        conventions = replace(conventions, repayment_day=loan.disbursed_on.day)
    start = grid_start(
        on,
        grid_day=conventions.repayment_day or loan.disbursed_on.day,
        floor=max([loan.disbursed_on, *(inst.due_date for inst in kept)]),
    )
    if restructuring:
        months, grace = application.term_months, change.grace_months
    else:
        maturity = future[-1].due_date if future else on
        months = _month_index(maturity) - _month_index(start) + (change.extension_months or 0)
        grace = 0
    rows: list[InstalmentRow] = []
    if grace:
        rows = [
            replace(row, principal=ZERO, total=row.interest, closing_balance=amount)
            for row in build_schedule(
                amount=amount,
                annual_rate=application.interest_rate,
                term_months=grace,
                method=RepaymentMethod.INTEREST_ONLY_BULLET,
                start=start,
                conventions=conventions,
            )
        ]
        start = rows[-1].period_end
    rows += build_schedule(
        amount=amount,
        annual_rate=application.interest_rate,
        term_months=max(1, months - grace),
        method=application.repayment_method,
        start=start,
        conventions=conventions,
    )
    kept_as_rows = [
        InstalmentRow(
            number=inst.number,
            due_date=inst.due_date,
            principal=principal,
            interest=inst.interest,
            total=principal + inst.interest,
            opening_balance=ZERO,
            closing_balance=ZERO,
            period_start=inst.due_date,
            period_end=inst.due_date,
        )
        for inst, principal in kept_rows
    ]
    first = len(kept_as_rows) + 1
    return kept_as_rows + [
        replace(row, number=n) for n, row in enumerate(rows, start=first)
    ], capitalised


def change_apply(
    *, actor, application_id: int, agreement_reference: str, signed_on: date | None = None
) -> LoanApplication:
    """Apply an approved extension or restructuring on its supplementary agreement: the loan
    (locked, as a repayment locks it) gets its new schedule from today, the old one kept; a
    restructured loan gets its classification floor and monitoring period, which the
    nightly job then keeps."""
    if not agreement_reference.strip():
        raise _field_error(
            "agreement_reference", _("Give the supplementary agreement's reference.")
        )
    today = timezone.localdate()
    signed_on = signed_on or today
    if signed_on > today:
        raise _field_error("signed_on", _("The agreement cannot be signed in the future."))
    with transaction.atomic():
        application = application_get(user=actor, pk=application_id, for_update=True)
        if application.change_kind not in IN_PLACE_CHANGES:
            raise Conflict(
                _("Only an extension or a restructuring is applied to the loan."),
                code="not_in_place",
            )
        if application.status != Status.APPROVED:
            raise Conflict(_("The change is not approved."), code="not_approved")
        change = LoanChange.objects.get(application=application)
        loan = (
            Loan.objects.select_for_update(of=("self",))
            .select_related("application__product", "application__branch")
            .get(pk=change.loan_id)
        )
        if loan.status != Loan.Status.ACTIVE:
            raise Conflict(_("The loan is no longer active."), code="loan_inactive")
        # The position under the lock: a repayment that won the lock is counted.
        daily_run(loan_ids=[loan.pk])
        loan.refresh_from_db()
        loan_application = loan.application
        terms = change_terms_for(loan_application.product)
        interest = overdue_interest = ZERO
        if application.change_kind == ChangeKind.RESTRUCTURING:
            interest, overdue_interest = _restructuring_arrears(loan=loan, terms=terms, on=today)
        rows, capitalised = new_schedule(
            loan=loan, change=change, on=today, interest_capitalised=interest + overdue_interest
        )
        from postloan.services import schedule_replace

        revision = schedule_replace(loan=loan, rows=rows, change=application)
        if interest + overdue_interest > 0:
            _interest_capitalised(
                loan=loan,
                amount=interest + overdue_interest,
                on=today,
                actor=actor,
                application=application,
            )
        previous = {
            "term_months": loan_application.term_months,
            "interest_rate": str(loan_application.interest_rate),
            "repayment_method": loan_application.repayment_method,
        }
        # The supplementary agreement changes the contract's terms: the quote and the overdue
        # interest read them from the loan's application, the book's figures from the loan.
        loan.term_months = (
            loan_application.term_months + (change.extension_months or 0)
            if application.change_kind == ChangeKind.EXTENSION
            else _month_index(rows[-1].due_date) - _month_index(loan.disbursed_on)
        )
        loan.interest_rate = application.interest_rate
        LoanApplication.objects.filter(pk=loan_application.pk).update(
            term_months=loan.term_months,
            interest_rate=loan.interest_rate,
            repayment_method=application.repayment_method,
        )
        changed = ["term_months", "interest_rate"]
        if application.change_kind == ChangeKind.RESTRUCTURING:
            loan.restructured_on = today
            loan.restructured_floor = terms.restructured_floor
            loan.monitoring_until = add_months(today, terms.monitoring_months)
            changed += ["restructured_on", "restructured_floor", "monitoring_until"]
        loan.save(update_fields=changed)
        change.agreement_reference = agreement_reference.strip()
        change.agreement_signed_on = signed_on
        change.applied_on = today
        change.capitalised_principal = capitalised
        change.capitalised_interest = interest
        change.capitalised_overdue_interest = overdue_interest
        change.save(
            update_fields=[
                "agreement_reference",
                "agreement_signed_on",
                "applied_on",
                "capitalised_principal",
                "capitalised_interest",
                "capitalised_overdue_interest",
            ]
        )
        application_transition(
            application_id=application.pk,
            transition="apply_change",
            actor=actor,
            locked=application,
            data={
                "agreement_reference": change.agreement_reference,
                "schedule_version": revision.number,
                "previous_terms": previous,
                "capitalised": str(capitalised),
                "capitalised_interest": str(interest),
                "capitalised_overdue_interest": str(overdue_interest),
            },
        )
        # The new schedule's position, and a restructured loan's floor, now.
        daily_run(loan_ids=[loan.pk])
    return application


def _restructuring_arrears(*, loan: Loan, terms: ChangeTerms, on: date) -> tuple[Decimal, Decimal]:
    """The past-due contract interest and overdue interest a restructuring capitalises, by
    the product's rule (ChangeTerms.restructuring_arrears): with "pay first", none, and the
    restructuring is refused (409 interest_past_due, with the amount) while any is owed."""
    position = loan_positions(loan_ids=[loan.pk], as_of=on).get(loan.pk)
    if position is None:
        return ZERO, ZERO
    interest, overdue_interest = past_due_interest(position, on=on)
    if interest + overdue_interest <= 0:
        return ZERO, ZERO
    if terms.restructuring_arrears == ChangeTerms.RestructuringArrears.CAPITALISE:
        return interest, overdue_interest
    principal = principal_paid_first(position, on=on)
    total = interest + overdue_interest + principal
    raise Conflict(
        _(
            "Pay the past-due interest before the restructuring is applied: %(total)s "
            "%(currency)s (contract interest %(interest)s, overdue interest %(overdue)s, "
            "and principal %(principal)s of earlier instalments, which a repayment pays "
            "before a later instalment's interest)."
        )
        % {
            "total": f"{total:,.2f}",
            "currency": loan.currency,
            "interest": f"{interest:,.2f}",
            "overdue": f"{overdue_interest:,.2f}",
            "principal": f"{principal:,.2f}",
        },
        code="interest_past_due",
        details={
            "amount": str(total),
            "currency": loan.currency,
            "interest": str(interest),
            "overdue_interest": str(overdue_interest),
            "principal": str(principal),
        },
    )


def principal_paid_first(position, *, on: date) -> Decimal:
    """The principal a repayment on `on` pays before the last past-due contract interest, by
    the one allocation rule (overdue interest, then the instalments oldest first, each's
    interest before its principal): what the instalments due before the last one with
    interest owed still owe in principal. Zero when one instalment is behind."""
    owed = [
        (
            inst.interest - min(inst.paid, inst.interest),
            inst.principal - max(ZERO, inst.paid - inst.interest),
        )
        for inst in position.instalments
        if inst.due_date <= on
    ]
    last = max((k for k, (interest, _principal) in enumerate(owed) if interest > 0), default=-1)
    return sum((principal for _interest, principal in owed[:last]), ZERO)


def _interest_capitalised(
    *, loan: Loan, amount: Decimal, on: date, actor, application: LoanApplication
) -> None:
    """The past-due interest a restructuring made principal is settled as a repayment would
    settle it (the one allocation rule: the overdue interest first, then the instalments
    due, interest first), by a repayment in which no money moves, so the loan is no longer
    past due on it."""
    from postloan.models import Repayment

    repayment = Repayment.objects.create(
        loan=loan,
        amount=amount,
        currency=loan.currency,
        value_date=on,
        source=Repayment.Source.CAPITALISED,
        recorded_by=actor,
    )
    audit_record(
        action="interest_capitalised",
        actor=actor,
        actor_role=primary_role(actor),
        application=loan.application,
        kind="action",
        subject_type="postloan.repayment",
        subject_id=repayment.pk,
        data={"change": application.pk, "amount": str(amount), "currency": loan.currency},
    )


# --- A renewal's payout repays the old loan ---------------------------------------------------


def renewal_settle_on_payout(*, application: LoanApplication, actor, data: dict) -> None:
    """Inside the renewal's disbursement transition: the old loan (locked) is repaid in full
    on the payout's value date from the new loan, with no cash to the borrower: the new
    principal goes to the old loan, what it owes beyond that (interest to date, overdue
    interest) the borrower pays with it. The old schedule is kept (ScheduleRevision, the
    renewal named), the repayment recorded, and the old loan closed as repaid by renewal."""
    from postloan.payoff import PrepaymentRefused, payoff_quote, rebuilt_schedule
    from postloan.services import loan_end, schedule_replace

    try:
        value_date = date.fromisoformat(str(data["value_date"]))
    except (KeyError, ValueError):
        value_date = timezone.localdate()
    old = (
        Loan.objects.select_for_update(of=("self",))
        .select_related("application__product", "application__branch")
        .filter(application_id=application.change_of_id)
        .first()
    )
    if old is None or old.status != Loan.Status.ACTIVE:
        raise Conflict(_("The loan to renew is no longer active."), code="loan_inactive")
    daily_run(loan_ids=[old.pk], as_of=max(value_date, timezone.localdate()))
    old.refresh_from_db()
    try:
        quote = payoff_quote(loan=old, value_date=value_date)
        rows = rebuilt_schedule(loan=old, quote=quote)
    except PrepaymentRefused as exc:
        raise Conflict(exc.message, code=exc.code) from None
    paid = quote.principal + quote.interest + quote.overdue_interest
    if application.amount > paid:
        raise Conflict(
            _(
                "The renewal's amount (%(amount)s) is more than what repays the old loan "
                "(%(paid)s): no money may go to the borrower."
            )
            % {"amount": f"{application.amount:,.2f}", "paid": f"{paid:,.2f}"},
            code="renewal_exceeds_payoff",
        )
    schedule_replace(loan=old, rows=rows, after=quote.value_date, change=application)
    from postloan.models import Repayment

    repayment = Repayment.objects.create(
        loan=old,
        amount=paid,
        currency=old.currency,
        value_date=value_date,
        recorded_by=actor,
    )
    audit_record(
        action="renewal_repaid",
        actor=actor,
        actor_role="system",
        application=old.application,
        kind="system",
        subject_type="postloan.loan",
        subject_id=old.pk,
        data={
            "renewal": application.pk,
            "renewal_reference": application.reference,
            "repayment": repayment.pk,
            "from_new_loan": str(application.amount),
            "from_borrower": str(paid - application.amount),
            "value_date": value_date.isoformat(),
        },
    )
    daily_run(loan_ids=[old.pk], as_of=max(value_date, timezone.localdate()))
    old.refresh_from_db()
    loan_end(
        loan=old,
        status=Loan.Status.CLOSED,
        actor=actor,
        comment=_("Repaid by renewal %(ref)s.") % {"ref": application.reference},
        data={"note": "repaid_by_renewal", "renewal": application.pk},
    )


def floor_refusal(*, loan: Loan, to_classification: str, on: date | None = None) -> str | None:
    """Why a restructured loan may not go to `to_classification` yet (None if it may)."""
    on = on or timezone.localdate()
    if (
        loan.restructured_floor
        and loan.monitoring_until
        and on <= loan.monitoring_until
        and CLASS_RANK[to_classification] < CLASS_RANK[loan.restructured_floor]
    ):
        return _("The loan was restructured: it stays at least %(floor)s until %(until)s.") % {
            "floor": Classification(loan.restructured_floor).label,
            "until": loan.monitoring_until.isoformat(),
        }
    return None


# --- Reading: a loan's changes, for the staff page and the portal --------------------------------


def loan_change_history(*, application: LoanApplication) -> dict:
    """The changes of the loan of `application`, and the loans linked by a renewal or a
    top-up on either side, each readable from the other: what the loan changed from
    (change_of, that loan's state and its other changes) and what changed it (a renewal paid
    out, `renewed_by`, repaid it)."""
    changes = list(
        LoanApplication.objects.filter(change_of=application)
        .select_related("loan_change")
        .order_by("created_at", "id")
    )
    change_of = application.change_of if application.change_of_id else None
    return {
        "changes": changes,
        "change_of": change_of,
        "change_of_loan": (
            Loan.objects.filter(application_id=change_of.pk).first() if change_of else None
        ),
        "change_of_changes": (
            list(
                LoanApplication.objects.filter(change_of_id=change_of.pk)
                .exclude(pk=application.pk)
                .select_related("loan_change")
                .order_by("created_at", "id")
            )
            if change_of
            else []
        ),
        "renewed_by": next(
            (c for c in changes if c.change_kind in RENEWALS and c.disbursed_at), None
        ),
        "revisions": list(
            ScheduleRevision.objects.filter(loan__application=application)
            .select_related("change")
            .order_by("number")
        ),
    }


__all__ = [
    "change_apply",
    "change_file",
    "change_review_confirm",
    "change_review_figures",
    "change_terms_for",
    "exposure_added",
    "floor_refusal",
    "loan_change_history",
    "renewal_refusals",
]
