"""Vintage curves, from the loans' positions at month ends (analytics.models.LoanMonthEnd).

For each quarter of disbursement (the vintage, or cohort) and each month on book m (0 at the
end of the month of disbursement): the share of the cohort's original disbursed amount that
was outstanding principal of loans 30 or more (and 90 or more) days past due at that month
end, the industry's usual measure: the denominator never shrinks as loans repay, so curves of
different cohorts compare.

At month on book m the denominator is the disbursed amount of the cohort's loans that had been
on book m months at the last recorded month end: a loan disbursed in the quarter's third month
reaches m a few months after one disbursed in its first, and counting it before it can be
overdue would lower the young end of the curve. Loans closed or written off by a month end
have no position then and add nothing: the curve is of balance still owed.

The period chooses the cohorts: every quarter the period touches, whole. The other filters
(branch, product, route, industry) choose the loans.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth

from analytics.models import LoanMonthEnd
from analytics.services import month_end_of, months_between, quarter_start
from postloan.models import Loan

ZERO = Decimal("0.00")
COLUMNS = [
    "vintage",
    "months_on_book",
    "loans",
    "disbursed_amount",
    "base_amount",
    "balance",
    "dpd30_balance",
    "dpd90_balance",
    "dpd30_rate",
    "dpd90_rate",
]


def _quarter_end(day: date) -> date:
    start = quarter_start(day)
    return month_end_of(date(start.year, start.month + 2, 1))


def _label(cohort: date) -> str:
    return f"{cohort.year}Q{(cohort.month - 1) // 3 + 1}"


def vintage_figure(*, user, f) -> dict:
    """Rows per cohort and month on book (see the module's docstring); three queries."""
    first, last_cohort = quarter_start(f.date_from), quarter_start(f.date_to)
    last = LoanMonthEnd.objects.aggregate(last=Max("month_end"))["last"]
    disbursed: dict[date, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
    for row in (
        f.narrow(
            Loan.objects.filter(
                disbursed_on__gte=first, disbursed_on__lte=_quarter_end(last_cohort)
            ),
            user=user,
            branch_field="branch",
            app_prefix="application__",
        )
        .annotate(month=TruncMonth("disbursed_on"))
        .order_by()
        .values("month")
        .annotate(n=Count("id"), amount=Sum("principal"))
    ):
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        # {cohort: {months from the disbursement month to the last month end: (loans, amount)}}
        disbursed[quarter_start(month)][month] = (row["n"], row["amount"] or ZERO)
    positions = {
        (row["cohort"], row["months_on_book"]): row
        for row in f.narrow(
            LoanMonthEnd.objects.filter(cohort__gte=first, cohort__lte=last_cohort),
            user=user,
            # The position's own branch: no join unless a product, route or industry is chosen.
            branch_field="branch",
            app_prefix="loan__application__",
        )
        .order_by()
        .values("cohort", "months_on_book")
        .annotate(
            balance=Sum("outstanding_principal"),
            dpd30=Sum("outstanding_principal", filter=Q(days_past_due__gte=30)),
            dpd90=Sum("outstanding_principal", filter=Q(days_past_due__gte=90)),
        )
    }
    rows = []
    for cohort in sorted(disbursed):
        months = disbursed[cohort]
        loans = sum(n for n, _a in months.values())
        amount = sum((a for _n, a in months.values()), ZERO)
        if last is None or last < cohort:
            continue
        for mob in range(months_between(cohort, last) + 1):
            base = sum(
                (a for month, (_n, a) in months.items() if months_between(month, last) >= mob),
                ZERO,
            )
            if not base:
                continue
            p = positions.get((cohort, mob), {})
            dpd30, dpd90 = p.get("dpd30") or ZERO, p.get("dpd90") or ZERO
            rows.append(
                {
                    "vintage": _label(cohort),
                    "months_on_book": mob,
                    "loans": loans,
                    "disbursed_amount": str(amount),
                    "base_amount": str(base),
                    "balance": str(p.get("balance") or ZERO),
                    "dpd30_balance": str(dpd30),
                    "dpd90_balance": str(dpd90),
                    "dpd30_rate": round(float(dpd30 / base), 4),
                    "dpd90_rate": round(float(dpd90 / base), 4),
                }
            )
    return {
        "figure": "vintages",
        "filters": f.as_dict(),
        "columns": COLUMNS,
        "rows": rows,
        "last_month_end": last.isoformat() if last else None,
        "measure": "share of the disbursed amount",
    }


def default_period_start(today: date, *, years: int = 3) -> date:
    """The vintage page's default first cohort: the quarter `years` years back."""
    return quarter_start(today - timedelta(days=365 * years))
