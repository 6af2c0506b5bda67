"""The thread's and the survey's forms on the pages: the owner's on the portal application
page, the bank's on the staff application page (a "Messages" panel). Each POST calls one
service and goes back to the page with what happened as a message; a refusal is shown
there, never a 500. The panels themselves are rendered by messaging.templatetags."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from applications.views import StaffRequiredMixin
from common.errors import DomainError, NotFound
from messaging import services
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


def _post_message(request, pk: int, back: str):
    try:
        services.message_post(
            actor=request.user,
            application_id=pk,
            body=request.POST.get("body", ""),
            file=request.FILES.get("file"),
        )
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _refusal(request, exc)
    else:
        messages.success(request, _("Your message was sent."))
    return redirect(back)


@open_to_owners
class PortalMessagePostView(PortalRequiredMixin, View):
    """The owner writes to the bank from the portal application page."""

    def post(self, request, pk: int):
        return _post_message(request, pk, reverse("portal-application", args=[pk]) + "#messages")


@open_to_owners
class PortalSurveyView(PortalRequiredMixin, View):
    """The owner answers the satisfaction survey of one stage."""

    def post(self, request, pk: int):
        try:
            services.survey_answer(
                actor=request.user,
                application_id=pk,
                stage=request.POST.get("stage", ""),
                score=request.POST.get("score", ""),
                comment=request.POST.get("comment", ""),
            )
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            _refusal(request, exc)
        else:
            messages.success(request, _("Thank you for your answer."))
        return redirect(reverse("portal-application", args=[pk]) + "#survey")


class MessagePostView(StaffRequiredMixin, View):
    """Staff write to the owner from the application page's Messages panel."""

    def post(self, request, pk: int):
        return _post_message(
            request, pk, reverse("application-detail", args=[pk]) + "#panel-messaging"
        )
