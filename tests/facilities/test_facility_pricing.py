"""A facility's pricing range against the price build-up: the investigator and the approver see
the build-up of the facility (its limit and term, priced at the lower end of the proposed range)
next to the range; approving a lower end below the floor needs the authority to price below the
floor and a reason (the applications' own rule), and the facility keeps the build-up, its
parameter version and the reason. Each drawdown is priced on its own term and amount, inside the
facility's approved range (400 on the rate outside it)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from approvals.models import ApprovalTask
from facilities.models import Drawdown, Facility
from investigation.models import Investigation, Scorecard, ScoreResult
from pricing.models import PricingVersion
from tests.approvals.conftest import (  # noqa: F401
    _no_investigation_gates,
    _no_shared_queue_counts,
    in_approval,
    matrix,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pricing_v1(db):
    """The active pricing version, as the database holds it (a transactional test elsewhere
    flushes the one the migration seeded: made again here, its fields read back as Decimals,
    not the strings the defaults are written with)."""
    from pricing.services import pricing_version_default_ensure

    version = pricing_version_default_ensure()
    version.refresh_from_db()
    return version


def _score(application, pd: str) -> None:
    investigation = Investigation.objects.get_or_create(application=application)[0]
    scorecard = Scorecard.objects.get_or_create(version=1, defaults={"name": "SME v1"})[0]
    ScoreResult.objects.create(
        investigation=investigation,
        application=application,
        scorecard=scorecard,
        scorecard_version=1,
        score=40,
        max_score=100,
        grade="B",
        pd_pct=Decimal(pd),
    )


def _floor(version: PricingVersion, *, term_months: int, pd: str) -> Decimal:
    """Independently of pricing.calc: an unsecured loan's floor, CoF + OPEX + PD x LGD."""
    rate = next(
        (
            Decimal(str(b["pct"]))
            for b in version.cost_of_funds_curve
            if term_months <= int(b["max_term_months"])
        ),
        Decimal(str(version.cost_of_funds_curve[-1]["pct"])),
    )
    return (
        rate + version.operating_cost_pct + Decimal(pd) * version.unsecured_lgd_pct / 100
    ).quantize(Decimal("0.0001"))


def _task(application, step):
    return ApprovalTask.objects.get(
        application=application, step=step, kind="step", status__in=("open", "claimed")
    )


def _decide(api, user, task, **payload):
    return api(user).post(f"/api/v1/approvals/tasks/{task.pk}/decide/", payload, format="json")


@pytest.fixture
def facility_in_approval(matrix, in_approval, staff, api, facility_product):  # noqa: F811
    """A facility application for 800,000 over 24 months, its range from 4.35%, scored with
    `pd` and past credit review, waiting at its last step (tier 1)."""

    def make(pd: str):
        application = in_approval(product=facility_product, term_months=24)
        _score(application, pd)
        reviewed = _decide(
            api, staff["reviewer"], _task(application, "credit_review"), decision="approve"
        )
        assert reviewed.status_code == 200, reviewed.data
        return application

    return make


def test_the_approver_sees_the_facility_build_up_next_to_the_proposed_range(
    facility_in_approval, staff, client, pricing_v1
):
    application = facility_in_approval(pd="10")
    client.force_login(staff["approver"])

    page = client.get(reverse("approvals-task", args=[_task(application, "tier1").pk]))

    html = page.content.decode()
    assert page.status_code == 200
    floor = _floor(pricing_v1, term_months=24, pd="10")
    assert f"<strong>{floor}%</strong>" in html
    high = application.product.max_rate
    assert f'id="pricing-facility-range">4.350% – {high}%' in html
    # The investigator's workspace shows the same (the case summary).
    client.force_login(staff["rm"])
    case = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert 'id="pricing-facility-range"' in case


def test_a_loan_shows_no_facility_range(in_approval, matrix, staff, client):  # noqa: F811
    application = in_approval()
    _score(application, "1")
    client.force_login(staff["reviewer"])
    page = client.get(reverse("approvals-task", args=[_task(application, "credit_review").pk]))
    assert page.status_code == 200
    assert "pricing-facility-range" not in page.content.decode()


def test_a_range_below_the_floor_without_the_authority_is_forbidden(
    facility_in_approval, staff, api
):
    application = facility_in_approval(pd="10")

    refused = _decide(
        api,
        staff["approver"],
        _task(application, "tier1"),
        decision="approve",
        below_floor_reason="Strategic client",
    )

    assert refused.status_code == 403, refused.data
    assert refused.data["code"] == "below_pricing_floor"
    assert not Facility.objects.filter(application=application).exists()


def test_a_range_below_the_floor_needs_a_reason_kept_on_the_facility(
    facility_in_approval, staff, api, pricing_v1
):
    Group.objects.get(name="approver").permissions.add(
        Permission.objects.get(content_type__app_label="pricing", codename="approve_below_floor")
    )
    application = facility_in_approval(pd="10")
    task = _task(application, "tier1")
    no_reason = _decide(api, staff["approver"], task, decision="approve")
    assert no_reason.status_code == 400
    assert "below_floor_reason" in no_reason.data

    approved = _decide(
        api,
        staff["approver"],
        task,
        decision="approve",
        below_floor_reason="Anchor customer of the supply chain programme.",
    )

    assert approved.status_code == 200, approved.data
    facility = Facility.objects.get(application=application)
    assert (facility.min_rate, facility.max_rate) == (
        Decimal("4.350"),
        application.product.max_rate,
    )
    assert facility.pricing["version"] == pricing_v1.number
    assert facility.pricing["term_months"] == 24
    assert facility.pricing["floor_rate_pct"] == str(_floor(pricing_v1, term_months=24, pd="10"))
    assert facility.pricing["proposed_rate_pct"] == "4.350"
    assert facility.pricing["below_floor_reason"] == (
        "Anchor customer of the supply chain programme."
    )
    detail = api(staff["risk"]).get(reverse("api-facility", args=[facility.pk]))
    assert detail.data["pricing"]["version"] == pricing_v1.number


def test_a_range_above_the_floor_is_approved_without_authority_and_keeps_its_version(
    facility_in_approval, staff, api, pricing_v1
):
    application = facility_in_approval(pd="0.5")

    approved = _decide(api, staff["approver"], _task(application, "tier1"), decision="approve")

    assert approved.status_code == 200, approved.data
    pricing = Facility.objects.get(application=application).pricing
    assert pricing["version"] == pricing_v1.number
    assert Decimal(pricing["floor_rate_pct"]) < Decimal("4.35")
    assert "below_floor_reason" not in pricing


def test_a_drawdown_is_priced_on_its_own_term_within_the_approved_range(
    api, client, staff, make_facility, pricing_v1
):
    facility = make_facility()
    _score(facility.application, "2")
    client = api(staff["rm"])
    url = reverse("api-facility-drawdowns", args=[facility.pk])

    outside = client.post(
        url, {"amount": "1000.00", "term_months": 6, "interest_rate": "4.000"}, format="json"
    )
    assert outside.status_code == 400
    assert "interest_rate" in outside.data

    response = client.post(
        url, {"amount": "300000.00", "term_months": 6, "interest_rate": "5.000"}, format="json"
    )

    assert response.status_code == 201, response.data
    pricing = Drawdown.objects.get(pk=response.data["id"]).pricing
    assert pricing["version"] == pricing_v1.number
    assert (pricing["term_months"], pricing["amount"]) == (6, "300000.00")
    assert pricing["proposed_rate_pct"] == "5.000"
    assert pricing["floor_rate_pct"] == str(_floor(pricing_v1, term_months=6, pd="2"))
    # The facility's page shows it by the drawdown.
    client.force_login(staff["rm"])
    page = client.get(reverse("facility-detail", args=[facility.pk]))
    assert f"{pricing['floor_rate_pct']}% / {pricing['target_rate_pct']}%" in (
        page.content.decode()
    )
