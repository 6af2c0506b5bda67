"""Hooks into the application record: the route is fixed when it enters approval, and the
segregation-of-duties rules for approval decisions."""

from django.dispatch import receiver

from applications.rules import duty_rule
from applications.signals import application_transitioned


@receiver(application_transitioned, dispatch_uid="approvals.on_transition")
def approvals_follow_transition(sender, *, application, transition, from_state, to_state,
                                actor, **kwargs):
    from approvals.services import on_application_transitioned

    on_application_transitioned(application=application, transition=transition,
                                from_state=from_state, to_state=to_state, actor=actor)


@duty_rule("approve", "decline", "return_to_investigation")
def decisions_come_from_the_approval_route(application, *, actor, data) -> str | None:
    """A person's decision must be taken at a task of the route by someone allowed to act
    there (role, 审贷分离, one step per person, limit at the grade)."""
    from approvals.services import approval_decision_refusal

    return approval_decision_refusal(application=application, actor=actor,
                                     task_id=data.get("approval_task"))
