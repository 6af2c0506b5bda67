from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementConfig(AppConfig):
    name = "disbursement"
    verbose_name = _("Contract and disbursement")
