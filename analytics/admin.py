from django import forms
from django.contrib import admin

from analytics.models import ProvisionRate, ScorecardMetric, StageVisit, TrainingRecord
from analytics.scorecard import figure_choices
from common.admin import ReadOnlyAdmin


class ScorecardMetricForm(forms.ModelForm):
    figure = forms.ChoiceField(choices=figure_choices)

    class Meta:
        model = ScorecardMetric
        fields = [
            "code",
            "name",
            "name_zh",
            "perspective",
            "figure",
            "direction",
            "target",
            "weight",
            "unit",
            "order",
            "is_active",
        ]


@admin.register(ScorecardMetric)
class ScorecardMetricAdmin(admin.ModelAdmin):
    """Which figures the scorecard shows, with their targets, directions and weights."""

    form = ScorecardMetricForm
    list_display = (
        "code",
        "name",
        "perspective",
        "figure",
        "target",
        "direction",
        "weight",
        "order",
        "is_active",
    )
    list_filter = ("perspective", "is_active")
    list_editable = ("target", "direction", "weight", "order", "is_active")
    search_fields = ("code", "name", "name_zh")


@admin.register(ProvisionRate)
class ProvisionRateAdmin(admin.ModelAdmin):
    list_display = ("classification", "rate_pct")


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):
    list_display = ("user", "date", "hours", "topic")
    list_filter = ("date",)
    raw_id_fields = ("user",)
    date_hierarchy = "date"


@admin.register(StageVisit)
class StageVisitAdmin(ReadOnlyAdmin):
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
