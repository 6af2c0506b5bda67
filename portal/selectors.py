"""What an SME owner sees of their own company's applications, in plain language. The
portal's pages (portal.views) and its API (portal.api) read it from here, so the two show
the same and nothing internal to the bank: no route, grade or score, no staff comments or
names other than their relationship manager's, no monitoring."""

from django.db.models import QuerySet
from django.utils import translation

from applications import labels
from applications.models import LoanApplication, Status
from applications.selectors import applicant_company_id, application_get, application_list
from approvals.models import DeclineReason
from audit.models import AuditEvent
from audit.selectors import application_timeline
from common.errors import NotFound
from postloan.models import Repayment

# After these the progress bar has nothing left to show.
ENDED = (Status.DECLINED, Status.WITHDRAWN)


def portal_application_list(*, user) -> QuerySet[LoanApplication]:
    """The owner's company's applications, newest first."""
    return application_list(user=user).filter(company_id=applicant_company_id(user))


def portal_application_get(*, user, pk) -> LoanApplication:
    """One application of the owner's company (NotFound for any other, as for no such row)."""
    application = application_get(user=user, pk=pk)
    if application.company_id != applicant_company_id(user):
        raise NotFound()
    return application


def portal_status_text(status: str) -> str:
    """Where the application is, in a sentence meant for the owner."""
    return str(labels.PORTAL_STATUS_TEXT.get(status, ""))


def portal_steps(application: LoanApplication) -> list[dict]:
    """The progress bar: each main step done, current or still ahead (none once the
    application was declined or withdrawn)."""
    status = application.status
    if status in ENDED:
        return []
    order = [step for step, _label in labels.PORTAL_STEPS]
    if status == Status.INFO_REQUESTED:
        status = application.resume_status or Status.SUBMITTED
    position = {
        Status.CONTRACT_SIGNED: order.index(Status.APPROVED),
        Status.CLOSED: len(order),
        Status.WRITTEN_OFF: len(order),
    }.get(status)
    if position is None:
        position = order.index(status) if status in order else -1
    steps = []
    for index, (_step, label) in enumerate(labels.PORTAL_STEPS):
        state = "done" if index < position else "current" if index == position else "todo"
        steps.append({"label": str(label), "state": state})
    return steps


def portal_events(application: LoanApplication) -> list[dict]:
    """What has happened: each change of status with its plain sentence, never who did it
    or what staff wrote."""
    return [
        {"at": event.at, "status": event.to_state, "text": portal_status_text(event.to_state)}
        for event in application_timeline(application=application)
        if event.kind == AuditEvent.Kind.TRANSITION and event.to_state or event.action == "create"
    ]


def portal_decline_reasons(application: LoanApplication) -> list[str]:
    """Why the application was declined, in the texts the bank wrote for applicants (in the
    language of the request), never the approvers' comments."""
    if application.status != Status.DECLINED or not application.decline_reasons:
        return []
    language = translation.get_language() or application.language
    reasons = DeclineReason.objects.filter(code__in=application.decline_reasons)
    by_code = {reason.code: reason.text_for(language) for reason in reasons}
    return [by_code[code] for code in application.decline_reasons if code in by_code]


def portal_repayments(application: LoanApplication) -> list:
    """The repayments received on the loan, oldest first (none before it is paid out)."""
    return list(
        Repayment.objects.filter(loan__application=application)
        .only("amount", "currency", "value_date")
        .order_by("value_date", "id")
    )
