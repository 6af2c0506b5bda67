"""Control chart: weekly means, centre line and 3-sigma limits on a known series."""

from datetime import timedelta

import pytest

from analytics import stats
from analytics.selectors import analytics_figure
from tests.analytics.conftest import at, make_visit

pytestmark = pytest.mark.django_db


def test_individuals_limits_on_a_known_series():
    limits = stats.individuals_limits([10, 12, 11, 13, 30])
    # Centre 76 / 5; moving ranges 2, 1, 2, 17 -> mean 5.5; sigma = 5.5 / 1.128.
    assert limits["centre"] == pytest.approx(15.2)
    assert limits["mr_bar"] == pytest.approx(5.5)
    assert limits["sigma"] == pytest.approx(5.5 / 1.128)
    assert limits["ucl"] == pytest.approx(15.2 + 3 * 5.5 / 1.128)
    assert limits["lcl"] == pytest.approx(15.2 - 3 * 5.5 / 1.128)


def test_the_chart_groups_by_week_and_marks_points_outside_the_limits(make_app, staff):
    app = make_app("investigation")
    monday = at(2, 10)  # 2 November 2026 is a Monday
    weekly = [[10, 10], [12], [11, 11, 11], [13], [10], [12], [11], [40]]
    for week, hours in enumerate(weekly):
        for i, h in enumerate(hours):
            make_visit(app, "investigation", h, left=monday + timedelta(weeks=week, hours=i))
    make_visit(app, "in_approval", 500, left=monday)  # another stage: not on this chart
    result = analytics_figure(
        user=staff["head"],
        name="control-chart",
        params={"date_from": "2026-11-01", "date_to": "2026-12-31", "stage": "investigation"},
    )
    rows = result["rows"]
    assert [r["week"] for r in rows][:2] == ["2026-11-02", "2026-11-09"]
    assert [r["count"] for r in rows] == [2, 1, 3, 1, 1, 1, 1, 1]
    means = [10, 12, 11, 13, 10, 12, 11, 40]
    assert [r["mean_h"] for r in rows] == means
    expected = stats.individuals_limits(means)
    centre = sum(means) / 8
    mr_bar = (2 + 1 + 2 + 3 + 2 + 1 + 29) / 7
    assert expected["centre"] == pytest.approx(centre)
    assert result["limits"]["ucl"] == pytest.approx(centre + 3 * mr_bar / 1.128, abs=1e-4)
    assert [r["outside"] for r in rows] == [False] * 7 + [True]


def test_the_chart_refuses_an_unknown_stage(staff):
    from common.errors import InvalidInput

    with pytest.raises(InvalidInput):
        analytics_figure(user=staff["head"], name="control-chart", params={"stage": "nope"})
