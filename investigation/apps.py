from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationConfig(AppConfig):
    name = "investigation"
    verbose_name = _("Pre-loan investigation")
