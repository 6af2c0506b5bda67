"""Stage durations are recorded as each stage ends, in the transition's own transaction."""

from django.dispatch import receiver

from analytics.services import stage_visit_record_transition
from applications.signals import application_transitioned


@receiver(application_transitioned, dispatch_uid="analytics.record_stage_visit")
def record_stage_visit(sender, *, application, transition, from_state, to_state, actor=None,
                       event=None, **kwargs) -> None:
    stage_visit_record_transition(
        application=application, transition=transition, from_state=from_state,
        to_state=to_state, actor=actor,
        actor_role=getattr(event, "actor_role", "") if event is not None else "",
        at=getattr(event, "at", None),
    )
