"""The panels' forms: on the investigation workspace (ask the sources, record a signed consent
form, confirm or contradict a fact) and on the owner's portal page (give or withdraw consent).
Each POST calls one service and goes back to the page with what happened as a message; a
refusal is shown there, never a 500. The panels are rendered by datasources.templatetags."""

import datetime

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from applications.views import StaffRequiredMixin
from common.errors import DomainError, InvalidInput, NotFound
from datasources import services
from investigation.selectors import investigation_application_get
from org.audience import open_to_owners
from portal.views import PortalRequiredMixin


def _refusal(request, exc: DomainError) -> None:
    details = [
        str(error)
        for errors in (exc.details or {}).values()
        for error in (errors if isinstance(errors, list) else [errors])
    ]
    for text in details or [str(exc.message)]:
        messages.error(request, text)


def _error_text(exc: DomainError) -> str:
    details = [
        str(error)
        for errors in (exc.details or {}).values()
        for error in (errors if isinstance(errors, list) else [errors])
    ]
    return " ".join(details) or str(exc.message)


def _run(request, back: str, action, done: str, *, pk: int | None = None):
    """Run the service; an htmx request from the workspace (pk given) gets the section back in
    place with what happened (the error's status), any other goes back to the page."""
    error = None
    try:
        action()
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        error = exc
    if pk is not None and request.headers.get("HX-Request") == "true":
        return _section(request, pk, saved=done, error=error)
    if error is not None:
        _refusal(request, error)
    else:
        messages.success(request, done)
    return redirect(back)


def _workspace(pk: int) -> str:
    return reverse("investigation-workspace", args=[pk]) + "#sources"


def _section(request, pk: int, *, saved: str = "", error: DomainError | None = None):
    application = investigation_application_get(user=request.user, pk=pk)
    html = render_to_string(
        "datasources/workspace_panel.html",
        {
            "application": application,
            "user": request.user,
            "section_saved": saved if error is None else "",
            "section_error": _error_text(error) if error is not None else "",
        },
        request=request,
    )
    return HttpResponse(html, status=error.status_code if error is not None else 200)


class SectionView(StaffRequiredMixin, View):
    """The section as it is now: what the page polls while a call is pending."""

    def get(self, request, pk: int):
        try:
            return _section(request, pk)
        except NotFound:
            raise Http404 from None


class QueryView(StaffRequiredMixin, View):
    def post(self, request, pk: int):
        return _run(
            request,
            _workspace(pk),
            lambda: services.source_query_request(
                actor=request.user, application_id=pk, sources=request.POST.getlist("sources")
            ),
            _("The sources are being asked; their answers appear here when they arrive."),
            pk=pk,
        )


class ConsentFormView(StaffRequiredMixin, View):
    def post(self, request, pk: int):
        def record():
            try:
                until = datetime.date.fromisoformat(request.POST.get("valid_until", ""))
            except ValueError:
                raise InvalidInput(details={"valid_until": [_("Enter a date.")]}) from None
            services.consent_record_signed(
                actor=request.user,
                application_id=pk,
                scope=request.POST.getlist("scope"),
                valid_until=timezone.make_aware(
                    datetime.datetime.combine(until, datetime.time(23, 59))
                ),
                file=request.FILES.get("file"),
            )

        return _run(
            request, _workspace(pk), record, _("The signed consent form is recorded."), pk=pk
        )


class ConsentRevokeView(StaffRequiredMixin, View):
    def post(self, request, pk: int, consent_id: int):
        return _run(
            request,
            _workspace(pk),
            lambda: services.consent_revoke(
                actor=request.user,
                application_id=pk,
                consent_id=consent_id,
                reason=request.POST.get("reason", ""),
            ),
            _("The consent is revoked."),
            pk=pk,
        )


class FactView(StaffRequiredMixin, View):
    def post(self, request, pk: int, fact_id: int):
        if request.POST.get("decision") == "mismatch":
            return _run(
                request,
                _workspace(pk),
                lambda: services.source_fact_mismatch(
                    actor=request.user,
                    application_id=pk,
                    fact_id=fact_id,
                    reason=request.POST.get("reason", ""),
                ),
                _("The mismatch is recorded."),
                pk=pk,
            )
        return _run(
            request,
            _workspace(pk),
            lambda: services.source_fact_confirm(
                actor=request.user, application_id=pk, fact_id=fact_id
            ),
            _("The fact is confirmed."),
            pk=pk,
        )


def _portal(pk: int) -> str:
    return reverse("portal-application", args=[pk]) + "#consent"


@open_to_owners
class PortalConsentView(PortalRequiredMixin, View):
    def post(self, request, pk: int):
        return _run(
            request,
            _portal(pk),
            lambda: services.consent_grant_online(
                actor=request.user, application_id=pk, scope=request.POST.getlist("scope")
            ),
            _("Thank you: the bank may now check these sources for this application."),
        )


@open_to_owners
class PortalConsentRevokeView(PortalRequiredMixin, View):
    def post(self, request, pk: int, consent_id: int):
        return _run(
            request,
            _portal(pk),
            lambda: services.consent_revoke(
                actor=request.user, application_id=pk, consent_id=consent_id
            ),
            _("Your consent is withdrawn."),
        )
