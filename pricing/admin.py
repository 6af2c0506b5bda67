from django.contrib import admin

from common.admin_versions import VersionedAdmin
from pricing.models import PricingVersion
from pricing.services import pricing_version_activate, pricing_version_copy


@admin.register(PricingVersion)
class PricingVersionAdmin(VersionedAdmin):
    """A version that has been active is frozen (decisions name it): copy it as a new version,
    edit the copy, then activate it."""

    list_display = [
        "number",
        "name",
        "is_active",
        "operating_cost_pct",
        "unsecured_lgd_pct",
        "risk_weight_pct",
        "capital_ratio_pct",
        "target_return_pct",
        "activated_at",
    ]

    def version_copy(self, version):
        return pricing_version_copy(version=version)

    def version_activate(self, version) -> None:
        pricing_version_activate(version=version)
