"""The second factor's pages: the code after the password (and for a step-up), and the
enrolment of an authenticator with its recovery codes. Thin: org.second_factor decides.
And the language switch, which the person's notifications follow."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.i18n import set_language

from common.errors import InvalidInput
from common.http import safe_next
from org import second_factor
from org.audience import open_to_owners
from org.services import preferred_language_set


def _next_from_query(request) -> str:
    """The `next` of a GET, kept only when it is a path on this site (it goes in the form)."""
    target = request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


class SecondFactorVerifyView(LoginRequiredMixin, View):
    """Enter a code (or a recovery code): after the password, or to confirm an action."""

    template_name = "registration/second_factor_verify.html"

    def get(self, request):
        if not second_factor.has_second_factor(request.user):
            return redirect(
                second_factor.second_factor_url(request.user, next_url=_next_from_query(request))
            )
        return render(request, self.template_name, {"next": _next_from_query(request)})

    def post(self, request):
        device = second_factor.second_factor_check(
            user=request.user, code=request.POST.get("otp", "")
        )
        if device is None:
            error = second_factor._invalid_code().message
            context = {"next": safe_next(request, ""), "error": error}
            return render(request, self.template_name, context, status=400)
        second_factor.second_factor_login(request, device)
        return redirect(safe_next(request, reverse("home")))


class SecondFactorEnrolView(LoginRequiredMixin, View):
    """Set up an authenticator app: its QR code and secret, a code to confirm it, then the
    recovery codes, shown this once."""

    template_name = "registration/second_factor_enrol.html"

    def _page(self, request, *, next_url: str, error: str = "", status: int = 200):
        device = second_factor.enrolment_device(user=request.user)
        context = {
            "qr_svg": second_factor.device_qr_svg(device),
            "secret": second_factor.device_secret(device),
            "next": next_url,
            "error": error,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        if second_factor.has_second_factor(request.user):
            return redirect(
                second_factor.second_factor_url(request.user, next_url=_next_from_query(request))
            )
        return self._page(request, next_url=_next_from_query(request))

    def post(self, request):
        next_url = safe_next(request, "")
        if second_factor.has_second_factor(request.user):
            return redirect(second_factor.second_factor_url(request.user, next_url=next_url))
        try:
            device, codes = second_factor.enrolment_confirm(
                user=request.user, code=request.POST.get("otp", "")
            )
        except InvalidInput as exc:
            return self._page(request, next_url=next_url, error=str(exc.message), status=400)
        second_factor.second_factor_login(request, device)
        return render(
            request,
            "registration/second_factor_recovery_codes.html",
            {"codes": codes, "next": next_url or reverse("home")},
        )


@open_to_owners
def language_choose(request):
    """Django's set_language, the choice also kept as the person's preferred language, which
    their notifications, e-mails and PDFs follow."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
    ):
        preferred_language_set(user=request.user, language=language)
    return response
