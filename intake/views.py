"""Intake pages: the RM's multi-step filing form, the public product pages, the online
application on the portal, and the small POST endpoints behind the panels."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import select_template
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from applications.models import GuaranteeType, Product, RepaymentMethod
from applications.selectors import applicant_company_id, application_get
from applications.services import application_create, application_transition
from common.errors import Conflict, DomainError, InvalidInput, NotFound
from common.http import safe_next, stored_file_response
from customers.models import Company
from customers.ric import validate_party_id, validate_party_id_for_kind, validate_resident_id
from datasources import services as datasources_services
from datasources.models import Source
from intake import selectors, services
from intake.models import Collateral, DocumentType, Guarantor, InfoRequest
from org.audience import open_to_owners
from org.selectors import is_staff_member


def _portal_base() -> str:
    return select_template(["portal/base.html", "base.html"]).template.name


def _apply_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a domain error on the form: field messages on their fields, the rest on top."""
    placed = False
    for field, messages_ in (exc.details or {}).items():
        if not isinstance(messages_, list | tuple):
            continue
        for message in messages_:
            form.add_error(field if field in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))
    for item in getattr(exc, "missing", []) or []:
        form.add_error(None, item)


class StaffRequiredMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_staff_member(request.user):
            raise Http404()
        return super().dispatch(request, *args, **kwargs)


# --- Forms ------------------------------------------------------------------------------------


def controlling_shareholder_fields() -> tuple[forms.CharField, forms.CharField]:
    """The company's controlling shareholder, as the staff's and the owner's forms ask it."""
    return (
        forms.CharField(
            label=gettext_lazy("Controlling shareholder"),
            max_length=200,
            required=False,
            help_text=gettext_lazy("A person or a company; leave empty if none or not known."),
        ),
        forms.CharField(
            label=gettext_lazy("Controlling shareholder's ID number or credit code"),
            max_length=30,
            required=False,
            validators=[validate_party_id],
            help_text=gettext_lazy(
                "A person's resident ID number or a company's unified social credit code."
            ),
        ),
    )


class CompanyForm(forms.Form):
    credit_code = forms.CharField(label=gettext_lazy("Unified social credit code"), max_length=30)
    name = forms.CharField(label=gettext_lazy("Company name"), max_length=200, required=False)
    industry_code = forms.CharField(
        label=gettext_lazy("Industry code"), max_length=10, required=False
    )
    registration_date = forms.DateField(
        label=gettext_lazy("Registration date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    employees = forms.IntegerField(label=gettext_lazy("Employees"), min_value=0, required=False)
    legal_representative = forms.CharField(
        label=gettext_lazy("Legal representative"), max_length=100, required=False
    )
    legal_representative_id = forms.CharField(
        label=gettext_lazy("Legal representative's ID number"),
        max_length=30,
        required=False,
        validators=[validate_resident_id],
    )
    controlling_shareholder, controlling_shareholder_id = controlling_shareholder_fields()
    contact_phone = forms.CharField(
        label=gettext_lazy("Contact phone"), max_length=30, required=False
    )
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300, required=False)


class RequestForm(forms.Form):
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"), queryset=Product.objects.filter(is_active=True)
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), max_digits=18, decimal_places=2, min_value=0
    )
    term_months = forms.IntegerField(
        label=gettext_lazy("Term (months)"), min_value=1, max_value=600
    )
    interest_rate = forms.DecimalField(
        label=gettext_lazy("Annual interest rate (%)"), max_digits=6, decimal_places=3, min_value=0
    )
    repayment_method = forms.ChoiceField(
        label=gettext_lazy("Repayment method"), choices=RepaymentMethod.choices
    )
    guarantee_type = forms.ChoiceField(
        label=gettext_lazy("Guarantee type"), choices=GuaranteeType.choices
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the application"),
        choices=settings.LANGUAGES,
        initial=translation.get_language,
        help_text=gettext_lazy("The credit memo, offer letter and schedule are written in it."),
        required=False,
    )

    def clean_language(self) -> str:
        # Not chosen: the language the form is filled in.
        return self.cleaned_data.get("language") or translation.get_language()


class OnlineRequestForm(RequestForm):
    interest_rate = None
    language = None  # the language the owner applies in
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        queryset=Product.objects.filter(is_active=True),
        to_field_name="code",
    )
    contact_name = forms.CharField(
        label=gettext_lazy("Contact name"), max_length=100, required=False
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("Contact phone"), max_length=30, required=False
    )
    contact_email = forms.EmailField(label=gettext_lazy("Contact email"), required=False)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300, required=False)
    controlling_shareholder, controlling_shareholder_id = controlling_shareholder_fields()


class GuarantorForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Guarantor.Kind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    id_number = forms.CharField(label=gettext_lazy("ID number or credit code"), max_length=30)
    relationship = forms.CharField(
        label=gettext_lazy("Relationship"), max_length=100, required=False
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
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Collateral.Kind.choices)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300)
    declared_value = forms.DecimalField(
        label=gettext_lazy("Declared value"), max_digits=18, decimal_places=2, min_value=0
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, initial="CNY")


class UploadForm(forms.Form):
    document_type = forms.CharField(widget=forms.HiddenInput)
    guarantor = forms.IntegerField(widget=forms.HiddenInput, required=False)
    info_request = forms.IntegerField(widget=forms.HiddenInput, required=False)
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)


def _upload(request, application_id: int) -> forms.Form:
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.document_upload(
                actor=request.user,
                application_id=application_id,
                document_type=data["document_type"],
                file=data["file"],
                guarantor_id=data.get("guarantor"),
                info_request_id=data.get("info_request"),
            )
            messages.success(request, _("The document was uploaded."))
        except DomainError as exc:
            _apply_errors(form, exc)
    return form


def _form_messages(request, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        for error in errors:
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {error}" if label else error)


# --- Staff: filing in steps -------------------------------------------------------------------


class FileCompanyView(StaffRequiredMixin, TemplateView):
    """Step 1: the company, found by its credit code or created."""

    template_name = "intake/file_company.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", CompanyForm())
        context["step"] = 1
        return context

    def post(self, request):
        form = CompanyForm(request.POST)
        if form.is_valid():
            data = {
                k: v
                for k, v in form.cleaned_data.items()
                if k != "credit_code" and v not in (None, "")
            }
            try:
                company, _created = services.company_find_or_create(
                    actor=request.user, credit_code=form.cleaned_data["credit_code"], data=data
                )
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                return redirect(f"{reverse('application-new-request')}?company={company.pk}")
        return self.render_to_response(self.get_context_data(form=form, new_company=True))


class FileRequestView(StaffRequiredMixin, TemplateView):
    """Step 2: the request, validated against the product; the draft is created here."""

    template_name = "intake/file_request.html"

    def _company(self):
        try:
            return Company.objects.get(pk=int(self.request.GET.get("company", "")))
        except (Company.DoesNotExist, ValueError):
            raise Http404() from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["company"] = self._company()
        context.setdefault("form", RequestForm())
        context["step"] = 2
        return context

    def post(self, request):
        company = self._company()
        form = RequestForm(request.POST)
        existing_url = None
        if form.is_valid():
            try:
                application = application_create(
                    actor=request.user, company=company, **form.cleaned_data
                )
            except Conflict as exc:
                existing_url = exc.details.get("existing_url")
                form.add_error(None, str(exc.message))
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                return redirect("application-file-parties", pk=application.pk)
        return self.render_to_response(self.get_context_data(form=form, existing_url=existing_url))


class _DraftStepView(StaffRequiredMixin, TemplateView):
    def application(self):
        return application_get(user=self.request.user, pk=self.kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None


class FilePartiesView(_DraftStepView):
    """Step 3: guarantors and collateral."""

    template_name = "intake/file_parties.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = self.application()
        context.update(
            application=application,
            step=3,
            guarantors=application.guarantors.all(),
            collateral=application.collateral.all(),
        )
        context.setdefault("guarantor_form", GuarantorForm(prefix="g"))
        context.setdefault("collateral_form", CollateralForm(prefix="c"))
        return context

    def post(self, request, pk: int):
        extra = {}
        try:
            if "remove_guarantor" in request.POST:
                services.guarantor_remove(
                    actor=request.user,
                    application_id=pk,
                    guarantor_id=int(request.POST["remove_guarantor"]),
                )
            elif "remove_collateral" in request.POST:
                services.collateral_remove(
                    actor=request.user,
                    application_id=pk,
                    collateral_id=int(request.POST["remove_collateral"]),
                )
            elif request.POST.get("form") == "guarantor":
                form = GuarantorForm(request.POST, prefix="g")
                extra["guarantor_form"] = form
                if form.is_valid():
                    try:
                        services.guarantor_add(
                            actor=request.user, application_id=pk, **form.cleaned_data
                        )
                        extra.pop("guarantor_form")
                    except InvalidInput as exc:
                        _apply_errors(form, exc)
            elif request.POST.get("form") == "collateral":
                form = CollateralForm(request.POST, prefix="c")
                extra["collateral_form"] = form
                if form.is_valid():
                    try:
                        services.collateral_add(
                            actor=request.user, application_id=pk, **form.cleaned_data
                        )
                        extra.pop("collateral_form")
                    except InvalidInput as exc:
                        _apply_errors(form, exc)
        except (Conflict, ValueError) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
        if extra:
            return self.render_to_response(self.get_context_data(**extra))
        return redirect("application-file-parties", pk=pk)


class FileDocumentsView(_DraftStepView):
    """Step 4: the documents of the checklist, then submit."""

    template_name = "intake/file_documents.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = self.application()
        context.update(
            application=application,
            step=4,
            lines=selectors.checklist_lines(application),
            prescreen=selectors.prescreen_latest(application=application),
        )
        return context

    def post(self, request, pk: int):
        if "submit" in request.POST:
            try:
                application_transition(
                    application_id=pk,
                    transition="submit",
                    actor=request.user,
                    comment=request.POST.get("comment", ""),
                )
                messages.success(request, _("The application was submitted."))
            except DomainError as exc:
                messages.error(request, str(exc.message))
                for item in getattr(exc, "missing", []) or []:
                    messages.error(request, item)
        else:
            _form_messages(request, _upload(request, pk))
        return redirect("application-file-documents", pk=pk)


class StaffActionView(StaffRequiredMixin, View):
    """The staff panel's forms: review a document, request information, cancel a request."""

    def post(self, request, pk: int):
        action = request.POST.get("action", "")
        try:
            if action in ("accept", "reject"):
                services.document_review(
                    actor=request.user,
                    application_id=pk,
                    document_id=int(request.POST.get("document", 0)),
                    decision=action,
                    reason=request.POST.get("reason", ""),
                )
            elif action == "request_information":
                item = {
                    "kind": request.POST.get("kind", InfoRequest.Kind.QUESTION),
                    "document_type": request.POST.get("document_type", ""),
                    "text": request.POST.get("text", ""),
                }
                due = forms.DateField(required=False).clean(request.POST.get("due_date"))
                item["due_date"] = due
                services.info_request_create(
                    actor=request.user,
                    application_id=pk,
                    items=[item],
                    comment=request.POST.get("comment", ""),
                )
            elif action == "cancel_request":
                services.info_request_cancel(
                    actor=request.user,
                    application_id=pk,
                    request_id=int(request.POST.get("request", 0)),
                )
            elif action == "upload":
                _form_messages(request, _upload(request, pk))
            else:
                raise InvalidInput(_("Unknown action."))
            messages.success(request, _("Saved."))
        except NotFound:
            raise Http404() from None
        except DomainError as exc:
            messages.error(request, str(exc.message))
            for field, errors in (exc.details or {}).items():
                for error in errors if isinstance(errors, list) else []:
                    messages.error(request, f"{field}: {error}")
        except (ValueError, forms.ValidationError):
            messages.error(request, _("Please check the form."))
        return redirect(safe_next(request, reverse("application-detail", args=[pk])))


@open_to_owners
class DocumentDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk: int, doc_id: int):
        try:
            application = application_get(user=request.user, pk=pk)
        except NotFound:
            raise Http404() from None
        document = selectors.document_get(application=application, pk=doc_id)
        if document is None:
            raise Http404()
        try:
            return stored_file_response(
                document.file, filename=document.original_name, content_type=document.content_type
            )
        except NotFound:
            raise Http404() from None


# --- Portal -----------------------------------------------------------------------------------


class PortalMixin:
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["base_template"] = _portal_base()
        return context


@open_to_owners
class ProductListView(PortalMixin, TemplateView):
    """Public: the products and their materials checklists, before anyone applies."""

    template_name = "intake/portal_products.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["products"] = selectors.product_list_published()
        return context


@open_to_owners
class ProductDetailView(PortalMixin, TemplateView):
    template_name = "intake/portal_product.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        product = selectors.product_get_published(code=self.kwargs["code"])
        if product is None:
            raise Http404()
        context["product"] = product
        context["criteria"] = selectors.admission_criteria(product=product)
        context["items"] = product.checklist_items.all()
        return context


class ApplicantRequiredMixin(LoginRequiredMixin):
    login_url = "portal-login"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and applicant_company_id(request.user) is None:
            raise Http404()
        return super().dispatch(request, *args, **kwargs)


@open_to_owners
class OnlineApplyView(ApplicantRequiredMixin, PortalMixin, TemplateView):
    template_name = "intake/portal_apply.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        company = Company.objects.get(pk=applicant_company_id(self.request.user))
        initial = {
            "contact_name": company.contact_name,
            "contact_phone": company.contact_phone,
            "contact_email": company.contact_email,
            "address": company.address,
            "controlling_shareholder": company.controlling_shareholder,
            "controlling_shareholder_id": company.controlling_shareholder_id,
            "product": self.request.GET.get("product"),
        }
        context.setdefault("form", OnlineRequestForm(initial=initial))
        context["company"] = company
        return context

    def post(self, request):
        form = OnlineRequestForm(request.POST)
        existing_url = None
        if form.is_valid():
            data = dict(form.cleaned_data)
            changes = {key: data.pop(key) for key in services.ONLINE_COMPANY_FIELDS if key in data}
            try:
                application = services.application_apply_online(
                    actor=request.user,
                    company_changes=changes,
                    language=getattr(request, "LANGUAGE_CODE", "zh-hans"),
                    **data,
                )
            except Conflict as exc:
                if exc.details.get("existing_id"):
                    existing_url = reverse(
                        "portal-apply-application", args=[exc.details["existing_id"]]
                    )
                form.add_error(None, str(exc.message))
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                return redirect("portal-apply-application", pk=application.pk)
        return self.render_to_response(self.get_context_data(form=form, existing_url=existing_url))


@open_to_owners
class OnlineApplicationView(ApplicantRequiredMixin, PortalMixin, TemplateView):
    """The owner's page for one application: status, what is still needed, uploads."""

    template_name = "intake/portal_application.html"

    def application(self):
        try:
            return application_get(user=self.request.user, pk=self.kwargs["pk"])
        except NotFound:
            raise Http404() from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["application"] = self.application()
        context["consent_choices"] = Source.choices
        return context

    def post(self, request, pk: int):
        application = self.application()
        try:
            if "submit" in request.POST:
                # The checks the owner authorises in the same step (the product decided on
                # external data offers them with the button).
                datasources_services.application_submit_online(
                    actor=request.user,
                    application_id=application.pk,
                    consent_scope=request.POST.getlist("consent"),
                )
                messages.success(request, _("Your application was sent to the bank."))
            elif "answer" in request.POST:
                services.info_request_answer(
                    actor=request.user,
                    application_id=application.pk,
                    request_id=int(request.POST.get("request", 0)),
                    answer=request.POST.get("answer", ""),
                )
                messages.success(request, _("Thank you, your answer was sent."))
            else:
                _form_messages(request, _upload(request, application.pk))
        except DomainError as exc:
            messages.error(request, str(exc.message))
            for item in getattr(exc, "missing", []) or []:
                messages.error(request, item)
            for errors in (exc.details or {}).values():
                for error in errors if isinstance(errors, list) else []:
                    messages.error(request, error)
        except ValueError:
            messages.error(request, _("Please check the form."))
        return redirect(
            safe_next(request, reverse("portal-apply-application", args=[application.pk]))
        )


def panel_context(application, user) -> dict:
    """Data for the panels (used by the template tags)."""
    return {
        "lines": selectors.checklist_lines(application),
        "documents": selectors.document_list(application=application, history=True),
        "prescreen": selectors.prescreen_latest(application=application),
        "info_requests": selectors.info_request_list(application=application),
        "todo": selectors.applicant_todo(application=application),
        "document_types": DocumentType.objects.all(),
        "may_review": services.may_review_documents(user),
    }
