"""Staff pages (/contracts/<pk>/: prepare, sign in the branch, sign for the bank, the loan
file) and the owner's page (/portal/applications/<pk>/contracts/). Thin: one service call per
POST; domain errors are shown with their HTTP status."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View

from applications.selectors import application_get
from common.errors import DomainError, NotFound
from common.http import safe_next
from contracts import loanfile, selectors, services
from contracts.api import portal_contracts
from contracts.models import Party, Signature
from org.audience import open_to_owners
from org.auth import client_address
from org.permissions import has_role_perm
from org.selectors import is_staff_member
from portal.selectors import portal_application_get


def _error(request, exc: DomainError, back: str) -> HttpResponse:
    return render(
        request,
        "disbursement/error.html",
        {
            "error": exc,
            "missing": getattr(exc, "missing", None) or [],
            "back": back,
            "details": exc.details,
            "base_template": "base.html" if is_staff_member(request.user) else "portal/base.html",
        },
        status=exc.status_code,
    )


def _staff_application(request, pk: int):
    application = application_get(user=request.user, pk=pk)
    if not is_staff_member(request.user):
        raise NotFound()
    return application


class ContractsPageView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = _staff_application(request, pk)
        except DomainError as exc:
            return _error(request, exc, "/")
        user = request.user
        in_signing = application.status in selectors.SIGNING_STATES
        return render(
            request,
            "contracts/page.html",
            {
                "application": application,
                "contracts": list(selectors.contracts_for(application)),
                "unsigned": selectors.contracts_unsigned(application),
                "can_prepare": in_signing and has_role_perm(user, "contracts.prepare_contracts"),
                "can_witness": in_signing and has_role_perm(user, "contracts.sign_contract"),
                "can_sign_for_bank": in_signing and has_role_perm(user, "contracts.sign_for_bank"),
                "loan_file_entries": len(loanfile.loan_file_entries(application)),
                "loan_file_unfiled": loanfile.loan_file_unfiled(application),
                "party_choices": [(Party.BORROWER, Party.BORROWER.label)]
                + [(Party.GUARANTOR, Party.GUARANTOR.label)],
            },
        )


class _StaffAction(LoginRequiredMixin, View):
    def act(self, request, pk: int, **kwargs) -> str:
        raise NotImplementedError

    def post(self, request, pk: int, **kwargs):
        back = safe_next(request, reverse("contracts-page", args=[pk]))
        try:
            _staff_application(request, pk)
            message = self.act(request, pk, **kwargs)
        except DomainError as exc:
            return _error(request, exc, back)
        messages.success(request, message)
        return redirect(back)


class ContractsPrepareView(_StaffAction):
    def act(self, request, pk: int) -> str:
        created = services.contracts_prepare(application_id=pk, actor=request.user)
        return _("%(count)d contracts prepared; their PDFs are being made.") % {
            "count": len(created)
        }


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


class ContractCodeView(_StaffAction):
    def act(self, request, pk: int, contract_id: int) -> str:
        _channel, sent_to = services.contract_signing_code_send(
            application_id=pk,
            contract_id=contract_id,
            actor=request.user,
            party=request.POST.get("party", ""),
            method=request.POST.get("method", ""),
            address=request.POST.get("address", ""),
            language=_language(),
        )
        return _("A code was sent to %(address)s.") % {"address": sent_to}


class ContractSignView(_StaffAction):
    def act(self, request, pk: int, contract_id: int) -> str:
        services.contract_sign(
            application_id=pk,
            contract_id=contract_id,
            actor=request.user,
            party=request.POST.get("party", ""),
            method=request.POST.get("method", ""),
            otp=request.POST.get("otp", ""),
            document_sha256=request.POST.get("document_sha256", ""),
            id_number=request.POST.get("id_number", ""),
            address=request.POST.get("address", ""),
            client_ip=client_address(request),
        )
        return _("The signature is recorded.")


class LoanFileVerifyView(_StaffAction):
    def act(self, request, pk: int) -> str:
        application = application_get(user=request.user, pk=pk)
        mismatch = loanfile.loan_file_verify(application=application)
        if mismatch is None:
            return _("Every document of the loan file has the hash it was filed with.")
        messages.error(
            request,
            _("%(file)s does not match: filed with %(expected)s, now %(found)s.")
            % {"file": mismatch.filename, "expected": mismatch.expected, "found": mismatch.found},
        )
        return _("Verification finished.")


class LoanFileRecordView(_StaffAction):
    def act(self, request, pk: int) -> str:
        application = application_get(user=request.user, pk=pk)
        filed = loanfile.loan_file_record(application=application, actor=request.user)
        return _("%(count)d documents filed in the loan file.") % {"count": len(filed)}


class LoanFileZipView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = _staff_application(request, pk)
        except DomainError as exc:
            return _error(request, exc, "/")
        content = loanfile.loan_file_zip(application=application, actor=request.user)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="loan-file-{application.reference}.zip"'
        )
        return response


class ContractPdfView(LoginRequiredMixin, View):
    signed = False

    def get(self, request, pk: int, contract_id: int):
        try:
            application = _staff_application(request, pk)
            contract = selectors.contract_get(application=application, pk=contract_id)
            field = contract.signed_file if self.signed else contract.file
            if not field:
                raise NotFound()
        except DomainError as exc:
            return _error(request, exc, "/")
        with field.storage.open(field.name, "rb") as handle:
            content = handle.read()
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{contract.number}.pdf"'
        return response


# --- The owner's page ------------------------------------------------------------------------


@open_to_owners
class PortalContractsView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        try:
            application = portal_application_get(user=request.user, pk=pk)
        except DomainError as exc:
            return _error(request, exc, reverse("portal-home"))
        return render(
            request,
            "contracts/portal.html",
            {"application": application, "contracts": portal_contracts(application)},
        )


class _PortalAction(LoginRequiredMixin, View):
    def act(self, request, application, contract_id: int) -> str:
        raise NotImplementedError

    def post(self, request, pk: int, contract_id: int):
        back = reverse("portal-contracts", args=[pk])
        try:
            application = portal_application_get(user=request.user, pk=pk)
            message = self.act(request, application, contract_id)
        except DomainError as exc:
            return _error(request, exc, back)
        messages.success(request, message)
        return redirect(back)


@open_to_owners
class PortalContractCodeView(_PortalAction):
    def act(self, request, application, contract_id: int) -> str:
        _channel, sent_to = services.contract_signing_code_send(
            application_id=application.pk,
            contract_id=contract_id,
            actor=request.user,
            party=Party.BORROWER,
            method=Signature.Method.PORTAL,
            language=_language(),
        )
        return _("We sent a code to %(address)s.") % {"address": sent_to}


@open_to_owners
class PortalContractSignView(_PortalAction):
    def act(self, request, application, contract_id: int) -> str:
        services.contract_sign(
            application_id=application.pk,
            contract_id=contract_id,
            actor=request.user,
            party=Party.BORROWER,
            method=Signature.Method.PORTAL,
            otp=request.POST.get("otp", ""),
            read_confirmed=request.POST.get("read_confirmed") == "on",
            document_sha256=request.POST.get("documents_sha256", ""),
            client_ip=client_address(request),
        )
        return _("You have signed the contract.")


@open_to_owners
class PortalContractPdfView(LoginRequiredMixin, View):
    def get(self, request, pk: int, contract_id: int):
        try:
            application = portal_application_get(user=request.user, pk=pk)
            contract = selectors.contract_get(application=application, pk=contract_id)
            field = contract.signed_file if request.GET.get("signed") == "1" else contract.file
            if not field:
                raise NotFound()
        except DomainError as exc:
            return _error(request, exc, reverse("portal-home"))
        with field.storage.open(field.name, "rb") as handle:
            content = handle.read()
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{contract.number}.pdf"'
        return response
