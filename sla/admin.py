from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sla.models import BusinessHours, CalendarDay, Deadline, SlaEvent, SlaPolicy


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["region", "start", "end", "timezone"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["region", "date", "kind", "name"]
    list_filter = ["region", "kind"]
    date_hierarchy = "date"
    search_fields = ["name"]
    # Seeded by `manage.py sla_seed_calendar` from the chinese_calendar package, which only
    # carries years the State Council has published: add later years here by hand.
    fieldsets = [
        (
            None,
            {
                "fields": ["region", "date", "kind", "name"],
                "description": _(
                    "Exceptions to the Monday-Friday week. Seeded from the "
                    "chinese_calendar package; years it does not cover yet must be "
                    "entered here when the State Council publishes them."
                ),
            },
        )
    ]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "step",
        "product",
        "target",
        "unit",
        "reminder_percent",
        "escalation2_after_hours",
        "is_active",
    ]
    list_filter = ["step", "is_active"]
    list_select_related = ["product"]


class SlaEventInline(admin.TabularInline):
    model = SlaEvent
    extra = 0
    readonly_fields = ["kind", "level", "fired_at", "recipients"]
    can_delete = False


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = [
        "step",
        "subject_type",
        "subject_id",
        "application",
        "owner",
        "status",
        "due_at",
        "next_fire_at",
        "escalation_level",
    ]
    list_filter = ["status", "step"]
    list_select_related = ["application", "owner"]
    raw_id_fields = ["application", "owner", "branch", "policy"]
    inlines = [SlaEventInline]
    search_fields = ["application__reference"]
