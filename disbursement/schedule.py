"""Repayment schedules in Decimal, rounded to the cent (ROUND_HALF_UP).

Methods (applications.models.RepaymentMethod):
- equal_instalments (等额本息): the same total every month (annuity); interest on the opening
  balance, principal is the rest.
- equal_principal (等额本金): the same principal every month, interest on the opening balance.
- interest_only_bullet (先息后本): interest every month, the whole principal with the last one.
- quarterly_interest_bullet (按季结息，到期还本): interest every quarter, the whole principal
  at maturity.

Dates, by the product's conventions (Conventions, from applications.models.Product). A loan
of n months has its instalments 1..n months after the value date (the same day of the month,
clamped to the end of a shorter month); with a repayment day (还款日, 1-28) they fall on that
day of the n months after the value date's month. Quarterly interest falls every third of
those months (with a repayment day: in March, June, September and December) and at maturity,
the last one. A date that is not a working day of the branch's business calendar moves by the
business-day convention: following (the next working day), modified following (the next one
unless it is in the next month, then the one before) or none. Interest periods run between the
dates before they move (unadjusted), so a move changes when an instalment is due, never how
much; the moved date is the one stored, and days past due count from it.

Interest. A whole period (from one date of the month grid to another: with a repayment day,
the value date is on it only on that day) of m months is the annual rate x m/12 under 30/360;
a broken one counts actual days over 360 (the PBoC daily rate, annual rate / 360). Under
actual/360 and actual/365 every period counts actual days, over 360 or 365 - except for equal
instalments, whose level payment is computed on whole months at a twelfth of the year: they
count actual days only for a broken first period, whose principal is that of a whole month.

Rounding. Every figure is rounded to the cent; the last instalment takes whatever principal
remains, so principal sums exactly to the amount. A level amount (the annuity's payment, the
equal principal) is rounded to the nearest cent unless, rounded up, it would repay the loan
before its last instalment: then it is the largest cent amount that does not. An instalment of
0.00 (the interest of an interest-free period, or of an amount too small for its term) is not
billed: it is left out and the instalments after it are numbered on.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from applications.models import BusinessDayConvention, DayCount, Product, RepaymentMethod
from sla.calendar import RegionCalendar

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
METHODS = tuple(RepaymentMethod.values)
QUARTER_MONTHS = (3, 6, 9, 12)
# A safety stop: no business calendar has this many non-working days in a row.
MAX_MOVE_DAYS = 60


@dataclass(frozen=True)
class Conventions:
    """How a schedule is drawn: a product's business-day convention, day count and repayment
    day, and the business calendar the dates move by (the branch's: sla.calendar). The
    defaults are the plain arithmetic (no date moves); a product's defaults are its fields'."""

    business_day: str = BusinessDayConvention.NONE
    day_count: str = DayCount.THIRTY_360
    repayment_day: int | None = None
    calendar: RegionCalendar | None = None

    @classmethod
    def of_terms(cls, terms: Mapping, *, calendar: RegionCalendar | None = None) -> Conventions:
        """The conventions of a product's terms (Product.snapshot(), as an application keeps
        them); terms kept before the conventions existed have the product's defaults."""

        def term(key: str):
            return terms[key] if key in terms else Product._meta.get_field(key).get_default()

        return cls(
            business_day=term("business_day_convention"),
            day_count=term("day_count"),
            repayment_day=term("repayment_day"),
            calendar=calendar,
        )

    @property
    def days_in_year(self) -> int:
        return 365 if self.day_count == DayCount.ACTUAL_365 else 360


@dataclass(frozen=True)
class InstalmentRow:
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    opening_balance: Decimal
    closing_balance: Decimal
    # The interest period, unadjusted: due_date is period_end moved off a non-working day.
    period_start: date
    period_end: date

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "due_date": self.due_date.isoformat(),
            "principal": str(self.principal),
            "interest": str(self.interest),
            "total": str(self.total),
            "opening_balance": str(self.opening_balance),
            "closing_balance": str(self.closing_balance),
        }


@dataclass(frozen=True)
class _Period:
    start: date
    end: date
    months: int | None  # whole months; None for a broken period

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def annuity_payment(*, amount: Decimal, monthly_rate: Decimal, term_months: int) -> Decimal:
    if monthly_rate == 0:
        return cents(amount / term_months)
    with localcontext() as ctx:
        ctx.prec = 34
        factor = (1 + monthly_rate) ** term_months
        return cents(amount * monthly_rate * factor / (factor - 1))


def move_to_working_day(day: date, conventions: Conventions, *, after: date) -> date:
    """`day` moved off a non-working day by the business-day convention. A date the modified
    following convention would move back onto or before `after` (the value date) moves on."""
    if conventions.business_day == BusinessDayConvention.NONE:
        return day
    if conventions.calendar is None:
        raise ValueError("a business-day convention needs the business calendar")
    is_working = conventions.calendar.is_business_day
    following = _step_to_working_day(day, is_working, timedelta(days=1))
    if (
        conventions.business_day == BusinessDayConvention.MODIFIED_FOLLOWING
        and following.month != day.month
    ):
        preceding = _step_to_working_day(day, is_working, timedelta(days=-1))
        if preceding > after:
            return preceding
    return following


def _step_to_working_day(day: date, is_working: Callable[[date], bool], step: timedelta) -> date:
    for _ in range(MAX_MOVE_DAYS):
        if is_working(day):
            return day
        day += step
    raise ValueError(f"no working day within {MAX_MOVE_DAYS} days of {day}; check the calendar")


def _periods(
    *, start: date, term_months: int, method: str, repayment_day: int | None
) -> list[_Period]:
    """The interest periods, unadjusted: (start, end, whole months or None if broken)."""

    def nth(k: int) -> date:
        if repayment_day is None:
            return add_months(start, k)
        return add_months(date(start.year, start.month, repayment_day), k)

    if method == RepaymentMethod.QUARTERLY_INTEREST_BULLET:
        ks = [
            k
            for k in range(1, term_months)
            if (nth(k).month in QUARTER_MONTHS if repayment_day else k % 3 == 0)
        ]
        ks.append(term_months)
    else:
        ks = list(range(1, term_months + 1))
    # With a repayment day, the value date is on the grid of whole months only on that day.
    previous_k = None if repayment_day not in (None, start.day) else 0
    previous = start
    periods = []
    for k in ks:
        end = nth(k)
        months = None if previous_k is None else k - previous_k
        periods.append(_Period(start=previous, end=end, months=months))
        previous, previous_k = end, k
    return periods


def _months_interest(balance: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    return cents(balance * annual_rate * months / Decimal(1200))


def _interest(
    balance: Decimal,
    annual_rate: Decimal,
    period: _Period,
    conventions: Conventions,
    *,
    level_payment: bool,
) -> Decimal:
    """The period's interest on `balance`: whole months at a twelfth of the year under 30/360
    and for a level payment, else actual days over the year's days. The division comes last,
    so the rounding is that of the exact figure."""
    whole_months = level_payment or conventions.day_count == DayCount.THIRTY_360
    if period.months is not None and whole_months:
        return _months_interest(balance, annual_rate, period.months)
    return cents(balance * annual_rate * period.days / Decimal(100 * conventions.days_in_year))


def build_schedule(
    *,
    amount: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    start: date,
    conventions: Conventions | None = None,
) -> list[InstalmentRow]:
    """The instalments of a loan of `amount` at `annual_rate` percent a year over
    `term_months` months from the value date `start`, drawn by `conventions` (by default no
    date moves, 30/360, on the value date's day of the month)."""
    conventions = conventions or Conventions()
    amount = Decimal(amount)
    annual_rate = Decimal(annual_rate)
    if amount <= 0:
        raise ValueError("amount must be positive")
    if term_months < 1:
        raise ValueError("term_months must be at least 1")
    if annual_rate < 0:
        raise ValueError("annual_rate must not be negative")
    if method not in METHODS:
        raise ValueError(f"unknown repayment method {method!r}")
    if conventions.business_day not in BusinessDayConvention.values:
        raise ValueError(f"unknown business-day convention {conventions.business_day!r}")
    if conventions.day_count not in DayCount.values:
        raise ValueError(f"unknown day count {conventions.day_count!r}")
    if conventions.repayment_day is not None and not 1 <= conventions.repayment_day <= 28:
        raise ValueError("repayment_day must be from 1 to 28")
    amount = cents(amount)
    periods = _periods(
        start=start,
        term_months=term_months,
        method=method,
        repayment_day=conventions.repayment_day,
    )
    if method == RepaymentMethod.EQUAL_INSTALMENTS:
        rows = _level_payment_rows(amount, annual_rate, periods, conventions)
    else:
        level = (
            _level_principal(amount, term_months)
            if method == RepaymentMethod.EQUAL_PRINCIPAL
            else ZERO
        )
        rows = _rows(amount, annual_rate, periods, conventions, lambda *_: level)
    billed = [row for row in rows if row.total > 0]
    return [
        replace(
            row,
            number=number,
            due_date=move_to_working_day(row.period_end, conventions, after=start),
        )
        for number, row in enumerate(billed, start=1)
    ]


def _rows(
    amount: Decimal,
    annual_rate: Decimal,
    periods: list[_Period],
    conventions: Conventions,
    principal_of: Callable[[Decimal, _Period, Decimal], Decimal],
    *,
    level_payment: bool = False,
) -> list[InstalmentRow]:
    """The rows, numbered and due as the periods end (build_schedule numbers and moves them):
    `principal_of(balance, period, interest)` gives a period's principal, the last period
    takes what remains."""
    rows = []
    balance = amount
    for number, period in enumerate(periods, start=1):
        interest = _interest(balance, annual_rate, period, conventions, level_payment=level_payment)
        if number == len(periods):
            principal = balance
        else:
            principal = min(max(principal_of(balance, period, interest), ZERO), balance)
        rows.append(
            InstalmentRow(
                number=number,
                due_date=period.end,
                principal=principal,
                interest=interest,
                total=principal + interest,
                opening_balance=balance,
                closing_balance=balance - principal,
                period_start=period.start,
                period_end=period.end,
            )
        )
        balance -= principal
    return rows


def _level_principal(amount: Decimal, term_months: int) -> Decimal:
    level = cents(amount / term_months)
    if level * (term_months - 1) >= amount:  # rounded up, it would repay early
        level = (amount / term_months).quantize(CENT, rounding=ROUND_DOWN)
    return level


def _level_payment_rows(
    amount: Decimal, annual_rate: Decimal, periods: list[_Period], conventions: Conventions
) -> list[InstalmentRow]:
    """Equal instalments: each principal is the payment less a whole month's interest (for
    a broken first period too: only its interest counts its days). The payment is rounded to
    the nearest cent, or lowered a cent at a time while the loan would be repaid before its
    last instalment."""

    def principal_of(payment):
        def principal(balance, period, interest):
            if period.months is None:
                interest = _months_interest(balance, annual_rate, 1)
            return payment - interest

        return principal

    payment = annuity_payment(
        amount=amount, monthly_rate=annual_rate / Decimal(1200), term_months=len(periods)
    )
    while True:
        rows = _rows(
            amount, annual_rate, periods, conventions, principal_of(payment), level_payment=True
        )
        if payment <= 0 or all(row.closing_balance > 0 for row in rows[:-1]):
            return rows
        payment -= CENT
