"""Versions of the pricing parameters: a frozen version is changed by copying it."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from pricing.defaults import DEFAULT_VERSION
from pricing.models import PricingVersion


def pricing_version_copy(*, version: PricingVersion) -> PricingVersion:
    number = (PricingVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    return PricingVersion.objects.create(
        number=number,
        name=version.name,
        cost_of_funds_curve=version.cost_of_funds_curve,
        operating_cost_pct=version.operating_cost_pct,
        unsecured_lgd_pct=version.unsecured_lgd_pct,
        guarantee_credit_pct=version.guarantee_credit_pct,
        risk_weight_pct=version.risk_weight_pct,
        capital_ratio_pct=version.capital_ratio_pct,
        target_return_pct=version.target_return_pct,
    )


@transaction.atomic
def pricing_version_activate(*, version: PricingVersion) -> None:
    PricingVersion.objects.exclude(pk=version.pk).filter(is_active=True).update(is_active=False)
    version.is_active = True
    version.activated_at = version.activated_at or timezone.now()
    version.save(update_fields=["is_active", "activated_at"])


def pricing_version_default_ensure() -> PricingVersion:
    """The active version; without one (a database flushed since its migration), version 1
    with the default parameters, active."""
    active = PricingVersion.objects.filter(is_active=True).first()
    if active is not None:
        return active
    version = PricingVersion.objects.filter(number=DEFAULT_VERSION["number"]).first()
    if version is None:
        version = PricingVersion.objects.create(**DEFAULT_VERSION)
    pricing_version_activate(version=version)
    return version
