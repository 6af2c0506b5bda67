"""The investigator and the approver see the same price build-up in the credit case."""

from decimal import Decimal

import pytest
from django.urls import reverse

from approvals.models import ApprovalTask
from investigation.models import Investigation, Scorecard, ScoreResult
from pricing.calc import price_buildup
from pricing.models import PricingVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(matrix, in_approval):
    application = in_approval()
    investigation = Investigation.objects.create(application=application)
    ScoreResult.objects.create(
        investigation=investigation,
        application=application,
        scorecard=Scorecard.objects.create(version=1, name="SME v1"),
        scorecard_version=1,
        score=70,
        max_score=100,
        grade="B",
        pd_pct=Decimal("1.5"),
    )
    return application


def _expected(application):
    return price_buildup(
        params=PricingVersion.objects.get(is_active=True),
        amount=application.amount,
        term_months=application.term_months,
        rate_pct=application.interest_rate,
        pd_pct=Decimal("1.5"),
    )


def test_the_approvers_workbench_shows_the_price_build_up(scored, staff, client):
    task = ApprovalTask.objects.get(application=scored, step="credit_review")
    client.force_login(staff["reviewer"])
    html = client.get(reverse("approvals-task", args=[task.pk])).content.decode()
    expected = _expected(scored)
    assert "Price build-up" in html
    assert f'id="pricing-floor"><strong>{expected.floor_rate_pct}%' in html
    assert f'id="pricing-target"><strong>{expected.target_rate_pct}%' in html
    assert f'id="pricing-raroc">{expected.raroc_pct}%' in html
    assert f"Pricing parameters v{expected.version}." in html


def test_the_application_page_shows_the_same_build_up(scored, staff, client):
    client.force_login(staff["rm"])
    html = client.get(reverse("application-detail", args=[scored.pk])).content.decode()
    expected = _expected(scored)
    assert f'id="pricing-floor"><strong>{expected.floor_rate_pct}%' in html
    assert f'id="pricing-margin">{expected.margin_over_floor_pct}%' in html


def test_an_application_not_scored_has_no_build_up_yet(matrix, in_approval, staff, client):
    task = ApprovalTask.objects.get(application=in_approval(), step="credit_review")
    client.force_login(staff["reviewer"])
    html = client.get(reverse("approvals-task", args=[task.pk])).content.decode()
    assert "No price build-up until the application is scored." in html
    assert 'id="pricing-floor"' not in html
