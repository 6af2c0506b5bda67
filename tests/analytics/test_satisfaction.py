"""The satisfaction survey in the figures: answers over offered cases and the average score,
per branch, product and stage, and in the balanced scorecard's customer perspective."""

from datetime import datetime

import pytest
from django.utils import timezone

from messaging.models import SurveyAnswer
from tests.analytics.conftest import at, make_metric
from tests.analytics.test_figures import figure
from tests.factories import (
    ApplicationFactory,
    BranchFactory,
    CompanyFactory,
    ProductFactory,
    make_applicant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def surveyed(branch, other_branch, product, staff):
    """Beijing (SME-WC): A decided and paid out, both surveys answered (4 then 5); B decided,
    not answered; D decided for a company without a portal login (never asked). Haidian, a
    sub-branch (SME-EQ): C decided, answered 2. Outside the figures: E decided in October
    (answered 1) and F in Shanghai (answered 1)."""
    haidian = BranchFactory(code="BJ-HD", name="Haidian sub-branch", parent=branch)
    equipment = ProductFactory(code="SME-EQ")

    def owned(home):
        company = CompanyFactory(home_branch=home)
        return company, make_applicant(company)

    beijing, beijing_owner = owned(branch)
    hd, hd_owner = owned(haidian)
    sh, sh_owner = owned(other_branch)
    no_login = CompanyFactory(home_branch=branch)

    def app(company, prod, decided, disbursed=None):
        return ApplicationFactory(
            company=company,
            product=prod,
            status="disbursed" if disbursed else "approved",
            filed_by=staff["rm"],
            decided_at=decided,
            disbursed_at=disbursed,
        )

    def answer(application, stage, score, by):
        SurveyAnswer.objects.create(
            application=application, stage=stage, score=score, answered_by=by
        )

    a = app(beijing, product, at(5), at(10))
    answer(a, "decision", 4, beijing_owner)
    answer(a, "disbursement", 5, beijing_owner)
    app(beijing, product, at(6))
    c = app(hd, equipment, at(7))
    answer(c, "decision", 2, hd_owner)
    app(no_login, product, at(8))
    e = app(beijing, product, timezone.make_aware(datetime(2026, 10, 20, 12)))
    answer(e, "decision", 1, beijing_owner)
    f = app(sh, product, at(5))
    answer(f, "decision", 1, sh_owner)
    return {"haidian": haidian, "equipment": equipment}


def test_the_satisfaction_figure_counts_answers_over_offered_cases_by_branch_product_and_stage(
    surveyed, staff
):
    data = figure(staff["head"], "satisfaction")

    rows = [
        (r["branch"], r["product"], r["stage"], r["offered"], r["answered"])
        + (r["response_rate"], r["average_score"])
        for r in data["rows"]
    ]
    assert rows == [
        ("Beijing branch", "SME-WC", "decision", 2, 1, 0.5, 4.0),
        ("Beijing branch", "SME-WC", "disbursement", 1, 1, 1.0, 5.0),
        ("Haidian sub-branch", "SME-EQ", "decision", 1, 1, 1.0, 2.0),
    ]
    assert data["summary"] == {
        "offered": 4,
        "answered": 3,
        "response_rate": 0.75,
        "average_score": 3.67,
    }


def test_the_satisfaction_figure_follows_the_branch_and_product_filters(surveyed, staff):
    by_branch = figure(staff["head"], "satisfaction", branch=surveyed["haidian"].pk)
    assert by_branch["summary"] == {
        "offered": 1,
        "answered": 1,
        "response_rate": 1.0,
        "average_score": 2.0,
    }
    by_product = figure(staff["head"], "satisfaction", product=surveyed["equipment"].pk)
    assert [r["product"] for r in by_product["rows"]] == ["SME-EQ"]


def test_the_scorecards_customer_perspective_holds_the_survey_score_and_response_rate(
    surveyed, staff
):
    make_metric("satisfaction_score", "customer", 4, "higher")
    make_metric("survey_response_rate", "customer", "0.5", order=1)

    rows = figure(staff["head"], "scorecard")["rows"]

    customer = {r["metric"]: (r["perspective"], r["value"], r["status"]) for r in rows}
    assert customer == {
        "satisfaction_score": ("customer", 3.67, "missed"),
        "survey_response_rate": ("customer", 0.75, "met"),
    }


def test_without_answers_the_scorecard_says_no_data_rather_than_zero(staff):
    make_metric("satisfaction_score", "customer", 4)
    rows = figure(staff["head"], "scorecard")["rows"]
    assert [(r["metric"], r["value"], r["status"]) for r in rows] == [
        ("satisfaction_score", None, "no_data")
    ]


def test_the_dashboard_section_shows_the_satisfaction_by_branch_and_product_and_exports_it(
    surveyed, staff, client
):
    from django.urls import reverse

    from tests.analytics.conftest import PERIOD

    client.force_login(staff["head"])
    url = reverse("analytics-figure-section", args=["satisfaction"])
    page = client.get(url, PERIOD, HTTP_X_REQUESTED_WITH="fetch")
    assert page.context["figure"]["summary"]["answered"] == 3
    body = page.content.decode()
    section = body.split('id="satisfaction"')[1].split("</section>")[0]
    assert "Haidian sub-branch" in section and "SME-EQ" in section
    export = client.get(reverse("analytics-export"), {**PERIOD, "figure": "satisfaction"})
    assert export.status_code == 200
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("branch_id,branch,product_id,product,stage")
    assert len(lines) == 4
