"""Staff pages of the investigation workspace. Each POST validates a small form, calls one
service and redirects back; domain errors come back as messages."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from applications.models import Status
from applications.services import application_transition
from common.errors import Conflict, DomainError, NotFound
from common.http import safe_next
from customers.ric import validate_party_id_for_kind
from investigation import services
from investigation.api import memo_file_response, workspace_data
from investigation.models import (
    CollateralValuation,
    CreditMemo,
    FinancialPeriod,
    GuarantorAssessment,
    IndustryRisk,
    Question,
    RepaymentRecord,
    TaxGrade,
    VerificationItem,
)
from investigation.selectors import (
    investigation_application_get,
    investigation_queue,
    memo_get,
    memos_for,
    score_reason_labels,
    score_rows,
)

MONEY = {"max_digits": 18, "decimal_places": 2}


def _workspace_url(pk) -> str:
    return reverse("investigation-workspace", args=[pk])


def _report(request, exc: DomainError) -> None:
    text = str(exc.message)
    if isinstance(exc, Conflict) and exc.missing:
        text += " " + " ".join(exc.missing)
    for field, errors in (exc.details or {}).items():
        if isinstance(errors, list | tuple):
            text += f" {field}: {' '.join(str(e) for e in errors)}"
    messages.error(request, text)


def workspace_action(view):
    """POST-only, logged in; runs the view, turns domain errors into a message, redirects back."""

    @login_required
    @require_POST
    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        try:
            investigation_application_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404() from None
        try:
            view(request, pk, *args, **kwargs)
        except DomainError as exc:
            _report(request, exc)
        return redirect(safe_next(request, _workspace_url(pk)))

    return wrapper


class SiteVisitForm(forms.Form):
    visit_date = forms.DateField(
        label=gettext_lazy("Visit date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    participants = forms.CharField(label=gettext_lazy("Participants"), max_length=300)
    findings = forms.CharField(label=gettext_lazy("Findings"), widget=forms.Textarea)


class PhotoForm(forms.Form):
    image = forms.FileField(label=gettext_lazy("Photo"))
    caption = forms.CharField(label=gettext_lazy("Caption"), max_length=200, required=False)


class FinancialForm(forms.Form):
    period = forms.ChoiceField(choices=FinancialPeriod.Period.choices, label=gettext_lazy("Period"))
    revenue = forms.DecimalField(label=gettext_lazy("Revenue"), **MONEY)
    net_profit = forms.DecimalField(label=gettext_lazy("Net profit"), **MONEY)
    total_assets = forms.DecimalField(label=gettext_lazy("Total assets"), **MONEY)
    total_liabilities = forms.DecimalField(label=gettext_lazy("Total liabilities"), **MONEY)
    current_assets = forms.DecimalField(label=gettext_lazy("Current assets"), **MONEY)
    current_liabilities = forms.DecimalField(label=gettext_lazy("Current liabilities"), **MONEY)
    bank_inflows_12m = forms.DecimalField(
        label=gettext_lazy("Bank inflows, last 12 months"), **MONEY
    )
    tax_paid = forms.DecimalField(label=gettext_lazy("Tax paid"), **MONEY)


class GuarantorForm(forms.Form):
    kind = forms.ChoiceField(choices=GuarantorAssessment.Kind.choices, label=gettext_lazy("Kind"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    id_number = forms.CharField(label=gettext_lazy("ID number or credit code"), max_length=30)
    guaranteed_amount = forms.DecimalField(
        label=gettext_lazy("Guaranteed amount"), min_value=0, **MONEY
    )
    own_exposure = forms.DecimalField(
        label=gettext_lazy("Own debts and guarantees elsewhere"), min_value=0, initial=0, **MONEY
    )

    def clean(self):
        data = super().clean()
        if "id_number" in data:
            try:
                validate_party_id_for_kind(data.get("kind", "person"), data["id_number"])
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return data


class CollateralForm(forms.Form):
    collateral_type = forms.ChoiceField(
        choices=CollateralValuation.Type.choices, label=gettext_lazy("Type")
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300)
    valuation = forms.DecimalField(label=gettext_lazy("Valuation"), min_value=0, **MONEY)
    valuation_date = forms.DateField(
        label=gettext_lazy("Valuation date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    haircut_pct = forms.DecimalField(
        label=gettext_lazy("Haircut (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=30,
    )


class VerificationForm(forms.Form):
    status = forms.ChoiceField(
        choices=VerificationItem.Status.choices, label=gettext_lazy("Result")
    )
    source = forms.ChoiceField(
        choices=[("", "—"), *VerificationItem.Source.choices],
        required=False,
        label=gettext_lazy("Source"),
    )
    note = forms.CharField(required=False, max_length=4000, label=gettext_lazy("Note"))


class AssessmentForm(forms.Form):
    repayment_record = forms.ChoiceField(
        choices=[("", "—"), *RepaymentRecord.choices],
        required=False,
        label=gettext_lazy("Repayment record"),
    )
    tax_grade = forms.ChoiceField(
        choices=[("", "—"), *TaxGrade.choices],
        required=False,
        label=gettext_lazy("Tax credit grade"),
    )
    industry_risk = forms.ChoiceField(
        choices=[("", "—"), *IndustryRisk.choices],
        required=False,
        label=gettext_lazy("Industry risk"),
    )
    opinion = forms.CharField(
        required=False, widget=forms.Textarea, label=gettext_lazy("Investigator's opinion")
    )


def _form_errors(form) -> None:
    from common.errors import InvalidInput

    raise InvalidInput(
        _("Please correct the form."), details={k: list(v) for k, v in form.errors.items()}
    )


@login_required
@require_GET
def my_investigations(request):
    applications = list(investigation_queue(user=request.user)[:200])
    return render(request, "investigation/queue.html", {"applications": applications})


@login_required
@require_GET
def workspace(request, pk):
    try:
        application = investigation_application_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404() from None
    can_edit = _can_edit(application, request.user)
    services.investigation_ensure(application=application, user=request.user)
    try:
        data = workspace_data(application=application)
    except NotFound:
        data = None
    context = {"application": application, "data": data, "can_edit": can_edit}
    if data:
        context.update(
            {
                **_memo_rows_context(data["memos"]),
                "score_rows": score_rows(data["score"]),
                "reasons": score_reason_labels(data["score"]),
                "site_visit_form": SiteVisitForm(),
                "photo_form": PhotoForm(),
                "financial_form": FinancialForm(),
                "guarantor_form": GuarantorForm(),
                "collateral_form": CollateralForm(),
                "verification_statuses": VerificationItem.Status.choices,
                "verification_sources": VerificationItem.Source.choices,
                "assessment_form": AssessmentForm(
                    initial={
                        "repayment_record": data["repayment_record"],
                        "tax_grade": data["tax_grade"],
                        "industry_risk": data["industry_risk"],
                        "opinion": data["opinion"],
                    }
                ),
                "answer_types": Question.AnswerType,
                "periods": FinancialPeriod.Period.choices,
            }
        )
    return render(request, "investigation/workspace.html", context)


def _can_edit(application, user) -> bool:
    return application.status == Status.INVESTIGATION and application.investigator_id == user.pk


def _memo_rows_context(memos) -> dict:
    # The rows reload themselves while a render is under way (not once it is stale: Retry).
    return {
        "memos": memos,
        "memos_pending": any(
            m.status == CreditMemo.Status.PENDING and not m.is_stale() for m in memos
        ),
    }


@login_required
@require_GET
def memo_rows(request, pk):
    """The memo rows alone, as they are now: what the workspace polls while one renders."""
    try:
        application = investigation_application_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404() from None
    return render(
        request,
        "investigation/_memo_rows.html",
        {
            "application": application,
            "can_edit": _can_edit(application, request.user),
            **_memo_rows_context(memos_for(application=application)),
        },
    )


@workspace_action
def answers(request, pk):
    values = {key[2:]: value for key, value in request.POST.items() if key.startswith("q_")}
    services.answers_save(application_id=pk, actor=request.user, answers=values)
    messages.success(request, _("Answers saved."))


@workspace_action
def site_visit(request, pk):
    form = SiteVisitForm(request.POST)
    if not form.is_valid():
        _form_errors(form)
    services.site_visit_record(application_id=pk, actor=request.user, **form.cleaned_data)
    messages.success(request, _("Site visit recorded."))


@workspace_action
def photo(request, pk, visit_id):
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(form)
    services.site_visit_photo_add(
        application_id=pk,
        actor=request.user,
        visit_id=visit_id,
        upload=form.cleaned_data["image"],
        caption=form.cleaned_data["caption"],
    )
    messages.success(request, _("Photo added."))


@workspace_action
def financials(request, pk):
    form = FinancialForm(request.POST)
    if not form.is_valid():
        _form_errors(form)
    data = dict(form.cleaned_data)
    period = data.pop("period")
    services.financials_save(application_id=pk, actor=request.user, period=period, figures=data)
    messages.success(request, _("Financial figures saved."))


@workspace_action
def guarantor(request, pk):
    form = GuarantorForm(request.POST)
    if not form.is_valid():
        _form_errors(form)
    services.guarantor_add(application_id=pk, actor=request.user, **form.cleaned_data)
    messages.success(request, _("Guarantor added."))


@workspace_action
def guarantor_remove(request, pk, item_id):
    services.guarantor_remove(application_id=pk, actor=request.user, guarantor_id=item_id)


@workspace_action
def collateral(request, pk):
    form = CollateralForm(request.POST)
    if not form.is_valid():
        _form_errors(form)
    services.collateral_add(application_id=pk, actor=request.user, **form.cleaned_data)
    messages.success(request, _("Collateral added."))


@workspace_action
def collateral_remove(request, pk, item_id):
    services.collateral_remove(application_id=pk, actor=request.user, collateral_id=item_id)


@workspace_action
def verification(request, pk, fact):
    form = VerificationForm(request.POST)
    if not form.is_valid():
        _form_errors(form)
    services.verification_record(
        application_id=pk, actor=request.user, fact=fact, **form.cleaned_data
    )


@workspace_action
def verification_all(request, pk):
    """The whole checklist in one form: fields status_<fact>, source_<fact>, note_<fact>;
    only rows whose values changed are recorded (each one audited)."""
    investigation = workspace_data(
        application=investigation_application_get(user=request.user, pk=pk)
    )
    with transaction.atomic():
        for item in investigation["verifications"]:
            fact = item.fact
            status = request.POST.get(f"status_{fact}", item.status)
            source = request.POST.get(f"source_{fact}", item.source)
            note = request.POST.get(f"note_{fact}", item.note)
            if (status, source, note) != (item.status, item.source, item.note):
                services.verification_record(
                    application_id=pk,
                    actor=request.user,
                    fact=fact,
                    status=status,
                    source=source,
                    note=note,
                )
    messages.success(request, _("Verification saved."))


@workspace_action
def assessment(request, pk):
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        _form_errors(form)
    services.assessment_save(application_id=pk, actor=request.user, changes=form.cleaned_data)
    messages.success(request, _("Assessment saved."))


@workspace_action
def score(request, pk):
    result = services.investigation_score(application_id=pk, actor=request.user)
    messages.success(
        request,
        _("Scored: grade %(grade)s, %(score)s points.")
        % {"grade": result.grade, "score": result.score},
    )


@workspace_action
def memo(request, pk):
    services.memo_request(application_id=pk, actor=request.user)
    messages.success(request, _("The credit memo is being generated."))


@workspace_action
def memo_retry(request, pk, memo_id):
    services.memo_retry(application_id=pk, actor=request.user, memo_id=memo_id)
    messages.success(request, _("The credit memo is being generated again."))


@workspace_action
def send_to_approval(request, pk):
    application_transition(
        application_id=pk,
        transition="send_to_approval",
        actor=request.user,
        comment=request.POST.get("comment", ""),
    )
    messages.success(request, _("Sent to approval."))


@login_required
@require_GET
def memo_download(request, pk, memo_id):
    try:
        memo_obj = memo_get(user=request.user, application_pk=pk, memo_pk=memo_id)
        return memo_file_response(memo_obj, inline=request.GET.get("view") == "1")
    except (NotFound, Conflict):
        raise Http404() from None
