"""Hooks into the application record: the route is fixed when it enters approval, and the
segregation-of-duties rules for approval decisions."""

from django.dispatch import receiver
from django.utils.translation import gettext as _

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
    from approvals.models import ApprovalTask
    from approvals.services import step_checked_under_lock, step_refusal

    if actor is None or application.status != "in_approval":
        return None  # system decisions, and declines outside approval (pre-screen)
    task_id = data.get("approval_task")
    if task_id and step_checked_under_lock(task_id=task_id, application_id=application.pk,
                                           actor=actor):
        return None  # task_decide checked this actor at this step, the task locked
    task = (ApprovalTask.objects.select_related("record")
            .filter(pk=task_id, application_id=application.pk).first()
            if task_id else None)
    if task is None:
        return _("Approval decisions are taken at a step of the approval route.")
    refusal = step_refusal(task=task, actor=actor, application=application)
    return refusal[1] if refusal else None
