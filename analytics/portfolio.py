"""Portfolio quality, from the post-loan app's Loan, InspectionTask and Alert."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from postloan.models import NON_PERFORMING, Alert, Classification, InspectionTask, Loan

COLUMNS = ["classification", "label", "count", "balance", "share_of_balance"]


def portfolio_figure(*, user, f) -> dict:
    loans = f.narrow(
        Loan.objects.filter(status=Loan.Status.ACTIVE),
        user=user,
        branch_field="branch",
        app_prefix="application__",
    )
    by_class = {
        row["classification"]: (row["n"], row["balance"] or Decimal("0"))
        for row in loans.order_by()
        .values("classification")
        .annotate(n=Count("id"), balance=Sum("outstanding_principal"))
    }
    overdue_tasks = f.narrow(
        InspectionTask.objects.filter(
            status=InspectionTask.Status.OPEN, due_date__lt=timezone.localdate()
        ),
        user=user,
        branch_field="loan__branch",
        app_prefix="loan__application__",
    ).count()
    open_warnings = f.narrow(
        Alert.objects.filter(status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]),
        user=user,
        branch_field="loan__branch",
        app_prefix="loan__application__",
    ).count()
    total = sum((b for _n, b in by_class.values()), Decimal("0"))
    npl = sum((by_class.get(c, (0, Decimal("0")))[1] for c in NON_PERFORMING), Decimal("0"))
    rows = []
    for cls, label in Classification.choices:
        n, balance = by_class.get(cls, (0, Decimal("0")))
        rows.append(
            {
                "classification": cls,
                "label": str(label),
                "count": n,
                "balance": str(balance.quantize(Decimal("0.01"))),
                "share_of_balance": round(float(balance / total), 4) if total else None,
            }
        )
    summary = {
        "loans": sum(n for n, _b in by_class.values()),
        "balance": str(total.quantize(Decimal("0.01"))),
        "npl_balance": str(npl.quantize(Decimal("0.01"))),
        "npl_ratio": round(float(npl / total), 4) if total else None,
        "overdue_tasks": overdue_tasks,
        "open_warnings": open_warnings,
    }
    return {
        "figure": "portfolio",
        "filters": f.as_dict(),
        "columns": COLUMNS,
        "rows": rows,
        "summary": summary,
    }
