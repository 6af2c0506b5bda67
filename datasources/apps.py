from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatasourcesConfig(AppConfig):
    name = "datasources"
    verbose_name = _("External data sources")
