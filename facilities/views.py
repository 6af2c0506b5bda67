"""Facilities' pages. The owner's on the portal: their company's facilities with what is
available, and a drawdown request under an active one. The staff's: the list of the branch subtree's facilities with what is
available, one facility with its drawdowns, and the risk officer's freeze, unfreeze and
close. Each POST calls one service; a refusal is shown on the page, never a 500."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from applications.views import StaffRequiredMixin
from common.errors import DomainError, Forbidden, InvalidInput, NotFound
from facilities import selectors, services
from facilities.models import Facility
from org.audience import open_to_owners
from org.permissions import has_role_perm
from org.second_factor import step_up_required
from portal.views import PortalRequiredMixin

TRANSITIONS = ("freeze", "unfreeze", "close")
DONE = {
    "freeze": gettext_lazy("The facility is frozen: nothing is drawn until it is unfrozen."),
    "unfreeze": gettext_lazy("The facility is active again."),
    "close": gettext_lazy("The facility is closed."),
}


class FacilityListView(StaffRequiredMixin, View):
    def get(self, request):
        status = request.GET.get("status", "")
        facilities = list(
            selectors.facility_list(user=request.user, filters={"status": status})[:200]
        )
        available = selectors.facility_availabilities(facilities=facilities)
        rows = [{"facility": f, "availability": available[f.pk]} for f in facilities]
        return render(
            request,
            "facilities/list.html",
            {"rows": rows, "status": status, "statuses": Facility.Status.choices},
        )


class FacilityDetailView(StaffRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            facility = selectors.facility_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404 from None
        may_freeze = has_role_perm(request.user, services.FREEZE_PERMISSION)
        actions = [
            name
            for name in TRANSITIONS
            if may_freeze
            and (
                (name == "freeze" and facility.status == Facility.Status.ACTIVE)
                or (name == "unfreeze" and facility.status == Facility.Status.FROZEN)
                or (name == "close" and facility.status != Facility.Status.CLOSED)
            )
        ]
        return render(
            request,
            "facilities/detail.html",
            {
                "facility": facility,
                "availability": selectors.facility_availability(facility=facility),
                "drawdowns": selectors.facility_drawdowns(facility=facility),
                "monitoring": selectors.facility_monitoring(facility=facility),
                "actions": actions,
                "may_approve_drawdowns": has_role_perm(request.user, services.DRAWDOWN_PERMISSION),
            },
        )


class FacilityTransitionView(StaffRequiredMixin, View):
    """A risk officer's freeze, unfreeze or close from the facility's page."""

    def post(self, request, pk: int, action: str):
        if action not in TRANSITIONS:
            raise Http404
        try:
            services.facility_transition(
                facility_id=pk,
                transition=action,
                actor=request.user,
                reason=request.POST.get("reason", ""),
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
        return redirect("facility-detail", pk=pk)


class DrawdownQueueView(StaffRequiredMixin, View):
    """The drawdown approver's queue: the drawdowns of the branch subtree waiting for one,
    oldest first, with what the decision rests on and the approve and decline forms."""

    def get(self, request):
        if not has_role_perm(request.user, services.DRAWDOWN_PERMISSION):
            raise PermissionDenied
        return self.page(request)

    @staticmethod
    def page(request, *, errors: dict | None = None, entered: dict | None = None, status=200):
        drawdowns = list(selectors.drawdowns_awaiting_approver(user=request.user)[:100])
        return render(
            request,
            "facilities/drawdown_queue.html",
            {
                "rows": selectors.drawdown_queue_rows(user=request.user, drawdowns=drawdowns),
                "errors": errors or {},
                "entered": entered or {},
            },
            status=status,
        )


class DrawdownDecideView(StaffRequiredMixin, View):
    """Approve or decline a drawdown from the queue (drawdown_decide): a credit decision,
    confirmed with a fresh code as an approval step."""

    @step_up_required(return_to=lambda request, **kwargs: reverse("drawdown-queue"))
    def post(self, request, pk: int):
        if not has_role_perm(request.user, services.DRAWDOWN_PERMISSION):
            raise PermissionDenied  # before the form comes back with the queue on it
        entered = {
            "drawdown": pk,
            "decision": request.POST.get("decision", ""),
            "comment": request.POST.get("comment", "")[:2000],
        }
        try:
            drawdown = services.drawdown_decide(
                drawdown_id=pk,
                actor=request.user,
                decision=entered["decision"],
                comment=entered["comment"],
            )
        except NotFound:
            raise Http404 from None
        except Forbidden:
            raise PermissionDenied from None
        except InvalidInput as exc:
            errors = {k: [str(m) for m in v] for k, v in (exc.details or {}).items()}
            return DrawdownQueueView.page(
                request, errors={"drawdown": pk, **errors}, entered=entered, status=400
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _done(drawdown))
        return redirect("drawdown-queue")


def _done(drawdown) -> str:
    values = {"amount": f"{drawdown.amount:,.2f}", "currency": drawdown.currency}
    if drawdown.status == drawdown.Status.APPROVED:
        return _("The drawdown of %(amount)s %(currency)s is approved.") % values
    return _("The drawdown of %(amount)s %(currency)s is declined.") % values


# --- The owner's ----------------------------------------------------------------------------


@open_to_owners
class PortalFacilityListView(PortalRequiredMixin, View):
    """The company's facilities, what each has available, its drawdowns, and the form to
    draw under an active one."""

    def _page(self, request, status: int = 200, errors: dict | None = None, posted=None):
        facilities = list(selectors.facility_list(user=request.user))
        available = selectors.facility_availabilities(facilities=facilities)
        rows = [
            {
                "facility": f,
                "availability": available[f.pk],
                "drawdowns": list(selectors.facility_drawdowns(facility=f)[:20]),
            }
            for f in facilities
        ]
        context = {"rows": rows, "errors": errors or {}, "posted": posted or {}}
        return render(request, "facilities/portal_list.html", context, status=status)

    def get(self, request):
        return self._page(request)

    def post(self, request):
        facility_id = request.POST.get("facility", "")
        try:
            services.drawdown_request(
                facility_id=facility_id,
                actor=request.user,
                amount=request.POST.get("amount", ""),
                term_months=request.POST.get("term_months", ""),
                purpose=request.POST.get("purpose", "")[:2000],
            )
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            details = {k: [str(m) for m in v] for k, v in (exc.details or {}).items()}
            if not details:
                details = {"__all__": [str(exc.message)]}
            return self._page(
                request,
                status=exc.status_code,
                errors={"facility": facility_id, **details},
                posted=request.POST,
            )
        messages.success(request, _("Your drawdown request is received."))
        return redirect("portal-facilities")
