"""The SME owner's API under /api/v1/portal/: what the portal's pages show them, in the same
plain language (portal.selectors), and the same few actions (apply, send the draft to the
bank, upload what is asked for, answer a question, accept the offer, download their
documents and PDFs). Only owners may call it (org.permissions.OwnersOnly); an application of
another company is a 404. Nothing internal to the bank is in these answers: no route, risk
grade or score, no approver, no staff comment, no monitoring."""

from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from applications.models import GuaranteeType, Product, RepaymentMethod, Status
from common.api import ChoiceLabelField
from common.errors import Conflict, InvalidInput
from datasources import services as datasources_services
from datasources.models import Source
from disbursement import api as disbursement_api
from disbursement import selectors as disbursement_selectors
from disbursement.services import offer_accept, offer_acceptance_code_send
from intake import api as intake_api
from intake import selectors as intake_selectors
from intake import services as intake_services
from intake.models import Document
from org.auth import client_address
from org.permissions import OwnersOnly
from portal.selectors import (
    portal_application_get,
    portal_application_list,
    portal_application_status_text,
    portal_decline_reasons,
    portal_eligibility_check,
    portal_events,
    portal_loan,
    portal_owner_requests,
    portal_prepayment_quote,
    portal_repayments,
    portal_steps,
)
from postloan import api as postloan_api
from postloan import selectors as postloan_selectors
from postloan.models import OwnerRequest
from postloan.services import owner_request_ask, owner_request_withdraw

TAG = "portal"

# --- What the owner reads ---------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class PortalStatusTextField(serializers.Field):
    """Where the application is, in the sentence the portal shows (from its status; a
    facility application's signed contract: where its facility is)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return portal_application_status_text(value)


class PortalApplicationListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    product_name = serializers.CharField(source="product.name")
    product_name_zh = serializers.CharField(source="product.name_zh")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    term_months = serializers.IntegerField()
    status = serializers.CharField()
    status_display = ChoiceLabelField(Status.choices, source="status")
    status_text = PortalStatusTextField(help_text="Where it is, in plain words.")
    created_at = serializers.DateTimeField()


class PortalStepOutput(serializers.Serializer):
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "current", "todo"])


class PortalNeedOutput(serializers.Serializer):
    """One thing the bank still needs from the owner."""

    kind = serializers.ChoiceField(choices=["document", "question", "resend"])
    text = serializers.CharField()
    document_type = serializers.CharField()
    guarantor_id = serializers.IntegerField(allow_null=True)
    info_request_id = serializers.IntegerField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    reason = serializers.CharField(help_text="Why a document was returned, when it was.")


class PortalDocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    document_type = serializers.CharField(source="document_type.code")
    document_name = serializers.CharField(source="document_type.display_name")
    version = serializers.IntegerField()
    status = serializers.CharField()
    status_display = ChoiceLabelField(Document.Status.choices, source="status")
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, document) -> str:
        return reverse("api-portal-document-download", args=[document.application_id, document.pk])


class PortalTermChangedOutput(serializers.Serializer):
    field = serializers.ChoiceField(choices=["amount", "term_months", "interest_rate"])
    asked = serializers.DecimalField(max_digits=18, decimal_places=3)
    approved = serializers.DecimalField(max_digits=18, decimal_places=3)


class PortalOfferOutput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    interest_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    term_months = serializers.IntegerField()
    repayment_method = serializers.CharField()
    letter_status = serializers.CharField(source="status")
    conditions = serializers.ListField(
        child=serializers.CharField(), help_text="To be met before the money is paid out."
    )
    accepted_at = serializers.DateTimeField(allow_null=True)
    can_accept = serializers.BooleanField()
    terms_changed = PortalTermChangedOutput(
        many=True,
        help_text="The terms the bank approved other than those asked for (empty: as asked).",
    )
    pdf_url = serializers.CharField(help_text="The offer letter; empty while it is prepared.")
    documents_sha256 = serializers.CharField(
        help_text=(
            "SHA-256 of what is shown: these terms, the schedule and the offer letter's PDF "
            "(disbursement.selectors.offer_documents_sha256). Once accepted, the digest the "
            "acceptance recorded; send it back with the acceptance."
        )
    )


class PortalContractOutput(serializers.Serializer):
    number = serializers.CharField()
    signed_on = serializers.DateField()


class PortalScheduleOutput(disbursement_api.ScheduleOutput):
    """The schedule as staff read it (fixed is False while it is indicative, until the money
    is paid out), with the owner's PDF link."""

    pdf_url = serializers.CharField()


class PortalRepaymentOutput(serializers.Serializer):
    value_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()


class PortalLoanOutput(serializers.Serializer):
    """Where the loan stands once paid out, as the portal page shows it."""

    currency = serializers.CharField()
    principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    paid_total = serializers.DecimalField(max_digits=18, decimal_places=2)
    paid_instalments = serializers.IntegerField()
    instalment_count = serializers.IntegerField()
    next_due_date = serializers.DateField(allow_null=True, help_text="Null once all is paid.")
    next_due_amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    overdue_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    overdue_instalments = serializers.IntegerField()
    overdue_since = serializers.DateField(
        allow_null=True, help_text="The due date of the oldest instalment not paid in time."
    )
    days_overdue = serializers.IntegerField()
    outstanding_principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    outstanding_total = serializers.DecimalField(max_digits=18, decimal_places=2)
    overdue_interest = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Overdue interest (罚息) accrued and unpaid."
    )
    standing = serializers.CharField(
        help_text="The loan's standing in plain words, where the bank shows it; else empty."
    )


class PortalEventOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    status = serializers.CharField()
    text = serializers.CharField()


class PortalApplicationOutput(PortalApplicationListOutput):
    status_text = serializers.CharField(help_text="Where it is, in plain words.")
    relationship_manager_name = serializers.CharField(help_text="Their contact at the bank.")
    steps = PortalStepOutput(many=True)
    needed = PortalNeedOutput(many=True)
    documents = PortalDocumentOutput(many=True)
    decline_reasons = serializers.ListField(
        child=serializers.CharField(), help_text="The bank's reasons, written for applicants."
    )
    offer = PortalOfferOutput(allow_null=True)
    contract = PortalContractOutput(allow_null=True)
    schedule = PortalScheduleOutput(allow_null=True)
    loan = PortalLoanOutput(allow_null=True, help_text="Null until the loan is paid out.")
    repayments = PortalRepaymentOutput(many=True)
    events = PortalEventOutput(many=True)


def _offer(application, user) -> dict | None:
    offer = disbursement_selectors.offer_for(application)
    if offer is None:
        return None
    ready = offer.status == offer.Status.READY
    return {
        "amount": offer.amount,
        "currency": offer.currency,
        "interest_rate": offer.interest_rate,
        "term_months": offer.term_months,
        "repayment_method": offer.repayment_method,
        "status": offer.status,
        "conditions": disbursement_selectors.offer_terms(offer)["conditions"],
        "accepted_at": offer.accepted_at,
        "terms_changed": application.terms_changed(),
        "can_accept": disbursement_selectors.offer_can_be_accepted(
            application=application, offer=offer, user=user
        ),
        "pdf_url": reverse("api-portal-offer-pdf", args=[application.pk]) if ready else "",
        "documents_sha256": offer.accepted_documents_sha256
        or disbursement_selectors.offer_shown_sha256(application, offer),
    }


def _schedule(application) -> dict | None:
    rows, fixed = disbursement_selectors.schedule_rows(application)
    if not rows:
        return None
    totals = disbursement_selectors.schedule_totals(rows)
    return {
        "fixed": fixed,
        "rows": rows,
        "total_principal": totals["principal"],
        "total_interest": totals["interest"],
        "total": totals["total"],
        "pdf_url": reverse("api-portal-schedule-pdf", args=[application.pk]),
    }


def portal_application_data(application, *, user) -> dict:
    """The portal page's content of one application, as the API answers it."""
    rm = application.relationship_manager
    offer_stage = disbursement_selectors.offer_stage_reached(application)
    return PortalApplicationOutput(
        {
            **{
                name: getattr(application, name)
                for name in (
                    "id",
                    "reference",
                    "product",
                    "amount",
                    "currency",
                    "term_months",
                    "status",
                    "created_at",
                )
            },
            "status_text": portal_application_status_text(application),
            "relationship_manager_name": rm.get_full_name() or rm.username,
            "steps": portal_steps(application),
            "needed": intake_selectors.applicant_todo(application=application),
            "documents": intake_selectors.document_list(application=application).select_related(
                "document_type"
            ),
            "decline_reasons": portal_decline_reasons(application),
            "offer": _offer(application, user) if offer_stage else None,
            "contract": disbursement_selectors.contract_for(application) if offer_stage else None,
            "schedule": _schedule(application) if offer_stage else None,
            "loan": portal_loan(application),
            "repayments": portal_repayments(application),
            "events": portal_events(application),
        }
    ).data


def _answer(request, pk: int, *, status_code: int = 200) -> Response:
    application = portal_application_get(user=request.user, pk=pk)
    return Response(portal_application_data(application, user=request.user), status=status_code)


class PortalApplicationListApi(APIView):
    """The owner's company's applications, newest first (GET); apply online (POST): a draft,
    assigned to a relationship manager of the company's branch."""

    permission_classes = [OwnersOnly]

    class PortalApplyInput(serializers.Serializer):
        product = serializers.SlugRelatedField(slug_field="code", queryset=Product.objects.all())
        amount = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01")
        )
        term_months = serializers.IntegerField(min_value=1, max_value=600)
        repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices)
        guarantee_type = serializers.ChoiceField(choices=GuaranteeType.choices)
        purpose = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )
        contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
        contact_email = serializers.EmailField(required=False, allow_blank=True)
        address = serializers.CharField(max_length=300, required=False, allow_blank=True)
        employees = serializers.IntegerField(min_value=0, required=False)
        controlling_shareholder, controlling_shareholder_id = (
            intake_api.controlling_shareholder_inputs()
        )

    @extend_schema(tags=[TAG], responses=PortalApplicationListOutput(many=True))
    def get(self, request):
        applications = portal_application_list(user=request.user).select_related("product")
        return Response(PortalApplicationListOutput(applications, many=True).data)

    @extend_schema(tags=[TAG], request=PortalApplyInput, responses={201: PortalApplicationOutput})
    def post(self, request):
        serializer = self.PortalApplyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company_changes = {
            key: data.pop(key) for key in intake_services.ONLINE_COMPANY_FIELDS if key in data
        }
        application = intake_services.application_apply_online(
            actor=request.user,
            company_changes=company_changes,
            language=getattr(request, "LANGUAGE_CODE", "zh-hans"),
            **data,
        )
        return _answer(request, application.pk, status_code=status.HTTP_201_CREATED)


class PortalApplicationApi(APIView):
    """One application as the portal shows it: where it is, what is needed, the decision's
    reasons, the offer, the schedule and the repayments."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG], responses=PortalApplicationOutput)
    def get(self, request, pk: int):
        return _answer(request, pk)


class PortalSubmitApi(APIView):
    """Send the draft to the bank (409 while something it needs is missing, listed). With
    `consent`, the owner authorises the checks of those sources in the same step (for
    `consent_days`, the bank's default if omitted): a product decided on external data then
    asks them at once."""

    permission_classes = [OwnersOnly]

    class PortalSubmitInput(serializers.Serializer):
        consent = serializers.ListField(
            child=serializers.ChoiceField(choices=Source.choices), required=False
        )
        consent_days = serializers.IntegerField(min_value=1, max_value=366, required=False)

    @extend_schema(tags=[TAG], request=PortalSubmitInput, responses=PortalApplicationOutput)
    def post(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        serializer = self.PortalSubmitInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        datasources_services.application_submit_online(
            actor=request.user,
            application_id=application.pk,
            consent_scope=data.get("consent"),
            consent_days=data.get("consent_days"),
        )
        return _answer(request, pk)


class PortalDocumentUploadApi(APIView):
    """Upload a document the bank asks for (multipart): a new version; the type is checked
    by content (PDF, JPEG, PNG, DOCX, XLSX)."""

    permission_classes = [OwnersOnly]
    parser_classes = [MultiPartParser, FormParser]

    class PortalDocumentInput(serializers.Serializer):
        document_type = serializers.CharField(max_length=40)
        file = serializers.FileField(allow_empty_file=True)
        guarantor = serializers.IntegerField(required=False)
        info_request = serializers.IntegerField(required=False)

    @extend_schema(
        tags=[TAG],
        request={"multipart/form-data": PortalDocumentInput},
        responses={201: PortalDocumentOutput},
    )
    def post(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        serializer = self.PortalDocumentInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        document = intake_services.document_upload(
            actor=request.user,
            application_id=application.pk,
            document_type=data["document_type"],
            file=data["file"],
            guarantor_id=data.get("guarantor"),
            info_request_id=data.get("info_request"),
        )
        return Response(PortalDocumentOutput(document).data, status=status.HTTP_201_CREATED)


class PortalInfoRequestAnswerApi(APIView):
    """Answer a question the bank asked."""

    permission_classes = [OwnersOnly]

    class PortalAnswerInput(serializers.Serializer):
        answer = serializers.CharField(max_length=4000)

    @extend_schema(tags=[TAG], request=PortalAnswerInput, responses=PortalApplicationOutput)
    def post(self, request, pk: int, request_id: int):
        application = portal_application_get(user=request.user, pk=pk)
        serializer = self.PortalAnswerInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        intake_services.info_request_answer(
            actor=request.user,
            application_id=application.pk,
            request_id=request_id,
            **serializer.validated_data,
        )
        return _answer(request, pk)


class PortalOfferCodeApi(APIView):
    """Send the one-time code that confirms accepting the offer, to the owner's own mobile
    number or e-mail address (202); 409 if the offer cannot be accepted now, 429 within a
    minute of the last code."""

    permission_classes = [OwnersOnly]

    class PortalOfferCodeOutput(serializers.Serializer):
        channel = serializers.ChoiceField(choices=["sms", "email"])
        sent_to = serializers.CharField(help_text="The address, partly masked.")
        valid_minutes = serializers.IntegerField()

    @extend_schema(tags=[TAG], request=None, responses={202: PortalOfferCodeOutput})
    def post(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        channel, sent_to = offer_acceptance_code_send(
            application_id=application.pk,
            actor=request.user,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        data = {
            "channel": channel,
            "sent_to": sent_to,
            "valid_minutes": settings.LOANFLOW_CODE_MINUTES,
        }
        return Response(self.PortalOfferCodeOutput(data).data, status=status.HTTP_202_ACCEPTED)


class PortalOfferAcceptApi(APIView):
    """Accept the offer, knowingly: `read_confirmed` true (the owner read the offer, its terms
    and the schedule) and `otp`, the code from offer/code/; the contract is signed on these
    terms (→ contract_signed). `documents_sha256`, the digest the offer showed, makes sure
    nothing changed since (409 otherwise). 409 when the offer cannot be accepted, 400 on a
    missing confirmation or a wrong or expired code, 429 when too many wrong codes locked it."""

    permission_classes = [OwnersOnly]

    class PortalOfferAcceptInput(serializers.Serializer):
        # Checked by the service, after the offer's state (409 comes before 400).
        read_confirmed = serializers.BooleanField(required=False, default=False)
        otp = serializers.CharField(
            max_length=12, required=False, allow_blank=True, default="", trim_whitespace=True
        )
        documents_sha256 = serializers.RegexField(
            r"^[0-9a-f]{64}$", required=False, allow_blank=True, default=""
        )

    @extend_schema(tags=[TAG], request=PortalOfferAcceptInput, responses=PortalApplicationOutput)
    def post(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        serializer = self.PortalOfferAcceptInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer_accept(
            application_id=application.pk,
            actor=request.user,
            client_ip=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            **serializer.validated_data,
        )
        return _answer(request, pk)


# The downloads are the staff endpoints' own code, opened to owners on their own paths.


@extend_schema_view(get=extend_schema(tags=[TAG], operation_id="portal_document_download"))
class PortalDocumentDownloadApi(intake_api.DocumentDownloadApi):
    """One of the owner's documents, as an attachment."""

    permission_classes = [OwnersOnly]


@extend_schema_view(get=extend_schema(tags=[TAG], operation_id="portal_offer_pdf"))
class PortalOfferPdfApi(disbursement_api.OfferPdfApi):
    """The offer letter PDF (404 while it is being prepared)."""

    permission_classes = [OwnersOnly]


@extend_schema_view(get=extend_schema(tags=[TAG], operation_id="portal_schedule_pdf"))
class PortalSchedulePdfApi(disbursement_api.SchedulePdfApi):
    """The repayment schedule as a PDF."""

    permission_classes = [OwnersOnly]


class PortalScheduleRowOutput(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    interest = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)


class PortalPayoffQuoteOutput(postloan_api.PayoffQuoteSerializer):
    schedule_after = PortalScheduleRowOutput(
        many=True,
        help_text="A partial prepayment's instalments from its value date on, as they would be.",
    )


class PortalPayoffQuoteApi(APIView):
    """What prepaying the loan on a date (today by default; up to the latest value date the
    bank accepts) would cost: in full (kind=full, the default), or `principal` of it with a
    shorter term or a lower instalment, as the product allows, with the schedule that would
    follow. 400 for a date or figure it cannot take, 409 once the loan is closed."""

    permission_classes = [OwnersOnly]

    @extend_schema(
        tags=[TAG],
        parameters=postloan_api.QUOTE_PARAMETERS,
        responses=PortalPayoffQuoteOutput,
    )
    def get(self, request, pk: int):
        serializer = postloan_api.PayoffQuoteInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        application = portal_application_get(user=request.user, pk=pk)
        postloan_selectors.loan_get(user=request.user, application_id=pk)  # 404 before a loan
        data = serializer.validated_data
        answer = portal_prepayment_quote(
            application,
            value_date=data.get("value_date"),
            kind=data["kind"],
            principal=data.get("principal"),
        )
        if answer["problem_field"]:
            raise InvalidInput(details={answer["problem_field"]: [answer["problem"]]})
        if answer["problem"]:
            raise Conflict(answer["problem"], code="not_quoted")
        quote = answer["quote"]
        data = postloan_api.PayoffQuoteSerializer(quote).data
        data["schedule_after"] = PortalScheduleRowOutput(answer["schedule_after"], many=True).data
        return Response(data)


class PortalOwnerRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="A kind of prepayment or of change.")
    kind_display = serializers.CharField()
    is_prepayment = serializers.BooleanField()
    value_date = serializers.DateField(allow_null=True, help_text="A prepayment's.")
    principal = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    note = serializers.CharField()
    status = serializers.CharField(
        help_text="open, declined, withdrawn; a change filed: filed; a prepayment once filed, "
        "its prepayment's: requested, confirmed, cancelled."
    )
    status_text = serializers.CharField()
    reason = serializers.CharField(help_text="Why the bank declined it.")
    total = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    change = serializers.IntegerField(
        allow_null=True, help_text="The change application it was filed as."
    )
    created_at = serializers.DateTimeField()
    can_withdraw = serializers.BooleanField()


class PortalOwnerRequestApi(APIView):
    """The owner's requests on their loan; POST asks the bank for a prepayment (kind
    full, shorten_term or lower_instalment; value_date from today; principal for a partial
    one) or a change (renewal, renewal_without_repayment, extension, restructuring, top_up),
    with a note. Their relationship manager files it or declines it. 409 open_request while
    one is with the bank."""

    permission_classes = [OwnersOnly]

    class PortalOwnerRequestInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=OwnerRequest.Kind.choices)
        value_date = serializers.DateField(required=False, help_text="A prepayment's.")
        principal = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        note = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    @extend_schema(tags=[TAG], responses=PortalOwnerRequestOutput(many=True))
    def get(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        return Response(
            PortalOwnerRequestOutput(portal_owner_requests(application), many=True).data
        )

    @extend_schema(
        tags=[TAG], request=PortalOwnerRequestInput, responses={201: PortalOwnerRequestOutput}
    )
    def post(self, request, pk: int):
        # Another company's application is a 404 whatever the body says.
        application = portal_application_get(user=request.user, pk=pk)
        serializer = self.PortalOwnerRequestInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        asked = owner_request_ask(
            application_id=application.pk, actor=request.user, **serializer.validated_data
        )
        row = next(r for r in portal_owner_requests(application) if r["id"] == asked.pk)
        return Response(PortalOwnerRequestOutput(row).data, status=status.HTTP_201_CREATED)


class PortalOwnerRequestWithdrawApi(APIView):
    """Withdraw an open request (409 once the bank answered it)."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG], request=None, responses=PortalOwnerRequestOutput)
    def post(self, request, pk: int, owner_request_id: int):
        application = portal_application_get(user=request.user, pk=pk)
        owner_request_withdraw(
            application_id=application.pk, request_id=owner_request_id, actor=request.user
        )
        row = next(r for r in portal_owner_requests(application) if r["id"] == owner_request_id)
        return Response(PortalOwnerRequestOutput(row).data)


# The routes before the owner's prepayment and change requests were one, kept working.


class PortalPrepaymentRequestApi(PortalOwnerRequestApi):
    """GET and POST .../prepayment-requests/: as .../owner-requests/."""

    schema = None  # not in the API's schema: the route before the requests were one


class PortalChangeRequestApi(PortalOwnerRequestApi):
    """POST .../change-requests/: as .../owner-requests/."""

    schema = None  # not in the API's schema: the route before the requests were one


class PortalPrepaymentWithdrawApi(PortalOwnerRequestWithdrawApi):
    """.../prepayment-requests/<id>/withdraw/: as .../owner-requests/<id>/withdraw/."""

    schema = None  # not in the API's schema: the route before the requests were one

    def post(self, request, pk: int, prepayment_request_id: int):
        return super().post(request, pk=pk, owner_request_id=prepayment_request_id)


# --- Before applying --------------------------------------------------------------------------


class EligibilityCheckThrottle(SimpleRateThrottle):
    """At most LOANFLOW_ELIGIBILITY_RATE eligibility checks per owner, the portal page's and
    the API's together: the answers reveal the pre-screen's thresholds."""

    scope = "eligibility_check"

    def get_rate(self) -> str:
        return settings.LOANFLOW_ELIGIBILITY_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PortalCriterionOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="amount, term_months, guarantee_type or a rule's kind.")
    text = serializers.CharField(help_text="What the product asks, in plain words.")
    met = serializers.BooleanField()
    explanation = serializers.CharField(help_text="Why it is met, or why not.")


class PortalEligibilityOutput(serializers.Serializer):
    product = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.display_name")
    eligible = serializers.BooleanField(help_text="Every criterion is met.")
    criteria = PortalCriterionOutput(many=True)


class PortalEligibilityApi(APIView):
    """Before applying: which of a product's admission criteria the company meets, each in
    plain words, by the same pre-screen rules as the submission (but not the negative list).
    No application is created and nothing is recorded. At most LOANFLOW_ELIGIBILITY_RATE
    per owner; 429 beyond."""

    permission_classes = [OwnersOnly]
    throttle_classes = [EligibilityCheckThrottle]

    class PortalEligibilityInput(serializers.Serializer):
        product = serializers.CharField(max_length=30, help_text="The product's code.")
        registration_date = serializers.DateField()
        industry_code = serializers.CharField(max_length=10)
        amount = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01")
        )
        term_months = serializers.IntegerField(min_value=1, max_value=600)
        guarantee_type = serializers.ChoiceField(choices=GuaranteeType.choices)

    @extend_schema(tags=[TAG], request=PortalEligibilityInput, responses=PortalEligibilityOutput)
    def post(self, request):
        serializer = self.PortalEligibilityInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        result = portal_eligibility_check(product_code=data.pop("product"), **data)
        return Response(PortalEligibilityOutput(result).data)
