"""Prepayment figures: the payoff quote for a date and the schedule that follows a
prepayment. Reads the loan's position through the nightly job's one definition of the
allocation (postloan.daily.loan_positions) and draws the remaining schedule with the
disbursement's generator (disbursement.schedule.build_schedule); nothing here allocates.

On a value date D the schedule splits into the instalments due on or before D (kept as they
are) and those due after D (replaced). The quote is:

- principal: the outstanding principal of the position on D (for a partial prepayment, the
  amount the borrower chooses);
- interest: the unpaid interest of the instalments due on or before D, plus the interest
  accrued to D on the principal of the instalments due after D, at the contract rate, by the
  product's day count (actual days over 360, or 365 under actual/365), from the start of the
  interest period D falls in (the loan's last date of the month grid on or before D, or the
  last instalment due before it when that is earlier, as a quarterly loan's), less what was
  already paid in advance of the interest of the instalments due after D (never below
  nothing: interest already paid for the current period is not refunded);
- overdue interest (罚息) accrued by the nightly job and not yet paid;
- the product's prepayment fee: a percentage of the principal prepaid (ServicingTerms).

The instalments due after D are replaced by one instalment due on D, which the money received
and what was paid in advance pay exactly under the allocation rule, and after a partial
prepayment by the remaining schedule. A full prepayment's instalment is all the principal with
its interest to D. A partial one's is the principal prepaid with its interest from the period's
start to D; the rest of the principal is drawn again from the period's start, on the loan's
grid of the month, with the disbursement's generator: over the same months (lower instalment)
or over the fewest months at no more than the instalment (equal instalments) or principal
(equal principal) before (shorter term). Interest periods run between the unmoved grid dates;
a loan whose due dates moved off non-working days is quoted from the moved date of its last
instalment due when that is later than the grid date (a few days' difference at most).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from applications.models import RepaymentMethod
from disbursement.schedule import (
    Conventions,
    InstalmentRow,
    annuity_payment,
    build_schedule,
    cents,
)
from disbursement.selectors import schedule_conventions
from postloan.daily import loan_positions
from postloan.models import Loan, Prepayment, ServicingTerms
from postloan.position import InstalmentPosition

ZERO = Decimal("0.00")
PARTIAL = (Prepayment.Kind.SHORTEN_TERM, Prepayment.Kind.LOWER_INSTALMENT)


REFUSALS = {
    "loan_inactive": _("The loan is no longer active."),
    "before_disbursement": _("The value date is before the disbursement."),
    "no_schedule": _("The loan has no repayment schedule."),
    "unknown_kind": _("Choose full prepayment, a shorter term or a lower instalment."),
    "arrears": _("Pay the instalments already due before a partial prepayment."),
    "principal_required": _("Give the principal to prepay."),
    "principal_too_large": _(
        "A partial prepayment leaves some principal outstanding; to repay it all, prepay in full."
    ),
    "matures_this_month": _("The loan matures this month: prepay it in full instead."),
    "no_principal_instalments": _(
        "This repayment method has no instalments of principal to keep: choose a lower instalment."
    ),
}


class PrepaymentRefused(Exception):
    """The prepayment cannot be made on these terms: `field` says which input (400), or None
    when the loan's state refuses it (409). `code` names the reason (REFUSALS)."""

    def __init__(self, code: str, *, field: str | None = None):
        self.message = REFUSALS[code]
        super().__init__(str(self.message))
        self.code = code
        self.field = field


def servicing_terms_for(product) -> ServicingTerms:
    """The product's servicing terms; a product without them allows every prepayment, without
    a fee, and charges no overdue interest."""
    terms = ServicingTerms.objects.filter(product=product).first()
    if terms is None:
        terms = ServicingTerms(product=product, overdue_surcharge_rate=ZERO)
    return terms


@dataclass
class PayoffQuote:
    value_date: date
    currency: str
    kind: str
    principal: Decimal
    interest_due: Decimal
    interest_accrued: Decimal
    interest_paid_in_advance: Decimal
    interest: Decimal
    overdue_interest: Decimal
    fee_rate: Decimal
    fee: Decimal
    total: Decimal
    outstanding_principal: Decimal
    annual_rate: Decimal
    day_count: str
    accrued_from: date
    accrual_days: int
    kinds_allowed: list[str]
    note: str
    # What the prepayment does to the schedule (not shown as figures).
    kept: list[InstalmentPosition] = field(default_factory=list, repr=False)
    future: list[InstalmentPosition] = field(default_factory=list, repr=False)
    principal_paid_in_advance: Decimal = ZERO
    period_start: date | None = None


def _arrears(instalments: list[InstalmentPosition]) -> tuple[Decimal, Decimal]:
    """Unpaid principal and interest of instalments, interest paid first within each."""
    principal = interest = ZERO
    for inst in instalments:
        paid_interest = min(inst.paid, inst.interest)
        interest += inst.interest - paid_interest
        principal += inst.principal - (inst.paid - paid_interest)
    return principal, interest


def payoff_quote(
    *, loan: Loan, value_date: date, kind: str = Prepayment.Kind.FULL, principal=None
) -> PayoffQuote:
    """What the borrower pays on `value_date` to prepay in full, or (a partial `kind`)
    `principal` of the loan. Raises PrepaymentRefused when it cannot be done."""
    application = loan.application
    terms = servicing_terms_for(application.product)
    if loan.status != Loan.Status.ACTIVE:
        raise PrepaymentRefused("loan_inactive")
    if value_date < loan.disbursed_on:
        raise PrepaymentRefused("before_disbursement", field="value_date")
    position = loan_positions(loan_ids=[loan.pk], as_of=value_date, repaid_until=value_date).get(
        loan.pk
    )
    if position is None:
        raise PrepaymentRefused("no_schedule")
    kept = [inst for inst in position.instalments if inst.due_date <= value_date]
    future = [inst for inst in position.instalments if inst.due_date > value_date]
    arrears_principal, arrears_interest = _arrears(kept)
    advance_principal, advance_interest = ZERO, ZERO
    for inst in future:
        paid_interest = min(inst.paid, inst.interest)
        advance_interest += paid_interest
        advance_principal += inst.paid - paid_interest
    conventions = Conventions.of_terms(application.product_snapshot or {})
    rate = application.interest_rate
    basis = Decimal(100 * conventions.days_in_year)
    # The interest period the value date falls in starts on the loan's last date of the month
    # grid on or before it (a rebuilt schedule starts there too), or earlier when the last
    # instalment due was before it (a quarterly loan's last interest date).
    period_start = grid_start(
        value_date, grid_day=_grid_day(loan, conventions), floor=loan.disbursed_on
    )
    accrued_from = min(
        period_start, max((inst.due_date for inst in kept), default=loan.disbursed_on)
    )
    balance = sum((inst.principal for inst in future), ZERO)
    outstanding = position.outstanding_principal
    if kind == Prepayment.Kind.FULL:
        prepaid = outstanding
        accrued = cents(balance * rate * (value_date - accrued_from).days / basis)
    else:
        if kind not in PARTIAL:
            raise PrepaymentRefused("unknown_kind", field="kind")
        if arrears_principal + arrears_interest > 0:
            raise PrepaymentRefused("arrears")
        if principal is None or Decimal(principal) <= 0:
            raise PrepaymentRefused("principal_required", field="principal")
        prepaid = cents(Decimal(principal))
        if prepaid >= outstanding:
            raise PrepaymentRefused("principal_too_large", field="principal")
        # The rest of the principal bears its interest from the period's start in the
        # rebuilt schedule; the principal prepaid bears it to the value date now.
        reduction = prepaid + advance_principal
        accrued = cents(
            (
                balance * (period_start - accrued_from).days
                + reduction * (value_date - period_start).days
            )
            * rate
            / basis
        )
    days = (value_date - accrued_from).days if future else 0
    interest = arrears_interest + max(ZERO, accrued - advance_interest)
    overdue_interest = position.overdue_interest_unpaid
    fee = (prepaid * terms.prepayment_fee_rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    allowed = [k for k in Prepayment.Kind.values if terms.allows(k)]
    return PayoffQuote(
        value_date=value_date,
        currency=loan.currency,
        kind=kind,
        principal=prepaid,
        interest_due=arrears_interest,
        interest_accrued=accrued,
        interest_paid_in_advance=min(advance_interest, accrued),
        interest=interest,
        overdue_interest=overdue_interest,
        fee_rate=terms.prepayment_fee_rate,
        fee=fee,
        total=prepaid + interest + overdue_interest + fee,
        outstanding_principal=outstanding,
        annual_rate=rate,
        day_count=conventions.day_count,
        accrued_from=accrued_from,
        accrual_days=days,
        period_start=period_start,
        kinds_allowed=allowed,
        note=terms.note_display,
        kept=kept,
        future=future,
        principal_paid_in_advance=advance_principal,
    )


def _grid_day(loan: Loan, conventions: Conventions) -> int:
    return conventions.repayment_day or loan.disbursed_on.day


def grid_start(day: date, *, grid_day: int, floor: date) -> date:
    """The last date on or before `day` on the loan's grid of the month (its repayment day,
    else its value date's day, at the end of a shorter month), never before `floor`."""
    candidate = date(day.year, day.month, min(grid_day, monthrange(day.year, day.month)[1]))
    if candidate > day:
        year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        candidate = date(year, month, min(grid_day, monthrange(year, month)[1]))
    return max(candidate, floor)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month


def rebuilt_schedule(*, loan: Loan, quote: PayoffQuote) -> list[InstalmentRow]:
    """The instalments that replace those due after the quote's value date: one due on the
    value date that the prepayment pays, and after a partial prepayment the rest of the
    principal drawn from the interest period's start by the loan's method and conventions.
    Numbered on from the kept instalments."""
    value_date = quote.value_date
    future_principal = sum((inst.principal for inst in quote.future), ZERO)
    remaining = quote.outstanding_principal - quote.principal if quote.kind in PARTIAL else ZERO
    advance_interest = sum((min(inst.paid, inst.interest) for inst in quote.future), ZERO)
    prepaid_row_principal = future_principal - remaining
    prepaid_row_interest = max(quote.interest_accrued, advance_interest)
    rows: list[InstalmentRow] = []
    if prepaid_row_principal + prepaid_row_interest > 0:
        rows.append(
            InstalmentRow(
                number=0,
                due_date=value_date,
                principal=prepaid_row_principal,
                interest=prepaid_row_interest,
                total=prepaid_row_principal + prepaid_row_interest,
                opening_balance=future_principal,
                closing_balance=remaining,
                period_start=quote.accrued_from,
                period_end=value_date,
            )
        )
    if remaining > 0:
        rows += _remaining_schedule(loan=loan, quote=quote, amount=remaining)
    first = len(quote.kept) + 1
    return [replace(row, number=n) for n, row in enumerate(rows, start=first)]


def _remaining_schedule(*, loan: Loan, quote: PayoffQuote, amount: Decimal) -> list[InstalmentRow]:
    application = loan.application
    conventions = schedule_conventions(application)
    # Keep the dates on the loan's grid of the month: its repayment day, else the value
    # date's day of the month when every month has it.
    if conventions.repayment_day is None and loan.disbursed_on.day <= 28:
        conventions = replace(conventions, repayment_day=loan.disbursed_on.day)
    start = quote.period_start
    months = _month_index(quote.future[-1].due_date) - _month_index(start)
    if months < 1:
        raise PrepaymentRefused("matures_this_month")
    method = application.repayment_method
    if quote.kind == Prepayment.Kind.SHORTEN_TERM:
        months = _shorter_term(method=method, quote=quote, amount=amount, months=months)
    return build_schedule(
        amount=amount,
        annual_rate=application.interest_rate,
        term_months=months,
        method=method,
        start=start,
        conventions=conventions,
    )


def _shorter_term(*, method: str, quote: PayoffQuote, amount: Decimal, months: int) -> int:
    """The fewest months over which `amount` is repaid with no more than the instalment (equal
    instalments) or the principal (equal principal) the borrower paid before."""
    regular = quote.future[-2] if len(quote.future) >= 2 else quote.future[0]
    if method == RepaymentMethod.EQUAL_INSTALMENTS:
        monthly_rate = quote.annual_rate / Decimal(1200)
        for n in range(1, months + 1):
            if annuity_payment(amount=amount, monthly_rate=monthly_rate, term_months=n) <= (
                regular.total
            ):
                return n
        return months
    if method == RepaymentMethod.EQUAL_PRINCIPAL:
        level = regular.principal
        if level <= 0:
            return months
        return max(1, min(months, int(-(-amount // level))))
    raise PrepaymentRefused("no_principal_instalments", field="kind")
