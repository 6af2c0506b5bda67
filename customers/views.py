"""The branch's page of company bindings: who acts for which company on the portal, the
claims that wait, and the staff's confirm and revoke (customers.services decides)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from common.errors import DomainError, Forbidden, NotFound
from customers.models import CompanyBinding
from customers.selectors import company_binding_list
from customers.services import company_binding_confirm, company_binding_revoke
from org.permissions import has_role_perm
from org.selectors import is_staff_member

PERMISSIONS = ("customers.confirm_companybinding", "customers.revoke_companybinding")
DECISIONS = {"confirm": company_binding_confirm, "revoke": company_binding_revoke}


def _may_manage(user) -> bool:
    return is_staff_member(user) and any(has_role_perm(user, p) for p in PERMISSIONS)


class CompanyBindingListView(LoginRequiredMixin, View):
    template_name = "customers/bindings.html"

    def get(self, request):
        if not _may_manage(request.user):
            raise PermissionDenied
        status = request.GET.get("status", "")
        context = {
            "bindings": company_binding_list(user=request.user, status=status),
            "status": status,
            "statuses": CompanyBinding.Status.choices,
            "Status": CompanyBinding.Status,
        }
        return render(request, self.template_name, context)


class CompanyBindingDecideView(LoginRequiredMixin, View):
    def post(self, request, pk: int, decision: str):
        decide = DECISIONS.get(decision)
        if decide is None:
            raise Http404
        try:
            binding = decide(binding_id=pk, by=request.user, reason=request.POST.get("reason", ""))
        except Forbidden:
            raise PermissionDenied from None
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            return render(
                request,
                "bad_request.html",
                {"message": str(exc.message)},
                status=exc.status_code,
            )
        text = (
            _("%(owner)s may now act for %(company)s.")
            if decision == "confirm"
            else _("%(owner)s no longer acts for %(company)s.")
        )
        messages.success(
            request, text % {"owner": binding.user.username, "company": binding.company.name}
        )
        return redirect("company-bindings")
