"""Application-level clocks follow the application's status (same transaction)."""

from django.dispatch import receiver

from applications.models import FINAL_STATUSES, Status
from applications.signals import application_transitioned
from org.roles import Role
from sla import services

APPLICATION = "applications.loanapplication"

# The step whose clock runs while the application is in a status, and who owns it.
STEP_FOR_STATUS = {
    Status.SUBMITTED: ("intake_check", Role.RELATIONSHIP_MANAGER),
    Status.INVESTIGATION: ("investigation", Role.RELATIONSHIP_MANAGER),
    Status.APPROVED: ("contract", Role.RELATIONSHIP_MANAGER),
    Status.CONTRACT_SIGNED: ("disbursement", Role.DISBURSEMENT_OFFICER),
}
APPLICATION_STEPS = {step for step, _role in STEP_FOR_STATUS.values()}


@receiver(application_transitioned, dispatch_uid="sla_application_clocks")
def application_clocks(sender, application, transition, from_state, to_state, **kwargs):
    if to_state == Status.INFO_REQUESTED:
        services.clock_pause_application(application=application)
        return
    if from_state == Status.INFO_REQUESTED:
        services.clock_resume_application(application=application)
    if to_state in FINAL_STATUSES or to_state == Status.DISBURSED:
        services.clock_stop_application(application=application)
        return
    wanted = STEP_FOR_STATUS.get(to_state)
    # The other steps' clocks stop (one statement); the status's own clock starts.
    services.clock_stop(subject_type=APPLICATION, subject_id=application.pk,
                        steps=APPLICATION_STEPS - ({wanted[0]} if wanted else set()))
    if wanted:
        step, role = wanted
        owner_id = None
        if step == "investigation":
            owner_id = application.investigator_id or application.relationship_manager_id
        elif role == Role.RELATIONSHIP_MANAGER:
            owner_id = application.relationship_manager_id
        services.clock_start(subject_type=APPLICATION, subject_id=application.pk, step=step,
                             application=application, owner_id=owner_id, role=role,
                             branch=application.branch)
