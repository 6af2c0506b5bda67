"""A loan's position from its schedule and repayments, in Python (the daily job computes the
same figures in SQL: postloan.daily). Used for one loan's page.

Repayments are allocated to instalments oldest first; within an instalment interest is paid
before principal. Days past due count from the due date of the oldest instalment not fully
paid, once that date has passed (an instalment due today is not yet overdue).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass
class InstalmentPosition:
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    paid: Decimal
    status: str  # paid | partial | due | overdue
    days_overdue: int


@dataclass
class LoanPosition:
    scheduled_total: Decimal = ZERO
    paid_total: Decimal = ZERO
    outstanding_total: Decimal = ZERO
    outstanding_principal: Decimal = ZERO
    paid_instalments: int = 0
    oldest_unpaid_due: date | None = None
    days_past_due: int = 0
    instalments: list[InstalmentPosition] = field(default_factory=list)


def loan_position(*, instalments, repaid: Decimal, as_of: date) -> LoanPosition:
    """`instalments`: objects with number, due_date, principal, interest, total."""
    position = LoanPosition(paid_total=Decimal(repaid))
    remaining = Decimal(repaid)
    principal_paid = ZERO
    principal_total = ZERO
    for row in sorted(instalments, key=lambda r: r.number):
        paid = min(row.total, max(ZERO, remaining))
        remaining -= paid
        principal_total += row.principal
        principal_paid += max(ZERO, paid - row.interest)
        position.scheduled_total += row.total
        overdue_days = (as_of - row.due_date).days
        if paid >= row.total:
            status = "paid"
            position.paid_instalments += 1
        else:
            if position.oldest_unpaid_due is None:
                position.oldest_unpaid_due = row.due_date
            if overdue_days > 0:
                status = "overdue"
            elif paid > 0:
                status = "partial"
            else:
                status = "due"
        position.instalments.append(
            InstalmentPosition(
                number=row.number,
                due_date=row.due_date,
                principal=row.principal,
                interest=row.interest,
                total=row.total,
                paid=paid,
                status=status,
                days_overdue=max(0, overdue_days) if status == "overdue" else 0,
            )
        )
    position.outstanding_total = max(ZERO, position.scheduled_total - position.paid_total)
    position.outstanding_principal = principal_total - principal_paid
    if position.oldest_unpaid_due is not None:
        position.days_past_due = max(0, (as_of - position.oldest_unpaid_due).days)
    return position
