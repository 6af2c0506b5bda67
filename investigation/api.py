"""Investigation API under /api/v1/investigation/<application pk>/...: thin classes, one service
call each. Staff who may see the application read; only its investigator writes."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import Conflict, NotFound
from customers.ric import validate_party_id_for_kind
from intake.models import Collateral, Guarantor
from investigation import services
from investigation.models import (
    CreditMemo,
    FinancialPeriod,
    Flag,
    IndustryRisk,
    RepaymentRecord,
    ScoreResult,
    SiteVisit,
    SiteVisitPhoto,
    TaxGrade,
    VerificationItem,
)
from investigation.selectors import (
    investigation_application_get,
    investigation_for,
    investigation_missing,
    memo_get,
    memos_for,
    score_current,
)

MONEY = {"max_digits": 18, "decimal_places": 2}


# --- Output ----------------------------------------------------------------------------------


class FlagOutput(serializers.ModelSerializer):
    # In the reader's language.
    message = serializers.CharField(source="text", read_only=True)

    class Meta:
        model = Flag
        fields = ["id", "code", "severity", "message", "evidence", "created_at"]


class ScoreOutput(serializers.ModelSerializer):
    class Meta:
        model = ScoreResult
        fields = [
            "id",
            "scorecard_version",
            "score",
            "max_score",
            "grade",
            "pd_pct",
            "breakdown",
            "reasons",
            "route",
            "created_at",
        ]


class MemoOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = CreditMemo
        fields = [
            "id",
            "version",
            "status",
            "language",
            "error",
            "render_ms",
            "created_at",
            "rendered_at",
            "download_url",
        ]

    def get_download_url(self, memo) -> str:
        if memo.status != CreditMemo.Status.READY:
            return ""
        return reverse("api-investigation-memo-download", args=[memo.application_id, memo.pk])


class PhotoOutput(serializers.ModelSerializer):
    class Meta:
        model = SiteVisitPhoto
        fields = ["id", "caption", "extension", "created_at"]


class SiteVisitOutput(serializers.ModelSerializer):
    photos = PhotoOutput(many=True, read_only=True)

    class Meta:
        model = SiteVisit
        fields = ["id", "visit_date", "participants", "findings", "photos", "created_at"]


class FinancialOutput(serializers.ModelSerializer):
    class Meta:
        model = FinancialPeriod
        fields = [
            "period",
            "period_end",
            "currency",
            "revenue",
            "net_profit",
            "total_assets",
            "total_liabilities",
            "current_assets",
            "current_liabilities",
            "bank_inflows_12m",
            "tax_paid",
        ]


class GuarantorOutput(serializers.ModelSerializer):
    """A guarantor of the application, as filed and as assessed (guaranteed_amount is null
    until the investigator has assessed them). intake_guarantor_id is the same record's id,
    kept for clients written when the investigation held a copy."""

    intake_guarantor_id = serializers.IntegerField(source="id", read_only=True)
    is_assessed = serializers.BooleanField(read_only=True)

    class Meta:
        model = Guarantor
        fields = [
            "id",
            "kind",
            "name",
            "id_number",
            "relationship",
            "guaranteed_amount",
            "own_exposure",
            "net_worth",
            "currency",
            "intake_guarantor_id",
            "notes",
            "is_assessed",
        ]


class CollateralOutput(serializers.ModelSerializer):
    """Collateral of the application, as declared and as valued (valuation and lendable value
    are null until the investigator has valued it)."""

    collateral_type = serializers.CharField(source="kind", read_only=True)
    lendable_value = serializers.DecimalField(read_only=True, allow_null=True, **MONEY)
    intake_collateral_id = serializers.IntegerField(source="id", read_only=True)

    class Meta:
        model = Collateral
        fields = [
            "id",
            "collateral_type",
            "description",
            "declared_value",
            "valuation",
            "valuation_date",
            "haircut_pct",
            "lendable_value",
            "currency",
            "intake_collateral_id",
        ]


class VerificationOutput(serializers.ModelSerializer):
    class Meta:
        model = VerificationItem
        fields = ["fact", "declared_value", "status", "source", "note", "verified_at"]


class QuestionAnswerOutput(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    answer_type = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    # [value, label in the reader's language] for each choice.
    choice_options = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField())
    )
    required = serializers.BooleanField()
    answer = serializers.CharField(allow_blank=True)


class WorkspaceOutput(serializers.Serializer):
    application = serializers.IntegerField()
    investigator = serializers.IntegerField(allow_null=True)
    questionnaire_version = serializers.IntegerField(allow_null=True)
    questions = QuestionAnswerOutput(many=True)
    site_visits = SiteVisitOutput(many=True)
    site_visit_waived_at = serializers.DateTimeField(allow_null=True)
    site_visit_waived_reason = serializers.CharField()
    financials = FinancialOutput(many=True)
    guarantors = GuarantorOutput(many=True)
    collateral = CollateralOutput(many=True)
    verifications = VerificationOutput(many=True)
    repayment_record = serializers.CharField()
    tax_grade = serializers.CharField()
    industry_risk = serializers.CharField()
    opinion = serializers.CharField()
    derived = serializers.DictField()
    score = ScoreOutput(allow_null=True)
    flags = FlagOutput(many=True)
    memos = MemoOutput(many=True)
    missing = serializers.ListField(child=serializers.CharField())


def workspace_data(*, application) -> dict:
    investigation = investigation_for(application=application)
    if investigation is None:
        raise NotFound()
    answers = {a.question_id: a.value for a in investigation.answers.all()}
    questions = (
        list(investigation.questionnaire.questions.all()) if investigation.questionnaire else []
    )
    return {
        "application": application.pk,
        "investigator": application.investigator_id,
        "questionnaire_version": (
            investigation.questionnaire.version if investigation.questionnaire else None
        ),
        "questions": [
            {
                "code": q.code,
                "text": q.label(),
                "answer_type": q.answer_type,
                "choices": [str(c) for c in q.choices],
                "choice_options": q.choice_options(),
                "required": q.required,
                "answer": answers.get(q.id, ""),
            }
            for q in questions
        ],
        "site_visits": list(investigation.site_visits.all()),
        "site_visit_waived_at": investigation.site_visit_waived_at,
        "site_visit_waived_reason": investigation.site_visit_waived_reason,
        "financials": list(investigation.financials.all()),
        "guarantors": list(application.guarantors.all()),
        "collateral": list(application.collateral.all()),
        "verifications": list(investigation.verifications.all()),
        "repayment_record": investigation.repayment_record,
        "tax_grade": investigation.tax_grade,
        "industry_risk": investigation.industry_risk,
        "opinion": investigation.opinion,
        "derived": investigation.derived,
        "score": score_current(application=application),
        "flags": list(investigation.flags.all()),
        "memos": memos_for(application=application),
        "missing": investigation_missing(application=application),
    }


def _workspace_response(request, pk, code=status.HTTP_200_OK) -> Response:
    application = investigation_application_get(user=request.user, pk=pk)
    return Response(WorkspaceOutput(workspace_data(application=application)).data, status=code)


# --- Endpoints ----------------------------------------------------------------------------------


class WorkspaceApi(APIView):
    """The whole investigation of one application, with what still blocks approval."""

    @extend_schema(responses=WorkspaceOutput, operation_id="investigation_get")
    def get(self, request, pk: int):
        application = investigation_application_get(user=request.user, pk=pk)
        services.investigation_ensure(application=application, user=request.user)
        return _workspace_response(request, pk)


class AnswersApi(APIView):
    class AnswersInput(serializers.Serializer):
        answers = serializers.DictField(
            child=serializers.CharField(allow_blank=True, max_length=4000)
        )

    @extend_schema(
        request=AnswersInput, responses=WorkspaceOutput, operation_id="investigation_answers_save"
    )
    def put(self, request, pk: int):
        serializer = self.AnswersInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.answers_save(
            application_id=pk, actor=request.user, answers=serializer.validated_data["answers"]
        )
        return _workspace_response(request, pk)


class SiteVisitsApi(APIView):
    class SiteVisitsInput(serializers.Serializer):
        visit_date = serializers.DateField()
        participants = serializers.CharField(max_length=300)
        findings = serializers.CharField(max_length=10000)

    @extend_schema(
        request=SiteVisitsInput,
        responses={201: SiteVisitOutput},
        operation_id="investigation_site_visit_create",
    )
    def post(self, request, pk: int):
        serializer = self.SiteVisitsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = services.site_visit_record(
            application_id=pk, actor=request.user, **serializer.validated_data
        )
        return Response(SiteVisitOutput(visit).data, status=status.HTTP_201_CREATED)


class SiteVisitPhotoApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class SiteVisitPhotoInput(serializers.Serializer):
        image = serializers.FileField()
        caption = serializers.CharField(max_length=200, allow_blank=True, required=False)

    @extend_schema(
        request={"multipart/form-data": SiteVisitPhotoInput},
        responses={201: PhotoOutput},
        operation_id="investigation_photo_upload",
    )
    def post(self, request, pk: int, visit_id: int):
        serializer = self.SiteVisitPhotoInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        photo = services.site_visit_photo_add(
            application_id=pk,
            actor=request.user,
            visit_id=visit_id,
            upload=serializer.validated_data["image"],
            caption=serializer.validated_data.get("caption", ""),
        )
        return Response(PhotoOutput(photo).data, status=status.HTTP_201_CREATED)


class FinancialsApi(APIView):
    class FinancialsInput(serializers.Serializer):
        period_end = serializers.DateField(required=False, allow_null=True)
        revenue = serializers.DecimalField(**MONEY)
        net_profit = serializers.DecimalField(**MONEY)
        total_assets = serializers.DecimalField(**MONEY)
        total_liabilities = serializers.DecimalField(**MONEY)
        current_assets = serializers.DecimalField(**MONEY)
        current_liabilities = serializers.DecimalField(**MONEY)
        bank_inflows_12m = serializers.DecimalField(**MONEY)
        tax_paid = serializers.DecimalField(**MONEY)

    @extend_schema(
        request=FinancialsInput,
        responses=FinancialOutput,
        operation_id="investigation_financials_save",
    )
    def put(self, request, pk: int, period: str):
        serializer = self.FinancialsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        period_end = data.pop("period_end", None)
        row = services.financials_save(
            application_id=pk,
            actor=request.user,
            period=period,
            figures=data,
            period_end=period_end,
        )
        return Response(FinancialOutput(row).data)


class GuarantorsApi(APIView):
    class GuarantorsInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Guarantor.Kind.choices, required=False)
        name = serializers.CharField(max_length=200, required=False)
        id_number = serializers.CharField(max_length=30, required=False)
        guaranteed_amount = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
        own_exposure = serializers.DecimalField(min_value=Decimal("0"), required=False, **MONEY)
        net_worth = serializers.DecimalField(required=False, allow_null=True, **MONEY)
        intake_guarantor_id = serializers.IntegerField(required=False, allow_null=True)
        notes = serializers.CharField(max_length=4000, allow_blank=True, required=False)

        def validate(self, attrs):
            if attrs.get("intake_guarantor_id"):
                return attrs  # completing a filed guarantor: name and number are on file
            errors = {
                field: [_("This field is required.")]
                for field in ("name", "id_number")
                if not attrs.get(field)
            }
            if errors:
                raise serializers.ValidationError(errors)
            try:
                validate_party_id_for_kind(attrs.get("kind", "person"), attrs["id_number"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"id_number": exc.messages}) from None
            return attrs

    @extend_schema(
        request=GuarantorsInput,
        responses={201: GuarantorOutput},
        operation_id="investigation_guarantor_add",
    )
    def post(self, request, pk: int):
        serializer = self.GuarantorsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        guarantor = services.guarantor_add(
            application_id=pk, actor=request.user, **serializer.validated_data
        )
        return Response(GuarantorOutput(guarantor).data, status=status.HTTP_201_CREATED)


class GuarantorDetailApi(APIView):
    class GuarantorAssessInput(serializers.Serializer):
        guaranteed_amount = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
        own_exposure = serializers.DecimalField(min_value=Decimal("0"), required=False, **MONEY)
        net_worth = serializers.DecimalField(required=False, allow_null=True, **MONEY)
        notes = serializers.CharField(max_length=4000, allow_blank=True, required=False)

    @extend_schema(
        request=GuarantorAssessInput,
        responses=GuarantorOutput,
        operation_id="investigation_guarantor_assess",
    )
    def put(self, request, pk: int, item_id: int):
        serializer = self.GuarantorAssessInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        guarantor = services.guarantor_assess(
            application_id=pk,
            actor=request.user,
            guarantor_id=item_id,
            **serializer.validated_data,
        )
        return Response(GuarantorOutput(guarantor).data)

    @extend_schema(responses={204: None}, operation_id="investigation_guarantor_remove")
    def delete(self, request, pk: int, item_id: int):
        services.guarantor_remove(application_id=pk, actor=request.user, guarantor_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollateralApi(APIView):
    class CollateralInput(serializers.Serializer):
        collateral_type = serializers.ChoiceField(choices=Collateral.Kind.choices, required=False)
        description = serializers.CharField(max_length=300, required=False)
        valuation = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
        valuation_date = serializers.DateField()
        haircut_pct = serializers.DecimalField(
            max_digits=5,
            decimal_places=2,
            min_value=Decimal("0"),
            max_value=Decimal("100"),
            required=False,
        )
        intake_collateral_id = serializers.IntegerField(required=False, allow_null=True)

        def validate(self, attrs):
            if attrs.get("intake_collateral_id"):
                return attrs  # valuing filed collateral: type and description are on file
            errors = {
                field: [_("This field is required.")]
                for field in ("collateral_type", "description")
                if not attrs.get(field)
            }
            if errors:
                raise serializers.ValidationError(errors)
            return attrs

    @extend_schema(
        request=CollateralInput,
        responses={201: CollateralOutput},
        operation_id="investigation_collateral_add",
    )
    def post(self, request, pk: int):
        serializer = self.CollateralInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.collateral_add(
            application_id=pk, actor=request.user, **serializer.validated_data
        )
        return Response(CollateralOutput(item).data, status=status.HTTP_201_CREATED)


class CollateralDetailApi(APIView):
    class CollateralValueInput(serializers.Serializer):
        valuation = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
        valuation_date = serializers.DateField()
        haircut_pct = serializers.DecimalField(
            max_digits=5,
            decimal_places=2,
            min_value=Decimal("0"),
            max_value=Decimal("100"),
            required=False,
        )

    @extend_schema(
        request=CollateralValueInput,
        responses=CollateralOutput,
        operation_id="investigation_collateral_value",
    )
    def put(self, request, pk: int, item_id: int):
        serializer = self.CollateralValueInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.collateral_value(
            application_id=pk,
            actor=request.user,
            collateral_id=item_id,
            **serializer.validated_data,
        )
        return Response(CollateralOutput(item).data)

    @extend_schema(responses={204: None}, operation_id="investigation_collateral_remove")
    def delete(self, request, pk: int, item_id: int):
        services.collateral_remove(application_id=pk, actor=request.user, collateral_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerificationApi(APIView):
    class VerificationInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=VerificationItem.Status.choices)
        source = serializers.ChoiceField(
            choices=VerificationItem.Source.choices, required=False, allow_blank=True
        )
        note = serializers.CharField(max_length=4000, allow_blank=True, required=False)

    @extend_schema(
        request=VerificationInput,
        responses=VerificationOutput,
        operation_id="investigation_verification_record",
    )
    def put(self, request, pk: int, fact: str):
        serializer = self.VerificationInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.verification_record(
            application_id=pk, actor=request.user, fact=fact, **serializer.validated_data
        )
        return Response(VerificationOutput(item).data)


class AssessmentApi(APIView):
    class AssessmentInput(serializers.Serializer):
        repayment_record = serializers.ChoiceField(
            choices=RepaymentRecord.choices, required=False, allow_blank=True
        )
        tax_grade = serializers.ChoiceField(
            choices=TaxGrade.choices, required=False, allow_blank=True
        )
        industry_risk = serializers.ChoiceField(
            choices=IndustryRisk.choices, required=False, allow_blank=True
        )
        opinion = serializers.CharField(max_length=20000, allow_blank=True, required=False)

    @extend_schema(
        request=AssessmentInput,
        responses=WorkspaceOutput,
        operation_id="investigation_assessment_save",
    )
    def patch(self, request, pk: int):
        serializer = self.AssessmentInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.assessment_save(
            application_id=pk, actor=request.user, changes=serializer.validated_data
        )
        return _workspace_response(request, pk)


class ScoreApi(APIView):
    """Run the checks and score with the scorecard in force (only on request)."""

    @extend_schema(request=None, responses={201: ScoreOutput}, operation_id="investigation_score")
    def post(self, request, pk: int):
        score = services.investigation_score(application_id=pk, actor=request.user)
        return Response(ScoreOutput(score).data, status=status.HTTP_201_CREATED)


class FlagsApi(APIView):
    @extend_schema(responses=FlagOutput(many=True), operation_id="investigation_flags")
    def get(self, request, pk: int):
        application = investigation_application_get(user=request.user, pk=pk)
        flags = Flag.objects.filter(application=application).order_by("id")
        return Response(FlagOutput(flags, many=True).data)


class MemosApi(APIView):
    @extend_schema(responses=MemoOutput(many=True), operation_id="investigation_memos")
    def get(self, request, pk: int):
        application = investigation_application_get(user=request.user, pk=pk)
        return Response(MemoOutput(memos_for(application=application), many=True).data)

    @extend_schema(
        request=None, responses={202: MemoOutput}, operation_id="investigation_memo_request"
    )
    def post(self, request, pk: int):
        memo = services.memo_request(application_id=pk, actor=request.user)
        return Response(MemoOutput(memo).data, status=status.HTTP_202_ACCEPTED)


class MemoRetryApi(APIView):
    @extend_schema(
        request=None, responses={202: MemoOutput}, operation_id="investigation_memo_retry"
    )
    def post(self, request, pk: int, memo_id: int):
        memo = services.memo_retry(application_id=pk, actor=request.user, memo_id=memo_id)
        return Response(MemoOutput(memo).data, status=status.HTTP_202_ACCEPTED)


def memo_file_response(memo: CreditMemo, *, inline: bool = False) -> FileResponse:
    """The memo's PDF: downloaded, or `inline` read in the browser's own tab."""
    if memo.status != CreditMemo.Status.READY or not memo.file:
        raise Conflict(_not_ready_message(), code="memo_not_ready")
    filename = f"credit-memo-{memo.application.reference}-v{memo.version}.pdf"
    return FileResponse(
        memo.file.open("rb"),
        as_attachment=not inline,
        filename=filename,
        content_type="application/pdf",
    )


def _not_ready_message() -> str:
    return _("This memo is not ready yet.")


class MemoDownloadApi(APIView):
    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
        operation_id="investigation_memo_download",
    )
    def get(self, request, pk: int, memo_id: int):
        memo = memo_get(user=request.user, application_pk=pk, memo_pk=memo_id)
        return memo_file_response(memo)
