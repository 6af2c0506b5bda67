"""The industry filter narrows every figure to the companies of a GB/T 4754 code or prefix."""

import pytest
from django.urls import reverse

from tests.analytics.conftest import PERIOD, at, make_visit
from tests.analytics.test_figures import figure
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_industries(make_app, branch, staff):
    """Beijing: two manufacturers (C13, C18) and one wholesaler (F51), each submitted in
    November with one investigation of 2, 4 and 30 hours."""
    apps = {}
    for code, hours in (("C13", 2), ("C18", 4), ("F51", 30)):
        app = make_app(
            "in_approval", company=CompanyFactory(home_branch=branch, industry_code=code)
        )
        make_visit(app, "investigation", hours, left=at(5), actor=staff["rm"])
        apps[code] = app
    return apps


def test_the_industry_filter_narrows_the_stage_times_and_the_funnel(two_industries, staff):
    def investigation(**params):
        rows = figure(staff["head"], "stages", **params)["rows"]
        return next(r for r in rows if r["stage"] == "investigation")

    assert (investigation()["count"], investigation()["business_mean_h"]) == (3, 12.0)
    manufacturing = investigation(industry="c")
    assert (manufacturing["count"], manufacturing["business_mean_h"]) == (2, 3.0)
    assert investigation(industry="C18")["count"] == 1
    assert figure(staff["head"], "funnel", industry="F51")["summary"]["submitted"] == 1
    assert figure(staff["head"], "funnel", industry="F")["filters"]["industry"] == "F"


def test_an_industry_that_is_not_a_code_is_a_400_naming_the_field(two_industries, staff, api):
    url = reverse("api-analytics-figure", args=["stages"])
    response = api(staff["head"]).get(url, {**PERIOD, "industry": "13C;"})
    assert response.status_code == 400
    assert "industry" in str(response.json())


def test_the_dashboard_keeps_the_chosen_industry(two_industries, staff, client):
    client.force_login(staff["head"])
    response = client.get(reverse("analytics-dashboard"), {**PERIOD, "industry": "C13"})
    assert response.status_code == 200
    assert 'name="industry" id="filter-industry" value="C13"' in response.content.decode()
