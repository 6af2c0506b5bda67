"""Human labels for transitions, audit actions and roles, shared by staff pages and the portal."""

from django.utils.translation import gettext_lazy as _

from applications.models import Status
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
