"""Staff pages (/disbursement/...) and the owner's PDF downloads (accepting the offer is the
portal's page, portal.views). Thin: one service call per POST; domain errors are shown with
their HTTP status."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from applications.selectors import application_get
from common.errors import DomainError, InvalidInput, NotFound
from common.http import safe_next
from disbursement import selectors, services
from disbursement.models import Disbursement, Offer
from org.audience import open_to_owners
from org.permissions import has_role_perm
from org.roles import Role, has_role
from org.second_factor import step_up_required
from org.selectors import is_staff_member


def panel_context(request, application) -> dict:
    user = getattr(request, "user", None)
    staff = is_staff_member(user)
    offer = selectors.offer_for(application)
    disbursement = selectors.disbursement_for(application) if staff else None
    conditions = selectors.conditions_for(application)
    rows, fixed = selectors.schedule_rows(application)
    is_officer = staff and has_role(user, Role.DISBURSEMENT_OFFICER)
    is_checker = staff and has_role(user, Role.DISBURSEMENT_CHECKER)
    status = application.status
    earliest, latest = services.value_date_window()
    return {
        "request": request,
        "user": user,
        "application": application,
        "offer": offer,
        "method_label": selectors.repayment_method_label(offer.repayment_method) if offer else "",
        "contract": selectors.contract_for(application),
        "conditions": conditions,
        "disbursement": disbursement,
        "rows": rows,
        "fixed": fixed,
        "totals": selectors.schedule_totals(rows) if rows else None,
        "can_accept": selectors.offer_can_be_accepted(
            application=application, offer=offer, user=user
        ),
        "can_record_contract": (
            status == "approved" and staff and has_role_perm(user, "applications.record_contract")
        ),
        "can_satisfy": status == "contract_signed" and is_officer,
        "can_record": status == "contract_signed" and is_officer and disbursement is None,
        "can_confirm": (
            status == "contract_signed"
            and is_checker
            and disbursement is not None
            and disbursement.status == Disbursement.Status.RECORDED
            and disbursement.maker_id != user.pk
        ),
        "can_correct_value_date": (
            status == "contract_signed"
            and is_officer
            and disbursement is not None
            and disbursement.status == Disbursement.Status.RECORDED
            and disbursement.maker_id == user.pk
        ),
        # Shown before anyone tries to confirm: the payout's date left today's window.
        "value_date_outside": (
            services.value_date_refusal(disbursement.value_date)
            if disbursement is not None and disbursement.status == Disbursement.Status.RECORDED
            else None
        ),
        "conditions_unsatisfied": any(c.satisfied_at is None for c in conditions),
        "today": timezone.localdate(),
        "value_date_earliest": earliest,
        "value_date_latest": latest,
    }


def _back(request, pk: int) -> str:
    return safe_next(request, reverse("disbursement-page", args=[pk]))


def _base_template(request) -> str:
    return "base.html" if is_staff_member(request.user) else "portal/base.html"


def _error(request, exc: DomainError, pk: int | None = None) -> HttpResponse:
    return render(
        request,
        "disbursement/error.html",
        {
            "error": exc,
            "missing": getattr(exc, "missing", None) or [],
            "back": _back(request, pk) if pk else "/",
            "details": exc.details,
            "base_template": _base_template(request),
        },
        status=exc.status_code,
    )


class DisbursementQueueView(LoginRequiredMixin, TemplateView):
    template_name = "disbursement/queue.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not is_staff_member(self.request.user):
            raise NotFound()
        user = self.request.user
        # The home page's cards link to the part of the queue they count.
        show = self.request.GET.get("show", "")
        queue = {
            "record": selectors.payouts_to_record,
            "confirm": selectors.payouts_to_confirm,
        }.get(show, selectors.disbursement_queue)
        context["items"] = list(queue(user=user)[:200])
        context["show"] = show
        return context

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except DomainError as exc:
            return _error(request, exc)


class DisbursementPageView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = application_get(user=request.user, pk=pk)
            if not is_staff_member(request.user):
                raise NotFound()
        except DomainError as exc:
            return _error(request, exc)
        return render(request, "disbursement/page.html", {"application": application})


class _ActionView(LoginRequiredMixin, View):
    success_message = ""

    def act(self, request, pk: int, **kwargs):
        raise NotImplementedError

    def post(self, request, pk: int, **kwargs):
        try:
            self.act(request, pk, **kwargs)
        except DomainError as exc:
            return _error(request, exc, pk)
        messages.success(request, self.success_message)
        return redirect(_back(request, pk))


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(details={field: [_("Enter a date as YYYY-MM-DD.")]}) from None


def _decimal(value: str, field: str) -> Decimal:
    try:
        return Decimal((value or "").replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput(details={field: [_("Enter an amount.")]}) from None


class ContractRecordView(_ActionView):
    @property
    def success_message(self):
        return _("The signed contract is recorded.")

    def act(self, request, pk: int):
        services.contract_record(
            application_id=pk,
            actor=request.user,
            number=request.POST.get("number", ""),
            signed_on=_date(request.POST.get("signed_on"), "signed_on"),
        )


class ConditionSatisfyView(_ActionView):
    @property
    def success_message(self):
        return _("The condition is marked satisfied.")

    def act(self, request, pk: int, condition_id: int):
        services.condition_satisfy(
            application_id=pk,
            condition_id=condition_id,
            actor=request.user,
            comment=request.POST.get("comment", ""),
        )


class DisbursementRecordView(_ActionView):
    @property
    def success_message(self):
        return _("The disbursement is recorded; a checker must confirm it.")

    def act(self, request, pk: int):
        services.disbursement_record(
            application_id=pk,
            actor=request.user,
            account_number=request.POST.get("account_number", ""),
            amount=_decimal(request.POST.get("amount"), "amount"),
            value_date=_date(request.POST.get("value_date"), "value_date"),
        )


class DisbursementConfirmView(_ActionView):
    @property
    def success_message(self):
        return _("The disbursement is confirmed and the repayment schedule is fixed.")

    @step_up_required(return_to=lambda request, pk, **kwargs: _back(request, pk))
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk: int):
        services.disbursement_confirm(
            application_id=pk, actor=request.user, comment=request.POST.get("comment", "")
        )


class DisbursementValueDateView(_ActionView):
    @property
    def success_message(self):
        return _("The value date is corrected; a checker must confirm the payout.")

    def act(self, request, pk: int):
        services.disbursement_value_date_correct(
            application_id=pk,
            actor=request.user,
            value_date=_date(request.POST.get("value_date"), "value_date"),
            comment=request.POST.get("comment", ""),
        )


class OfferRetryView(_ActionView):
    @property
    def success_message(self):
        return _("The offer letter is being prepared again.")

    def act(self, request, pk: int):
        services.offer_retry_render(application_id=pk, actor=request.user)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@open_to_owners
class OfferPdfView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = application_get(user=request.user, pk=pk)
            offer = Offer.objects.filter(application=application, status=Offer.Status.READY).first()
            if offer is None or not offer.pdf:
                raise NotFound()
        except DomainError as exc:
            return _error(request, exc)
        return _pdf(bytes(offer.pdf), f"offer-{application.reference}.pdf")


@open_to_owners
class SchedulePdfView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        from disbursement.pdf import render_schedule

        try:
            application = application_get(user=request.user, pk=pk)
            rows, fixed = selectors.schedule_rows(application)
            if not rows:
                raise NotFound()
        except DomainError as exc:
            return _error(request, exc)
        return _pdf(
            render_schedule(application, rows, fixed=fixed), f"schedule-{application.reference}.pdf"
        )
