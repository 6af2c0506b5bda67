"""Human labels for transitions, audit actions and roles, shared by staff pages and the portal."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from applications.models import Status
from approvals.models import route_reason_text
from common.i18n import coded_text
from datasources.texts import SOURCE_ACTION_LABELS
from org.roles import Role

ACTION_LABELS = {
    "create": _("Filed the application"),
    "edit_draft": _("Edited the draft"),
    "submit": _("Submit"),
    "start_investigation": _("Start investigation"),
    "send_to_approval": _("Send to approval"),
    "approve": _("Approve"),
    "decline": _("Decline"),
    "return_to_investigation": _("Return to investigation"),
    "request_information": _("Request information from the applicant"),
    "resume": _("Resume"),
    "sign_contract": _("Record the signed contract"),
    "disburse": _("Disburse"),
    "close": _("Close (repaid)"),
    "write_off": _("Write off"),
    "withdraw": _("Withdraw"),
    # Changes to a live loan (postloan.changes)
    "apply_change": _("Applied the change on its supplementary agreement"),
    "change_file": _("Filed a change to the loan"),
    "change_review_confirm": _("Confirmed the change's figures"),
    # The owner's requests (postloan.services.owner_request_*); the change_request_* and
    # prepayment_request_* rows were written before the two kinds of request were one.
    "owner_request_ask": _("The owner asked for a prepayment or a change to the loan"),
    "owner_request_file": _("Filed the owner's request"),
    "owner_request_decline": _("Declined the owner's request"),
    "owner_request_withdraw": _("The owner withdrew their request"),
    "change_request_file": _("The owner asked for a change to the loan"),
    "change_request_filed": _("Filed the owner's request as a change"),
    "change_request_decline": _("Declined the owner's request for a change"),
    "renewal_repaid": _("Repaid by the renewal's payout"),
    "interest_capitalised": _("The past-due interest became principal of the new schedule"),
    # Intake
    "company_create": _("Registered the company"),
    "guarantor_add": _("Added a guarantor"),
    "guarantor_remove": _("Removed a guarantor"),
    "collateral_add": _("Added collateral"),
    "collateral_remove": _("Removed collateral"),
    "document_upload": _("Uploaded a document"),
    "document_accept": _("Accepted a document"),
    "document_reject": _("Rejected a document"),
    "info_request": _("Asked the applicant for information"),
    "info_request_answer": _("The applicant answered a request"),
    "info_request_cancel": _("Cancelled an information request"),
    "assign_relationship_manager": _("Assigned the relationship manager"),
    "prescreen_pass": _("Passed the pre-screen"),
    "prescreen_fail": _("Failed the pre-screen"),
    # Investigation
    "investigation_answers": _("Answered the questionnaire"),
    "investigation_site_visit": _("Recorded the site visit"),
    "investigation_photo": _("Added a site-visit photo"),
    "investigation_financials": _("Entered the financial figures"),
    "investigation_guarantor_add": _("Assessed a guarantor"),
    "investigation_guarantor_remove": _("Removed a guarantor's assessment"),
    "investigation_collateral_add": _("Valued collateral"),
    "investigation_collateral_remove": _("Removed a collateral valuation"),
    "investigation_verification": _("Recorded a verification"),
    "investigation_assessment": _("Recorded the assessment"),
    "investigation_score": _("Scored the application"),
    "investigation_memo_request": _("Requested the credit memo"),
    "investigation_memo_retry": _("Retried the credit memo"),
    "investigation_memo_ready": _("The credit memo is ready"),
    # Approval
    "route_fixed": _("Approval route fixed"),
    "claim": _("Claimed the approval task"),
    "release": _("Released the approval task"),
    "reassign": _("Reassigned the approval task"),
    "claim_expired": _("The claim on the approval task expired"),
    "step_approve": _("Approved at the step"),
    "step_approve_with_conditions": _("Approved with conditions at the step"),
    "step_decline": _("Declined at the step"),
    "step_return_to_investigation": _("Returned to the investigator"),
    "step_request_information": _("Requested information at the step"),
    "committee_vote": _("Committee vote"),
    "committee_close": _("Committee decision"),
    "post_review_queued": _("Automatic approval queued for review"),
    "post_review_confirm": _("Automatic approval confirmed on review"),
    "post_review_concern": _("Concern raised on an automatic approval"),
    # Contract and disbursement
    "offer_created": _("Offer letter made"),
    "offer_accepted": _("Offer accepted"),
    "contract_recorded": _("Contract recorded"),
    "condition_satisfied": _("Condition satisfied"),
    "disbursement_recorded": _("Disbursement recorded"),
    "schedule_fixed": _("Repayment schedule fixed"),
    "contract_prepared": _("Contract prepared"),
    "contract_signed_by_party": _("Contract signed by a party"),
    "contract_signed_by_bank": _("Contract signed for the bank"),
    "contract_sign_for_bank": _("Signing for the bank"),
    "contract_signed_pdf_stored": _("Signed contract stored"),
    "loan_file_entry_filed": _("Document filed in the loan file"),
    "loan_file_downloaded": _("Loan file downloaded"),
    # Post-loan
    "postloan_open": _("Post-loan monitoring started"),
    "repayment_record": _("Recorded a repayment"),
    "repayment_import": _("Imported repayments"),
    "inspection_complete": _("Completed an inspection"),
    "inspection_attachment": _("Attached a file to an inspection"),
    "alert_acknowledge": _("Acknowledged an early warning"),
    "alert_action_plan": _("Recorded an action plan"),
    "alert_close": _("Closed an early warning"),
    "loan_flag": _("Flagged the loan"),
    "classification_propose": _("Proposed a classification change"),
    "classification_decide": _("Decided a classification change"),
    "classification_approve": _("Approved a classification change"),
    "classification_reject": _("Rejected a classification change"),
    "classification_floor": _("Classification floor applied"),
    "write_off_propose": _("Proposed a write-off"),
    "write_off_decide": _("Decided a write-off"),
    "write_off_approve": _("Approved a write-off"),
    "write_off_reject": _("Rejected a write-off"),
    # The bank's exposure as of a time (postloan.snapshot)
    "exposure_snapshot_request": _("Asked for a refresh of the bank's exposure"),
    "exposure_snapshot_take": _("Took a snapshot of the bank's exposure"),
    "exposure_snapshot_fail": _("A snapshot of the bank's exposure failed"),
    # SLA
    "sla_reminder": _("Time-limit reminder"),
    "sla_escalation_1": _("Escalated (first level)"),
    "sla_escalation_2": _("Escalated (second level)"),
    # External data (datasources)
    **SOURCE_ACTION_LABELS,
}

# Actions that end or reverse an application are shown as "danger" buttons.
DANGER_ACTIONS = frozenset({"decline", "withdraw", "write_off", "return_to_investigation"})

# What the applicant reads in the portal for each state: plain language, no bank jargon.
PORTAL_STATUS_TEXT = {
    Status.DRAFT: _("Being prepared with your relationship manager."),
    Status.SUBMITTED: _("Submitted: we have received your application and are checking it."),
    Status.INVESTIGATION: _(
        "Your relationship manager is looking into your business (visit, documents, figures)."
    ),
    Status.IN_APPROVAL: _("Under credit review: the bank's approvers are deciding."),
    Status.INFO_REQUESTED: _("We need something from you: please see what is missing below."),
    Status.APPROVED: _("Approved: please review the offer and sign the contract."),
    Status.CONTRACT_SIGNED: _("Contract signed: the money is being prepared for payment."),
    Status.DISBURSED: _("Paid out: your loan is running; see your repayment schedule."),
    Status.CLOSED: _("Repaid in full and closed. Thank you."),
    Status.WRITTEN_OFF: _("Closed by the bank after repayment problems."),
    Status.DECLINED: _("Not approved this time. Your relationship manager can explain why."),
    Status.WITHDRAWN: _("Withdrawn: this application was stopped."),
    Status.CHANGE_APPLIED: _("The change is made: your loan follows its new schedule."),
}

# Portal progress bar: the main path an applicant sees.
PORTAL_STEPS = [
    (Status.SUBMITTED, _("Submitted")),
    (Status.INVESTIGATION, _("Checks")),
    (Status.IN_APPROVAL, _("Decision")),
    (Status.APPROVED, _("Offer")),
    (Status.DISBURSED, _("Paid out")),
]


def action_label(name: str) -> str:
    return str(ACTION_LABELS.get(name, name.replace("_", " ").capitalize()))


# The comments LoanFlow itself writes on transitions, by the code in the event's data
# ("note", with "note_params"): worded for each reader of the timeline.
EVENT_NOTES = {
    "offer_accepted_on_portal": _("Offer accepted on the portal."),
    "signed_contract_recorded": _("Signed contract recorded."),
    "fast_track_approved": _(
        "Approved automatically (fast track) by rule '%(rule)s' of authority matrix %(v)s."
    ),
    "repaid_in_full": _("Repaid in full."),
    "everything_answered": _("Everything requested was answered."),
    "prescreen_declined": _("Declined by the pre-screen."),
}


# Why an action was refused, by the refusal's code, for a reader whose language is not the one
# the refused person read the reason in (audit.services.audit_refusal keeps both).
REFUSAL_TEXTS = {
    "segregation_of_duties": _(
        "Refused by segregation of duties (审贷分离): whoever filed, manages or investigated "
        "the application, acted at another step or made the entry to confirm may not do this."
    ),
    "role": _("Refused: the person's role may not take this action."),
    "authority_limit": _(
        "Refused: the amount is above the person's authority limit at the application's grade."
    ),
    "not_claimer": _("Refused: someone else holds this task."),
    "not_branch_head": _("Refused: only the branch head may do this."),
    "not_chair": _("Refused: only the committee's chair closes the vote."),
}


def _same_language(one: str, other: str) -> bool:
    return one.startswith("zh") == other.startswith("zh")


def event_comment(event) -> str:
    """What a timeline entry says beyond its action, in the reader's language: texts the
    system wrote are worded from their codes (the stored text for older entries); what a
    person wrote is shown as written; a refusal's reason as the refused person read it, or its
    code's words for a reader of the other language."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == "refusal" and data.get("language"):
        reader = translation.get_language() or settings.LANGUAGE_CODE
        if not _same_language(data["language"], reader) and data.get("code") in REFUSAL_TEXTS:
            return str(REFUSAL_TEXTS[data["code"]])
        return event.comment
    if event.action == "route_fixed" and data.get("reason"):
        return route_reason_text(data["reason"], fallback=event.comment)
    if data.get("note") in EVENT_NOTES:
        return coded_text(EVENT_NOTES, data["note"], data.get("note_params") or {}, event.comment)
    return event.comment


def role_label(value: str) -> str:
    if value == "system":
        return str(_("System"))
    try:
        return str(Role(value).label)
    except ValueError:
        return value


def status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return value
