"""The scorecard reads its two periods together: each figure it reads per period is computed
for both in one statement (a FILTER per period), and must give what the figure gives for each
period alone. First-time-right counts distinct applications; the relationship managers'
results read the period's visits once; the cohort figures read the applications from their
covering index (analytics.selectors, "Periods"; docs/performance.md)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import rm, selectors
from analytics.models import StageVisit
from analytics.selectors import analytics_figure, analytics_filters, analytics_scorecard
from tests.analytics.conftest import PERIOD, at, make_visit
from tests.analytics.test_scorecard import _bank, every_metric

pytestmark = pytest.mark.django_db

NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def _values(result: dict, key: str = "value") -> dict:
    return {row["metric"]: row[key] for row in result["rows"]}


@pytest.mark.parametrize(
    "compare",
    [
        (date(2026, 10, 1), date(2026, 10, 31)),  # adjacent: one range of rows
        (date(2026, 10, 20), date(2026, 11, 10)),  # overlapping the period
        (date(2025, 11, 1), date(2025, 11, 30)),  # a year before: two ranges
    ],
)
def test_each_comparison_value_is_what_the_scorecard_gives_for_that_period_alone(
    branch, other_branch, product, staff, compare
):
    every_metric()
    _bank(branch, other_branch, product, staff, n=30)
    user = staff["head"]
    both = analytics_scorecard(
        user=user, f=analytics_filters(user=user, params=NOVEMBER), compare=compare
    )
    alone = analytics_scorecard(
        user=user,
        f=analytics_filters(
            user=user,
            params={"date_from": compare[0].isoformat(), "date_to": compare[1].isoformat()},
        ),
    )
    november = analytics_scorecard(user=user, f=analytics_filters(user=user, params=NOVEMBER))
    assert _values(both, "value_compare") == _values(alone)
    assert _values(both) == _values(november)


def test_first_time_right_counts_each_application_once_in_each_period(
    make_app, staff, other_branch
):
    from tests.analytics.conftest import make_metric

    make_metric("first_time_right")
    a, b, c = make_app(), make_app(), make_app()
    october = at(20) - timedelta(days=30)
    # A: reworked in October, then three stages in November without rework.
    make_visit(a, "investigation", 1, left=october, rework=True)
    for day, stage in ((3, "investigation"), (4, "in_approval"), (5, "approved")):
        make_visit(a, stage, 1, left=at(day))
    # B: two stages in November, one of them reworked; one in October.
    make_visit(b, "submitted", 1, left=october)
    make_visit(b, "investigation", 1, left=at(6), rework=True)
    make_visit(b, "investigation", 1, left=at(8))
    # C: one stage in November.
    make_visit(c, "investigation", 1, left=at(9))

    def independent(start: date, end: date) -> float:
        visits = [
            v for v in StageVisit.objects.all() if start <= v.left_at.astimezone().date() <= end
        ]
        apps = {v.application_id for v in visits}
        reworked = {v.application_id for v in visits if v.is_rework}
        return round((len(apps) - len(reworked)) / len(apps), 4)

    user = staff["risk"]
    result = analytics_scorecard(
        user=user,
        f=analytics_filters(user=user, params=NOVEMBER),
        compare=(date(2026, 10, 1), date(2026, 10, 31)),
    )
    row = result["rows"][0]
    assert row["value"] == independent(date(2026, 11, 1), date(2026, 11, 30)) == round(2 / 3, 4)
    assert row["value_compare"] == independent(date(2026, 10, 1), date(2026, 10, 31)) == 0.5


def test_the_scorecard_reads_its_cohort_figures_in_one_statement_per_period(
    branch, other_branch, product, staff
):
    from analytics.scorecard import METRIC_FIGURES
    from tests.analytics.conftest import make_metric

    # Every metric but the data-driven route's, whose figure (analytics.fasttrack, several
    # statements) is still computed per period.
    for order, key in enumerate(k for k in METRIC_FIGURES if not k.startswith("data_route")):
        make_metric(key, order=order)
    _bank(branch, other_branch, product, staff, n=12)
    with CaptureQueriesContext(connection) as captured:
        analytics_figure(user=staff["risk"], name="scorecard", params=PERIOD)
    cohort = [
        q["sql"]
        for q in captured.captured_queries
        if '"applications_loanapplication"."submitted_at" >=' in q["sql"]
    ]
    # The funnel, the end-to-end times and the external-data share: one statement per
    # period, each reading that period's applications only (no FILTER per period).
    assert len(cohort) == 2, cohort
    for sql in cohort:
        for aggregate in ('AS "c0_submitted"', 'AS "c1_decision_median"', 'AS "c2_on_data"'):
            assert aggregate in sql, aggregate
        assert '"datasources_sourcequery"' in sql and "p1_" not in sql


def test_the_rm_results_read_the_periods_visits_once(branch, other_branch, product, staff):
    _bank(branch, other_branch, product, staff, n=12)
    with CaptureQueriesContext(connection) as captured:
        rm.analytics_rm_results(user=staff["risk"], params=PERIOD)
    visits = [q for q in captured.captured_queries if '"analytics_stagevisit"' in q["sql"]]
    assert len(visits) == 1, visits


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_cohort_figures_read_the_applications_from_their_covering_index(make_app, staff):
    make_app("approved", decided_at=at(3))
    user = staff["risk"]
    f = analytics_filters(user=user, params=PERIOD)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be read whole
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    for call in (
        lambda: selectors.analytics_funnel(user=user, f=f),
        lambda: selectors.analytics_end_to_end(user=user, f=f),
    ):
        with CaptureQueriesContext(connection) as captured:
            call()
        sql = max((q["sql"] for q in captured.captured_queries), key=len)
        assert "Index Only Scan using app_submitted_cohort" in _plan(sql), _plan(sql)
