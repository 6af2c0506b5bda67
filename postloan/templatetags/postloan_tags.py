from django import template
from django.utils.translation import gettext as _
from django_fsm import has_transition_perm

from applications.models import ChangeKind, RepaymentMethod
from common.errors import NotFound
from org.permissions import has_role_perm
from org.selectors import is_staff_member
from postloan import selectors
from postloan.changes import loan_change_history
from postloan.models import Classification, Loan, OwnerRequest, Prepayment

register = template.Library()


@register.inclusion_tag("postloan/_panel.html", takes_context=True)
def postloan_panel(context, application):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if not is_staff_member(user):
        return {"detail": None}
    try:
        detail = selectors.loan_detail(user=user, application_id=application.pk)
    except NotFound:
        return {"detail": None}
    loan = detail["loan"]
    active = loan.status == Loan.Status.ACTIVE
    prepayments = list(selectors.loan_prepayments(loan=loan))
    owner_requests = list(selectors.loan_owner_requests(loan=loan)[:10])
    open_request = next((r for r in owner_requests if r.status == OwnerRequest.Status.OPEN), None)
    return {
        **_prepayment_context(request, user, application, loan, active),
        "prepayments": prepayments,
        "owner_requests": owner_requests,
        "open_request": open_request,
        "can_answer_request": open_request is not None
        and has_transition_perm(open_request.decline, user),
        "schedule_revisions": list(
            selectors.loan_schedule_revisions(loan=loan).select_related("change")
        ),
        "change_history": loan_change_history(application=application),
        "can_file_change": active and loan.relationship_manager_id == user.pk,
        "change_kinds": ChangeKind.choices,
        "repayment_methods": RepaymentMethod.choices,
        "can_confirm_prepayment": has_role_perm(user, "postloan.confirm_prepayment"),
        "can_cancel_prepayment": has_role_perm(user, "postloan.file_prepayment")
        or has_role_perm(user, "postloan.confirm_prepayment"),
        "request": request,
        "application": application,
        "detail": detail,
        "loan": loan,
        "position": detail["position"],
        "classifications": Classification.choices,
        "can_repay": active and has_role_perm(user, "postloan.record_repayment"),
        "can_flag": active and has_role_perm(user, "postloan.flag_loan"),
        "can_propose": active and has_role_perm(user, "postloan.propose_classification"),
        "can_write_off": active and has_role_perm(user, "postloan.propose_write_off"),
        "can_decide": has_role_perm(user, "postloan.decide_classification"),
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path() if request else "",
    }


@register.inclusion_tag("postloan/_change_panel.html", takes_context=True)
def loan_change_panel(context, application):
    """A change application's own facts: the loan it changes, its terms, the figures of its
    light review and its supplementary agreement (staff only)."""
    from postloan.models import LoanChange

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if not is_staff_member(user):
        return {"change": None}
    change = (
        LoanChange.objects.filter(application=application).select_related("reviewed_by").first()
    )
    from applications.models import IN_PLACE_CHANGES

    return {
        "change": change,
        "application": application,
        "can_review": change is not None
        and application.status == "investigation"
        and application.investigator_id == user.pk,
        "can_apply": change is not None
        and application.status == "approved"
        and application.change_kind in IN_PLACE_CHANGES
        and has_role_perm(user, "applications.record_contract"),
        "csrf_token": context.get("csrf_token"),
    }


def _prepayment_context(request, user, application, loan, active: bool) -> dict:
    """The quote form's figures: asked for with ?quote_date=...&quote_kind=...&quote_principal=
    on the page (today's full payoff otherwise), or the reason it cannot be quoted."""
    from datetime import date

    from common.errors import DomainError
    from postloan.services import parse_amount

    if not active:
        return {"quote": None}
    params = request.GET if request else {}
    # The owner's open request prefills the quote and the filing, until staff quote another.
    asked = loan.owner_requests.filter(
        status=OwnerRequest.Status.OPEN, kind__in=Prepayment.Kind.values
    ).first()
    if asked is not None and not params.get("quote_date"):
        params = {
            "quote_date": asked.value_date.isoformat(),
            "quote_kind": asked.kind,
            "quote_principal": str(asked.principal or ""),
        }
    value_date = kind = principal = None
    problem = ""
    try:
        if params.get("quote_date"):
            value_date = date.fromisoformat(params["quote_date"])
        kind = params.get("quote_kind") or Prepayment.Kind.FULL
        if params.get("quote_principal"):
            # The one reading of a typed amount (digits, thousands, two decimals): Decimal()
            # alone takes NaN and 1e999, which the quote cannot price.
            principal = parse_amount(params["quote_principal"])
            if principal is None:
                raise ValueError(params["quote_principal"])
    except ValueError:
        problem = _("Enter a date as YYYY-MM-DD and the principal as a number.")
    quote = None
    if not problem:
        try:
            quote = selectors.loan_payoff_quote(
                user=user,
                application_id=application.pk,
                value_date=value_date,
                kind=kind if kind in Prepayment.Kind.values else Prepayment.Kind.FULL,
                principal=principal,
            )
        except DomainError as exc:
            problem = str(exc.message)
    return {
        "asked": asked,
        "quote": quote,
        "quote_problem": problem,
        "quote_params": {
            "date": params.get("quote_date", ""),
            "kind": kind or "full",
            "principal": params.get("quote_principal", ""),
        },
        "prepayment_kinds": Prepayment.Kind.choices,
        "can_file_prepayment": has_role_perm(user, "postloan.file_prepayment"),
    }
