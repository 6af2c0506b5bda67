"""A pricing version that has been active is frozen: it is copied, and the copy edited and
activated; decisions keep naming the version they were priced with."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pricing.models import PricingVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_activated_version_cannot_be_edited_in_the_admin_but_is_copied(admin_client):
    v1 = PricingVersion.objects.get(is_active=True)
    change = reverse("admin:pricing_pricingversion_change", args=[v1.pk])
    response = admin_client.post(change, {"name": "edited", "operating_cost_pct": "9"})
    v1.refresh_from_db()
    assert v1.operating_cost_pct == Decimal("1.0000") and v1.name != "edited"
    assert response.status_code in (302, 403) or "edited" not in response.content.decode()

    admin_client.post(
        reverse("admin:pricing_pricingversion_changelist"),
        {"action": "copy_as_new_version", "_selected_action": [v1.pk]},
    )
    v2 = PricingVersion.objects.get(number=v1.number + 1)
    assert not v2.is_active and not v2.is_frozen
    assert v2.cost_of_funds_curve == v1.cost_of_funds_curve
    assert v2.risk_weight_pct == v1.risk_weight_pct

    data = {
        "number": v2.number,
        "name": "2027",
        "cost_of_funds_curve": '[{"max_term_months": 12, "pct": "2.10"}]',
        "operating_cost_pct": "1.1",
        "unsecured_lgd_pct": "45",
        "guarantee_credit_pct": "50",
        "risk_weight_pct": "75",
        "capital_ratio_pct": "10.5",
        "target_return_pct": "12",
    }
    response = admin_client.post(reverse("admin:pricing_pricingversion_change", args=[v2.pk]), data)
    assert response.status_code == 302
    admin_client.post(
        reverse("admin:pricing_pricingversion_changelist"),
        {"action": "activate", "_selected_action": [v2.pk]},
    )
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v2.is_active and v2.is_frozen and not v1.is_active
    assert v2.operating_cost_pct == Decimal("1.1") and v1.operating_cost_pct == Decimal("1.0")


@pytest.mark.parametrize(
    "curve",
    [
        [],
        [{"max_term_months": 12}],
        [{"max_term_months": 36, "pct": "2"}, {"max_term_months": 12, "pct": "1"}],
    ],
)
def test_a_curve_without_rates_or_out_of_order_is_refused(curve):
    version = PricingVersion(number=99, cost_of_funds_curve=curve)
    with pytest.raises(ValidationError) as refused:
        version.full_clean()
    assert "cost_of_funds_curve" in refused.value.message_dict
