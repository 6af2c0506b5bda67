"""What an SME owner sees of their own company's applications, in plain language. The
portal's pages (portal.views) and its API (portal.api) read it from here, so the two show
the same and nothing internal to the bank: no route, grade or score, no staff comments or
names other than their relationship manager's, no monitoring."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications import labels
from applications.models import LoanApplication, Status
from applications.selectors import applicant_company_id, application_get, application_list
from approvals.models import DeclineReason
from audit.models import AuditEvent
from audit.selectors import application_timeline
from common.errors import InvalidInput, NotFound
from customers.models import Company
from intake.models import AdmissionFacts
from intake.selectors import admission_criteria, product_get_published
from postloan.models import Classification, Loan, Repayment
from postloan.selectors import loan_position_for

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
    """The repayments received on the loan, oldest first (none before it is paid out); not
    the interest a restructuring capitalised, which no money paid (the change shows it)."""
    return list(
        Repayment.objects.filter(loan__application=application)
        .exclude(source=Repayment.Source.CAPITALISED)
        .only("amount", "currency", "value_date")
        .order_by("value_date", "id")
    )


# The five-category class (五级分类) in words an owner understands, shown only where the bank
# chooses to (LOANFLOW_PORTAL_SHOWS_CLASSIFICATION).
PLAIN_CLASSIFICATION = {
    Classification.NORMAL: _("Your loan is in good standing."),
    Classification.SPECIAL_MENTION: _(
        "The bank is watching your loan more closely. Please talk to your relationship manager."
    ),
    Classification.SUBSTANDARD: _(
        "Your loan is in difficulty: repayments are seriously behind and the bank expects "
        "that part of it may not be repaid."
    ),
    Classification.DOUBTFUL: _("The bank doubts that your loan will be repaid in full."),
    Classification.LOSS: _("The bank considers your loan unrecoverable."),
}


def portal_loan(application: LoanApplication, *, as_of: date | None = None) -> dict | None:
    """Where the owner's loan stands once paid out (None before): what has been paid, what
    is due next and when, what is overdue and since when, the principal still owed, and the
    class in plain words where the bank shows it. The figures are the loan's position
    (postloan.daily.loan_positions), the statement the bank's pages and the nightly job use."""
    loan = Loan.objects.filter(application=application).first()
    if loan is None:
        return None
    from applications.models import ChangeKind
    from postloan.changes import loan_change_history

    history = loan_change_history(application=application)
    requests = portal_owner_requests(application)
    return {
        **_loan_summary(loan, as_of=as_of),
        **history,
        "requests": requests,
        "change_kinds": ChangeKind.choices,
        # One open request a loan: while one is with the bank, the owner waits or withdraws.
        "can_ask": loan.status == Loan.Status.ACTIVE
        and not any(r["can_withdraw"] for r in requests),
    }


def portal_loans(*, applications, as_of: date | None = None) -> dict[int, dict]:
    """{application id: portal_loan} for those of the applications that are loans (the home
    page's sign of what is overdue or due next, from the same position as the loan's page)."""
    loans = Loan.objects.filter(application__in=[a.pk for a in applications])
    return {loan.application_id: _loan_summary(loan, as_of=as_of) for loan in loans}


def _loan_summary(loan: Loan, *, as_of: date | None) -> dict:
    position = loan_position_for(loan=loan, as_of=as_of)
    overdue = [row for row in position.instalments if row.status == "overdue"]
    upcoming = next((row for row in position.instalments if row.status in ("due", "partial")), None)
    standing = ""
    if settings.LOANFLOW_PORTAL_SHOWS_CLASSIFICATION:
        standing = str(PLAIN_CLASSIFICATION.get(loan.classification, ""))
    return {
        "currency": loan.currency,
        "principal": loan.principal,
        "paid_total": position.paid_total,
        "paid_instalments": position.paid_instalments,
        "instalment_count": len(position.instalments),
        "next_due_date": upcoming.due_date if upcoming else None,
        "next_due_amount": upcoming.total - upcoming.paid if upcoming else None,
        "overdue_amount": sum((row.total - row.paid for row in overdue), Decimal("0.00")),
        "overdue_instalments": len(overdue),
        "overdue_since": overdue[0].due_date if overdue else None,
        "days_overdue": position.days_past_due if overdue else 0,
        "outstanding_principal": position.outstanding_principal,
        "outstanding_total": position.outstanding_total,
        "overdue_interest": position.overdue_interest_unpaid,
        "standing": standing,
    }


def portal_payoff(application: LoanApplication, *, as_of: date | None = None):
    """What repaying the owner's loan in full today would cost (postloan.payoff), or None
    when it is not an active loan."""
    from postloan.payoff import PrepaymentRefused, payoff_quote

    loan = (
        Loan.objects.filter(application=application, status=Loan.Status.ACTIVE)
        .select_related("application__product")
        .first()
    )
    if loan is None:
        return None
    try:
        return payoff_quote(loan=loan, value_date=as_of or timezone.localdate())
    except PrepaymentRefused:
        return None


# What became of an owner's request, in their words (a filed prepayment reads as its
# prepayment stands, a filed change as its application).
REQUEST_STATUS_TEXT = {
    "open": _("With your relationship manager."),
    "declined": _("Declined by the bank."),
    "withdrawn": _("Withdrawn by you."),
    "filed": _("Filed by the bank as a change application: you will see it under the changes."),
    "requested": _("Filed by the bank: it is done once your payment is received and confirmed."),
    "confirmed": _("Done: the schedule on this page is the one that follows it."),
    "cancelled": _("Cancelled by the bank."),
}


def portal_owner_requests(application: LoanApplication) -> list[dict]:
    """The owner's requests on the loan (prepayments and changes), newest first, with where
    each stands."""
    from postloan.models import OwnerRequest

    rows = []
    for request in (
        OwnerRequest.objects.filter(loan__application=application)
        .select_related("prepayment", "change")
        .order_by("-created_at", "-id")[:20]
    ):
        stage = request.prepayment.status if request.prepayment else request.status
        rows.append(
            {
                "id": request.pk,
                "kind": request.kind,
                "kind_display": request.kind_display,
                "is_prepayment": request.is_prepayment,
                "value_date": request.value_date,
                "principal": request.principal,
                "note": request.note,
                "status": stage,
                "status_text": str(REQUEST_STATUS_TEXT[stage]),
                "reason": request.answer if request.status == OwnerRequest.Status.DECLINED else "",
                "total": request.prepayment.total if request.prepayment else None,
                "change": request.change_id,
                "change_reference": request.change.reference if request.change else "",
                "created_at": request.created_at,
                "can_withdraw": request.status == OwnerRequest.Status.OPEN,
            }
        )
    return rows


def portal_prepayment_quote(
    application: LoanApplication, *, value_date: date | None, kind: str, principal=None
) -> dict:
    """A prepayment quote for the owner (postloan.payoff) on a date they may ask for, and
    for a partial prepayment the schedule that would follow it: {"quote", "schedule_after",
    "problem"} (the problem in plain words when it cannot be quoted)."""
    from postloan.payoff import PrepaymentRefused, payoff_quote, rebuilt_schedule
    from postloan.selectors import prepayment_request_dates

    earliest, latest = prepayment_request_dates()
    value_date = value_date or earliest
    answer = {"quote": None, "schedule_after": [], "problem": "", "problem_field": None}
    loan = (
        Loan.objects.filter(application=application, status=Loan.Status.ACTIVE)
        .select_related("application__product")
        .first()
    )
    if loan is None:
        answer["problem"] = gettext("The loan is no longer active.")
        return answer
    if not earliest <= value_date <= latest:
        answer["problem"] = gettext("Choose a date from %(today)s to %(latest)s.") % {
            "today": earliest.isoformat(),
            "latest": latest.isoformat(),
        }
        answer["problem_field"] = "value_date"
        return answer
    try:
        quote = payoff_quote(loan=loan, value_date=value_date, kind=kind, principal=principal)
        if kind not in quote.kinds_allowed:
            answer["problem"] = gettext("The product does not allow this kind of prepayment.")
            answer["problem_field"] = "kind"
            return answer
        if kind != "full":
            answer["schedule_after"] = rebuilt_schedule(loan=loan, quote=quote)
    except PrepaymentRefused as exc:
        answer["problem"], answer["problem_field"] = str(exc.message), exc.field
        return answer
    answer["quote"] = quote
    return answer


# --- Before applying --------------------------------------------------------------------------


def portal_eligibility_prefill(*, user) -> dict:
    """What the bank knows of the owner's company that the eligibility check asks for."""
    company = (
        Company.objects.filter(pk=applicant_company_id(user))
        .only("registration_date", "industry_code")
        .first()
    )
    if company is None:
        return {}
    return {
        "registration_date": company.registration_date,
        "industry_code": company.industry_code,
    }


def portal_eligibility_check(
    *,
    product_code: str,
    registration_date: date,
    industry_code: str,
    amount: Decimal,
    term_months: int,
    guarantee_type: str,
) -> dict:
    """Which of a product's admission criteria the owner's facts meet, in plain words: the
    submission's own pre-screen rules (intake.selectors.admission_criteria), except the
    negative list, which is neither read nor mentioned. Nothing is created or written, so
    nothing is audited (a read, like opening the product's page). InvalidInput on `product`
    or `registration_date`."""
    product = product_get_published(code=product_code)
    errors = {}
    if product is None:
        errors["product"] = [gettext("This product is not open for applications.")]
    if registration_date > timezone.localdate():
        errors["registration_date"] = [gettext("The registration date cannot be in the future.")]
    if errors:
        raise InvalidInput(details=errors)
    facts = AdmissionFacts(
        registration_date=registration_date,
        industry_code=industry_code.strip().upper(),
        amount=amount,
        term_months=term_months,
        guarantee_type=guarantee_type,
    )
    criteria = admission_criteria(product=product, facts=facts)
    return {
        "product": product,
        "eligible": all(criterion.met for criterion in criteria),
        "criteria": criteria,
    }
