from django import template

from common.errors import NotFound
from org.permissions import has_role_perm
from org.selectors import is_staff_member
from postloan import selectors
from postloan.models import Classification, Loan

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
    return {
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
