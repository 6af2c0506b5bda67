from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approval and disbursement")

    def ready(self):
        from applications.services import INTERNAL_TRANSITIONS
        from approvals import receivers  # noqa: F401  (registers the signal and duty rules)

        INTERNAL_TRANSITIONS.update({"approve", "decline", "return_to_investigation"})
