"""API of the contracts and the loan file: staff under /api/v1/contracts/, the owner under
/api/v1/portal/applications/<pk>/contracts/. Thin: one service call each."""

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.selectors import application_get
from common.api import ChoiceLabelField
from common.errors import NotFound
from contracts import loanfile, selectors, services
from contracts.models import ContractDocument, ContractKind, Party, Signature
from org.auth import client_address
from org.permissions import OwnersOnly
from org.selectors import is_staff_member
from portal.selectors import portal_application_get

TAG = "portal"


class ContractSignatureOutput(serializers.ModelSerializer):
    party = serializers.CharField(read_only=True)
    method = serializers.CharField(read_only=True)
    party_display = ChoiceLabelField(Party.choices, source="party")
    method_display = ChoiceLabelField(Signature.Method.choices, source="method")
    witness_name = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "id",
            "party",
            "party_display",
            "method",
            "method_display",
            "signer_name",
            "signer_id_number",
            "witness_name",
            "code_channel",
            "code_sent_to",
            "document_sha256",
            "provider",
            "seal",
            "signed_at",
        ]

    def get_witness_name(self, obj) -> str:
        if obj.witness is None:
            return ""
        return obj.witness.get_full_name() or obj.witness.username


class ContractDocumentOutput(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    language = serializers.CharField(read_only=True)
    pdf_status = serializers.CharField(read_only=True)
    kind_display = ChoiceLabelField(ContractKind.choices, source="kind")
    status = serializers.CharField(read_only=True)
    status_display = ChoiceLabelField(ContractDocument.Status.choices, source="status")
    template_version = serializers.IntegerField(source="template.version", read_only=True)
    signatures = ContractSignatureOutput(many=True, read_only=True)
    parties = serializers.SerializerMethodField()

    class Meta:
        model = ContractDocument
        fields = [
            "id",
            "number",
            "kind",
            "kind_display",
            "language",
            "template_version",
            "guarantor",
            "collateral",
            "status",
            "status_display",
            "pdf_status",
            "sha256",
            "signed_sha256",
            "parties",
            "signatures",
            "prepared_at",
            "signed_at",
        ]

    def get_parties(self, obj) -> list[str]:
        return obj.required_parties()


class ContractDocumentsOutput(serializers.Serializer):
    contracts = ContractDocumentOutput(many=True)
    unsigned = serializers.ListField(child=serializers.CharField())


def _overview(application) -> dict:
    return {
        "contracts": ContractDocumentOutput(selectors.contracts_for(application), many=True).data,
        "unsigned": selectors.contracts_unsigned(application),
    }


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _contract_pdf(application, contract_id, *, signed: bool) -> HttpResponse:
    contract = selectors.contract_get(application=application, pk=contract_id)
    field = contract.signed_file if signed else contract.file
    if not field:
        raise NotFound()
    with field.storage.open(field.name, "rb") as handle:
        content = handle.read()
    suffix = "-signed" if signed else ""
    return _pdf(content, f"{contract.number}{suffix}.pdf")


class ContractsApi(APIView):
    """Staff: an application's contracts, their signatures and what is still unsigned."""

    @extend_schema(responses=ContractDocumentsOutput, operation_id="contracts_list")
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(_overview(application))


class ContractsPrepareApi(APIView):
    """The relationship manager prepares every required contract from the approved offer
    (201); their PDFs are rendered after the commit."""

    @extend_schema(
        request=None, responses={201: ContractDocumentsOutput}, operation_id="contracts_prepare"
    )
    def post(self, request, pk: int):
        services.contracts_prepare(application_id=pk, actor=request.user)
        application = application_get(user=request.user, pk=pk)
        return Response(_overview(application), status=status.HTTP_201_CREATED)


class ContractPdfApi(APIView):
    """The contract's PDF as the parties sign it (404 while it is being prepared)."""

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY}, operation_id="contracts_pdf"
    )
    def get(self, request, pk: int, contract_id: int):
        application = application_get(user=request.user, pk=pk)
        return _contract_pdf(application, contract_id, signed=False)


class SignedContractPdfApi(APIView):
    """The signed contract's PDF, with its signature page (404 until it is stored)."""

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        operation_id="contracts_signed_pdf",
    )
    def get(self, request, pk: int, contract_id: int):
        application = application_get(user=request.user, pk=pk)
        return _contract_pdf(application, contract_id, signed=True)


STAFF_METHODS = [Signature.Method.BRANCH, Signature.Method.BANK]


class ContractCodeOutput(serializers.Serializer):
    channel = serializers.CharField(help_text="sms or email")
    sent_to = serializers.CharField(help_text="The address, partly masked.")
    valid_minutes = serializers.IntegerField()


def _code_answer(channel: str, sent_to: str) -> Response:
    data = {"channel": channel, "sent_to": sent_to, "valid_minutes": settings.LOANFLOW_CODE_MINUTES}
    return Response(ContractCodeOutput(data).data, status=status.HTTP_202_ACCEPTED)


class ContractCodeApi(APIView):
    """Send the one-time code that confirms a signature: in the branch (面签) to the signer's
    address number (`address`), for the bank to the authorised signer's own address (202)."""

    class ContractCodeInput(serializers.Serializer):
        party = serializers.ChoiceField(choices=Party.choices)
        method = serializers.ChoiceField(choices=[(m, m.label) for m in STAFF_METHODS])
        address = serializers.CharField(max_length=100, required=False, allow_blank=True)

    @extend_schema(
        request=ContractCodeInput,
        responses={202: ContractCodeOutput},
        operation_id="contracts_code",
    )
    def post(self, request, pk: int, contract_id: int):
        data = self.ContractCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        channel, sent_to = services.contract_signing_code_send(
            application_id=pk,
            contract_id=contract_id,
            actor=request.user,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            **data.validated_data,
        )
        return _code_answer(channel, sent_to)


class ContractSignApi(APIView):
    """Sign in the branch, witnessed by the caller (the signer's `id_number` as on their ID
    card, their `address` and the code it received), or for the bank (the code sent to the
    authorised signer); `document_sha256` is the PDF's digest as read (409 if it changed)."""

    class ContractSignInput(serializers.Serializer):
        party = serializers.ChoiceField(choices=Party.choices)
        method = serializers.ChoiceField(choices=[(m, m.label) for m in STAFF_METHODS])
        otp = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
        document_sha256 = serializers.RegexField(
            r"^[0-9a-f]{64}$", required=False, allow_blank=True, default=""
        )
        id_number = serializers.CharField(max_length=30, required=False, allow_blank=True)
        address = serializers.CharField(max_length=100, required=False, allow_blank=True)

    @extend_schema(
        request=ContractSignInput, responses=ContractSignatureOutput, operation_id="contracts_sign"
    )
    def post(self, request, pk: int, contract_id: int):
        data = self.ContractSignInput(data=request.data)
        data.is_valid(raise_exception=True)
        signature = services.contract_sign(
            application_id=pk,
            contract_id=contract_id,
            actor=request.user,
            client_ip=client_address(request),
            **data.validated_data,
        )
        return Response(ContractSignatureOutput(signature).data)


class LoanFileEntryOutput(serializers.Serializer):
    file = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    version = serializers.IntegerField()
    source = serializers.CharField()
    uploaded_by = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    filed_at = serializers.CharField()
    retain_until = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class LoanFileOutput(serializers.Serializer):
    application = serializers.CharField()
    company = serializers.CharField()
    generated_at = serializers.CharField()
    documents = LoanFileEntryOutput(many=True)


def _loan_file_application(request, pk: int):
    """The application, for a staff member who may see it (the owner's portal has no loan
    file)."""
    application = application_get(user=request.user, pk=pk)
    if not is_staff_member(request.user):
        raise NotFound()
    return application


class LoanFileApi(APIView):
    """Staff: GET the loan file's index (every document filed, with its hash; reading files
    nothing); POST files every document not filed yet (audited) and answers the index."""

    @extend_schema(responses=LoanFileOutput, operation_id="contracts_loan_file")
    def get(self, request, pk: int):
        application = _loan_file_application(request, pk)
        entries = loanfile.loan_file_entries(application)
        return Response(loanfile.loan_file_index(application, entries))

    @extend_schema(
        request=None, responses=LoanFileOutput, operation_id="contracts_loan_file_record"
    )
    def post(self, request, pk: int):
        application = _loan_file_application(request, pk)
        loanfile.loan_file_record(application=application, actor=request.user)
        entries = loanfile.loan_file_entries(application)
        return Response(loanfile.loan_file_index(application, entries))


class LoanFileZipApi(APIView):
    """Staff: the loan file as one ZIP with index.json."""

    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        operation_id="contracts_loan_file_zip",
    )
    def get(self, request, pk: int):
        application = _loan_file_application(request, pk)
        content = loanfile.loan_file_zip(application=application, actor=request.user)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="loan-file-{application.reference}.zip"'
        )
        return response


class LoanFileVerifyOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    source = serializers.CharField(allow_null=True)
    file = serializers.CharField(allow_null=True)
    expected = serializers.CharField(allow_null=True)
    found = serializers.CharField(allow_null=True)


class LoanFileVerifyApi(APIView):
    """Staff: recompute every filed document's hash; the first that differs, if any."""

    @extend_schema(
        request=None, responses=LoanFileVerifyOutput, operation_id="contracts_loan_file_verify"
    )
    def post(self, request, pk: int):
        application = _loan_file_application(request, pk)
        mismatch = loanfile.loan_file_verify(application=application)
        data = {"ok": mismatch is None, "source": None, "file": None, "expected": None}
        data["found"] = None
        if mismatch is not None:
            data.update(
                source=mismatch.source,
                file=mismatch.filename,
                expected=mismatch.expected,
                found=mismatch.found,
            )
        return Response(LoanFileVerifyOutput(data).data)


# --- The owner's ------------------------------------------------------------------------------


class PortalContractDocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    documents_sha256 = serializers.CharField()
    can_sign = serializers.BooleanField()
    signed_by_you_at = serializers.DateTimeField(allow_null=True)


def portal_contracts(application) -> list[dict]:
    rows = []
    for contract in selectors.contracts_for(application):
        mine = next((s for s in contract.signatures.all() if s.party == Party.BORROWER), None)
        rows.append(
            {
                "id": contract.pk,
                "number": contract.number,
                "kind": contract.kind,
                "kind_display": str(ContractKind(contract.kind).label),
                "status": contract.status,
                "status_display": str(ContractDocument.Status(contract.status).label),
                "documents_sha256": contract.sha256,
                "can_sign": selectors.owner_may_sign(contract),
                "signed_by_you_at": mine.signed_at if mine else None,
            }
        )
    return rows


class PortalContractsApi(APIView):
    """The owner's contracts of an application and whether they may sign each."""

    permission_classes = [OwnersOnly]

    @extend_schema(
        tags=[TAG],
        responses=PortalContractDocumentOutput(many=True),
        operation_id="portal_contracts",
    )
    def get(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        return Response(PortalContractDocumentOutput(portal_contracts(application), many=True).data)


class PortalContractCodeApi(APIView):
    """Send the code that confirms signing this contract, to the owner's own address (202)."""

    permission_classes = [OwnersOnly]

    @extend_schema(
        tags=[TAG],
        request=None,
        responses={202: ContractCodeOutput},
        operation_id="portal_contract_code",
    )
    def post(self, request, pk: int, contract_id: int):
        application = portal_application_get(user=request.user, pk=pk)
        channel, sent_to = services.contract_signing_code_send(
            application_id=application.pk,
            contract_id=contract_id,
            actor=request.user,
            party=Party.BORROWER,
            method=Signature.Method.PORTAL,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        return _code_answer(channel, sent_to)


class PortalContractSignApi(APIView):
    """Sign the contract as the borrower's legal representative, knowingly: `read_confirmed`,
    the `otp` sent, and `documents_sha256` as shown (409 if the contract changed)."""

    permission_classes = [OwnersOnly]

    class PortalContractSignInput(serializers.Serializer):
        read_confirmed = serializers.BooleanField(required=False, default=False)
        otp = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
        documents_sha256 = serializers.RegexField(
            r"^[0-9a-f]{64}$", required=False, allow_blank=True, default=""
        )

    @extend_schema(
        tags=[TAG],
        request=PortalContractSignInput,
        responses=PortalContractDocumentOutput(many=True),
        operation_id="portal_contract_sign",
    )
    def post(self, request, pk: int, contract_id: int):
        application = portal_application_get(user=request.user, pk=pk)
        data = self.PortalContractSignInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.contract_sign(
            application_id=application.pk,
            contract_id=contract_id,
            actor=request.user,
            party=Party.BORROWER,
            method=Signature.Method.PORTAL,
            otp=data.validated_data["otp"],
            read_confirmed=data.validated_data["read_confirmed"],
            document_sha256=data.validated_data["documents_sha256"],
            client_ip=client_address(request),
        )
        return Response(PortalContractDocumentOutput(portal_contracts(application), many=True).data)


class PortalContractPdfApi(APIView):
    """The contract's PDF as the owner signs it; the signed one once stored (?signed=1)."""

    permission_classes = [OwnersOnly]

    @extend_schema(
        tags=[TAG],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        operation_id="portal_contract_pdf",
    )
    def get(self, request, pk: int, contract_id: int):
        application = portal_application_get(user=request.user, pk=pk)
        return _contract_pdf(
            application, contract_id, signed=request.query_params.get("signed") == "1"
        )
