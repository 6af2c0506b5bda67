"""Reads of the analytics app: every figure of the dashboard, computed in the database.

Each figure is an ORM aggregate over StageVisit (recorded as stages end) or LoanApplication.
Time spent in a stage is read in one pass over the period's visits (an index-only scan of
visit_left_cover) and summed by the database into log-scale buckets of the duration (the stored
business_bucket and calendar_bucket columns; stats.Histogram): counts, means and standard
deviations are exact; medians and 90th percentiles are within 2.2% of the exact value (exact
while few visits share a bucket), which those figures state. Sorting every visit of the
period, as percentile_cont and COUNT(DISTINCT) do, cost seconds over millions of visits. The
before/after comparison, which decides whether a process change worked, is exact instead: its
medians and percentiles come from percentile_cont over the two periods' durations and its
tests from exact group aggregates. Figures over LoanApplication (far fewer rows) use count, avg,
stddev_samp and percentile_cont (PercentileCont below). The figures that read the buckets back,
tens of thousands of rows over a year of a bank's visits, run with the cyclic garbage collector
paused (analytics.collector): its collections walked every row read so far, again and again.

Every figure returns a dict: {"figure", "filters", "columns", "rows", ...extras}; the API
returns it as JSON and the CSV export writes its columns and rows.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    CharField,
    Count,
    Exists,
    F,
    Field,
    FilteredRelation,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    StdDev,
    Sum,
    Value,
    Variance,
    When,
)
from django.db.models.functions import Abs, Cast, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import portfolio, stats, vintages
from analytics.collector import collector_paused
from analytics.forms import FiltersForm, PeriodsForm, form_errors
from analytics.models import MEASURED_STAGES, StageVisit
from applications.models import LoanApplication, Product, Status
from approvals.models import ApprovalTask
from approvals.selectors import decline_reason_labels
from audit.models import AuditEvent
from common.errors import Forbidden, InvalidInput, NotFound
from customers.models import CompanyBinding
from datasources.models import SourceQuery
from messaging.models import SurveyStage
from org.models import Branch
from org.roles import Role, has_role
from org.selectors import branch_scope_q, is_staff_member, staff_branch
from sla.models import Deadline

HOUR = 3600.0
APPROVED_OR_LATER = (
    Status.APPROVED,
    Status.CONTRACT_SIGNED,
    Status.DISBURSED,
    Status.CLOSED,
    Status.WRITTEN_OFF,
)
CONTRACTED_OR_LATER = (Status.CONTRACT_SIGNED, Status.DISBURSED, Status.CLOSED, Status.WRITTEN_OFF)
DISBURSED_OR_LATER = (Status.DISBURSED, Status.CLOSED, Status.WRITTEN_OFF)


# --- Access and filters -------------------------------------------------------------------


def analytics_user_check(*, user) -> None:
    """Branch heads (their branch subtree), head-office staff, risk officers and
    administrators may see the figures; anyone else gets 403."""
    if not is_staff_member(user):
        raise Forbidden(_("Only bank staff may see the process figures."))
    branch = staff_branch(user)
    if branch.is_head_office or has_role(
        user, Role.BRANCH_HEAD, Role.RISK_OFFICER, Role.ADMINISTRATOR
    ):
        return
    raise Forbidden(_("The process figures are for branch heads and head office."))


def analytics_can_view(*, user) -> bool:
    try:
        analytics_user_check(user=user)
    except Forbidden:
        return False
    return True


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    branch: Branch | None = None
    product_id: int | None = None
    route: str = ""
    basis: str = "business"
    # A GB/T 4754 code or its prefix (the company's industry_code starts with it).
    industry: str = ""

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def as_dict(self) -> dict:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "branch": self.branch.pk if self.branch else None,
            "product": self.product_id,
            "route": self.route,
            "industry": self.industry,
            "basis": self.basis,
        }

    def industry_q(self, prefix: str = "") -> Q:
        """The rows whose application's company is in the industry (`prefix`: the path from
        the row to the application, e.g. "application__"); everything when none is chosen."""
        if not self.industry:
            return Q()
        return Q(**{f"{prefix}company__industry_code__startswith": self.industry})

    def narrow(self, qs: QuerySet, *, user, branch_field: str, app_prefix: str) -> QuerySet:
        """`qs` within the user's scope and the chosen branch, product, route and industry:
        `branch_field` is the path from a row to its branch, `app_prefix` to its application
        ("" for applications themselves)."""
        qs = qs.filter(branch_scope_q(user, field=branch_field))
        if self.branch is not None:
            qs = qs.filter(**{f"{branch_field}__path__startswith": self.branch.path})
        if self.product_id:
            qs = qs.filter(**{f"{app_prefix}product_id": self.product_id})
        if self.route:
            qs = qs.filter(**{f"{app_prefix}route_recommendation": self.route})
        if self.industry:
            qs = qs.filter(self.industry_q(app_prefix))
        return qs


def analytics_filters(*, user, params: Mapping) -> Filters:
    """The figures' filters from request parameters (forms.FiltersForm): a bad value is
    InvalidInput (400) naming the field; a branch outside the user's scope is 404."""
    form = FiltersForm(params)
    if not form.is_valid():
        raise InvalidInput(_("Some filters are not valid."), details=form_errors(form))
    data = form.cleaned_data
    branch = None
    if data["branch"] is not None:
        branch = _visible_branch(user, data["branch"])
        if branch is None:
            raise NotFound(_("This branch does not exist or is outside your scope."))
    return Filters(
        date_from=data["date_from"],
        date_to=data["date_to"],
        branch=branch,
        product_id=data["product"],
        route=data["route"],
        industry=data.get("industry") or "",
        basis=data["basis"],
    )


def _visible_branch(user, pk: int) -> Branch | None:
    own = staff_branch(user)
    branch = Branch.objects.filter(pk=pk).first()
    if branch is None or own is None or not own.contains(branch):
        return None
    return branch


def analytics_branch_choices(*, user) -> QuerySet[Branch]:
    own = staff_branch(user)
    if own is None:
        return Branch.objects.none()
    return Branch.objects.filter(path__startswith=own.path).order_by("path")


# --- Building blocks ------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate percentile_cont(q) WITHIN GROUP (ORDER BY x)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class Seconds(Func):
    """Seconds from `start` to `end` (two datetime expressions)."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "
    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)


def _stats(expression, prefix: str, *, filter: Q | None = None) -> dict:
    return {
        f"{prefix}_n": Count(expression, filter=filter),
        f"{prefix}_mean": Avg(expression, filter=filter, output_field=FloatField()),
        f"{prefix}_sd": StdDev(expression, sample=True, filter=filter),
        f"{prefix}_median": PercentileCont(expression, 0.5, filter=filter),
        f"{prefix}_p90": PercentileCont(expression, 0.9, filter=filter),
    }


def _as_returned() -> Field:
    """The output field of the aggregates read back per bucket: one without a converter, so
    the values stay as psycopg returns them (ints; Decimal for a SUM of bigint, which
    stats.Histogram turns into an int). Django's per-value int() over the tens of thousands
    of groups of a year's visits cost 0.2 s of client CPU per 27,000 rows (the staff figure,
    bench scale 0.05; 47,000 rows at scale 1), a tenth of the figures' 2 s bound."""
    return Field()


def _moments(
    column: str, prefix: str, *, squares: bool = True, filter: Q | None = None
) -> dict[str, Aggregate]:
    """What a Histogram keeps of each bucket: count, sum, sum of squares (for the variance),
    smallest and largest (of the rows matching `filter`)."""
    out = {
        f"{prefix}_n": Count(column, filter=filter, output_field=_as_returned()),
        f"{prefix}_sum": Sum(column, filter=filter, output_field=_as_returned()),
        f"{prefix}_min": Min(column, filter=filter, output_field=_as_returned()),
        f"{prefix}_max": Max(column, filter=filter, output_field=_as_returned()),
    }
    if squares:
        out[f"{prefix}_sq"] = Sum(F(column) * F(column), filter=filter, output_field=_as_returned())
    return out


def _add(histogram: stats.Histogram, bucket: int, row: dict, prefix: str) -> None:
    histogram.add(
        bucket,
        row[f"{prefix}_n"],
        row[f"{prefix}_sum"],
        row.get(f"{prefix}_sq") or 0,
        row[f"{prefix}_min"],
        row[f"{prefix}_max"],
    )


def _count_where(q: Q) -> Count:
    """The visits matching q (stage is never null: COUNT(*), which Django does not filter)."""
    return Count("stage", filter=q, output_field=_as_returned())


def _grouped(visits: QuerySet, keys: list[str], aggregates: dict[str, Aggregate]) -> list[dict]:
    """The visits grouped by the fields `keys`, with `aggregates` per group, as dicts. The
    keys are stored columns (the duration buckets among them), so the planner knows from the
    column statistics how few groups there are and aggregates in a small hash table."""
    return list(visits.order_by().values(*keys).annotate(**aggregates))


def _h(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / HOUR, 4)


def _rate(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def _visits(*, user, f: Filters, completed: bool = True) -> QuerySet[StageVisit]:
    # The measured stages only: visits loaded in bulk may hold others.
    qs = StageVisit.objects.filter(branch_scope_q(user, field="branch"), stage__in=MEASURED_STAGES)
    if completed:
        qs = qs.filter(left_at__gte=f.start, left_at__lt=f.end)
    else:
        qs = qs.filter(left_at__isnull=True)
    if f.branch is not None:
        qs = qs.filter(branch__path__startswith=f.branch.path)
    if f.product_id:
        qs = qs.filter(product_id=f.product_id)
    if f.route:
        qs = qs.filter(route=f.route)
    if f.industry:
        qs = qs.filter(f.industry_q("application__"))
    return qs


def _applications(
    *, user, f: Filters, periods: Sequence[Filters] = ()
) -> QuerySet[LoanApplication]:
    """Applications submitted in the period (the cohort of the funnel and end-to-end times),
    or in any of `periods`."""
    return f.narrow(
        LoanApplication.objects.filter(_in_periods("submitted_at", periods or [f])),
        user=user,
        branch_field="branch",
        app_prefix="",
    )


# --- Periods ----------------------------------------------------------------------------------
# The scorecard reads its figures in two periods, the chosen one and the one it compares with.
# A figure it reads has a form over several periods (its `_periods` function; the one-period
# figure is that form's first result), computed for both in one call (shared_figure). The
# small figures (SLA deadlines, surveys) read both periods in one statement with a FILTER per
# period. The large ones read each period in a statement of its own: the cohort's figures
# (funnel, end-to-end times, external data: cohort_figures_periods) and the stage visits. Two
# adjacent periods' rows are the same rows whether one statement reads them or two, and a
# FILTER per period computes every aggregate twice per row, which at the benchmark's scale 1
# cost the cohort's figures 0.9 s against 0.6 s in two statements; over two years of visits
# the planner also read the whole table instead of the covering index's range.


def _period_q(field: str, f: Filters) -> Q:
    """The rows whose `field` falls in f's period."""
    return Q(**{f"{field}__gte": f.start, f"{field}__lt": f.end})


def _in_periods(field: str, periods: Sequence[Filters]) -> Q:
    """The rows whose `field` falls in any of the periods: one range when they touch or
    overlap (one range of the index), each range otherwise."""
    spans: list[list[datetime]] = []
    for start, end in sorted((p.start, p.end) for p in periods):
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    q = Q()
    for start, end in spans:
        q |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return q


def _within(aggregate: Aggregate, q: Q) -> Aggregate:
    """The aggregate over the rows that match q as well as its own filter."""
    copy = aggregate.copy()
    copy.filter = q if aggregate.filter is None else q & aggregate.filter
    return copy


def _per_period(
    aggregates: Mapping[str, Aggregate], field: str, periods: Sequence[Filters]
) -> dict[str, Aggregate]:
    """Each aggregate once per period over that period's rows ("p0_name", "p1_name", ...); for
    one period, the aggregates as they are (the rows read are that period's)."""
    if len(periods) == 1:
        return dict(aggregates)
    return {
        f"p{i}_{name}": _within(aggregate, _period_q(field, period))
        for i, period in enumerate(periods)
        for name, aggregate in aggregates.items()
    }


def _grouped_periods(
    qs: QuerySet,
    keys: list[str],
    aggregates: Mapping[str, Aggregate],
    field: str,
    periods: Sequence[Filters],
    *,
    present: Aggregate,
) -> list[list[dict]]:
    """qs's rows (already narrowed to the periods) grouped by the fields `keys`, with
    `aggregates` per group, in each period: one statement; per period, the groups with rows in
    it (`present`, a count of the rows, above 0)."""
    grouped = qs.order_by().values(*keys)
    if len(periods) == 1:
        return [list(grouped.annotate(**aggregates))]
    rows = list(
        grouped.annotate(**_per_period({**aggregates, "in_period": present}, field, periods))
    )
    return [
        [
            {
                **{key: row[key] for key in keys},
                **{name: row[f"p{i}_{name}"] for name in aggregates},
            }
            for row in rows
            if row[f"p{i}_in_period"]
        ]
        for i in range(len(periods))
    ]


def shared_figure(
    name: str,
    *,
    f: Filters,
    computed: MutableMapping,
    compute: Callable[[list[Filters]], list],
):
    """computed[name], the figure `name` in f's period. Not yet computed, it is computed by
    `compute` (a list of periods -> the figure in each) for f's period and, in the same
    statements, for the other periods of the reading that lack it (computed[OTHER_PERIODS]:
    (Filters, their computed figures) of each; the scorecard's comparison period)."""
    if name not in computed:
        others = [(p, c) for p, c in computed.get(OTHER_PERIODS, ()) if name not in c]
        results = compute([f, *(p for p, _c in others)])
        computed[name] = results[0]
        for (_p, c), result in zip(others, results[1:], strict=True):
            c[name] = result
    return computed[name]


# In the figures computed for a period (the scorecard's `computed`): the other periods of the
# same reading, as (Filters, their computed figures), which a shared_figure fills in too.
OTHER_PERIODS = "_other_periods"


def _stage_key(stage: str) -> tuple:
    order = {s: i for i, s in enumerate(MEASURED_STAGES)}
    return (order.get(stage, len(order)), stage)


def _stage_label(stage: str) -> str:
    try:
        return str(Status(stage).label)
    except ValueError:
        return stage


def _figure(name: str, f: Filters | None, columns: list[str], rows: list[dict], **extra) -> dict:
    return {
        "figure": name,
        "filters": f.as_dict() if f else {},
        "columns": columns,
        "rows": rows,
        **extra,
    }


# --- Stages ---------------------------------------------------------------------------------

STAGE_COLUMNS = [
    "stage",
    "label",
    "count",
    "business_mean_h",
    "business_sd_h",
    "business_median_h",
    "business_p90_h",
    "calendar_mean_h",
    "calendar_sd_h",
    "calendar_median_h",
    "calendar_p90_h",
    "rework_count",
    "rework_rate",
    "applications",
    "first_time_right",
    "sla_deadlines",
    "sla_breached",
    "sla_breach_rate",
]


def _first_in_period(f: Filters, *, rework: bool = False) -> Q:
    """Visits that count their application once per stage in the period: those whose previous
    visit of the stage (or previous rework visit of it) ended before the period began."""
    field = "previous_rework_left_at" if rework else "previous_left_at"
    q = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": f.start})
    return Q(q, is_rework=True) if rework else q


@collector_paused()
def analytics_stages(*, user, f: Filters) -> dict:
    """Per stage: count, mean, standard deviation, median and p90 of the time spent (business
    and calendar hours), rework rate, first-time-right rate (share of applications that
    passed the stage without rework) and SLA breach rate. Medians and p90s are within 2.2%
    (stats.Histogram)."""
    rows = _grouped(
        _visits(user=user, f=f),
        ["stage", "business_bucket", "calendar_bucket"],
        {
            **_moments("business_seconds", "b"),
            **_moments("calendar_seconds", "c"),
            "rework": _count_where(Q(is_rework=True)),
            "apps": _count_where(_first_in_period(f)),
            "apps_rework": _count_where(_first_in_period(f, rework=True)),
        },
    )
    by_stage: dict[str, dict] = {}
    for row in rows:
        stage = by_stage.setdefault(
            row["stage"],
            {
                "b": stats.Histogram(),
                "c": stats.Histogram(),
                "rework": 0,
                "apps": 0,
                "apps_rework": 0,
            },
        )
        _add(stage["b"], row["business_bucket"], row, "b")
        _add(stage["c"], row["calendar_bucket"], row, "c")
        for key in ("rework", "apps", "apps_rework"):
            stage[key] += row[key]
    sla = _sla_by_stage(user=user, f=f)
    out = []
    for name in sorted(by_stage, key=_stage_key):
        row = by_stage[name]
        b, c = row["b"], row["c"]
        deadlines, breached = sla.get(name, (0, 0))
        out.append(
            {
                "stage": name,
                "label": _stage_label(name),
                "count": b.n,
                "business_mean_h": _h(b.mean),
                "business_sd_h": _h(b.sd),
                "business_median_h": _h(b.percentile(0.5)),
                "business_p90_h": _h(b.percentile(0.9)),
                "calendar_mean_h": _h(c.mean),
                "calendar_sd_h": _h(c.sd),
                "calendar_median_h": _h(c.percentile(0.5)),
                "calendar_p90_h": _h(c.percentile(0.9)),
                "rework_count": row["rework"],
                "rework_rate": _rate(row["rework"], b.n),
                "applications": row["apps"],
                "first_time_right": _rate(row["apps"] - row["apps_rework"], row["apps"]),
                "sla_deadlines": deadlines,
                "sla_breached": breached,
                "sla_breach_rate": _rate(breached, deadlines),
            }
        )
    return _figure(
        "stages", f, STAGE_COLUMNS, out, percentile_max_error=round(stats.PERCENTILE_MAX_ERROR, 4)
    )


# --- SLA ------------------------------------------------------------------------------------

# Which stage each SLA step times (the approval tiers all run while the application is in
# approval; the contract clock runs from approval to the signed contract).
SLA_STEP_STAGE = {
    "intake_check": Status.SUBMITTED,
    "investigation": Status.INVESTIGATION,
    "credit_review": Status.IN_APPROVAL,
    "tier1": Status.IN_APPROVAL,
    "tier2": Status.IN_APPROVAL,
    "committee": Status.IN_APPROVAL,
    "contract": Status.APPROVED,
    "disbursement": Status.CONTRACT_SIGNED,
}


def _sla_by_stage(*, user, f: Filters) -> dict[str, tuple[int, int]]:
    return _sla_by_stage_periods(user=user, periods=[f])[0]


def _sla_by_stage_periods(*, user, periods: Sequence[Filters]) -> list[dict[str, tuple[int, int]]]:
    """Per period, {stage: (deadlines stopped in the period, breached)} (SLA_STEP_STAGE)."""
    out = []
    for by_step in _sla_by_step_periods(user=user, periods=periods):
        by_stage: dict[str, tuple[int, int]] = {}
        for step, (n, breached) in by_step.items():
            stage = SLA_STEP_STAGE.get(step, step)
            previous = by_stage.get(stage, (0, 0))
            by_stage[stage] = (previous[0] + n, previous[1] + breached)
        out.append(by_stage)
    return out


def _sla_by_step(*, user, f: Filters) -> dict[str, tuple[int, int]]:
    """{step: (deadlines stopped in the period, stopped after they were due)}."""
    return _sla_by_step_periods(user=user, periods=[f])[0]


def _sla_by_step_periods(*, user, periods: Sequence[Filters]) -> list[dict[str, tuple[int, int]]]:
    """_sla_by_step in each period, in one statement."""
    per_period = _grouped_periods(
        _deadlines(user=user, f=periods[0], periods=periods),
        ["step"],
        {"n": Count("id"), "breached": Count("id", filter=BREACHED)},
        "stopped_at",
        periods,
        present=Count("id"),
    )
    return [{row["step"]: (row["n"], row["breached"]) for row in rows} for rows in per_period]


# A deadline stopped after it was due.
BREACHED = Q(stopped_at__gt=F("due_at"))


def _deadlines(*, user, f: Filters, periods: Sequence[Filters] = ()) -> QuerySet[Deadline]:
    """The SLA deadlines of applications (not those of complaints, which name none) stopped
    in the period (or in any of `periods`)."""
    return f.narrow(
        Deadline.objects.filter(
            _in_periods("stopped_at", periods or [f]), application__isnull=False
        ),
        user=user,
        branch_field="application__branch",
        app_prefix="application__",
    )


def analytics_sla(*, user, f: Filters) -> dict:
    """SLA deadlines stopped in the period by step, and the share stopped after they were due."""
    rows = [
        {"step": step, "deadlines": n, "breached": b, "breach_rate": _rate(b, n)}
        for step, (n, b) in sorted(_sla_by_step(user=user, f=f).items())
    ]
    return _figure("sla", f, ["step", "deadlines", "breached", "breach_rate"], rows)


STEP_COLUMNS = ["step", "count", "mean_h", "sd_h", "median_h", "p90_h", "breached", "breach_rate"]


def analytics_approval_steps(*, user, f: Filters) -> dict:
    """Approval steps decided in the period (the approvals app's tasks): count and calendar
    time from the task's creation to its decision, and the share decided after it was due."""
    qs = f.narrow(
        ApprovalTask.objects.filter(decided_at__gte=f.start, decided_at__lt=f.end),
        user=user,
        branch_field="branch",
        app_prefix="application__",
    )
    spent = Seconds(F("decided_at"), F("created_at"))
    rows = list(
        qs.order_by()
        .values("step")
        .annotate(**_stats(spent, "s"), breached=Count("id", filter=Q(decided_at__gt=F("due_at"))))
    )
    out = [
        {
            "step": r["step"],
            "count": r["s_n"],
            "mean_h": _h(r["s_mean"]),
            "sd_h": _h(r["s_sd"]),
            "median_h": _h(r["s_median"]),
            "p90_h": _h(r["s_p90"]),
            "breached": r["breached"],
            "breach_rate": _rate(r["breached"], r["s_n"]),
        }
        for r in sorted(rows, key=lambda r: r["step"])
    ]
    return _figure("steps", f, STEP_COLUMNS, out)


# --- End to end and funnel ------------------------------------------------------------------

E2E_COLUMNS = ["measure", "count", "mean_h", "sd_h", "median_h", "p90_h"]


def analytics_end_to_end(*, user, f: Filters) -> dict:
    """Calendar time from submission to decision and to disbursement, for the applications
    submitted in the period."""
    return analytics_end_to_end_periods(user=user, periods=[f])[0]


def analytics_end_to_end_periods(*, user, periods: Sequence[Filters]) -> list[dict]:
    """analytics_end_to_end in each period (their other filters f's), a statement each."""
    return cohort_figures_periods(user=user, names=["end-to-end"], periods=periods)["end-to-end"]


def _end_to_end_aggregates() -> dict[str, Aggregate]:
    decision = Seconds(F("decided_at"), F("submitted_at"))
    disbursement = Seconds(F("disbursed_at"), F("submitted_at"))
    return {
        **_stats(decision, "decision", filter=Q(decided_at__isnull=False)),
        **_stats(disbursement, "disbursement", filter=Q(disbursed_at__isnull=False)),
    }


def _end_to_end(f: Filters, agg: dict) -> dict:
    out = []
    for measure in ("decision", "disbursement"):
        out.append(
            {
                "measure": measure,
                "count": agg[f"{measure}_n"],
                "mean_h": _h(agg[f"{measure}_mean"]),
                "sd_h": _h(agg[f"{measure}_sd"]),
                "median_h": _h(agg[f"{measure}_median"]),
                "p90_h": _h(agg[f"{measure}_p90"]),
            }
        )
    return _figure("end_to_end", f, E2E_COLUMNS, out)


def _fast_track_q() -> Q:
    """Approved by the system itself: an approve transition without an actor. As an IN list
    (the audit_system_approve index, read once and hashed) rather than a probe per
    application."""
    return Q(
        pk__in=AuditEvent.objects.filter(
            kind=AuditEvent.Kind.TRANSITION,
            action="approve",
            actor__isnull=True,
        ).values("application_id")
    )


def analytics_funnel(*, user, f: Filters) -> dict:
    """Applications submitted in the period: how many were approved, contracted and disbursed,
    the conversion at each step, the approval rate (approved / decided) and the fast-track
    share (approved by the system itself / approved)."""
    return analytics_funnel_periods(user=user, periods=[f])[0]


def analytics_funnel_periods(*, user, periods: Sequence[Filters]) -> list[dict]:
    """analytics_funnel in each period (their other filters f's), a statement each."""
    return cohort_figures_periods(user=user, names=["funnel"], periods=periods)["funnel"]


def _funnel_aggregates() -> dict[str, Aggregate]:
    return {
        "submitted": Count("id"),
        "approved": Count("id", filter=Q(status__in=APPROVED_OR_LATER)),
        "contracted": Count("id", filter=Q(status__in=CONTRACTED_OR_LATER)),
        "disbursed": Count("id", filter=Q(status__in=DISBURSED_OR_LATER)),
        "declined": Count("id", filter=Q(status=Status.DECLINED)),
        "withdrawn": Count("id", filter=Q(status=Status.WITHDRAWN)),
        "fast_track": Count("id", filter=Q(_fast_track_q(), status__in=APPROVED_OR_LATER)),
        "online": Count("id", filter=Q(channel=LoanApplication.Channel.ONLINE)),
        "disbursed_amount": Sum("amount", filter=Q(status__in=DISBURSED_OR_LATER)),
    }


def _funnel(f: Filters, agg: dict) -> dict:
    steps = [
        ("submitted", _("Submitted")),
        ("approved", _("Approved")),
        ("contracted", _("Contract signed")),
        ("disbursed", _("Disbursed")),
    ]
    rows, previous = [], None
    for key, label in steps:
        count = agg[key]
        rows.append(
            {
                "step": key,
                "label": str(label),
                "count": count,
                "conversion": _rate(count, previous) if previous is not None else None,
                "conversion_from_submitted": _rate(count, agg["submitted"]),
            }
        )
        previous = count
    decided = agg["approved"] + agg["declined"]
    summary = {
        "submitted": agg["submitted"],
        "approved": agg["approved"],
        "declined": agg["declined"],
        "withdrawn": agg["withdrawn"],
        "in_progress": agg["submitted"] - decided - agg["withdrawn"],
        "approval_rate": _rate(agg["approved"], decided),
        "fast_track": agg["fast_track"],
        "fast_track_share": _rate(agg["fast_track"], agg["approved"]),
        "online_share": _rate(agg["online"], agg["submitted"]),
        "disbursed_amount": str(agg["disbursed_amount"] or Decimal("0.00")),
    }
    return _figure(
        "funnel",
        f,
        ["step", "label", "count", "conversion", "conversion_from_submitted"],
        rows,
        summary=summary,
    )


def _external_data_aggregates() -> dict[str, Aggregate]:
    """The decided applications of the cohort, and those decided with an answer from an
    external source (datasources.SourceQuery arrived before the decision)."""
    answered = SourceQuery.objects.filter(
        application=OuterRef("pk"),
        status=SourceQuery.Status.ARRIVED,
        answered_at__lte=OuterRef("decided_at"),
    )
    decided = Q(decided_at__isnull=False)
    return {
        "decided": Count("id", filter=decided),
        "on_data": Count("id", filter=decided & Q(Exists(answered))),
    }


@dataclass(frozen=True)
class CohortFigure:
    """A figure over the cohort of the period (the applications submitted in it): its
    aggregates over the cohort's rows, and the figure built from their values."""

    aggregates: Callable[[], dict[str, Aggregate]]
    build: Callable[[Filters, dict], object]


# The cohort's figures. Read together (cohort_figures_periods), any number of them cost one
# scan of the period's applications: the scorecard reads them so.
COHORT_FIGURES = {
    "funnel": CohortFigure(_funnel_aggregates, _funnel),
    "end-to-end": CohortFigure(_end_to_end_aggregates, _end_to_end),
    "external-data": CohortFigure(_external_data_aggregates, lambda f, agg: agg),
}


def cohort_figures_periods(
    *, user, names: Sequence[str], periods: Sequence[Filters]
) -> dict[str, list]:
    """The cohort figures `names` (COHORT_FIGURES) in each period (their other filters the
    first period's), in one statement per period: {name: [the figure in each period]}."""
    aggregates = {
        f"c{i}_{key}": aggregate
        for i, name in enumerate(names)
        for key, aggregate in COHORT_FIGURES[name].aggregates().items()
    }
    # A statement per period: each reads only its period's rows and computes each aggregate
    # once per row. One statement for both with a FILTER per period computes each aggregate
    # twice per row, which costs more than the second range scan saves (docs/performance.md).
    first = periods[0]
    rows = [
        _applications(
            user=user, f=replace(first, date_from=p.date_from, date_to=p.date_to)
        ).aggregate(**aggregates)
        for p in periods
    ]
    return {
        name: [
            COHORT_FIGURES[name].build(
                f,
                {
                    key.removeprefix(f"c{i}_"): v
                    for key, v in row.items()
                    if key.startswith(f"c{i}_")
                },
            )
            for f, row in zip(periods, rows, strict=True)
        ]
        for i, name in enumerate(names)
    }


def cohort_figures_prefetch(*, user, f: Filters, computed: MutableMapping) -> None:
    """The cohort figures not yet in `computed`, computed together for f's period and the
    reading's other periods (computed[OTHER_PERIODS]), one statement per period, and kept in
    each period's figures."""
    names = [name for name in COHORT_FIGURES if name not in computed]
    if not names:
        return
    readings = [(f, computed), *computed.get(OTHER_PERIODS, ())]
    results = cohort_figures_periods(user=user, names=names, periods=[p for p, _c in readings])
    for name in names:
        for (_p, figures), result in zip(readings, results[name], strict=True):
            figures.setdefault(name, result)


def analytics_decline_reasons(*, user, f: Filters) -> dict:
    """Declined applications of the period by decline reason (LoanApplication.decline_reasons;
    one application may give several)."""
    qs = _applications(user=user, f=f).filter(status=Status.DECLINED).order_by()
    counted = (
        qs.annotate(kind=Func("decline_reasons", function="jsonb_typeof", output_field=CharField()))
        .filter(kind="array")
        .annotate(
            reason=Func(
                "decline_reasons", function="jsonb_array_elements_text", output_field=CharField()
            )
        )
        .values("reason")
        .annotate(n=Count("*"))
        .order_by("-n", "reason")
        .values_list("reason", "n")
    )
    declined = qs.count()
    counted = list(counted)
    labels = decline_reason_labels([reason for reason, _n in counted])
    rows = [
        {
            "reason": str(reason),
            "label": labels[str(reason)],
            "count": n,
            "share": _rate(n, declined),
        }
        for reason, n in counted
    ]
    return _figure("decline_reasons", f, ["reason", "count", "share"], rows, declined=declined)


# --- People ---------------------------------------------------------------------------------


@collector_paused()
def analytics_staff(*, user, f: Filters) -> dict:
    """Per staff member and stage: stages completed in the period (workload) and the time
    they took (the median within 2.2%, stats.Histogram)."""
    rows = _grouped(
        _visits(user=user, f=f).filter(actor__isnull=False),
        ["actor", "stage", "business_bucket"],
        {
            **_moments("business_seconds", "b", squares=False),
            "c_n": Count("calendar_seconds", output_field=_as_returned()),
            "c_sum": Sum("calendar_seconds", output_field=_as_returned()),
            "rework": _count_where(Q(is_rework=True)),
        },
    )
    by_person: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for row in rows:
        by_person[row["actor"], row["stage"]].append(row)
    groups = {}
    for key, buckets in by_person.items():
        business = stats.Histogram()
        business.extend(
            (r["business_bucket"], r["b_n"], r["b_sum"], 0, r["b_min"], r["b_max"]) for r in buckets
        )
        groups[key] = {
            "b": business,
            "c_n": sum(r["c_n"] for r in buckets),
            "c_sum": sum(int(r["c_sum"] or 0) for r in buckets),
            "rework": sum(r["rework"] for r in buckets),
        }
    people = {
        pk: (username, f"{first} {last}".strip() or username)
        for pk, username, first, last in get_user_model()
        .objects.filter(pk__in={actor for actor, _stage in groups})
        .values_list("pk", "username", "first_name", "last_name")
    }
    out = []
    for actor, stage in sorted(
        groups, key=lambda k: (people.get(k[0], ("", ""))[0], _stage_key(k[1]))
    ):
        group = groups[(actor, stage)]
        username, name = people.get(actor, ("", ""))
        b = group["b"]
        out.append(
            {
                "staff_id": actor,
                "username": username,
                "name": name,
                "stage": stage,
                "label": _stage_label(stage),
                "count": b.n,
                "business_mean_h": _h(b.mean),
                "business_median_h": _h(b.percentile(0.5)),
                "calendar_mean_h": _h(group["c_sum"] / group["c_n"] if group["c_n"] else None),
                "rework_count": group["rework"],
            }
        )
    return _figure(
        "staff",
        f,
        [
            "staff_id",
            "username",
            "name",
            "stage",
            "label",
            "count",
            "business_mean_h",
            "business_median_h",
            "calendar_mean_h",
            "rework_count",
        ],
        out,
        percentile_max_error=round(stats.PERCENTILE_MAX_ERROR, 4),
    )


def analytics_branches(*, user, f: Filters) -> dict:
    """Per branch and stage: stages completed in the period, their mean time, and what is in
    the stage now (open workload)."""
    done = list(
        _visits(user=user, f=f)
        .order_by()
        .values("branch", "stage")
        .annotate(
            n=Count("*"),
            b_mean=Avg("business_seconds", output_field=FloatField()),
            c_mean=Avg("calendar_seconds", output_field=FloatField()),
        )
    )
    open_now = {
        (r["branch"], r["stage"]): r["n"]
        for r in _visits(user=user, f=f, completed=False)
        .order_by()
        .values("branch", "stage")
        .annotate(n=Count("*"))
    }
    keys = {(r["branch"], r["stage"]) for r in done} | set(open_now)
    names = dict(Branch.objects.filter(pk__in={b for b, _s in keys}).values_list("pk", "name"))
    by_key = {(r["branch"], r["stage"]): r for r in done}
    out = []
    for branch_id, stage in sorted(keys, key=lambda k: (names.get(k[0], ""), _stage_key(k[1]))):
        row = by_key.get((branch_id, stage), {})
        out.append(
            {
                "branch_id": branch_id,
                "branch": names.get(branch_id, ""),
                "stage": stage,
                "label": _stage_label(stage),
                "completed": row.get("n", 0),
                "business_mean_h": _h(row.get("b_mean")),
                "calendar_mean_h": _h(row.get("c_mean")),
                "open_now": open_now.get((branch_id, stage), 0),
            }
        )
    return _figure(
        "branches",
        f,
        [
            "branch_id",
            "branch",
            "stage",
            "label",
            "completed",
            "business_mean_h",
            "calendar_mean_h",
            "open_now",
        ],
        out,
    )


# --- Portfolio ------------------------------------------------------------------------------


def analytics_portfolio(*, user, f: Filters) -> dict:
    """Disbursed loans now: count and balance by five-category class, NPL ratio (balance of
    substandard, doubtful and loss over the total), overdue post-loan tasks and open warnings
    (analytics.portfolio)."""
    return portfolio.portfolio_figure(user=user, f=f)


def analytics_vintages(*, user, f: Filters) -> dict:
    """Vintage curves: per quarter of disbursement and month on book, the share of the
    disbursed amount outstanding 30+ and 90+ days past due at the month end
    (analytics.vintages)."""
    return vintages.vintage_figure(user=user, f=f)


# --- Before and after -----------------------------------------------------------------------

BEFORE_AFTER_COLUMNS = [
    "stage",
    "label",
    "before_n",
    "before_mean_h",
    "before_var_h2",
    "before_median_h",
    "before_p90_h",
    "after_n",
    "after_mean_h",
    "after_var_h2",
    "after_median_h",
    "after_p90_h",
    "mean_change_h",
    "mean_change_pct",
    "variance_change_pct",
    "median_change_h",
    "welch_t",
    "welch_df",
    "welch_p",
    "means_differ",
    "levene_w",
    "levene_p",
    "variances_differ",
]
PERIODS = ("before", "after")


def analytics_before_after(
    *, user, f: Filters, before: tuple[date, date], after: tuple[date, date]
) -> dict:
    """Per stage, the count, mean, variance, median and 90th percentile of the time spent in two
    periods, the change, Welch's t-test for the means and Levene's test for the variances
    (Brown-Forsythe variant: deviations from each group's median, scipy.stats.levene's
    default), significant at alpha 0.05. Every figure is exact, computed by the database from
    the periods' durations (percentile_cont; Levene's deviations from the exact medians), with
    the p-values from scipy.stats: the same numbers as scipy.stats.ttest_ind(equal_var=False)
    and scipy.stats.levene on the durations. Two queries: the medians, then the deviations from
    them."""

    def bounds(period):
        start = timezone.make_aware(datetime.combine(period[0], time.min))
        end = timezone.make_aware(datetime.combine(period[1] + timedelta(days=1), time.min))
        return start, end

    b0, b1 = bounds(before)
    a0, a1 = bounds(after)
    column = "business_seconds" if f.basis == "business" else "calendar_seconds"
    wide = replace(f, date_from=min(before[0], after[0]), date_to=max(before[1], after[1]))
    in_period = {
        "before": Q(left_at__gte=b0, left_at__lt=b1),
        "after": Q(left_at__gte=a0, left_at__lt=a1),
    }
    visits = (
        _visits(user=user, f=wide)
        .filter(in_period["before"] | in_period["after"], **{f"{column}__isnull": False})
        .order_by()
        .values("stage")
    )
    # The percentiles sort each period's durations of a stage (once for both: PostgreSQL
    # shares the state of ordered-set aggregates over the same input); everything else is
    # summed in a second pass that needs no sort, once the medians that centre Levene's
    # deviations are known.
    percentiles = {}
    for grp, q in in_period.items():
        percentiles[f"{grp}_median"] = PercentileCont(column, 0.5, filter=q)
        percentiles[f"{grp}_p90"] = PercentileCont(column, 0.9, filter=q)
    groups = {row["stage"]: row for row in visits.annotate(**percentiles)}
    moments = {}
    for grp, q in in_period.items():
        medians = [
            When(stage=stage, then=Value(row[f"{grp}_median"]))
            for stage, row in groups.items()
            if row[f"{grp}_median"] is not None
        ]
        moments.update(
            {
                f"{grp}_n": Count(column, filter=q),
                f"{grp}_mean": Avg(column, filter=q, output_field=FloatField()),
                # float8, here and below: var_samp over bigint and arithmetic with the medians
                # as numeric literals take numeric arithmetic, several times slower.
                f"{grp}_var": Variance(Cast(column, FloatField()), sample=True, filter=q),
            }
        )
        if medians:
            z = Abs(F(column) - Cast(Case(*medians), FloatField()))
            moments[f"{grp}_zmean"] = Avg(z, filter=q)
            moments[f"{grp}_zvar"] = Variance(z, sample=True, filter=q)
    if groups:
        for row in visits.annotate(**moments):
            groups[row["stage"]].update(row)
    out = []
    for stage in sorted(groups, key=_stage_key):
        g = groups[stage]
        row = {"stage": stage, "label": _stage_label(stage)}
        for grp in PERIODS:
            n = g[f"{grp}_n"]
            row.update(
                {
                    f"{grp}_n": n,
                    f"{grp}_mean_h": _r(_hours(g[f"{grp}_mean"])) if n else None,
                    f"{grp}_var_h2": _r(_hours2(g[f"{grp}_var"])) if n else None,
                    f"{grp}_median_h": _hours(g[f"{grp}_median"]) if n else None,
                    f"{grp}_p90_h": _hours(g[f"{grp}_p90"]) if n else None,
                }
            )
        row.update(
            {
                "mean_change_h": None,
                "mean_change_pct": None,
                "variance_change_pct": None,
                "median_change_h": None,
                "welch_t": None,
                "welch_df": None,
                "welch_p": None,
                "means_differ": None,
                "levene_w": None,
                "levene_p": None,
                "variances_differ": None,
            }
        )
        if g["before_n"] and g["after_n"]:
            # Hours: the tests' statistics and p-values do not depend on the unit.
            b_mean, a_mean = _hours(g["before_mean"]), _hours(g["after_mean"])
            b_var, a_var = _hours2(g["before_var"]), _hours2(g["after_var"])
            row["mean_change_h"] = _r(a_mean - b_mean)
            row["mean_change_pct"] = _r((a_mean - b_mean) / b_mean * 100) if b_mean else None
            if a_var is not None and b_var:
                row["variance_change_pct"] = _r((a_var - b_var) / b_var * 100)
            row["median_change_h"] = row["after_median_h"] - row["before_median_h"]
            welch = stats.welch_t(
                g["before_n"], b_mean, b_var or 0.0, g["after_n"], a_mean, a_var or 0.0
            )
            lev = stats.levene(
                [(g[f"{grp}_n"], g[f"{grp}_zmean"], g[f"{grp}_zvar"] or 0.0) for grp in PERIODS]
            )
            row.update(
                {
                    "welch_t": welch.statistic,
                    "welch_df": welch.df,
                    "welch_p": welch.p_value,
                    "means_differ": welch.significant,
                    "levene_w": lev.statistic,
                    "levene_p": lev.p_value,
                    "variances_differ": lev.significant,
                }
            )
        out.append(row)
    periods = {
        "before": [before[0].isoformat(), before[1].isoformat()],
        "after": [after[0].isoformat(), after[1].isoformat()],
        "alpha": stats.ALPHA,
        "levene_center": "median",
    }
    return _figure("before_after", f, BEFORE_AFTER_COLUMNS, out, periods=periods)


def _hours(seconds) -> float | None:
    return None if seconds is None else float(seconds) / HOUR


def _hours2(seconds2) -> float | None:
    return None if seconds2 is None else float(seconds2) / HOUR**2


def _r(value, digits: int = 4):
    return None if value is None else round(float(value), digits)


# --- Control chart --------------------------------------------------------------------------


def analytics_control_chart(*, user, f: Filters, stage: str) -> dict:
    """Individuals chart of the weekly mean time in `stage`: centre line, 3-sigma limits from
    the mean moving range (sigma = MR-bar / 1.128), points outside the limits marked."""
    if stage not in MEASURED_STAGES:
        raise InvalidInput(details={"stage": [_("Choose a measured stage.")]})
    column, bucket = (
        ("business_seconds", "business_bucket")
        if f.basis == "business"
        else ("calendar_seconds", "calendar_bucket")
    )
    weekly = list(
        _visits(user=user, f=f)
        .filter(stage=stage)
        .annotate(week=TruncWeek("left_at"))
        .order_by()
        .values("week")
        .annotate(n=Count("*"), mean=Avg(column, output_field=FloatField()))
        .order_by("week")
    )
    points = [(row["week"], row["n"], (row["mean"] or 0.0) / HOUR) for row in weekly]
    limits = stats.individuals_limits([p[2] for p in points])
    rows = []
    for week, n, mean in points:
        outside = limits["ucl"] is not None and (mean > limits["ucl"] or mean < limits["lcl"])
        rows.append(
            {
                "week": week.date().isoformat() if isinstance(week, datetime) else str(week),
                "count": n,
                "mean_h": _r(mean),
                "centre_h": _r(limits["centre"]),
                "ucl_h": _r(limits["ucl"]),
                "lcl_h": _r(limits["lcl"]),
                "outside": outside,
            }
        )
    return _figure(
        "control_chart",
        f,
        ["week", "count", "mean_h", "centre_h", "ucl_h", "lcl_h", "outside"],
        rows,
        stage=stage,
        stage_label=str(_stage_label(stage)),
        limits={k: _r(v) for k, v in limits.items()},
    )


# --- Customer satisfaction -----------------------------------------------------------------

# When each survey is offered: the application's decision, its disbursement.
SURVEY_REACHED = {SurveyStage.DECISION: "decided_at", SurveyStage.DISBURSEMENT: "disbursed_at"}


def _survey_offered(
    *, user, f: Filters, stage: str, periods: Sequence[Filters] = ()
) -> QuerySet[LoanApplication]:
    """The applications whose survey of `stage` was offered in the period (or in any of
    `periods`): the stage was reached in it, and someone acts for the company on the portal
    to answer it (an active binding; a branch customer nobody acts for was never asked)."""
    reached = SURVEY_REACHED[stage]
    return f.narrow(
        LoanApplication.objects.filter(
            Exists(
                CompanyBinding.objects.filter(
                    company_id=OuterRef("company_id"), status=CompanyBinding.Status.ACTIVE
                )
            ),
            _in_periods(reached, periods or [f]),
        ),
        user=user,
        branch_field="branch",
        app_prefix="",
    )


def analytics_satisfaction(*, user, f: Filters) -> dict:
    """The satisfaction survey, per branch, product and stage: surveys offered in the period
    (the stage reached then), answers to them (whenever given), the response rate (answers
    over offered) and the average score (1 to 5); `summary` holds the same over all."""
    return analytics_satisfaction_periods(user=user, periods=[f])[0]


def analytics_satisfaction_periods(*, user, periods: Sequence[Filters]) -> list[dict]:
    """analytics_satisfaction in each period (their other filters f's): one statement per
    survey stage."""
    grouped: list[list[dict]] = [[] for _period in periods]
    for stage in SurveyStage.values:
        per_period = _grouped_periods(
            _survey_offered(user=user, f=periods[0], stage=stage, periods=periods).annotate(
                answer=FilteredRelation("survey_answers", condition=Q(survey_answers__stage=stage))
            ),
            ["branch", "product"],
            {
                "offered": Count("id"),
                "answered": Count("answer__id"),
                "score_sum": Sum("answer__score"),
            },
            SURVEY_REACHED[stage],
            periods,
            present=Count("id"),
        )
        for rows, into in zip(per_period, grouped, strict=True):
            into += [{**row, "stage": stage} for row in rows]
    return [_satisfaction(f, rows) for f, rows in zip(periods, grouped, strict=True)]


def _satisfaction(f: Filters, grouped: list[dict]) -> dict:
    branches = dict(
        Branch.objects.filter(pk__in={r["branch"] for r in grouped}).values_list("pk", "name")
    )
    products = dict(
        Product.objects.filter(pk__in={r["product"] for r in grouped}).values_list("pk", "code")
    )
    labels = dict(SurveyStage.choices)
    stage_order = list(SurveyStage.values)
    grouped.sort(
        key=lambda r: (
            branches.get(r["branch"], ""),
            products.get(r["product"], ""),
            stage_order.index(r["stage"]),
        )
    )
    out = [
        {
            "branch_id": r["branch"],
            "branch": branches.get(r["branch"], ""),
            "product_id": r["product"],
            "product": products.get(r["product"], ""),
            "stage": r["stage"],
            "label": str(labels[r["stage"]]),
            "offered": r["offered"],
            "answered": r["answered"],
            "response_rate": _rate(r["answered"], r["offered"]),
            "average_score": _average(r["score_sum"], r["answered"]),
        }
        for r in grouped
    ]
    offered = sum(r["offered"] for r in grouped)
    answered = sum(r["answered"] for r in grouped)
    score_sum = sum(r["score_sum"] or 0 for r in grouped)
    return _figure(
        "satisfaction",
        f,
        [
            "branch_id",
            "branch",
            "product_id",
            "product",
            "stage",
            "label",
            "offered",
            "answered",
            "response_rate",
            "average_score",
        ],
        out,
        summary={
            "offered": offered,
            "answered": answered,
            "response_rate": _rate(answered, offered),
            "average_score": _average(score_sum, answered),
        },
    )


def _average(total, count) -> float | None:
    return round(total / count, 2) if count else None


# --- Balanced scorecard ---------------------------------------------------------------------


def analytics_scorecard_values(
    *, user, f: Filters, computed: MutableMapping[str, dict] | None = None
) -> dict[str, float | None]:
    """The scorecard's figures in the period. `computed` holds figures already computed for
    the same user and filters (the dashboard's), by name, so they are not computed twice."""
    computed = {} if computed is None else computed

    def get(name: str) -> dict:
        return figure_for_period(name, user=user, f=f, computed=computed)

    per_stage = _stage_totals(user=user, f=f, computed=computed)
    by_actor = visits_by_stage_and_actor(user=user, f=f, computed=computed)
    funnel_figure = get("funnel")
    funnel = funnel_figure["summary"]
    disbursed = next(r["count"] for r in funnel_figure["rows"] if r["step"] == "disbursed")
    e2e = {r["measure"]: r for r in get("end-to-end")["rows"]}
    portfolio = get("portfolio")["summary"]
    satisfaction = get("satisfaction")["summary"]
    visits, rework, deadlines, breached = [
        sum(column) for column in zip(*per_stage, strict=True)
    ] or [0] * 4
    # Each application once (visits_by_stage_and_actor: its first visit in the period, and
    # its first rework visit).
    apps = sum(row["apps"] for row in by_actor)
    rework_apps = sum(row["rework_apps"] for row in by_actor)
    staff = len({row["actor"] for row in by_actor if row["actor"] is not None})
    return {
        "portfolio_balance": _num(portfolio["balance"]),
        "npl_ratio": portfolio["npl_ratio"],
        "approval_rate": funnel["approval_rate"],
        "disbursed_amount": _num(funnel["disbursed_amount"]),
        "decision_hours_median": e2e["decision"]["median_h"],
        "disbursement_hours_median": e2e["disbursement"]["median_h"],
        "submitted_to_disbursed": _rate(disbursed, funnel["submitted"]),
        "sla_breach_rate": _rate(breached, deadlines),
        "first_time_right": _rate(apps - rework_apps, apps),
        "rework_rate": _rate(rework, visits),
        "fast_track_share": funnel["fast_track_share"],
        "online_share": funnel["online_share"],
        "decisions_per_staff": (round(visits / staff, 2) if staff else None),
        "overdue_tasks": portfolio["overdue_tasks"],
        "satisfaction_score": satisfaction["average_score"],
        "survey_response_rate": satisfaction["response_rate"],
    }


def figure_for_period(name: str, *, user, f: Filters, computed: MutableMapping) -> dict:
    """The figure `name` (FIGURES) in f's period, computed once in `computed`: a figure with a
    form over several periods (PERIOD_FIGURES) is computed in the same statements for the
    reading's other periods (shared_figure)."""
    if name in PERIOD_FIGURES:
        return shared_figure(
            name,
            f=f,
            computed=computed,
            compute=lambda periods: PERIOD_FIGURES[name](user=user, periods=periods),
        )
    if name not in computed:
        computed[name] = FIGURES[name](user=user, f=f)
    return computed[name]


def _stage_totals(*, user, f: Filters, computed: MutableMapping[str, dict]) -> list[tuple]:
    """Per stage with visits: (visits, rework visits, SLA deadlines, breached), as the
    stages figure counts them; from that figure when it was computed, otherwise from the
    visits by stage and actor (the scorecard on its own reads only these)."""
    if "stages" in computed:
        return [
            (r["count"], r["rework_count"], r["sla_deadlines"], r["sla_breached"])
            for r in computed["stages"]["rows"]
        ]
    sla = shared_figure(
        "_sla_by_stage",
        f=f,
        computed=computed,
        compute=lambda periods: _sla_by_stage_periods(user=user, periods=periods),
    )
    totals: dict[str, list[int]] = {}
    for row in visits_by_stage_and_actor(user=user, f=f, computed=computed):
        total = totals.setdefault(row["stage"], [0, 0])
        total[0] += row["n"]
        total[1] += row["rework"]
    return [(n, rework, *sla.get(stage, (0, 0))) for stage, (n, rework) in totals.items()]


def _first_of_application(f: Filters, *, rework: bool = False) -> Q:
    """Visits that count their application once in the period, whatever its stages: those
    whose application left no measured stage (for rework: by a rework visit) since the period
    began. Exact without COUNT(DISTINCT), which sorts every visit of the period."""
    field = "application_previous_rework_left_at" if rework else "application_previous_left_at"
    q = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": f.start})
    return Q(q, is_rework=True) if rework else q


def visits_by_stage_and_actor(*, user, f: Filters, computed: MutableMapping) -> list[dict]:
    """The stages completed in the period by stage and by who completed them (None: the
    system or the applicant): visits timed (n), rework visits, and the applications counted
    once over all the groups (apps: with a stage completed in the period; rework_apps: with a
    rework visit among them; _first_of_application). The scorecard's process, staff and
    stage figures all read this one grouping, computed once in `computed`."""
    return shared_figure(
        "_visits_by_actor",
        f=f,
        computed=computed,
        compute=lambda periods: [
            list(
                _visits(user=user, f=period)
                .order_by()
                .values("stage", "actor")
                .annotate(
                    n=Count("business_seconds"),
                    rework=_count_where(Q(is_rework=True)),
                    apps=_count_where(_first_of_application(period)),
                    rework_apps=_count_where(_first_of_application(period, rework=True)),
                )
            )
            for period in periods
        ],
    )


def _num(value) -> float | None:
    return None if value is None else float(Decimal(str(value)))


def analytics_scorecard(
    *, user, f: Filters, computed: Mapping[str, dict] | None = None, compare=None
) -> dict:
    """The balanced scorecard (analytics.scorecard): each active metric's value, target and
    score in the period and in the comparison period (`compare`, by default the period just
    before); `computed`: figures already computed for the same user and filters."""
    from analytics.scorecard import scorecard_figure  # scorecard reads the figures here

    return scorecard_figure(user=user, f=f, computed=computed, compare=compare)


def analytics_data_route(*, user, f: Filters) -> dict:
    """The data-driven fast track of the applications submitted in the period: its share of
    the decided ones and its outcomes (analytics.fasttrack)."""
    from analytics.fasttrack import data_route_figure

    return data_route_figure(user=user, f=f, applications=_applications(user=user, f=f))


# The figures with a form over several periods (one statement reads them all), by name.
PERIOD_FIGURES = {
    "end-to-end": analytics_end_to_end_periods,
    "funnel": analytics_funnel_periods,
    "external-data": lambda *, user, periods: cohort_figures_periods(
        user=user, names=["external-data"], periods=periods
    )["external-data"],
    "satisfaction": analytics_satisfaction_periods,
}
FIGURES = {
    "stages": analytics_stages,
    "sla": analytics_sla,
    "steps": analytics_approval_steps,
    "end-to-end": analytics_end_to_end,
    "funnel": analytics_funnel,
    "decline-reasons": analytics_decline_reasons,
    "staff": analytics_staff,
    "branches": analytics_branches,
    "portfolio": analytics_portfolio,
    "satisfaction": analytics_satisfaction,
    "scorecard": analytics_scorecard,
    "vintages": analytics_vintages,
    "data-route": analytics_data_route,
}
# Figures with inputs of their own: before-after (before_from/_to, after_from/_to) and
# control-chart (stage).
SPECIAL_FIGURES = ("before-after", "control-chart", "scorecard-drilldown")


def analytics_periods(*, params: Mapping) -> tuple[tuple[date, date], tuple[date, date]]:
    """The two periods of a before/after comparison (before_from, before_to, after_from,
    after_to; inclusive dates; forms.PeriodsForm)."""
    form = PeriodsForm(params)
    if not form.is_valid():
        raise InvalidInput(_("Give both periods."), details=form_errors(form))
    data = form.cleaned_data
    return ((data["before_from"], data["before_to"]), (data["after_from"], data["after_to"]))


def analytics_figure(*, user, name: str, params: Mapping) -> dict:
    """Any figure by name, with its filters parsed from `params` (the API and CSV export)."""
    analytics_user_check(user=user)
    f = analytics_filters(user=user, params=params)
    if name == "scorecard":
        from analytics.scorecard import scorecard_comparison

        return analytics_scorecard(user=user, f=f, compare=scorecard_comparison(params=params))
    if name == "scorecard-drilldown":
        from analytics.scorecard import scorecard_drill_down

        return scorecard_drill_down(user=user, f=f, params=params)
    if name in FIGURES:
        return FIGURES[name](user=user, f=f)
    if name == "control-chart":
        return analytics_control_chart(
            user=user, f=f, stage=str(params.get("stage") or Status.INVESTIGATION)
        )
    if name == "before-after":
        before, after = analytics_periods(params=params)
        return analytics_before_after(user=user, f=f, before=before, after=after)
    raise NotFound(_("There is no figure called '%(name)s'.") % {"name": name})


ALL_FIGURES = (*FIGURES, *SPECIAL_FIGURES)
