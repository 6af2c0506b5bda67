from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("SLA engine")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from sla import checks  # noqa: F401  (registers the calendar check)
        from sla.calendar import calendar_changed
        from sla.models import BusinessHours, CalendarDay

        for model in (BusinessHours, CalendarDay):
            post_save.connect(
                calendar_changed, sender=model, dispatch_uid=f"sla_cal_{model.__name__}"
            )
            post_delete.connect(
                calendar_changed, sender=model, dispatch_uid=f"sla_cal_del_{model.__name__}"
            )
