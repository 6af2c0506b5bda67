"""Before/after: the database's group statistics and our p-values agree with SciPy."""

import random

import pytest
from scipy import special
from scipy import stats as sp

from analytics import stats
from analytics.selectors import analytics_figure
from tests.analytics.conftest import at, make_visit

pytestmark = pytest.mark.django_db

BEFORE = {"before_from": "2026-11-01", "before_to": "2026-11-10"}
AFTER = {"after_from": "2026-11-11", "after_to": "2026-11-30"}


@pytest.fixture
def two_periods(make_app, staff):
    rng = random.Random(20261123)
    app = make_app("investigation")
    # A redesign: investigation got faster and more even; approval did not change much.
    samples = {
        ("investigation", "before"): [round(rng.lognormvariate(3.0, 0.6), 3) for _ in range(40)],
        ("investigation", "after"): [round(rng.lognormvariate(2.5, 0.3), 3) for _ in range(35)],
        ("in_approval", "before"): [round(rng.gauss(20, 4), 3) for _ in range(25)],
        ("in_approval", "after"): [round(rng.gauss(21, 4.5), 3) for _ in range(30)],
    }
    for (stage, period), hours in samples.items():
        for i, h in enumerate(hours):
            day = 2 + i % 8 if period == "before" else 12 + i % 18
            make_visit(app, stage, h, left=at(day, 9 + i % 8), actor=staff["rm"])
    # Outside both periods: must be ignored.
    make_visit(app, "investigation", 999, left=at(1) - __import__("datetime").timedelta(days=3))
    return samples


def test_before_after_agrees_with_scipy(two_periods, staff):
    result = analytics_figure(user=staff["head"], name="before-after",
                              params={**BEFORE, **AFTER, "basis": "business"})
    rows = {r["stage"]: r for r in result["rows"]}
    assert result["periods"]["levene_center"] == "median"
    for stage in ("investigation", "in_approval"):
        before = [int(h * 3600) / 3600 for h in two_periods[(stage, "before")]]
        after = [int(h * 3600) / 3600 for h in two_periods[(stage, "after")]]
        row = rows[stage]
        assert (row["before_n"], row["after_n"]) == (len(before), len(after))
        assert row["before_mean_h"] == pytest.approx(sum(before) / len(before), abs=1e-4)
        assert row["after_var_h2"] == pytest.approx(sp.tvar(after), rel=1e-4)
        welch = sp.ttest_ind(before, after, equal_var=False)
        assert row["welch_t"] == pytest.approx(welch.statistic, rel=1e-4)
        assert row["welch_p"] == pytest.approx(welch.pvalue, rel=1e-3, abs=1e-9)
        assert row["means_differ"] == bool(welch.pvalue < 0.05)
        levene = sp.levene(before, after)  # center="median": Brown-Forsythe
        assert row["levene_w"] == pytest.approx(levene.statistic, rel=1e-4)
        assert row["levene_p"] == pytest.approx(levene.pvalue, rel=1e-3, abs=1e-9)
        assert row["variances_differ"] == bool(levene.pvalue < 0.05)
    assert rows["investigation"]["means_differ"] is True
    assert rows["investigation"]["mean_change_h"] < 0


def test_before_after_needs_both_periods(staff, api):
    from django.urls import reverse

    response = api(staff["head"]).get(reverse("api-analytics-figure", args=["before-after"]),
                                      BEFORE)
    assert response.status_code == 400
    assert set(response.data) >= {"after_from", "after_to"}


def test_a_stage_seen_in_one_period_only_has_no_test(make_app, staff):
    app = make_app("investigation")
    make_visit(app, "investigation", 3, left=at(3))
    make_visit(app, "investigation", 5, left=at(4))
    row = analytics_figure(user=staff["head"], name="before-after",
                           params={**BEFORE, **AFTER})["rows"][0]
    assert (row["before_n"], row["after_n"], row["welch_p"], row["means_differ"]) == (
        2, 0, None, None)


@pytest.mark.parametrize("a,b,x", [(0.5, 0.5, 0.3), (2.0, 3.0, 0.7), (15.5, 0.5, 0.93),
                                   (0.5, 40.0, 0.001), (100.0, 120.0, 0.45)])
def test_the_incomplete_beta_function_matches_scipy(a, b, x):
    assert stats.betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), rel=1e-9)


@pytest.mark.parametrize("t,df", [(0.3, 4.2), (2.1, 17.8), (-5.0, 60.0), (12.0, 3.0)])
def test_t_p_values_match_scipy(t, df):
    assert stats.t_two_sided_p(t, df) == pytest.approx(2 * sp.t.sf(abs(t), df), rel=1e-8)


@pytest.mark.parametrize("f,d1,d2", [(0.4, 1, 50), (3.9, 1, 120), (9.5, 3, 12)])
def test_f_p_values_match_scipy(f, d1, d2):
    assert stats.f_sf(f, d1, d2) == pytest.approx(sp.f.sf(f, d1, d2), rel=1e-8)
