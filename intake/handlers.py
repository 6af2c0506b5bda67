"""Intake's hooks into the loan record: the checklist gates and the pre-screen on submit."""

from django.db import transaction
from django.dispatch import receiver

from applications.rules import gate
from applications.signals import application_transitioned
from intake.selectors import checklist_missing


@gate("submit")
def submit_checklist_complete(application, *, data) -> list[str]:
    return checklist_missing(application, transition="submit")


@gate("start_investigation")
def investigation_checklist_complete(application, *, data) -> list[str]:
    return checklist_missing(application, transition="start_investigation")


@receiver(application_transitioned, dispatch_uid="intake_prescreen_on_submit")
def prescreen_on_submit(sender, *, application, transition, actor, **kwargs):
    """The pre-screen runs with the submit and is recorded in its transaction; a failure is
    declined by the system right after the submit commits, so both stay in the trail."""
    if transition != "submit":
        return
    from intake.services import prescreen_decline, prescreen_record

    result = prescreen_record(application=application, actor=actor)
    if not result.passed:
        application_id, result_id = application.pk, result.pk
        transaction.on_commit(
            lambda: prescreen_decline(application_id=application_id, result_id=result_id))
