"""Repayment schedules in Decimal, rounded to the cent (ROUND_HALF_UP).

Methods:
- equal_instalments (等额本息): the same total every month (annuity); interest on the opening
  balance, principal is the rest.
- equal_principal (等额本金): the same principal every month, interest on the opening balance.
- interest_only_bullet (先息后本): interest every month, the whole principal with the last one.

Interest is the annual rate / 12 on the opening balance. Every figure is rounded to the cent;
the last instalment takes whatever principal remains, so principal sums exactly to the amount.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
METHODS = ("equal_instalments", "equal_principal", "interest_only_bullet")


@dataclass(frozen=True)
class InstalmentRow:
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    opening_balance: Decimal
    closing_balance: Decimal

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


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def annuity_payment(*, amount: Decimal, monthly_rate: Decimal, term_months: int) -> Decimal:
    if monthly_rate == 0:
        return cents(amount / term_months)
    with localcontext() as ctx:
        ctx.prec = 34
        factor = (1 + monthly_rate) ** term_months
        return cents(amount * monthly_rate * factor / (factor - 1))


def build_schedule(
    *, amount: Decimal, annual_rate: Decimal, term_months: int, method: str, start: date
) -> list[InstalmentRow]:
    """The instalments of a loan of `amount` at `annual_rate` percent a year over
    `term_months` months, the first due one month after `start`."""
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
    amount = cents(amount)
    monthly_rate = annual_rate / Decimal(100) / Decimal(12)
    payment = (
        annuity_payment(amount=amount, monthly_rate=monthly_rate, term_months=term_months)
        if method == "equal_instalments"
        else None
    )
    level_principal = cents(amount / term_months)

    rows: list[InstalmentRow] = []
    balance = amount
    for number in range(1, term_months + 1):
        interest = cents(balance * monthly_rate)
        last = number == term_months
        if last:
            principal = balance
        elif method == "equal_instalments":
            principal = min(payment - interest, balance)
        elif method == "equal_principal":
            principal = min(level_principal, balance)
        else:
            principal = Decimal("0.00")
        principal = max(principal, Decimal("0.00"))
        closing = balance - principal
        rows.append(
            InstalmentRow(
                number=number,
                due_date=add_months(start, number),
                principal=principal,
                interest=interest,
                total=principal + interest,
                opening_balance=balance,
                closing_balance=closing,
            )
        )
        balance = closing
    return rows


def schedule_totals(rows: list[InstalmentRow]) -> dict[str, Decimal]:
    return {
        "principal": sum((r.principal for r in rows), Decimal("0.00")),
        "interest": sum((r.interest for r in rows), Decimal("0.00")),
        "total": sum((r.total for r in rows), Decimal("0.00")),
    }
