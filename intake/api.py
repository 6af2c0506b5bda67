"""Intake API: thin classes, one service or selector call each."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.models import Product
from applications.selectors import application_get
from common.errors import NotFound
from common.http import stored_file_response
from customers.models import Company
from customers.ric import validate_party_id, validate_party_id_for_kind, validate_resident_id
from intake import selectors, services
from intake.models import ChecklistItem, Collateral, Document, Guarantor, InfoRequest

# --- Products and published checklists (public) -----------------------------------------------


def controlling_shareholder_inputs() -> tuple[serializers.CharField, serializers.CharField]:
    """The company's controlling shareholder, as the staff's and the owner's APIs take it."""
    return (
        serializers.CharField(max_length=200, required=False, allow_blank=True),
        serializers.CharField(
            max_length=30,
            required=False,
            allow_blank=True,
            validators=[validate_party_id],
            help_text="A person's resident ID number or a company's unified social credit code",
        ),
    )


class IntakeChecklistItemOutput(serializers.ModelSerializer):
    document_type = serializers.CharField(source="document_type.code")
    document_name = serializers.CharField(source="document_type.name")
    document_name_zh = serializers.CharField(source="document_type.name_zh")
    description = serializers.CharField(source="document_type.description")
    description_zh = serializers.CharField(source="document_type.description_zh")
    only_for_guarantee_type = serializers.CharField(
        help_text="Guarantee type the item applies to; empty for every type."
    )

    class Meta:
        model = ChecklistItem
        fields = [
            "document_type",
            "document_name",
            "document_name_zh",
            "description",
            "description_zh",
            "stage",
            "required",
            "only_for_guarantee_type",
            "per_guarantor",
        ]


class IntakeCriterionOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="amount, term_months, guarantee_type or a rule's kind.")
    text = serializers.CharField(help_text="In plain words, in the request's language.")


class IntakeProductOutput(serializers.ModelSerializer):
    checklist = IntakeChecklistItemOutput(source="checklist_items", many=True)
    criteria = serializers.SerializerMethodField(
        help_text="Who can apply: the admission criteria (the negative list is not published)."
    )

    @extend_schema_field(IntakeCriterionOutput(many=True))
    def get_criteria(self, product) -> list[dict]:
        criteria = selectors.admission_criteria(product=product)
        return IntakeCriterionOutput(criteria, many=True).data

    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "name_zh",
            "description",
            "description_zh",
            "currency",
            "min_amount",
            "max_amount",
            "min_term_months",
            "max_term_months",
            "min_rate",
            "max_rate",
            "repayment_methods",
            "business_day_convention",
            "day_count",
            "repayment_day",
            "guarantee_types",
            "fast_track_eligible",
            "active_from",
            "active_until",
            "version",
            "criteria",
            "checklist",
        ]


class ProductListApi(APIView):
    """Products open for applications, each with its published materials checklist."""

    permission_classes = [AllowAny]

    @extend_schema(responses=IntakeProductOutput(many=True))
    def get(self, request):
        return Response(IntakeProductOutput(selectors.product_list_published(), many=True).data)


class ProductDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=IntakeProductOutput)
    def get(self, request, code: str):
        product = selectors.product_get_published(code=code)
        if product is None:
            raise NotFound()
        return Response(IntakeProductOutput(product).data)


# --- Companies --------------------------------------------------------------------------------


class IntakeCompanyOutput(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "credit_code",
            "industry_code",
            "registration_date",
            "employees",
            "legal_representative",
            "controlling_shareholder",
            "controlling_shareholder_id",
            "contact_name",
            "contact_phone",
            "contact_email",
            "address",
            "home_branch",
        ]


class CompanyFindOrCreateApi(APIView):
    """Find a company by its unified social credit code, or create it (staff). A wrong
    check character is answered 400 on `credit_code`."""

    class IntakeCompanyFindOrCreateInput(serializers.Serializer):
        credit_code = serializers.CharField(max_length=30)
        name = serializers.CharField(max_length=200, required=False)
        industry_code = serializers.CharField(max_length=10, required=False)
        registration_date = serializers.DateField(required=False)
        employees = serializers.IntegerField(min_value=0, required=False)
        legal_representative = serializers.CharField(max_length=100, required=False)
        legal_representative_id = serializers.CharField(
            max_length=30, required=False, allow_blank=True, validators=[validate_resident_id]
        )
        controlling_shareholder, controlling_shareholder_id = controlling_shareholder_inputs()
        contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
        contact_email = serializers.EmailField(required=False, allow_blank=True)
        address = serializers.CharField(max_length=300, required=False, allow_blank=True)

    class IntakeCompanyFindOrCreateOutput(serializers.Serializer):
        created = serializers.BooleanField()
        company = IntakeCompanyOutput()

    @extend_schema(
        request=IntakeCompanyFindOrCreateInput,
        responses={200: IntakeCompanyFindOrCreateOutput, 201: IntakeCompanyFindOrCreateOutput},
    )
    def post(self, request):
        serializer = self.IntakeCompanyFindOrCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        code = data.pop("credit_code")
        company, created = services.company_find_or_create(
            actor=request.user, credit_code=code, data=data
        )
        return Response(
            {"created": created, "company": IntakeCompanyOutput(company).data},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- Guarantors and collateral ----------------------------------------------------------------


class IntakeGuarantorOutput(serializers.ModelSerializer):
    class Meta:
        model = Guarantor
        fields = ["id", "kind", "name", "id_number", "relationship"]


class IntakeCollateralOutput(serializers.ModelSerializer):
    class Meta:
        model = Collateral
        fields = ["id", "kind", "description", "declared_value", "currency"]


class GuarantorListApi(APIView):
    class IntakeGuarantorListInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Guarantor.Kind.choices)
        name = serializers.CharField(max_length=200)
        id_number = serializers.CharField(max_length=30)
        relationship = serializers.CharField(max_length=100, required=False, allow_blank=True)

        def validate(self, attrs):
            try:
                validate_party_id_for_kind(attrs.get("kind", "person"), attrs["id_number"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"id_number": exc.messages}) from None
            return attrs

    @extend_schema(responses=IntakeGuarantorOutput(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(IntakeGuarantorOutput(application.guarantors.all(), many=True).data)

    @extend_schema(request=IntakeGuarantorListInput, responses={201: IntakeGuarantorOutput})
    def post(self, request, pk: int):
        serializer = self.IntakeGuarantorListInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        guarantor = services.guarantor_add(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(IntakeGuarantorOutput(guarantor).data, status=status.HTTP_201_CREATED)


class GuarantorDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int, item_id: int):
        services.guarantor_remove(actor=request.user, application_id=pk, guarantor_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollateralListApi(APIView):
    class IntakeCollateralListInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Collateral.Kind.choices)
        description = serializers.CharField(max_length=300)
        declared_value = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01")
        )
        currency = serializers.CharField(max_length=3, required=False, default="CNY")

    @extend_schema(responses=IntakeCollateralOutput(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(IntakeCollateralOutput(application.collateral.all(), many=True).data)

    @extend_schema(request=IntakeCollateralListInput, responses={201: IntakeCollateralOutput})
    def post(self, request, pk: int):
        serializer = self.IntakeCollateralListInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.collateral_add(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(IntakeCollateralOutput(item).data, status=status.HTTP_201_CREATED)


class CollateralDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int, item_id: int):
        services.collateral_remove(actor=request.user, application_id=pk, collateral_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Documents --------------------------------------------------------------------------------


class IntakeDocumentOutput(serializers.ModelSerializer):
    document_type = serializers.CharField(source="document_type.code")
    document_name = serializers.CharField(source="document_type.display_name")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "document_type",
            "document_name",
            "guarantor",
            "version",
            "is_current",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "status",
            "review_reason",
            "reviewed_at",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, obj) -> str:
        return reverse("api-document-download", args=[obj.application_id, obj.pk])


class DocumentListApi(APIView):
    """Current documents (history=1: every version). POST uploads a new version
    (multipart): the type is checked by content; PDF, JPEG, PNG, DOCX, XLSX."""

    parser_classes = [MultiPartParser, FormParser]

    class Query(serializers.Serializer):
        history = serializers.BooleanField(required=False, default=False)

    class IntakeDocumentListInput(serializers.Serializer):
        document_type = serializers.CharField(max_length=40)
        file = serializers.FileField(allow_empty_file=True)
        name = serializers.CharField(
            max_length=300, required=False, help_text="Display name; defaults to the file's name."
        )
        guarantor = serializers.IntegerField(required=False)
        info_request = serializers.IntegerField(required=False)

    @extend_schema(parameters=[Query], responses=IntakeDocumentOutput(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        history = query.validated_data["history"]
        return Response(
            IntakeDocumentOutput(
                selectors.document_list(application=application, history=history), many=True
            ).data
        )

    @extend_schema(
        request={"multipart/form-data": IntakeDocumentListInput},
        responses={201: IntakeDocumentOutput},
    )
    def post(self, request, pk: int):
        serializer = self.IntakeDocumentListInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        document = services.document_upload(
            actor=request.user,
            application_id=pk,
            document_type=data["document_type"],
            file=data["file"],
            guarantor_id=data.get("guarantor"),
            name=data.get("name"),
            info_request_id=data.get("info_request"),
        )
        return Response(IntakeDocumentOutput(document).data, status=status.HTTP_201_CREATED)


class DocumentDownloadApi(APIView):
    """The file itself, as an attachment, for users who may see the application."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int, doc_id: int):
        application = application_get(user=request.user, pk=pk)
        document = selectors.document_get(application=application, pk=doc_id)
        if document is None:
            raise NotFound()
        return stored_file_response(
            document.file, filename=document.original_name, content_type=document.content_type
        )


class DocumentReviewApi(APIView):
    class IntakeDocumentReviewInput(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["accept", "reject"])
        reason = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=IntakeDocumentReviewInput, responses=IntakeDocumentOutput)
    def post(self, request, pk: int, doc_id: int):
        serializer = self.IntakeDocumentReviewInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.document_review(
            actor=request.user, application_id=pk, document_id=doc_id, **serializer.validated_data
        )
        return Response(IntakeDocumentOutput(document).data)


# --- Checklist, to-do, pre-screen -------------------------------------------------------------


class IntakeChecklistLineOutput(serializers.Serializer):
    document_type = serializers.CharField(source="item.document_type.code")
    label = serializers.CharField()
    stage = serializers.CharField()
    required = serializers.BooleanField(source="item.required")
    guarantor = serializers.IntegerField(source="guarantor.pk", allow_null=True, default=None)
    state = serializers.CharField()
    document = serializers.IntegerField(source="document.pk", allow_null=True, default=None)


class ChecklistApi(APIView):
    """The application's checklist: every line that applies, with its state (missing,
    pending, accepted, rejected)."""

    @extend_schema(responses=IntakeChecklistLineOutput(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(
            IntakeChecklistLineOutput(selectors.checklist_lines(application), many=True).data
        )


class IntakeTodoOutput(serializers.Serializer):
    kind = serializers.CharField()
    text = serializers.CharField()
    document_type = serializers.CharField()
    guarantor_id = serializers.IntegerField(allow_null=True)
    info_request_id = serializers.IntegerField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    reason = serializers.CharField()


class TodoApi(APIView):
    """What the bank still needs from the applicant."""

    @extend_schema(responses=IntakeTodoOutput(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(
            IntakeTodoOutput(selectors.applicant_todo(application=application), many=True).data
        )


class IntakePrescreenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    passed = serializers.BooleanField()
    failures = serializers.JSONField()
    checked = serializers.JSONField()
    checked_at = serializers.DateTimeField()


class PrescreenApi(APIView):
    """The latest pre-screen result (recorded on submit)."""

    @extend_schema(responses=IntakePrescreenOutput)
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        result = selectors.prescreen_latest(application=application)
        if result is None:
            raise NotFound()
        return Response(IntakePrescreenOutput(result).data)


# --- Information requests ---------------------------------------------------------------------


class IntakeInfoRequestOutput(serializers.ModelSerializer):
    document_type = serializers.CharField(
        source="document_type.code", allow_null=True, default=None
    )

    class Meta:
        model = InfoRequest
        fields = [
            "id",
            "kind",
            "document_type",
            "text",
            "due_date",
            "status",
            "answer",
            "answer_document",
            "requested_at",
            "answered_at",
        ]


class IntakeInfoRequestListItem(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InfoRequest.Kind.choices)
    document_type = serializers.CharField(max_length=40, required=False, allow_blank=True)
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)


class InfoRequestListApi(APIView):
    """Staff ask the applicant for documents or answers; the application waits
    (info_requested) until everything is answered, then returns to its stage."""

    class IntakeInfoRequestListInput(serializers.Serializer):
        items = serializers.ListField(
            child=IntakeInfoRequestListItem(), min_length=1, max_length=50
        )
        comment = serializers.CharField(
            max_length=4000, required=False, allow_blank=True, default=""
        )

    @extend_schema(responses=IntakeInfoRequestOutput(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(
            IntakeInfoRequestOutput(
                selectors.info_request_list(application=application), many=True
            ).data
        )

    @extend_schema(
        request=IntakeInfoRequestListInput, responses={201: IntakeInfoRequestOutput(many=True)}
    )
    def post(self, request, pk: int):
        serializer = self.IntakeInfoRequestListInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.info_request_create(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(
            IntakeInfoRequestOutput(created, many=True).data, status=status.HTTP_201_CREATED
        )


class InfoRequestAnswerApi(APIView):
    class IntakeInfoRequestAnswerInput(serializers.Serializer):
        answer = serializers.CharField(max_length=4000)

    @extend_schema(request=IntakeInfoRequestAnswerInput, responses=IntakeInfoRequestOutput)
    def post(self, request, pk: int, request_id: int):
        serializer = self.IntakeInfoRequestAnswerInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.info_request_answer(
            actor=request.user,
            application_id=pk,
            request_id=request_id,
            **serializer.validated_data,
        )
        return Response(IntakeInfoRequestOutput(item).data)


class InfoRequestCancelApi(APIView):
    @extend_schema(request=None, responses=IntakeInfoRequestOutput)
    def post(self, request, pk: int, request_id: int):
        item = services.info_request_cancel(
            actor=request.user, application_id=pk, request_id=request_id
        )
        return Response(IntakeInfoRequestOutput(item).data)
