"""Portfolio quality, from the post-loan app's Loan, InspectionTask and Alert when it is
installed (guarded: analytics must keep working without it)."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import LoanApplication, Status
from org.selectors import branch_scope_q

FIVE_CATEGORIES = ("normal", "special_mention", "substandard", "doubtful", "loss")
NON_PERFORMING = ("substandard", "doubtful", "loss")
COLUMNS = ["classification", "label", "count", "balance", "share_of_balance"]


def _postloan():
    try:
        from postloan.models import Alert, InspectionTask, Loan
    except ImportError:
        return None
    loan_fields = {f.name for f in Loan._meta.get_fields()}
    from analytics.selectors import table_ready

    if not ({"classification", "outstanding_principal", "status", "branch"} <= loan_fields
            and all(table_ready(m) for m in (Loan, InspectionTask, Alert))):
        return None
    return Loan, InspectionTask, Alert


def _labels() -> dict[str, str]:
    try:
        from postloan.models import Classification

        return {value: str(label) for value, label in Classification.choices}
    except ImportError:
        return {"normal": _("Normal"), "special_mention": _("Special mention"),
                "substandard": _("Substandard"), "doubtful": _("Doubtful"), "loss": _("Loss")}


def _filtered(qs, *, user, f, branch_field: str, app_prefix: str):
    qs = qs.filter(branch_scope_q(user, field=branch_field))
    if f.branch is not None:
        qs = qs.filter(**{f"{branch_field}__path__startswith": f.branch.path})
    if f.product_id:
        qs = qs.filter(**{f"{app_prefix}product_id": f.product_id})
    if f.route:
        qs = qs.filter(**{f"{app_prefix}route_recommendation": f.route})
    return qs


def portfolio_figure(*, user, f) -> dict:
    models = _postloan()
    overdue_tasks = open_warnings = None
    if models is not None:
        Loan, InspectionTask, Alert = models
        loans = _filtered(Loan.objects.filter(status="active"), user=user, f=f,
                          branch_field="branch", app_prefix="application__")
        by_class = {row["classification"]: (row["n"], row["balance"] or Decimal("0"))
                    for row in loans.order_by().values("classification")
                    .annotate(n=Count("id"), balance=Sum("outstanding_principal"))}
        overdue_tasks = _filtered(
            InspectionTask.objects.filter(status="open", due_date__lt=timezone.localdate()),
            user=user, f=f, branch_field="loan__branch", app_prefix="loan__application__",
        ).count()
        open_warnings = _filtered(
            Alert.objects.filter(status__in=["open", "acknowledged"]), user=user, f=f,
            branch_field="loan__branch", app_prefix="loan__application__",
        ).count()
        source = "postloan"
    else:
        apps = LoanApplication.objects.filter(branch_scope_q(user, field="branch"),
                                              status=Status.DISBURSED)
        if f.branch is not None:
            apps = apps.filter(branch__path__startswith=f.branch.path)
        if f.product_id:
            apps = apps.filter(product_id=f.product_id)
        if f.route:
            apps = apps.filter(route_recommendation=f.route)
        agg = apps.aggregate(n=Count("id"), balance=Sum("amount"))
        by_class = {"normal": (agg["n"], agg["balance"] or Decimal("0"))}
        source = "applications"
    labels = _labels()
    total = sum((b for _n, b in by_class.values()), Decimal("0"))
    npl = sum((by_class.get(c, (0, Decimal("0")))[1] for c in NON_PERFORMING), Decimal("0"))
    rows = []
    for cls in FIVE_CATEGORIES:
        n, balance = by_class.get(cls, (0, Decimal("0")))
        rows.append({"classification": cls, "label": labels.get(cls, cls), "count": n,
                     "balance": str(balance.quantize(Decimal("0.01"))),
                     "share_of_balance": round(float(balance / total), 4) if total else None})
    summary = {
        "loans": sum(n for n, _b in by_class.values()),
        "balance": str(total.quantize(Decimal("0.01"))),
        "npl_balance": str(npl.quantize(Decimal("0.01"))),
        "npl_ratio": round(float(npl / total), 4) if total else None,
        "overdue_tasks": overdue_tasks,
        "open_warnings": open_warnings,
        "source": source,
    }
    return {"figure": "portfolio", "filters": f.as_dict(), "columns": COLUMNS, "rows": rows,
            "summary": summary}
