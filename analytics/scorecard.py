"""The balanced scorecard: metrics are records (models.ScorecardMetric: which figure, its
perspective, direction, target and weight, set in the admin); the figures they can follow are
the computations below, in code, registered in METRIC_FIGURES by key.

Every computation takes a MetricContext (the user, the Filters and the figures already computed
for them) and returns a number, or None when there is no data (or no data source yet). Each
reads its rows through Filters.narrow or the figures built on it, so the branch, product,
route, industry and period filters and the user's scope apply to all of them.

Stock figures (balances, NPL ratio, provisions, customers) are the loans' position today:
postloan keeps only today's classification. Flow figures (disbursed, process times, surveys,
complaints, training, product changes) are those of the period: complaints are those received
in it, counted for the branch of the company (complaints.Complaint).

Score of a metric with a value: weight x attainment, where attainment is value / target when
higher is better and target / value when lower is better, each capped to [0, 1] (a value at or
beyond the target scores the whole weight; a target of 0 is met by any value when higher is
better, and only by 0 when lower is better). A perspective's score, and the scorecard's, is the
sum of the scores over the sum of the weights of the metrics with a value (0 to 1).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import rm, selectors
from analytics.forms import ComparisonForm, form_errors
from analytics.models import ProvisionRate, ScorecardMetric, TrainingRecord
from applications.models import Product
from common.errors import InvalidInput, NotFound
from complaints.models import Complaint
from org.models import StaffProfile
from org.selectors import branch_scope_q
from postloan.models import Classification

# The provision rates used when none is configured for a class (the regulator's general
# provisioning guidance: normal 1%, special mention 2%, substandard 25%, doubtful 50%, loss
# 100%).
DEFAULT_PROVISION_RATES_PCT = {
    Classification.NORMAL: Decimal("1"),
    Classification.SPECIAL_MENTION: Decimal("2"),
    Classification.SUBSTANDARD: Decimal("25"),
    Classification.DOUBTFUL: Decimal("50"),
    Classification.LOSS: Decimal("100"),
}


@dataclass
class MetricContext:
    """What a metric computation reads: the user, the filters, and the figures computed for
    them (by name; each computed once however many metrics read it)."""

    user: object
    f: selectors.Filters
    computed: dict = field(default_factory=dict)

    def figure(self, name: str) -> dict:
        return selectors.figure_for_period(name, user=self.user, f=self.f, computed=self.computed)

    def process(self) -> dict:
        """The process figures (selectors.analytics_scorecard_values), computed once."""
        if "_process" not in self.computed:
            self.computed["_process"] = selectors.analytics_scorecard_values(
                user=self.user, f=self.f, computed=self.computed
            )
        return self.computed["_process"]

    def rm_summary(self) -> dict:
        """The book's yield and margin over the cost of funds, as the relationship managers'
        results compute them (analytics.rm: one implementation), and in the same statement
        its customers (distinct companies with an active loan)."""
        if "_rm" not in self.computed:
            self.computed["_rm"] = rm.rm_book_yield(
                user=self.user, f=self.f, customers=Count("company", distinct=True)
            )
        return self.computed["_rm"]


def _dec(value) -> float | None:
    return None if value is None else float(Decimal(str(value)))


def _process(key: str) -> Callable[[MetricContext], float | None]:
    def compute(ctx: MetricContext) -> float | None:
        return ctx.process()[key]

    return compute


# --- Financial --------------------------------------------------------------------------------


def metric_balance(ctx: MetricContext) -> float | None:
    """Outstanding principal of the active loans."""
    return _dec(ctx.figure("portfolio")["summary"]["balance"])


def metric_npl_ratio(ctx: MetricContext) -> float | None:
    """Substandard, doubtful and loss balance over the outstanding balance."""
    return ctx.figure("portfolio")["summary"]["npl_ratio"]


def metric_yield(ctx: MetricContext) -> float | None:
    """Balance-weighted annual rate of the book (%), analytics.rm."""
    return ctx.rm_summary()["yield_pct"]


def metric_margin(ctx: MetricContext) -> float | None:
    """The yield less the cost of funds (percentage points), analytics.rm."""
    return ctx.rm_summary()["margin_pct"]


def provision_rates() -> dict[str, Decimal]:
    """The provision rate (%) of each five-category class: ProvisionRate, else the default."""
    rates = dict(DEFAULT_PROVISION_RATES_PCT)
    rates.update(ProvisionRate.objects.values_list("classification", "rate_pct"))
    return rates


def metric_provisions(ctx: MetricContext) -> float | None:
    """Provisions required: each class's outstanding principal x its provision rate."""
    rates = provision_rates()
    total = Decimal("0")
    for row in ctx.figure("portfolio")["rows"]:
        total += Decimal(row["balance"]) * rates.get(row["classification"], 0) / 100
    return float(total.quantize(Decimal("0.01")))


# --- Customer ---------------------------------------------------------------------------------


def _customers(ctx: MetricContext) -> int:
    """Distinct companies with an active loan (read with the book's yield)."""
    return ctx.rm_summary()["customers"]


def metric_sme_customers(ctx: MetricContext) -> float | None:
    """SME customers: distinct companies with an active loan."""
    return float(_customers(ctx))


def metric_financing_per_customer(ctx: MetricContext) -> float | None:
    """Outstanding balance per SME customer."""
    customers = _customers(ctx)
    balance = Decimal(ctx.figure("portfolio")["summary"]["balance"])
    return round(float(balance / customers), 2) if customers else None


def _complaints_received(ctx: MetricContext):
    """Complaints received in the period, by the branch of the company (the complaint's
    branch, its home branch when received) within the user's scope and the chosen branch.
    The product and route filters keep the complaints about an application of that product
    or route (a general complaint is about neither); the industry filter is the company's."""
    f = ctx.f
    qs = Complaint.objects.filter(received_at__gte=f.start, received_at__lt=f.end)
    qs = replace(f, industry="").narrow(
        qs, user=ctx.user, branch_field="branch", app_prefix="application__"
    )
    return qs.filter(f.industry_q())


def metric_complaints(ctx: MetricContext) -> float | None:
    """Complaints received in the period (complaints.Complaint.received_at), whatever became
    of them, counted for the branch of the company."""
    if "_complaints" not in ctx.computed:
        ctx.computed["_complaints"] = _complaints_received(ctx).count()
    return float(ctx.computed["_complaints"])


def metric_complaints_per_100_customers(ctx: MetricContext) -> float | None:
    """Complaints received in the period per 100 SME customers with a loan (the customers
    figure's count); no value without customers."""
    customers = _customers(ctx)
    if not customers:
        return None
    return round(metric_complaints(ctx) * 100 / customers, 2)


def metric_complaint_hours_median(ctx: MetricContext) -> float | None:
    """Median hours from receipt to the answer (resolved or rejected), of the complaints
    answered in the period, in the same scope and filters as the count (calendar hours: the
    customer waits on weekends too)."""
    f = ctx.f
    qs = replace(f, industry="").narrow(
        Complaint.objects.filter(answered_at__gte=f.start, answered_at__lt=f.end),
        user=ctx.user,
        branch_field="branch",
        app_prefix="application__",
    )
    seconds = qs.filter(f.industry_q()).aggregate(
        median=selectors.PercentileCont(selectors.Seconds(F("answered_at"), F("received_at")), 0.5)
    )["median"]
    return None if seconds is None else round(seconds / 3600, 2)


def metric_external_data_share(ctx: MetricContext) -> float | None:
    """Of the applications submitted in the period (the funnel's cohort) and decided, the share
    decided with an answer from an external source (datasources.SourceQuery arrived before the
    decision; selectors, the cohort figure "external-data")."""
    counts = ctx.figure("external-data")
    return selectors._rate(counts["on_data"], counts["decided"])


def metric_data_route_share(ctx: MetricContext) -> float | None:
    """Of the applications submitted in the period and decided, the share approved by the
    system on the data-driven route (analytics.fasttrack)."""
    return ctx.figure("data-route")["summary"]["share_of_decided"]


def metric_data_route_concern_rate(ctx: MetricContext) -> float | None:
    """Of the automatic approvals on external data that a post-reviewer reviewed, the share
    with a concern (analytics.fasttrack)."""
    return ctx.figure("data-route")["summary"]["concern_rate"]


def metric_no_source(ctx: MetricContext) -> None:
    """No data source yet: nothing records it, so the scorecard says "no data"."""
    return None


# --- Learning and growth ----------------------------------------------------------------------


def metric_staff_per_stage(ctx: MetricContext) -> float | None:
    """Staff members who completed a stage in the period, per measured stage, averaged over
    the stages with completed visits."""
    pairs = {
        (row["stage"], row["actor"])
        for row in selectors.visits_by_stage_and_actor(
            user=ctx.user, f=ctx.f, computed=ctx.computed
        )
        if row["actor"] is not None
    }
    stages = {stage for stage, _actor in pairs}
    return round(len(pairs) / len(stages), 2) if stages else None


def _staff(ctx: MetricContext):
    qs = StaffProfile.objects.filter(branch_scope_q(ctx.user, field="branch"))
    if ctx.f.branch is not None:
        qs = qs.filter(branch__path__startswith=ctx.f.branch.path)
    return qs


def metric_training_hours(ctx: MetricContext) -> float | None:
    """Training hours recorded in the period per staff member of the branches."""
    staff = _staff(ctx)
    people = staff.count()
    hours = TrainingRecord.objects.filter(
        user__in=staff.values("user"), date__gte=ctx.f.date_from, date__lte=ctx.f.date_to
    ).aggregate(h=Sum("hours"))["h"] or Decimal("0")
    return round(float(hours / people), 2) if people else None


def metric_product_changes(ctx: MetricContext) -> float | None:
    """Products whose terms changed (a new version) and were last saved in the period; the
    product filter narrows to that product. Products keep no version history, so a product
    changed twice in the period counts once."""
    qs = Product.objects.filter(
        version__gt=1, updated_at__gte=ctx.f.start, updated_at__lt=ctx.f.end
    )
    if ctx.f.product_id:
        qs = qs.filter(pk=ctx.f.product_id)
    return float(qs.count())


# The figures a metric can follow: key -> (label, computation).
METRIC_FIGURES: dict[str, tuple[object, Callable[[MetricContext], float | None]]] = {
    # Financial
    "portfolio_balance": (gettext_lazy("Outstanding balance"), metric_balance),
    "yield_pct": (gettext_lazy("Yield of the book (annual %)"), metric_yield),
    "margin_pct": (gettext_lazy("Margin over the cost of funds (points)"), metric_margin),
    "npl_ratio": (gettext_lazy("Non-performing loan ratio"), metric_npl_ratio),
    "provisions": (gettext_lazy("Provisions by five-category class"), metric_provisions),
    "disbursed_amount": (
        gettext_lazy("Amount disbursed in the period"),
        _process("disbursed_amount"),
    ),
    # Customer
    "sme_customers": (gettext_lazy("SME customers with a loan"), metric_sme_customers),
    "online_share": (gettext_lazy("Share of applications filed online"), _process("online_share")),
    "financing_per_customer": (
        gettext_lazy("Financing per SME customer"),
        metric_financing_per_customer,
    ),
    "satisfaction_score": (
        gettext_lazy("Average satisfaction score (1 to 5)"),
        _process("satisfaction_score"),
    ),
    "survey_response_rate": (
        gettext_lazy("Satisfaction survey response rate"),
        _process("survey_response_rate"),
    ),
    "complaints": (gettext_lazy("Complaints received in the period"), metric_complaints),
    "complaints_per_100_customers": (
        gettext_lazy("Complaints per 100 SME customers"),
        metric_complaints_per_100_customers,
    ),
    "complaint_hours_median": (
        gettext_lazy("Median hours to answer a complaint"),
        metric_complaint_hours_median,
    ),
    # Internal process
    "approval_rate": (gettext_lazy("Approval rate"), _process("approval_rate")),
    "decision_hours_median": (
        gettext_lazy("Median hours from submission to decision"),
        _process("decision_hours_median"),
    ),
    "disbursement_hours_median": (
        gettext_lazy("Median hours from submission to disbursement"),
        _process("disbursement_hours_median"),
    ),
    "submitted_to_disbursed": (
        gettext_lazy("Share of submissions disbursed"),
        _process("submitted_to_disbursed"),
    ),
    "sla_breach_rate": (gettext_lazy("SLA breach rate"), _process("sla_breach_rate")),
    "first_time_right": (gettext_lazy("First-time-right rate"), _process("first_time_right")),
    "rework_rate": (gettext_lazy("Rework rate"), _process("rework_rate")),
    "fast_track_share": (
        gettext_lazy("Fast-track share of approvals"),
        _process("fast_track_share"),
    ),
    "overdue_tasks": (gettext_lazy("Overdue post-loan tasks"), _process("overdue_tasks")),
    # Learning and growth
    "decisions_per_staff": (
        gettext_lazy("Stages completed per staff member"),
        _process("decisions_per_staff"),
    ),
    "staff_per_stage": (gettext_lazy("Staff per stage"), metric_staff_per_stage),
    "training_hours_per_person": (
        gettext_lazy("Training hours per staff member"),
        metric_training_hours,
    ),
    "product_changes": (gettext_lazy("Product changes"), metric_product_changes),
    "external_data_share": (
        gettext_lazy("Share of cases decided on external data"),
        metric_external_data_share,
    ),
    "data_route_share": (
        gettext_lazy("Share of decided applications approved on the data-driven route"),
        metric_data_route_share,
    ),
    "data_route_concern_rate": (
        gettext_lazy("Post-review concerns about approvals on external data"),
        metric_data_route_concern_rate,
    ),
}


def figure_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, (label, _fn) in METRIC_FIGURES.items()]


def metric_attainment(*, value: float | None, target: float, direction: str) -> float | None:
    """How far the value reaches the target, 0 to 1 (see the module's docstring)."""
    if value is None:
        return None
    if direction == ScorecardMetric.Direction.HIGHER:
        if target <= 0:
            return 1.0
        return max(0.0, min(1.0, value / target))
    if value <= target:
        return 1.0
    if target <= 0 or value <= 0:
        return 0.0
    return max(0.0, min(1.0, target / value))


def _round(value, digits: int = 4):
    return None if value is None else round(value, digits)


def previous_period(f: selectors.Filters) -> tuple[date, date]:
    """The period of the same length just before f's."""
    days = (f.date_to - f.date_from).days + 1
    return f.date_from - timedelta(days=days), f.date_from - timedelta(days=1)


# The figures of today's position (module docstring: stock figures), the same in any period:
# computed for the first period, they are read again for the comparison period.
STOCK_FIGURES = ("portfolio", "_rm")


def _values(
    *, user, f: selectors.Filters, metrics: list, computed: dict | None
) -> tuple[dict[str, float | None], dict]:
    """Each metric's value in f's period, and the figures computed for them (by name;
    `computed`, when given, is filled in)."""
    ctx = MetricContext(user=user, f=f, computed={} if computed is None else computed)
    out = {}
    for metric in metrics:
        _label, compute = METRIC_FIGURES.get(metric.figure, (None, metric_no_source))
        out[metric.code] = compute(ctx)
    return out, ctx.computed


def scorecard_figure(
    *,
    user,
    f: selectors.Filters,
    computed: Mapping[str, dict] | None = None,
    compare: tuple[date, date] | None = None,
) -> dict:
    """Each active metric with its value in the period, its target, attainment and score, and
    the same in the comparison period (`compare`; by default the period just before);
    `perspectives` and `summary` hold the weighted scores."""
    metrics = list(ScorecardMetric.objects.filter(is_active=True))
    order = [p for p, _l in ScorecardMetric.Perspective.choices]
    metrics.sort(key=lambda m: (order.index(m.perspective), m.order, m.code))
    compare = compare or previous_period(f)
    f2 = replace(f, date_from=compare[0], date_to=compare[1])
    # The two periods' figures, each knowing the other's: a figure read per period is
    # computed for both at once, in one statement where that saves a scan
    # (selectors.shared_figure; selectors, "Periods").
    figures, figures2 = dict(computed or {}), {}
    figures[selectors.OTHER_PERIODS] = [(f2, figures2)]
    figures2[selectors.OTHER_PERIODS] = [(f, figures)]
    # The cohort's figures (funnel, end-to-end times, external data) of both periods: one
    # scan of each period's applications.
    selectors.cohort_figures_prefetch(user=user, f=f, computed=figures)
    now, _figures = _values(user=user, f=f, metrics=metrics, computed=figures)
    figures2.update({name: figures[name] for name in STOCK_FIGURES if name in figures})
    then, _figures = _values(user=user, f=f2, metrics=metrics, computed=figures2)
    rows = []
    totals = {p: {"score": 0.0, "weight": 0.0, "score2": 0.0, "weight2": 0.0} for p in order}
    for m in metrics:
        target, weight = float(m.target), float(m.weight)
        value, value2 = now[m.code], then[m.code]
        attained = metric_attainment(value=value, target=target, direction=m.direction)
        attained2 = metric_attainment(value=value2, target=target, direction=m.direction)
        score = None if attained is None else attained * weight
        score2 = None if attained2 is None else attained2 * weight
        t = totals[m.perspective]
        if score is not None:
            t["score"] += score
            t["weight"] += weight
        if score2 is not None:
            t["score2"] += score2
            t["weight2"] += weight
        status = "no_data" if attained is None else ("met" if attained >= 1 else "missed")
        rows.append(
            {
                "perspective": m.perspective,
                "perspective_label": str(m.get_perspective_display()),
                "metric": m.code,
                "figure": m.figure,
                "label": m.localized("name"),
                "unit": m.unit,
                "value": _round(value),
                "target": target,
                "direction": m.direction,
                "weight": weight,
                "attainment": _round(attained),
                "score": _round(score),
                "status": status,
                "value_compare": _round(value2),
                "score_compare": _round(score2),
                "change": (None if value is None or value2 is None else _round(value - value2)),
            }
        )
    perspectives = [
        {
            "perspective": p,
            "label": str(label),
            "score": _round(totals[p]["score"] / totals[p]["weight"])
            if totals[p]["weight"]
            else None,
            "score_compare": (
                _round(totals[p]["score2"] / totals[p]["weight2"]) if totals[p]["weight2"] else None
            ),
        }
        for p, label in ScorecardMetric.Perspective.choices
    ]
    weight = sum(t["weight"] for t in totals.values())
    weight2 = sum(t["weight2"] for t in totals.values())
    summary = {
        "score": _round(sum(t["score"] for t in totals.values()) / weight) if weight else None,
        "score_compare": (
            _round(sum(t["score2"] for t in totals.values()) / weight2) if weight2 else None
        ),
        "compare_from": compare[0].isoformat(),
        "compare_to": compare[1].isoformat(),
    }
    return selectors._figure(
        "scorecard",
        f,
        SCORECARD_COLUMNS,
        rows,
        perspectives=perspectives,
        summary=summary,
    )


SCORECARD_COLUMNS = [
    "perspective",
    "perspective_label",
    "metric",
    "label",
    "unit",
    "value",
    "target",
    "direction",
    "weight",
    "attainment",
    "score",
    "status",
    "value_compare",
    "score_compare",
    "change",
]


def scorecard_comparison(*, params: Mapping) -> tuple[date, date] | None:
    """The comparison period from date_from2 and date_to2 (both or neither); None for the
    period just before."""
    form = ComparisonForm(params)
    if not form.is_valid():
        raise InvalidInput(_("The comparison period is not valid."), details=form_errors(form))
    data = form.cleaned_data
    if data["date_from2"] is None:
        return None
    return data["date_from2"], data["date_to2"]


DRILL_DOWNS = ("branch", "product", "industry")


def scorecard_drill_down(*, user, f: selectors.Filters, params: Mapping) -> dict:
    """One metric (`metric`, its code) by branch (the branches directly below the chosen one,
    or the user's), product or industry (GB/T 4754 sections of the companies with
    applications) (`by`), in the filters' period."""
    code = str(params.get("metric") or "")
    by = str(params.get("by") or "branch")
    if by not in DRILL_DOWNS:
        raise InvalidInput(
            _("Some filters are not valid."),
            details={"by": [_("Choose branch, product or industry.")]},
        )
    metric = ScorecardMetric.objects.filter(code=code).first()
    if metric is None:
        raise NotFound(_("There is no scorecard metric called '%(name)s'.") % {"name": code})
    parts: list[tuple[str, str, selectors.Filters]] = []
    if by == "branch":
        top = f.branch or selectors.staff_branch(user)
        for b in selectors.Branch.objects.filter(parent=top).order_by("path"):
            parts.append((str(b.pk), b.name, replace(f, branch=b)))
        if top is not None:
            parts.insert(0, (str(top.pk), top.name, replace(f, branch=top)))
    elif by == "product":
        for p in Product.objects.order_by("code"):
            parts.append((str(p.pk), p.code, replace(f, product_id=p.pk)))
    else:
        sections = (
            selectors._applications(user=user, f=f)
            .exclude(company__industry_code="")
            .order_by()
            .values_list("company__industry_code", flat=True)
            .distinct()
        )
        for section in sorted({code[:1] for code in sections if code}):
            parts.append((section, section, replace(f, industry=section)))
    rows = []
    for key, label, part in parts:
        value = _values(user=user, f=part, metrics=[metric], computed=None)[0][metric.code]
        rows.append({"key": key, "label": label, "value": _round(value)})
    return selectors._figure(
        "scorecard-drilldown",
        f,
        ["key", "label", "value"],
        rows,
        metric=metric.code,
        by=by,
    )
