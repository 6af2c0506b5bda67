from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationConfig(AppConfig):
    name = "investigation"
    verbose_name = _("Pre-loan investigation")

    def ready(self) -> None:
        from applications.signals import application_transitioned
        from investigation import rules  # noqa: F401 - registers the gate
        from investigation.services import on_application_transitioned

        application_transitioned.connect(on_application_transitioned,
                                         dispatch_uid="investigation_transitioned")
