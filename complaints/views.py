"""Complaints' pages. The owner's on the portal: their company's complaints, the form to file
one, and one complaint with the bank's answer. The staff's: the list of their branch
subtree's complaints, the form to record one received by telephone, letter or in the branch,
and one complaint with its trail and the actions its handler may take. Each POST calls one
service; a refusal is shown on the page, never a 500."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views import View

from applications.views import StaffRequiredMixin
from common.errors import DomainError, Forbidden, InvalidInput, NotFound
from complaints import selectors, services
from complaints.forms import ComplaintRecordForm, PortalComplaintForm, TransitionForm
from complaints.models import TRANSITION_NAMES, Complaint
from org.audience import open_to_owners
from org.permissions import has_role_perm
from portal.forms import apply_errors
from portal.views import PortalRequiredMixin

PAGE_SIZE = 25


# --- The owner's ----------------------------------------------------------------------------


@open_to_owners
class PortalComplaintListView(PortalRequiredMixin, View):
    """The company's complaints, and the form to file one (?application= preselects it)."""

    template_name = "complaints/portal_list.html"

    def _page(self, request, form, status: int = 200):
        context = {
            "complaints": selectors.portal_complaint_list(user=request.user),
            "form": form,
        }
        return render(request, self.template_name, context, status=status)

    def _form(self, request, data=None, initial=None):
        applications = selectors.portal_complaint_applications(user=request.user)
        return PortalComplaintForm(data, initial=initial, applications=applications)

    def get(self, request):
        initial = {"application": request.GET.get("application") or ""}
        return self._page(request, self._form(request, initial=initial))

    def post(self, request):
        form = self._form(request, data=request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        data = form.cleaned_data
        try:
            complaint = services.complaint_file(
                actor=request.user,
                category=data["category"],
                text=data["text"],
                application_id=data["application"],
            )
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            apply_errors(form, exc)
            return self._page(request, form, status=400)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            return self._page(request, form, status=exc.status_code)
        messages.success(
            request,
            _("We received your complaint %(ref)s and will answer you.")
            % {"ref": complaint.reference},
        )
        return redirect("portal-complaint", pk=complaint.pk)


@open_to_owners
class PortalComplaintView(PortalRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            complaint = selectors.portal_complaint_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404 from None
        return render(request, "complaints/portal_detail.html", {"complaint": complaint})


# --- The staff's ----------------------------------------------------------------------------


def _may_record(user) -> bool:
    return has_role_perm(user, "complaints.record_complaint")


class ComplaintListView(StaffRequiredMixin, View):
    """The complaints of the staff member's branch subtree: open ones first, oldest first."""

    def get(self, request):
        status = request.GET.get("status", selectors.OPEN)
        mine = request.GET.get("mine") == "1"
        qs = selectors.complaint_list(user=request.user, status=status, mine=mine)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "complaints": page.object_list,
            "status": status,
            "mine": mine,
            "querystring": urlencode({"status": status, **({"mine": "1"} if mine else {})}),
            "statuses": [
                (selectors.OPEN, pgettext("complaints", "Open")),
                *Complaint.Status.choices,
            ],
            "may_record": _may_record(request.user),
        }
        return render(request, "complaints/list.html", context)


class ComplaintRecordView(StaffRequiredMixin, View):
    """Record a complaint received by telephone, letter or in the branch."""

    template_name = "complaints/record.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _may_record(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _page(self, request, form, status: int = 200):
        return render(request, self.template_name, {"form": form}, status=status)

    def get(self, request):
        return self._page(request, ComplaintRecordForm())

    def post(self, request):
        form = ComplaintRecordForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        data = form.cleaned_data
        try:
            complaint = services.complaint_record(
                actor=request.user,
                credit_code=data["credit_code"],
                application_reference=data["application"],
                category=data["category"],
                channel=data["channel"],
                text=data["text"],
                received_at=form.received_moment(),
            )
        except NotFound:
            form.add_error(
                "credit_code", _("No company with this code is a customer of your branches.")
            )
            return self._page(request, form, status=400)
        except Forbidden:
            raise PermissionDenied from None
        except InvalidInput as exc:
            apply_errors(form, exc)
            return self._page(request, form, status=400)
        messages.success(
            request, _("Complaint %(ref)s was recorded.") % {"ref": complaint.reference}
        )
        return redirect("complaint-detail", pk=complaint.pk)


class ComplaintDetailView(StaffRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            complaint = selectors.complaint_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404 from None
        context = {
            "complaint": complaint,
            "actions": selectors.complaint_actions(user=request.user, complaint=complaint),
            "trail": selectors.complaint_trail(complaint=complaint),
        }
        return render(request, "complaints/detail.html", context)


class ComplaintTransitionView(StaffRequiredMixin, View):
    """A handler's action from the detail page: acknowledge, resolve or reject."""

    def post(self, request, pk: int, action: str):
        if action not in TRANSITION_NAMES:
            raise Http404
        form = TransitionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("complaint-detail", pk=pk)
        text = form.cleaned_data["text"]
        try:
            services.complaint_transition(
                actor=request.user, complaint_id=pk, transition=action, text=text
            )
        except NotFound:
            raise Http404 from None
        except Forbidden:
            raise PermissionDenied from None
        except DomainError as exc:
            details = [str(m) for msgs in (exc.details or {}).values() for m in msgs]
            for line in details or [str(exc.message)]:
                messages.error(request, line)
        else:
            messages.success(request, str(DONE[action]))
        return redirect("complaint-detail", pk=pk)


DONE = {
    "acknowledge": gettext_lazy("The complaint is now being handled."),
    "resolve": gettext_lazy("The complaint is resolved; the customer was told."),
    "reject": gettext_lazy("The complaint is rejected; the customer was told."),
}
