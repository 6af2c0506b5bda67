"""Application-level clocks follow the application's status (same transaction)."""

from django.dispatch import receiver

from applications.signals import application_transitioned
from sla import services


@receiver(application_transitioned, dispatch_uid="sla_application_clocks")
def application_clocks(sender, application, transition, from_state, to_state, **kwargs):
    services.clock_follow_application(
        application=application, from_state=from_state, to_state=to_state
    )
