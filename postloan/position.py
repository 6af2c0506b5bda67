"""A loan's position, as the pages show it: the figures and each instalment with what has
been paid of it and its status. The figures are computed by the nightly job's own statement
(postloan.daily: `loan_positions`, whose _POSITION_CTES define the allocation rule once:
repayments pay the overdue interest accrued first, then the instalments oldest first,
interest before principal; days past due count
from the oldest instalment not fully paid, once its due date has passed)."""

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
    overdue_interest_unpaid: Decimal = ZERO
    instalments: list[InstalmentPosition] = field(default_factory=list)

    @classmethod
    def of(
        cls, scheduled, paid, outstanding, outstanding_principal, paid_count, oldest, dpd, overdue
    ):
        return cls(
            overdue_interest_unpaid=overdue,
            scheduled_total=scheduled,
            paid_total=paid,
            outstanding_total=outstanding,
            outstanding_principal=outstanding_principal,
            paid_instalments=paid_count,
            oldest_unpaid_due=oldest,
            days_past_due=dpd,
        )

    def add_instalment(self, *, number, due_date, principal, interest, total, paid, as_of):
        """An instalment with what the allocation paid of it: paid in full, overdue (its due
        date has passed), partly paid, or not yet due."""
        overdue_days = (as_of - due_date).days
        if paid >= total:
            status = "paid"
        elif overdue_days > 0:
            status = "overdue"
        elif paid > 0:
            status = "partial"
        else:
            status = "due"
        self.instalments.append(
            InstalmentPosition(
                number=number,
                due_date=due_date,
                principal=principal,
                interest=interest,
                total=total,
                paid=paid,
                status=status,
                days_overdue=overdue_days if status == "overdue" else 0,
            )
        )
