"""Staff pages of the investigation workspace, in sections the investigator moves between.
Each POST validates a small form and calls one service. Sent by htmx, it answers with its
section alone (a saved message, or the form with its field errors and a 4xx status); sent
without JavaScript, it redirects back to the section's anchor with a message."""

from contextlib import contextmanager
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from applications.models import Status
from applications.services import application_transition
from common.errors import Conflict, DomainError, InvalidInput, NotFound
from common.http import safe_next
from customers.ric import validate_party_id_for_kind
from intake.models import Collateral, Guarantor
from investigation import services
from investigation.api import memo_file_response, workspace_data
from investigation.models import (
    CreditMemo,
    FinancialPeriod,
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
from postloan.selectors import exposure_after

MONEY = {"max_digits": 18, "decimal_places": 2}


# The workspace's sections, in the order of the work: (anchor, title).
SECTIONS = (
    ("questionnaire", gettext_lazy("Questionnaire")),
    ("site-visits", gettext_lazy("Site visits")),
    ("financials", gettext_lazy("Financial figures")),
    ("guarantors", gettext_lazy("Guarantors and collateral")),
    ("sources", gettext_lazy("External data")),
    ("verification", gettext_lazy("Verification")),
    ("assessment", gettext_lazy("Assessment and opinion")),
    ("score", gettext_lazy("Risk score")),
    ("memos", gettext_lazy("Credit memo")),
)


def _workspace_url(pk, section: str = "") -> str:
    url = reverse("investigation-workspace", args=[pk])
    return f"{url}#{section}" if section else url


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


class FormInvalid(InvalidInput):
    """A form's own validation failed: the section comes back with the bound form, so what
    the investigator typed stays and each field shows its message."""

    def __init__(self, form, *, name: str, item_id: int | None = None):
        super().__init__(
            _("Please correct the form."), details={k: list(v) for k, v in form.errors.items()}
        )
        self.form = form
        self.name = name
        self.item_id = item_id


def _error_text(exc: DomainError) -> str:
    text = str(exc.message)
    if isinstance(exc, Conflict) and exc.missing:
        text += " " + " ".join(exc.missing)
    return text


def _field_errors(exc: DomainError) -> list[tuple[str, str]]:
    return [
        (field, " ".join(str(e) for e in errors))
        for field, errors in (exc.details or {}).items()
        if isinstance(errors, list | tuple)
    ]


def _report(request, exc: DomainError) -> None:
    text = _error_text(exc)
    for field, errors in _field_errors(exc):
        text += f" {field}: {errors}"
    messages.error(request, text)


def workspace_action(section: str):
    """POST-only, logged in: runs the view (which returns its saved message). An htmx request
    gets the section back in place; any other is redirected to the section's anchor, the
    domain error or the saved message shown as a message."""

    def decorator(view):
        @login_required
        @require_POST
        @wraps(view)
        def wrapper(request, pk, *args, **kwargs):
            try:
                investigation_application_get(user=request.user, pk=pk)
            except NotFound:
                raise Http404() from None
            saved, error = "", None
            try:
                saved = view(request, pk, *args, **kwargs) or ""
            except DomainError as exc:
                error = exc
            if _is_htmx(request):
                return section_response(request, pk, section, saved=saved, error=error)
            if error is not None:
                _report(request, error)
            elif saved:
                messages.success(request, saved)
            return redirect(safe_next(request, _workspace_url(pk, section)))

        return wrapper

    return decorator


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
    """A guarantor the investigation found beyond those filed with the application."""

    kind = forms.ChoiceField(choices=Guarantor.Kind.choices, label=gettext_lazy("Kind"))
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


class GuarantorAssessForm(forms.Form):
    """Completes a guarantor of the application: what is filed is not typed again."""

    guaranteed_amount = forms.DecimalField(
        label=gettext_lazy("Guaranteed amount"), min_value=0, **MONEY
    )
    own_exposure = forms.DecimalField(
        label=gettext_lazy("Own debts and guarantees elsewhere"), min_value=0, initial=0, **MONEY
    )
    net_worth = forms.DecimalField(label=gettext_lazy("Net worth"), required=False, **MONEY)
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @classmethod
    def for_guarantor(cls, guarantor, data=None):
        return cls(
            data,
            prefix=f"g{guarantor.pk}",
            initial={
                "guaranteed_amount": guarantor.guaranteed_amount,
                "own_exposure": guarantor.own_exposure,
                "net_worth": guarantor.net_worth,
                "notes": guarantor.notes,
            },
        )


class CollateralValueForm(forms.Form):
    """Values collateral of the application: what is filed is not typed again."""

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
    )

    @classmethod
    def for_collateral(cls, item, data=None):
        return cls(
            data,
            prefix=f"c{item.pk}",
            initial={
                # never the declared value: the bank values it itself (verified, not assumed)
                "valuation": item.valuation,
                "valuation_date": item.valuation_date,
                "haircut_pct": item.haircut_pct,
            },
        )


class CollateralForm(forms.Form):
    """Collateral the investigation found beyond what was filed with the application."""

    collateral_type = forms.ChoiceField(choices=Collateral.Kind.choices, label=gettext_lazy("Type"))
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


@contextmanager
def _form(form, name: str, item_id: int | None = None):
    """Validates the form, then runs the service inside: the form's own errors and the
    service's field errors both come back on the bound form (what was typed stays)."""
    if not form.is_valid():
        raise FormInvalid(form, name=name, item_id=item_id)
    try:
        yield form.cleaned_data
    except InvalidInput as exc:
        if isinstance(exc, FormInvalid) or not exc.details:
            raise
        for field, errors in exc.details.items():
            form.add_error(field if field in form.fields else None, errors)
        raise FormInvalid(form, name=name, item_id=item_id) from exc


@login_required
@require_GET
def my_investigations(request):
    applications = list(investigation_queue(user=request.user)[:200])
    return render(request, "investigation/queue.html", {"applications": applications})


def _workspace_context(request, application, *, bound: FormInvalid | None = None) -> dict:
    """Everything the workspace's sections show; `bound` is a form that failed validation,
    shown in place of its empty one."""
    can_edit = _can_edit(application, request.user)
    try:
        data = workspace_data(application=application)
    except NotFound:
        data = None
    context = {
        "application": application,
        "data": data,
        "can_edit": can_edit,
        "sections": SECTIONS,
    }
    if not data:
        return context
    # What the bank would be owed by the customer and its group if this were granted (the
    # route and the approvers' limits will apply to it).
    context["exposure_after"] = exposure_after(application=application).as_record()
    forms_ = {
        "site_visit_form": SiteVisitForm(),
        "photo_form": PhotoForm(),
        "financial_form": FinancialForm(),
        "guarantor_form": GuarantorForm(),
        "collateral_form": CollateralForm(),
        "assessment_form": AssessmentForm(
            initial={
                "repayment_record": data["repayment_record"],
                "tax_grade": data["tax_grade"],
                "industry_risk": data["industry_risk"],
                "opinion": data["opinion"],
            }
        ),
    }
    if bound is not None and bound.item_id is None:
        forms_[bound.name] = bound.form

    def _row_form(name, item, factory):
        if bound is not None and bound.name == name and bound.item_id == item.pk:
            return bound.form
        return factory(item)

    context.update(
        {
            **_memo_rows_context(data["memos"]),
            **forms_,
            "score_rows": score_rows(data["score"]),
            "reasons": score_reason_labels(data["score"]),
            "guarantor_rows": [
                (g, _row_form("guarantor_assess", g, GuarantorAssessForm.for_guarantor))
                for g in data["guarantors"]
            ],
            "collateral_rows": [
                (c, _row_form("collateral_value", c, CollateralValueForm.for_collateral))
                for c in data["collateral"]
            ],
            "verification_statuses": VerificationItem.Status.choices,
            "verification_sources": VerificationItem.Source.choices,
            "answer_types": Question.AnswerType,
            "periods": FinancialPeriod.Period.choices,
        }
    )
    return context


@login_required
@require_GET
def workspace(request, pk):
    try:
        application = investigation_application_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404() from None
    services.investigation_ensure(application=application, user=request.user)
    return render(request, "investigation/workspace.html", _workspace_context(request, application))


def section_response(request, pk, section: str, *, saved: str = "", error=None):
    """One section of the workspace as it is now, with the saved message or the error (the
    error's status: 400 with field messages, 403, 404, 409); the list of what is still
    missing comes along out of band."""
    application = investigation_application_get(user=request.user, pk=pk)
    bound = error if isinstance(error, FormInvalid) else None
    context = _workspace_context(request, application, bound=bound)
    context.update(
        {
            "section_saved": saved if error is None else "",
            "section_error": _error_text(error) if error is not None else "",
            "section_field_errors": [] if error is None or bound else _field_errors(error),
            "oob": True,
        }
    )
    html = render_to_string(f"investigation/_section_{section}.html", context, request=request)
    html += render_to_string("investigation/_missing.html", context, request=request)
    status = error.status_code if error is not None else 200
    return HttpResponse(html, status=status)


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


@workspace_action("questionnaire")
def answers(request, pk):
    values = {key[2:]: value for key, value in request.POST.items() if key.startswith("q_")}
    services.answers_save(application_id=pk, actor=request.user, answers=values)
    return _("Answers saved.")


@workspace_action("site-visits")
def site_visit(request, pk):
    with _form(SiteVisitForm(request.POST), "site_visit_form") as data:
        services.site_visit_record(application_id=pk, actor=request.user, **data)
    return _("Site visit recorded.")


@workspace_action("site-visits")
def photo(request, pk, visit_id):
    with _form(PhotoForm(request.POST, request.FILES), "photo_form") as data:
        services.site_visit_photo_add(
            application_id=pk,
            actor=request.user,
            visit_id=visit_id,
            upload=data["image"],
            caption=data["caption"],
        )
    return _("Photo added.")


@workspace_action("financials")
def financials(request, pk):
    with _form(FinancialForm(request.POST), "financial_form") as data:
        figures = {k: v for k, v in data.items() if k != "period"}
        services.financials_save(
            application_id=pk, actor=request.user, period=data["period"], figures=figures
        )
    return _("Financial figures saved.")


@workspace_action("guarantors")
def guarantor(request, pk):
    with _form(GuarantorForm(request.POST), "guarantor_form") as data:
        services.guarantor_add(application_id=pk, actor=request.user, **data)
    return _("Guarantor added.")


@workspace_action("guarantors")
def guarantor_assess(request, pk, item_id):
    form = GuarantorAssessForm(request.POST, prefix=f"g{item_id}")
    with _form(form, "guarantor_assess", item_id) as data:
        services.guarantor_assess(
            application_id=pk, actor=request.user, guarantor_id=item_id, **data
        )
    return _("Guarantor assessed.")


@workspace_action("guarantors")
def guarantor_remove(request, pk, item_id):
    services.guarantor_remove(application_id=pk, actor=request.user, guarantor_id=item_id)
    return _("Guarantor removed.")


@workspace_action("guarantors")
def collateral(request, pk):
    with _form(CollateralForm(request.POST), "collateral_form") as data:
        services.collateral_add(application_id=pk, actor=request.user, **data)
    return _("Collateral added.")


@workspace_action("guarantors")
def collateral_value(request, pk, item_id):
    form = CollateralValueForm(request.POST, prefix=f"c{item_id}")
    with _form(form, "collateral_value", item_id) as data:
        services.collateral_value(
            application_id=pk, actor=request.user, collateral_id=item_id, **data
        )
    return _("Collateral valued.")


@workspace_action("guarantors")
def collateral_remove(request, pk, item_id):
    services.collateral_remove(application_id=pk, actor=request.user, collateral_id=item_id)
    return _("Collateral removed.")


@workspace_action("verification")
def verification(request, pk, fact):
    with _form(VerificationForm(request.POST), "verification_form") as data:
        services.verification_record(application_id=pk, actor=request.user, fact=fact, **data)
    return _("Verification saved.")


@workspace_action("verification")
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
    return _("Verification saved.")


@workspace_action("assessment")
def assessment(request, pk):
    with _form(AssessmentForm(request.POST), "assessment_form") as data:
        services.assessment_save(application_id=pk, actor=request.user, changes=data)
    return _("Assessment saved.")


@workspace_action("score")
def score(request, pk):
    result = services.investigation_score(application_id=pk, actor=request.user)
    return _("Scored: grade %(grade)s, %(score)s points.") % {
        "grade": result.grade,
        "score": result.score,
    }


@workspace_action("memos")
def memo(request, pk):
    services.memo_request(application_id=pk, actor=request.user)
    return _("The credit memo is being generated.")


@workspace_action("memos")
def memo_retry(request, pk, memo_id):
    services.memo_retry(application_id=pk, actor=request.user, memo_id=memo_id)
    return _("The credit memo is being generated again.")


@workspace_action("memos")
def send_to_approval(request, pk):
    # A plain form post, not htmx: the whole page changes once the application has left the
    # investigation.
    application_transition(
        application_id=pk,
        transition="send_to_approval",
        actor=request.user,
        comment=request.POST.get("comment", ""),
    )
    return _("Sent to approval.")


@login_required
@require_GET
def memo_download(request, pk, memo_id):
    try:
        memo_obj = memo_get(user=request.user, application_pk=pk, memo_pk=memo_id)
        return memo_file_response(memo_obj, inline=request.GET.get("view") == "1")
    except (NotFound, Conflict):
        raise Http404() from None
