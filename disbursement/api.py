"""API of the disbursement stage under /api/v1/disbursement/. Thin: one service call each."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.selectors import application_get
from common.errors import NotFound
from disbursement import selectors, services
from disbursement.models import Contract, Disbursement, Offer
from org.second_factor import step_up_otp_field, step_up_required, without_otp


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


class OfferOutput(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()
    accepted_by_name = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Offer
        fields = [
            "id",
            "status",
            "amount",
            "currency",
            "interest_rate",
            "term_months",
            "repayment_method",
            "language",
            "conditions",
            "created_at",
            "rendered_at",
            "render_seconds",
            "accepted_at",
            "accepted_by_name",
            "accepted_from",
            "accepted_user_agent",
            "accepted_documents_sha256",
            "pdf_url",
        ]

    def get_pdf_url(self, obj) -> str:
        if obj.status != Offer.Status.READY:
            return ""
        return reverse("api-disbursement-offer-pdf", args=[obj.application_id])

    def get_accepted_by_name(self, obj) -> str:
        return _name(obj.accepted_by)


class ContractOutput(serializers.ModelSerializer):
    recorded_by_name = serializers.SerializerMethodField()
    channel = serializers.CharField(read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "number", "signed_on", "channel", "recorded_at", "recorded_by_name"]

    def get_recorded_by_name(self, obj) -> str:
        return _name(obj.recorded_by)


class ConditionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    satisfied = serializers.SerializerMethodField()
    satisfied_at = serializers.DateTimeField(allow_null=True)
    satisfied_by_name = serializers.SerializerMethodField()

    def get_satisfied(self, obj) -> bool:
        return obj.satisfied_at is not None

    def get_satisfied_by_name(self, obj) -> str:
        return _name(obj.satisfied_by)


class DisbursementOutput(serializers.ModelSerializer):
    maker_name = serializers.SerializerMethodField()
    checker_name = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Disbursement
        fields = [
            "id",
            "status",
            "account_number",
            "amount",
            "currency",
            "value_date",
            "maker_name",
            "made_at",
            "checker_name",
            "checked_at",
        ]

    def get_maker_name(self, obj) -> str:
        return _name(obj.maker)

    def get_checker_name(self, obj) -> str:
        return _name(obj.checker)


class InstalmentOutput(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    interest = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)
    closing_balance = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()


class ScheduleOutput(serializers.Serializer):
    fixed = serializers.BooleanField()
    rows = InstalmentOutput(many=True)
    total_principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    total_interest = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)


def _schedule_payload(application) -> dict:
    rows, fixed = selectors.schedule_rows(application)
    totals = selectors.schedule_totals(rows)
    return {
        "fixed": fixed,
        "rows": rows,
        "total_principal": totals["principal"],
        "total_interest": totals["interest"],
        "total": totals["total"],
    }


class OverviewOutput(serializers.Serializer):
    application_id = serializers.IntegerField()
    status = serializers.CharField()
    offer = OfferOutput(allow_null=True)
    contract = ContractOutput(allow_null=True)
    conditions = ConditionOutput(many=True)
    disbursement = DisbursementOutput(allow_null=True)
    schedule = ScheduleOutput()


def _overview(application) -> dict:
    return {
        "application_id": application.pk,
        "status": application.status,
        "offer": selectors.offer_for(application),
        "contract": selectors.contract_for(application),
        "conditions": selectors.conditions_for(application),
        "disbursement": selectors.disbursement_for(application),
        "schedule": _schedule_payload(application),
    }


class OverviewApi(APIView):
    """Offer, contract, conditions precedent, disbursement and schedule of one application
    (staff in scope; others 404). Owners read theirs at /api/v1/portal/applications/{id}/."""

    @extend_schema(responses=OverviewOutput, operation_id="disbursement_overview")
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        data = _overview(application)
        return Response(OverviewOutput(data).data)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class OfferPdfApi(APIView):
    """The offer letter PDF (404 while it is being prepared)."""

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        operation_id="disbursement_offer_pdf",
    )
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        offer = Offer.objects.filter(application=application, status=Offer.Status.READY).first()
        if offer is None or not offer.pdf:
            raise NotFound()
        return _pdf_response(bytes(offer.pdf), f"offer-{application.reference}.pdf")


class OfferRetryApi(APIView):
    """Staff: render a failed offer letter again."""

    @extend_schema(request=None, responses=OfferOutput, operation_id="disbursement_offer_retry")
    def post(self, request, pk: int):
        offer = services.offer_retry_render(application_id=pk, actor=request.user)
        return Response(OfferOutput(offer).data)


class ContractRecordApi(APIView):
    """The relationship manager records the signed contract (→ contract_signed)."""

    class DisbursementContractInput(serializers.Serializer):
        number = serializers.CharField(max_length=50)
        signed_on = serializers.DateField()

    @extend_schema(
        request=DisbursementContractInput,
        responses={201: ContractOutput},
        operation_id="disbursement_contract_record",
    )
    def post(self, request, pk: int):
        data = self.DisbursementContractInput(data=request.data)
        data.is_valid(raise_exception=True)
        contract = services.contract_record(
            application_id=pk, actor=request.user, **data.validated_data
        )
        return Response(ContractOutput(contract).data, status=201)


class ConditionListApi(APIView):
    """The conditions precedent of an application and whether each is satisfied."""

    @extend_schema(responses=ConditionOutput(many=True), operation_id="disbursement_conditions")
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(ConditionOutput(selectors.conditions_for(application), many=True).data)


class ConditionSatisfyApi(APIView):
    """The disbursement officer marks a condition precedent satisfied."""

    class DisbursementConditionInput(serializers.Serializer):
        comment = serializers.CharField(max_length=2000, allow_blank=True, required=False)

    @extend_schema(
        request=DisbursementConditionInput,
        responses=ConditionOutput,
        operation_id="disbursement_condition_satisfy",
    )
    def post(self, request, pk: int, condition_id: int):
        data = self.DisbursementConditionInput(data=request.data)
        data.is_valid(raise_exception=True)
        condition = services.condition_satisfy(
            application_id=pk, condition_id=condition_id, actor=request.user, **data.validated_data
        )
        return Response(ConditionOutput(condition).data)


class DisbursementRecordApi(APIView):
    """Maker: a disbursement officer records the disbursement (account, amount, value date)."""

    class DisbursementRecordInput(serializers.Serializer):
        account_number = serializers.CharField(max_length=40)
        amount = serializers.DecimalField(max_digits=18, decimal_places=2)
        value_date = serializers.DateField()

    @extend_schema(
        request=DisbursementRecordInput,
        responses={201: DisbursementOutput},
        operation_id="disbursement_record",
    )
    def post(self, request, pk: int):
        data = self.DisbursementRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        disbursement = services.disbursement_record(
            application_id=pk, actor=request.user, **data.validated_data
        )
        return Response(DisbursementOutput(disbursement).data, status=201)


class DisbursementConfirmApi(APIView):
    """Checker: a different user with the checker role confirms (→ disbursed, schedule
    fixed). The maker confirming answers 403 (segregation of duties, logged)."""

    class DisbursementConfirmInput(serializers.Serializer):
        comment = serializers.CharField(max_length=2000, allow_blank=True, required=False)
        otp = step_up_otp_field()

    @extend_schema(
        request=DisbursementConfirmInput,
        responses=DisbursementOutput,
        operation_id="disbursement_confirm",
    )
    @step_up_required()
    def post(self, request, pk: int):
        data = self.DisbursementConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        disbursement = services.disbursement_confirm(
            application_id=pk, actor=request.user, **without_otp(data.validated_data)
        )
        return Response(DisbursementOutput(disbursement).data)


class DisbursementValueDateApi(APIView):
    """Maker: the officer who recorded a payout not yet confirmed corrects its value date
    (inside today's window, with a reason; audited). A payout whose value date left the
    window while it waited is refused at confirmation (409 value_date_outside_window) until
    then."""

    class DisbursementValueDateInput(serializers.Serializer):
        value_date = serializers.DateField()
        comment = serializers.CharField(max_length=2000, allow_blank=True, required=False)

    @extend_schema(
        request=DisbursementValueDateInput,
        responses=DisbursementOutput,
        operation_id="disbursement_value_date_correct",
    )
    def post(self, request, pk: int):
        data = self.DisbursementValueDateInput(data=request.data)
        data.is_valid(raise_exception=True)
        disbursement = services.disbursement_value_date_correct(
            application_id=pk,
            actor=request.user,
            value_date=data.validated_data["value_date"],
            comment=data.validated_data.get("comment", ""),
        )
        return Response(DisbursementOutput(disbursement).data)


class ScheduleApi(APIView):
    """The repayment schedule: fixed once disbursed, else the offer's indicative one."""

    @extend_schema(responses=ScheduleOutput, operation_id="disbursement_schedule")
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(ScheduleOutput(_schedule_payload(application)).data)


class SchedulePdfApi(APIView):
    """The repayment schedule as a PDF download."""

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        operation_id="disbursement_schedule_pdf",
    )
    def get(self, request, pk: int):
        from disbursement.pdf import render_schedule

        application = application_get(user=request.user, pk=pk)
        rows, fixed = selectors.schedule_rows(application)
        if not rows:
            raise NotFound()
        return _pdf_response(
            render_schedule(application, rows, fixed=fixed), f"schedule-{application.reference}.pdf"
        )


class QueueItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    company_name = serializers.CharField(source="company.name")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    status_changed_at = serializers.DateTimeField()
    awaiting_confirmation = serializers.BooleanField()


class QueueApi(APIView):
    """Applications awaiting disbursement or confirmation in the user's scope."""

    @extend_schema(responses=QueueItemOutput(many=True), operation_id="disbursement_queue")
    def get(self, request):
        queue = selectors.disbursement_queue(user=request.user)[:200]
        return Response(QueueItemOutput(queue, many=True).data)
