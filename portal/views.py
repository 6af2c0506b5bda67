"""The applicant portal: an SME owner's own company's applications, in plain language.

Only users with the applicant role and a company may enter; staff are sent to the staff
pages. An application of another company is answered with 404, never 403."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import AccessMixin
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.views import View

from applications.selectors import is_portal_user
from common.errors import NotFound
from org.audience import open_to_owners
from portal.selectors import (
    portal_application_get,
    portal_application_list,
    portal_decline_reasons,
    portal_events,
    portal_loan,
    portal_loans,
    portal_repayments,
    portal_status_text,
    portal_steps,
)


@open_to_owners
class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if is_portal_user(self.request.user):
            return resolve_url("portal-home")
        return resolve_url("home")


@open_to_owners
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


@open_to_owners
class PortalHomeView(PortalRequiredMixin, View):
    def get(self, request):
        applications = list(portal_application_list(user=request.user))
        loans = portal_loans(applications=applications)
        for application in applications:
            application.loan_summary = loans.get(application.pk)
        company = request.user.applicant_profile.company
        return render(
            request,
            "portal/home.html",
            {
                "company": company,
                "applications": applications,
            },
        )


@open_to_owners
class PortalApplicationView(PortalRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = portal_application_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404 from None
        return render(
            request,
            "portal/application.html",
            {
                "application": application,
                "status_text": portal_status_text(application.status),
                "events": portal_events(application),
                "steps": portal_steps(application),
                "decline_reasons": portal_decline_reasons(application),
                "loan": portal_loan(application),
                "repayments": portal_repayments(application),
            },
        )
