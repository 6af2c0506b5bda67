from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementConfig(AppConfig):
    name = "disbursement"
    verbose_name = _("Contract and disbursement")

    def ready(self) -> None:
        from applications.services import INTERNAL_TRANSITIONS
        from disbursement import rules  # noqa: F401 - registers gates, duty rules, receivers

        INTERNAL_TRANSITIONS.update({"sign_contract", "disburse"})
