from django.contrib import admin

from analytics.models import ScorecardTarget, StageVisit


@admin.register(ScorecardTarget)
class ScorecardTargetAdmin(admin.ModelAdmin):
    list_display = ("metric", "perspective", "target", "direction", "order", "is_active")
    list_filter = ("perspective", "is_active")
    list_editable = ("target", "direction", "order", "is_active")


@admin.register(StageVisit)
class StageVisitAdmin(admin.ModelAdmin):
    """Read-only: visits are recorded by the transitions themselves."""

    list_display = (
        "application",
        "stage",
        "entered_at",
        "left_at",
        "business_seconds",
        "calendar_seconds",
        "outcome",
        "is_rework",
        "actor",
    )
    list_filter = ("stage", "is_rework", "route")
    list_select_related = ("application", "actor")
    raw_id_fields = ("application", "actor", "branch", "product")
    date_hierarchy = "left_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
