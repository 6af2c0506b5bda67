"""What a loan application's transitions require and what they do, in one place.

`applications.services.application_transition` checks scope, role and state, then asks this
module, in this order:

1. `duty_violation`: the segregation-of-duties rules of the transition (`DUTY_RULES`; the
   first reason refuses with 403 and is logged);
2. `missing_for`: its gates, what must be complete first (`GATES`; every missing item is
   listed in the 409);

then takes the transition, saves, writes the audit row, and calls
3. `effects_run`: what the transition does in the stages, in order, inside the transition's
   transaction. A stage effect writes what must commit with the transition (records,
   deadlines, tasks) and sends mail, Celery tasks and PDFs with `transaction.on_commit`; an
   effect that raises rolls the whole transition back.

Rules and gates have no side effects: they run inside the transition's transaction, and the
duty rules also when the available actions are listed.

Imports: the stage services import `applications.services` (to take transitions of their
own), so this module, which imports the stage services, is imported by
`applications.services` at call time, not at the top; nothing else imports it at load time.
"""

from django.utils.translation import gettext as _

from analytics.services import stage_visit_record_transition
from applications.models import RENEWALS, LoanApplication, Status
from applications.permissions import (
    filed_it,
    investigated_it,
    manages_it,
    recorded_the_disbursement,
)
from approvals import services as approvals_services
from datasources import services as datasources_services
from disbursement.models import Contract, Disbursement
from disbursement.services import offer_create, unsatisfied_conditions
from facilities import services as facilities_services
from intake import services as intake_services
from intake.selectors import checklist_missing
from investigation import services as investigation_services
from investigation.selectors import investigation_missing
from notifications.services import application_status_notify
from postloan import changes as loan_changes
from postloan.services import loan_open
from sla.services import clock_follow_application

# --- Gates: what must be complete before the transition (409 with the list) ----------------


def submit_checklist_complete(application: LoanApplication, *, data: dict) -> list[str]:
    """Every required document uploaded and not rejected."""
    return checklist_missing(application, transition="submit")


def investigation_checklist_complete(application: LoanApplication, *, data: dict) -> list[str]:
    """Every required document accepted by the bank."""
    return checklist_missing(application, transition="start_investigation")


def investigation_complete(application: LoanApplication, *, data: dict) -> list[str]:
    """A memo counts only if it was generated after the investigation last changed and after
    the last return from approval: approvers always read a memo that matches the data."""
    return investigation_missing(application=application)


def a_contract_is_recorded(application: LoanApplication, *, data: dict) -> list[str]:
    if Contract.objects.filter(application=application).exists():
        return []
    return [_("The signed contract (accept the offer on the portal, or record it).")]


def a_disbursement_is_recorded_and_conditions_are_met(
    application: LoanApplication, *, data: dict
) -> list[str]:
    missing = []
    if not Disbursement.objects.filter(application=application).exists():
        missing.append(_("A disbursement recorded by a disbursement officer."))
    missing.extend(
        _("Condition precedent not satisfied: %(text)s") % {"text": text}
        for text in unsatisfied_conditions(application)
    )
    # A drawdown's loan: its facility still active (a freeze stops drawdowns at once).
    missing.extend(facilities_services.drawdown_refusal_at_payout(application))
    return missing


GATES = {
    "submit": (submit_checklist_complete,),
    "start_investigation": (investigation_checklist_complete,),
    "send_to_approval": (investigation_complete,),
    "sign_contract": (a_contract_is_recorded,),
    "disburse": (a_disbursement_is_recorded_and_conditions_are_met,),
}


# --- Segregation of duties: who may not take the transition (403, logged) ------------------


def filer_and_investigator_never_decide(
    application: LoanApplication, *, actor, data: dict
) -> str | None:
    """The core segregation rule (审贷分离)."""
    if filed_it(actor, application) or manages_it(actor, application):
        return _(
            "You filed or manage this application, so you may not take an approval decision on it."
        )
    if investigated_it(actor, application):
        return _(
            "You investigated this application, so you may not take an approval decision on it."
        )
    return None


def decisions_come_from_the_approval_route(
    application: LoanApplication, *, actor, data: dict
) -> str | None:
    """A person's decision must be taken at a task of the route by someone allowed to act
    there (role, 审贷分离, one step per person, limit at the grade). `data["approval_task"]`:
    the task the decision was taken at (as approvals.services read it, locked), or its id."""
    return approvals_services.approval_decision_refusal(
        application=application, actor=actor, task=data.get("approval_task")
    )


def maker_never_checks(application: LoanApplication, *, actor, data: dict) -> str | None:
    if recorded_the_disbursement(actor, application):
        return _(
            "You recorded this disbursement, so another person must confirm it (maker-checker)."
        )
    return None


DECISION_RULES = (filer_and_investigator_never_decide, decisions_come_from_the_approval_route)
DUTY_RULES = {
    "approve": DECISION_RULES,
    "decline": DECISION_RULES,
    "return_to_investigation": DECISION_RULES,
    "disburse": (maker_never_checks,),
}


# A change to a live loan (postloan.changes) is reviewed on the loan's figures, not on a new
# checklist and investigation: its own gates replace these up to approval.
CHANGE_OWN_GATES = frozenset({"submit", "start_investigation", "send_to_approval", "apply_change"})


def missing_for(application: LoanApplication, transition: str, *, data: dict) -> list[str]:
    """What blocks `transition` (empty when nothing does)."""
    if application.is_change and transition in CHANGE_OWN_GATES:
        return loan_changes.change_missing(application, transition)
    return [item for check in GATES.get(transition, ()) for item in check(application, data=data)]


def duty_violation(
    application: LoanApplication, transition: str, *, actor, data: dict
) -> str | None:
    """The first reason `actor` may not take `transition`, or None."""
    if application.is_change:
        reason = loan_changes.change_duty_violation(application, transition, actor=actor)
        if reason:
            return reason
    for rule in DUTY_RULES.get(transition, ()):
        reason = rule(application, actor=actor, data=data)
        if reason:
            return reason
    return None


# --- Effects: what the transition does, in this order ---------------------------------------


def effects_run(
    *,
    application: LoanApplication,
    transition: str,
    from_state: str,
    to_state: str,
    actor,
    event,
    data: dict,
) -> None:
    """Run after the save and the audit row, in the transition's transaction.

    The order is the one the signal receivers ran in (INSTALLED_APPS, the stage order):
    intake, investigation, approvals, disbursement, facilities, post-loan, SLA, notifications,
    analytics.
    No effect reads what a later one writes; the order is kept so the audit trail of one
    transition (pre-screen, route, offer, loan) reads in process order as before.
    """
    # Intake: the pre-screen runs with the submit and is recorded in its transaction.
    if transition == "submit" and not application.is_change:
        intake_services.prescreen_on_submit(application=application, actor=actor)
    # External data: a person's step takes the case over from the data-driven route; the
    # owner's online submission asks the sources (after commit) for that route.
    datasources_services.data_route_on_transition(
        application=application, transition=transition, actor=actor
    )
    if transition == "submit":
        datasources_services.data_route_on_submit(application=application, actor=actor)
    # Investigation: opened on start, reopened on a return from approval.
    investigation_services.on_application_transitioned(
        application=application, transition=transition
    )
    # Approvals: the route opens on entering approval, waits with the applicant, closes on
    # leaving.
    approvals_services.on_application_transitioned(
        application=application,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        decided_at=data.get("approval_task"),
    )
    # Disbursement: the offer is made on approval (its PDF after commit); an extension or a
    # restructuring has a supplementary agreement instead (postloan.changes.change_apply).
    if to_state == Status.APPROVED and not application.changes_in_place:
        offer_create(application=application)
    # Facilities: a facility application's approval opens the facility, its signed contract
    # activates it.
    if transition == "approve":
        facilities_services.facility_open(application=application)
    if transition == "sign_contract":
        facilities_services.facility_activate_on_contract(application=application, actor=actor)
    # Post-loan: the loan record opens on disbursement.
    if to_state == Status.DISBURSED:
        loan_open(application=application, actor=actor, data=data)
        # A renewal's payout repays the loan it renews, the same day.
        if application.change_kind in RENEWALS:
            loan_changes.renewal_settle_on_payout(application=application, actor=actor, data=data)
    # SLA: the application's clocks follow its status.
    clock_follow_application(application=application, from_state=from_state, to_state=to_state)
    # Notifications: the applicants hear of the new status; its relationship manager of a
    # decision, and the disbursement officers of an accepted offer (mail after commit).
    application_status_notify(
        application=application, from_state=from_state, to_state=to_state, actor=actor
    )
    # Analytics: the stage just left is recorded with its duration.
    stage_visit_record_transition(
        application=application,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_role=event.actor_role,
        at=event.at,
    )
