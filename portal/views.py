"""The applicant portal: an SME owner's own company's applications, in plain language.

Only users with the applicant role and a company may enter; staff are sent to the staff
pages. An application of another company is answered with 404, never 403."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import AccessMixin
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.views import View

from applications import labels
from applications.models import Status
from applications.selectors import applicant_company_id, application_get, application_list
from applications.views import is_portal_user
from audit.models import AuditEvent
from audit.selectors import application_timeline
from common.errors import NotFound


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if is_portal_user(self.request.user):
            return resolve_url("portal-home")
        return resolve_url("home")


class PortalLogoutView(auth_views.LogoutView):
    next_page = "portal-login"


class PortalRequiredMixin(AccessMixin):
    login_url = "portal-login"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_portal_user(request.user):
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)


class PortalHomeView(PortalRequiredMixin, View):
    def get(self, request):
        applications = application_list(user=request.user)
        company = request.user.applicant_profile.company
        return render(
            request,
            "portal/home.html",
            {
                "company": company,
                "applications": applications,
            },
        )


def portal_steps(application) -> list[dict]:
    """The progress bar: each main step done, current or still ahead."""
    order = [step for step, _label in labels.PORTAL_STEPS]
    status = application.status
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
        steps.append({"label": label, "state": state})
    return steps


class PortalApplicationView(PortalRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = application_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404 from None
        if application.company_id != applicant_company_id(request.user):
            raise Http404
        events = [
            {
                "at": event.at,
                "status": event.to_state,
                "text": labels.PORTAL_STATUS_TEXT.get(event.to_state, ""),
            }
            for event in application_timeline(application=application)
            if event.kind == AuditEvent.Kind.TRANSITION
            and event.to_state
            or event.action == "create"
        ]
        ended = application.status in (Status.DECLINED, Status.WITHDRAWN)
        return render(
            request,
            "portal/application.html",
            {
                "application": application,
                "status_text": labels.PORTAL_STATUS_TEXT.get(application.status, ""),
                "events": events,
                "steps": [] if ended else portal_steps(application),
            },
        )
