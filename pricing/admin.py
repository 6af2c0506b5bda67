from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from pricing.models import PricingVersion
from pricing.services import pricing_version_activate, pricing_version_copy


@admin.register(PricingVersion)
class PricingVersionAdmin(admin.ModelAdmin):
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
    readonly_fields = ["is_active", "activated_at", "created_at"]
    actions = ["copy_as_new_version", "activate"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description=_("Copy as a new version (to edit)"))
    @transaction.atomic
    def copy_as_new_version(self, request, queryset):
        for old in queryset:
            new = pricing_version_copy(version=old)
            messages.success(request, _("Created %(v)s.") % {"v": new})

    @admin.action(description=_("Activate (and freeze) this version"))
    @transaction.atomic
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Choose one version to activate."))
            return
        pricing_version_activate(version=queryset.get())
        messages.success(request, _("Activated."))
