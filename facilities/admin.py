from django.contrib import admin

from common.admin import ReadOnlyAdmin
from facilities.models import Drawdown, Facility, FacilityTerms


@admin.register(FacilityTerms)
class FacilityTermsAdmin(admin.ModelAdmin):
    list_display = (
        "product",
        "revolving",
        "max_drawdown_term_months",
        "drawdown_approval",
        "auto_approval_limit",
    )


@admin.register(Facility)
class FacilityAdmin(ReadOnlyAdmin):
    """Read-only: a facility changes only through its services (audited)."""

    list_display = ("application", "company", "amount", "currency", "status", "expires_on")
    list_filter = ("status", "revolving")


@admin.register(Drawdown)
class DrawdownAdmin(ReadOnlyAdmin):
    list_display = ("facility", "amount", "currency", "term_months", "status", "requested_at")
    list_filter = ("status",)
