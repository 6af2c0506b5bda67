"""Before/after: every decision figure equals scipy.stats' on the same durations."""

import random
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from scipy import stats as sp

from analytics.models import StageVisit
from analytics.selectors import analytics_figure
from tests.analytics.conftest import at, make_visit

pytestmark = pytest.mark.django_db

BEFORE = {"before_from": "2026-11-01", "before_to": "2026-11-10"}
AFTER = {"after_from": "2026-11-11", "after_to": "2026-11-30"}
BUSINESS_DAY = 8 * 3600
EXACT = 1e-9


def business_durations(rng: random.Random, n: int, spread: float) -> list[int]:
    """Seconds as business time has them: six in ten are whole 8-hour days (ties), the rest
    spread out."""
    return [
        BUSINESS_DAY * rng.randint(1, 5)
        if rng.random() < 0.6
        else int(rng.lognormvariate(10.3, spread))
        for _ in range(n)
    ]


def record(app, stage: str, before: list[int], after: list[int]) -> None:
    visits = []
    for period, seconds in (("before", before), ("after", after)):
        for i, s in enumerate(seconds):
            day = 1 + i % 10 if period == "before" else 11 + i % 20
            left = at(day, 9 + i % 9)
            visits.append(
                StageVisit(
                    application=app,
                    stage=stage,
                    entered_at=left - timedelta(seconds=s),
                    left_at=left,
                    business_seconds=s,
                    calendar_seconds=s,
                    business_time_exact=True,
                    branch_id=app.branch_id,
                    product_id=app.product_id,
                    route=app.route_recommendation,
                )
            )
    StageVisit.objects.bulk_create(visits)


def assert_agrees_with_scipy(row: dict, before: list[int], after: list[int]) -> None:
    hours_before = np.array(before) / 3600
    hours_after = np.array(after) / 3600
    assert (row["before_n"], row["after_n"]) == (len(before), len(after))
    for period, hours in (("before", hours_before), ("after", hours_after)):
        # numpy's default interpolation is PostgreSQL's percentile_cont.
        assert row[f"{period}_median_h"] == pytest.approx(np.median(hours), rel=EXACT)
        assert row[f"{period}_p90_h"] == pytest.approx(np.percentile(hours, 90), rel=EXACT)
    welch = sp.ttest_ind(hours_before, hours_after, equal_var=False)
    assert row["welch_t"] == pytest.approx(welch.statistic, rel=EXACT)
    assert row["welch_df"] == pytest.approx(welch.df, rel=EXACT)
    assert row["welch_p"] == pytest.approx(welch.pvalue, rel=EXACT)
    assert row["means_differ"] == bool(welch.pvalue < 0.05)
    levene = sp.levene(hours_before, hours_after, center="median")
    assert row["levene_w"] == pytest.approx(levene.statistic, rel=EXACT)
    assert row["levene_p"] == pytest.approx(levene.pvalue, rel=EXACT)
    assert row["variances_differ"] == bool(levene.pvalue < 0.05)


def test_medians_percentiles_and_both_tests_equal_scipys_on_tied_business_days(
    make_app, staff, api
):
    rng = random.Random(20261205)
    app = make_app("investigation")
    samples = {
        "investigation": (business_durations(rng, 400, 0.6), business_durations(rng, 350, 0.4)),
        "in_approval": (business_durations(rng, 250, 0.8), business_durations(rng, 300, 0.8)),
    }
    for stage, (before, after) in samples.items():
        record(app, stage, before, after)
    response = api(staff["head"]).get(
        reverse("api-analytics-figure", args=["before-after"]),
        {**BEFORE, **AFTER, "basis": "business"},
    )
    assert response.status_code == 200
    rows = {r["stage"]: r for r in response.json()["rows"]}
    assert set(rows) == set(samples)
    for stage, (before, after) in samples.items():
        assert_agrees_with_scipy(rows[stage], before, after)
    assert "percentile_max_error" not in response.json()


def test_a_levene_decision_just_under_alpha_is_scipys(make_app, staff):
    # Built so that scipy's p is 0.0495: the variances differ, by a hair. The log-scale buckets
    # put the after period's median at 57,968.5 s instead of 57,600 (two whole days) and said
    # p = 0.0502: no difference.
    rng = random.Random(138)
    before = business_durations(rng, 300, 0.6)
    after = business_durations(rng, 260, 0.75)
    assert 0.049 < sp.levene(before, after).pvalue < 0.05
    record(make_app("investigation"), "investigation", before, after)
    result = analytics_figure(user=staff["head"], name="before-after", params={**BEFORE, **AFTER})
    (row,) = result["rows"]
    assert_agrees_with_scipy(row, before, after)
    assert row["variances_differ"] is True


def test_visits_outside_both_periods_are_left_out(make_app, staff):
    app = make_app("investigation")
    record(app, "investigation", [3600, 7200, 10800], [3600, 5400])
    make_visit(app, "investigation", 999, left=at(1) - timedelta(days=3))
    (row,) = analytics_figure(user=staff["head"], name="before-after", params={**BEFORE, **AFTER})[
        "rows"
    ]
    assert (row["before_n"], row["after_n"], row["before_median_h"]) == (3, 2, 2.0)


def test_before_after_needs_both_periods(staff, api):
    response = api(staff["head"]).get(
        reverse("api-analytics-figure", args=["before-after"]), BEFORE
    )
    assert response.status_code == 400
    assert set(response.data) >= {"after_from", "after_to"}


def test_a_stage_seen_in_one_period_only_has_no_test(make_app, staff):
    app = make_app("investigation")
    make_visit(app, "investigation", 3, left=at(3))
    make_visit(app, "investigation", 5, left=at(4))
    row = analytics_figure(user=staff["head"], name="before-after", params={**BEFORE, **AFTER})[
        "rows"
    ][0]
    assert (row["before_n"], row["after_n"], row["welch_p"], row["means_differ"]) == (
        2,
        0,
        None,
        None,
    )
    assert (row["before_median_h"], row["after_median_h"], row["levene_p"]) == (4.0, None, None)
