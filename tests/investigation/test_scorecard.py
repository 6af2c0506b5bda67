"""The scorecard, table-driven: known inputs give known points, grade and reasons."""

from decimal import Decimal

import pytest

from investigation import services
from investigation.models import Scorecard, ScorecardFactor, ScoreResult
from tests.investigation.conftest import FIGURES

D = Decimal

# inputs -> (points per factor, total, grade, reasons)
CASES = [
    pytest.param(
        {
            "years_in_business": D("12"),
            "revenue": D("25000000"),
            "debt_ratio": D("0.30"),
            "repayment_record": "good",
            "tax_grade": "A",
            "collateral_coverage": D("1.5"),
            "industry_risk": "low",
        },
        {
            "years_in_business": 15,
            "revenue": 15,
            "debt_ratio": 15,
            "repayment_record": 15,
            "tax_grade": 10,
            "collateral_coverage": 15,
            "industry_risk": 15,
        },
        100,
        "A",
        [],
        id="best-in-every-factor",
    ),
    pytest.param(
        {
            "years_in_business": D("6"),
            "revenue": D("6000000"),
            "debt_ratio": D("0.40"),
            "repayment_record": "good",
            "tax_grade": "A",
            "collateral_coverage": D("0"),
            "industry_risk": "medium",
        },
        {
            "years_in_business": 12,
            "revenue": 12,
            "debt_ratio": 10,
            "repayment_record": 15,
            "tax_grade": 10,
            "collateral_coverage": 0,
            "industry_risk": 8,
        },
        67,
        "B",
        ["collateral_coverage", "industry_risk", "debt_ratio"],
        id="unsecured-medium-industry-bin-edge-0.4",
    ),
    pytest.param(
        {
            "years_in_business": D("1.5"),
            "revenue": D("800000"),
            "debt_ratio": D("0.85"),
            "repayment_record": "serious_late",
            "tax_grade": "D",
            "collateral_coverage": D("0.2"),
            "industry_risk": "high",
        },
        {
            "years_in_business": 0,
            "revenue": 2,
            "debt_ratio": 0,
            "repayment_record": 0,
            "tax_grade": 0,
            "collateral_coverage": 0,
            "industry_risk": 0,
        },
        2,
        "E",
        ["years_in_business", "debt_ratio", "repayment_record"],
        id="worst",
    ),
    pytest.param(
        {
            "years_in_business": D("5"),
            "revenue": D("5000000"),
            "debt_ratio": D("0.6"),
            "repayment_record": "none",
            "tax_grade": "B",
            "collateral_coverage": D("0.8"),
            "industry_risk": "medium",
        },
        {
            "years_in_business": 12,
            "revenue": 12,
            "debt_ratio": 4,
            "repayment_record": 8,
            "tax_grade": 7,
            "collateral_coverage": 10,
            "industry_risk": 8,
        },
        61,
        "C",
        ["debt_ratio", "repayment_record", "industry_risk"],
        id="lower-edges-inclusive",
    ),
    pytest.param(
        {
            "years_in_business": None,
            "revenue": None,
            "debt_ratio": None,
            "repayment_record": None,
            "tax_grade": None,
            "collateral_coverage": None,
            "industry_risk": None,
        },
        {
            "years_in_business": 0,
            "revenue": 0,
            "debt_ratio": 0,
            "repayment_record": 0,
            "tax_grade": 0,
            "collateral_coverage": 0,
            "industry_risk": 0,
        },
        0,
        "E",
        ["years_in_business", "revenue", "debt_ratio"],
        id="missing-inputs-score-0",
    ),
]


@pytest.mark.parametrize(("inputs", "points", "total", "grade", "reasons"), CASES)
def test_known_inputs_give_known_points_grade_and_reasons(
    config, inputs, points, total, grade, reasons
):
    result = services.scorecard_apply(scorecard=config["scorecard"], inputs=inputs)
    assert {row["factor"]: row["points"] for row in result["breakdown"]} == points
    assert result["score"] == total
    assert result["max_score"] == 100
    assert result["grade"] == grade
    assert result["reasons"] == reasons


def _prepare(application, actor):
    services.financials_save(
        application_id=application.pk, actor=actor, period="last_year", figures=FIGURES
    )
    services.assessment_save(
        application_id=application.pk,
        actor=actor,
        changes={"repayment_record": "good", "tax_grade": "A", "industry_risk": "medium"},
    )


def test_scoring_records_version_points_reasons_and_the_summary_on_the_application(
    investigating, staff
):
    _prepare(investigating, staff["rm"])
    score = services.investigation_score(application_id=investigating.pk, actor=staff["rm"])
    investigating.refresh_from_db()
    assert score.scorecard_version == 1
    assert {r["factor"]: r["points"] for r in score.breakdown}["debt_ratio"] == 10  # 0.4
    assert score.reasons[0] == "collateral_coverage"
    assert (investigating.risk_grade, investigating.risk_score) == (score.grade, score.score)
    assert investigating.route_recommendation == score.route
    assert investigating.status == "investigation"


def test_changing_the_scorecard_does_not_rescore_applications_already_scored(
    investigating, staff, config
):
    _prepare(investigating, staff["rm"])
    first = services.investigation_score(application_id=investigating.pk, actor=staff["rm"])
    v1 = config["scorecard"]
    v1.is_active = False
    v1.save()
    v2 = Scorecard.objects.create(version=2, name="Stricter", grade_bands=v1.grade_bands)
    ScorecardFactor.objects.create(
        scorecard=v2, code="tax_grade", bins=[{"value": "A", "points": 1}]
    )

    first.refresh_from_db()
    investigating.refresh_from_db()
    assert (first.scorecard_version, first.score, first.is_current) == (1, first.score, True)
    assert investigating.risk_score == first.score
    assert ScoreResult.objects.filter(application=investigating).count() == 1

    again = services.investigation_score(application_id=investigating.pk, actor=staff["rm"])
    first.refresh_from_db()
    investigating.refresh_from_db()
    assert (again.scorecard_version, again.score, again.grade) == (2, 1, "E")
    assert not first.is_current and first.scorecard_version == 1
    assert investigating.risk_score == 1
