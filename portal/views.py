"""The applicant portal: an SME owner's own company's applications, in plain language.

Only users with the applicant role and a company may enter; staff are sent to the staff
pages. An application of another company is answered with 404, never 403."""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import AccessMixin
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View

from applications.selectors import is_portal_user
from common.errors import Conflict, DomainError, InvalidInput, NotFound
from customers.models import CompanyBinding
from customers.selectors import owner_bindings
from customers.services import company_binding_claim, owner_company_choose
from disbursement.services import offer_accept, offer_acceptance_code_send
from org.audience import open_to_owners
from org.auth import client_address
from org.selectors import is_sme_owner
from portal.api import EligibilityCheckThrottle
from portal.forms import (
    CompanyBindForm,
    EligibilityForm,
    OfferAcceptForm,
    PortalLoginForm,
    SignUpForm,
    SignUpVerifyForm,
    apply_errors,
)
from portal.selectors import (
    portal_application_get,
    portal_application_list,
    portal_decline_reasons,
    portal_eligibility_check,
    portal_eligibility_prefill,
    portal_events,
    portal_loan,
    portal_loans,
    portal_payoff,
    portal_prepayment_quote,
    portal_repayments,
    portal_status_text,
    portal_steps,
)
from portal.services import owner_sign_up
from portal.verification import SIGN_UP, CodeLocked, TooSoon, address_parse, code_send


@open_to_owners
class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if is_sme_owner(self.request.user):
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
            # An owner who acts for no company yet binds one first.
            return redirect("portal-companies" if is_sme_owner(request.user) else "home")
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


def _owner_application(request, pk: int):
    try:
        return portal_application_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _prepayment_asked_for(request, application) -> dict:
    """The prepayment section: the quote the owner asked for on the page
    (?prepay_date=&prepay_kind=&prepay_principal=), the schedule after it, and their
    requests. Nothing to quote until they ask."""
    from datetime import date
    from decimal import InvalidOperation

    from postloan.models import Prepayment
    from postloan.selectors import prepayment_request_dates

    params = request.GET
    earliest, latest = prepayment_request_dates()
    section = {
        "kinds": Prepayment.Kind.choices,
        "earliest": earliest,
        "latest": latest,
        "params": {
            "date": params.get("prepay_date", ""),
            "kind": params.get("prepay_kind", "full"),
            "principal": params.get("prepay_principal", ""),
        },
        "asked": "prepay_date" in params,
    }
    if section["asked"]:
        try:
            value_date = (
                date.fromisoformat(params["prepay_date"]) if params["prepay_date"] else None
            )
            principal = _amount(params.get("prepay_principal", ""))
        except (ValueError, InvalidOperation):
            section["problem"] = _("Enter a date as YYYY-MM-DD and the principal as a number.")
        else:
            kind = section["params"]["kind"]
            section.update(
                portal_prepayment_quote(
                    application,
                    value_date=value_date,
                    kind=kind if kind in Prepayment.Kind.values else "full",
                    principal=principal,
                )
            )
    return section


def _amount(text: str):
    """An amount typed on a page (thousands separators allowed), or None when empty;
    ValueError for anything that is not a finite amount of at most 16 digits before the
    point (what a Decimal field of the API takes)."""
    from decimal import Decimal

    text = (text or "").replace(",", "").strip()
    if not text:
        return None
    value = Decimal(text)
    if not value.is_finite() or abs(value) >= Decimal("1e16"):
        raise ValueError(text)
    return value


def _application_page(request, application, *, offer_form=None, status: int = 200):
    loan = portal_loan(application)
    return render(
        request,
        "portal/application.html",
        {
            "application": application,
            "status_text": portal_status_text(application.status),
            "events": portal_events(application),
            "steps": portal_steps(application),
            "decline_reasons": portal_decline_reasons(application),
            "loan": loan,
            "payoff": portal_payoff(application),
            "prepay": _prepayment_asked_for(request, application) if loan else None,
            "repayments": portal_repayments(application),
            "offer_form": offer_form,
        },
        status=status,
    )


@open_to_owners
class PortalApplicationView(PortalRequiredMixin, View):
    def get(self, request, pk: int):
        return _application_page(request, _owner_application(request, pk))


def _offer_panel(pk: int) -> str:
    return reverse("portal-application", args=[pk]) + "#offer-panel"


def _offer_refused(request, application, form, exc: DomainError):
    """The page again, with the refusal's status: field messages by their fields, anything
    else above the page (the acceptance form is gone once the offer cannot be accepted)."""
    if exc.details:
        apply_errors(form, exc)
    else:
        messages.error(request, str(exc.message))
    return _application_page(request, application, offer_form=form, status=exc.status_code)


def _requests_section(pk: int) -> str:
    return reverse("portal-application", args=[pk]) + "#owner-requests"


@open_to_owners
class PortalOwnerRequestView(PortalRequiredMixin, View):
    """Ask the bank for the prepayment quoted on the page or for a change to the loan
    (postloan.services.owner_request_ask)."""

    def post(self, request, pk: int):
        from datetime import date
        from decimal import InvalidOperation

        from postloan.services import owner_request_ask

        application = _owner_application(request, pk)
        post = request.POST
        try:
            try:
                value_date = (
                    date.fromisoformat(post["value_date"]) if post.get("value_date") else None
                )
                principal = _amount(post.get("principal", ""))
            except (ValueError, InvalidOperation):
                raise InvalidInput(
                    _("Enter a date as YYYY-MM-DD and the principal as a number.")
                ) from None
            owner_request_ask(
                application_id=application.pk,
                actor=request.user,
                kind=post.get("kind", ""),
                value_date=value_date,
                principal=principal,
                note=post.get("note", "")[:4000],
            )
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, _domain_message(exc))
        else:
            messages.success(
                request,
                _(
                    "Your request is with your relationship manager; you will see here what becomes of it."
                ),
            )
        return redirect(_requests_section(application.pk))


@open_to_owners
class PortalOwnerRequestWithdrawView(PortalRequiredMixin, View):
    def post(self, request, pk: int, request_id: int):
        from postloan.services import owner_request_withdraw

        application = _owner_application(request, pk)
        try:
            owner_request_withdraw(
                application_id=application.pk, request_id=request_id, actor=request.user
            )
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, _domain_message(exc))
        else:
            messages.success(request, _("Your request is withdrawn."))
        return redirect(_requests_section(application.pk))


def _domain_message(exc: DomainError) -> str:
    """A refusal in one sentence: its message, or its fields' messages."""
    if exc.details:
        return " ".join(
            str(message)
            for messages_ in exc.details.values()
            if isinstance(messages_, list)
            for message in messages_
        )
    return str(exc.message)


@open_to_owners
class PortalOfferCodeView(PortalRequiredMixin, View):
    """Send the code that confirms accepting the offer to the owner's own address."""

    def post(self, request, pk: int):
        application = _owner_application(request, pk)
        try:
            _channel, sent_to = offer_acceptance_code_send(
                application_id=application.pk,
                actor=request.user,
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        except TooSoon as exc:
            # The earlier code still works.
            messages.info(request, str(exc.message))
        except DomainError as exc:
            return _offer_refused(request, application, OfferAcceptForm(), exc)
        else:
            messages.success(
                request,
                _("We sent a code to %(address)s. It is valid for %(minutes)d minutes.")
                % {"address": sent_to, "minutes": settings.LOANFLOW_CODE_MINUTES},
            )
        return redirect(_offer_panel(application.pk))


@open_to_owners
class PortalOfferAcceptView(PortalRequiredMixin, View):
    """Accept the offer: the box ticked and the code given (disbursement.services)."""

    def post(self, request, pk: int):
        application = _owner_application(request, pk)
        form = OfferAcceptForm(request.POST)
        if not form.is_valid():
            return _application_page(request, application, offer_form=form, status=400)
        try:
            offer_accept(
                application_id=application.pk,
                actor=request.user,
                client_ip=client_address(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                **form.cleaned_data,
            )
        except DomainError as exc:
            return _offer_refused(request, application, form, exc)
        messages.success(
            request, _("Thank you: you accepted the offer and the contract is signed.")
        )
        return redirect(_offer_panel(application.pk))


@open_to_owners
class PortalEligibilityView(PortalRequiredMixin, View):
    """Before applying: the owner confirms their company's facts and the request, and sees
    which of the product's admission criteria they meet. Nothing is created or recorded."""

    template_name = "portal/eligibility.html"

    def _page(self, request, form, result=None, status=200):
        return render(request, self.template_name, {"form": form, "result": result}, status=status)

    def get(self, request):
        initial = {**portal_eligibility_prefill(user=request.user)}
        if request.GET.get("product"):
            initial["product"] = request.GET["product"]
        return self._page(request, EligibilityForm(initial=initial))

    def post(self, request):
        form = EligibilityForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        throttle = EligibilityCheckThrottle()
        if not throttle.allow_request(request, self):
            form.add_error(
                None,
                _("You have checked many times in a short while. Please try again later."),
            )
            return self._page(request, form, status=429)
        data = dict(form.cleaned_data)
        try:
            result = portal_eligibility_check(product_code=data.pop("product"), **data)
        except InvalidInput as exc:
            apply_errors(form, exc)
            return self._page(request, form, status=400)
        return self._page(request, form, result)


# --- Sign-up and companies -------------------------------------------------------------------

# Where the address being verified waits between the two sign-up pages.
SIGN_UP_SESSION_KEY = "loanflow_sign_up"


def _axes_key(step: str, name: str) -> dict:
    """The credentials django-axes counts a step's failures under (with the address)."""
    return {"username": f"{step}:{name}"}


def _axes_locked(request, credentials: dict) -> bool:
    if not settings.AXES_ENABLED or AxesProxyHandler.is_allowed(request, credentials):
        return False
    # AxesMiddleware answers with the lock-out page (429) instead of the view's response.
    request.axes_locked_out = True
    request.axes_credentials = credentials
    return True


def _axes_failed(request, credentials: dict) -> None:
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)


class SignedOutOnlyMixin:
    """The sign-up pages are for people without an account; a signed-in user goes home."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("portal-home" if is_sme_owner(request.user) else "home")
        return super().dispatch(request, *args, **kwargs)


@open_to_owners
class PortalSignUpView(SignedOutOnlyMixin, View):
    """Step 1: the mobile number or e-mail address, to which a code is sent."""

    template_name = "portal/sign_up.html"

    def get(self, request):
        return render(request, self.template_name, {"form": SignUpForm()})

    def post(self, request):
        form = SignUpForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        try:
            channel, address = address_parse(form.cleaned_data["address"])
            if _axes_locked(request, _axes_key(SIGN_UP, address)):
                return render(request, self.template_name, {"form": form}, status=429)
            code_send(
                purpose=SIGN_UP,
                channel=channel,
                address=address,
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        except TooSoon as exc:
            # The earlier code still works: go on to enter it.
            messages.info(request, str(exc.message))
        except InvalidInput as exc:
            apply_errors(form, exc)
            return render(request, self.template_name, {"form": form}, status=400)
        request.session[SIGN_UP_SESSION_KEY] = {"channel": channel, "address": address}
        return redirect("portal-sign-up-verify")


@open_to_owners
class PortalSignUpVerifyView(SignedOutOnlyMixin, View):
    """Step 2: the code received and a password; then the new owner is signed in."""

    template_name = "portal/sign_up_verify.html"

    def _pending(self, request) -> dict | None:
        return request.session.get(SIGN_UP_SESSION_KEY)

    def _page(self, request, form, pending, status=200):
        context = {
            "form": form,
            "address": pending["address"],
            "minutes": settings.LOANFLOW_CODE_MINUTES,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        pending = self._pending(request)
        if not pending:
            return redirect("portal-sign-up")
        return self._page(request, SignUpVerifyForm(), pending)

    def post(self, request):
        pending = self._pending(request)
        if not pending:
            return redirect("portal-sign-up")
        form = SignUpVerifyForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, pending, status=400)
        credentials = _axes_key(SIGN_UP, pending["address"])
        if _axes_locked(request, credentials):
            return self._page(request, form, pending, status=429)
        try:
            user = owner_sign_up(
                channel=pending["channel"],
                address=pending["address"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password1"],
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        except (InvalidInput, CodeLocked) as exc:
            if "code" in exc.details:
                _axes_failed(request, credentials)
            apply_errors(form, exc)
            return self._page(request, form, pending, status=exc.status_code)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("portal-login")
        request.session.pop(SIGN_UP_SESSION_KEY, None)
        login(request, user, backend="org.auth.ProfileModelBackend")
        messages.success(request, _("Welcome. Now tell us which company you act for."))
        return redirect("portal-companies")


class OwnerRequiredMixin(AccessMixin):
    """Any signed-in SME owner, with or without a company yet."""

    login_url = "portal-login"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_sme_owner(request.user):
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)


@open_to_owners
class PortalCompaniesView(OwnerRequiredMixin, View):
    """The companies the owner acts for or has claimed, and the form to bind another."""

    template_name = "portal/companies.html"

    def _page(self, request, form, status=200):
        profile = getattr(request.user, "applicant_profile", None)
        context = {
            "form": form,
            "bindings": owner_bindings(owner=request.user),
            "current_company_id": profile.company_id if profile else None,
            "Status": CompanyBinding.Status,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        return self._page(request, CompanyBindForm())

    def post(self, request):
        form = CompanyBindForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        credentials = _axes_key("bind", request.user.username)
        if _axes_locked(request, credentials):
            return self._page(request, form, status=429)
        try:
            binding = company_binding_claim(owner=request.user, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
            return self._page(request, form, status=400)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            return self._page(request, form, status=exc.status_code)
        if binding.details_matched is False:
            # Guessing a legal representative's details is limited like guessing a password.
            _axes_failed(request, credentials)
        if binding.status == CompanyBinding.Status.ACTIVE:
            messages.success(
                request, _("You now act for %(company)s.") % {"company": binding.company.name}
            )
            return redirect("portal-home")
        messages.info(
            request,
            _(
                "Your claim for %(company)s waits for the bank's confirmation: the branch "
                "checks it and you will see the company here once confirmed."
            )
            % {"company": binding.company.name},
        )
        return redirect("portal-companies")


@open_to_owners
class PortalCompanyChooseView(OwnerRequiredMixin, View):
    """The company switcher: act for another of the owner's companies."""

    def post(self, request):
        try:
            company = owner_company_choose(
                owner=request.user, company_id=request.POST.get("company", "")
            )
        except NotFound:
            raise Http404 from None
        messages.success(request, _("You now act for %(company)s.") % {"company": company.name})
        return redirect("portal-home")
