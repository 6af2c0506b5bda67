from django.contrib import admin

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
class FacilityAdmin(admin.ModelAdmin):
    """Read-only: a facility changes only through its services (audited)."""

    list_display = ("application", "company", "amount", "currency", "status", "expires_on")
    list_filter = ("status", "revolving")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Drawdown)
class DrawdownAdmin(admin.ModelAdmin):
    list_display = ("facility", "amount", "currency", "term_months", "status", "requested_at")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
