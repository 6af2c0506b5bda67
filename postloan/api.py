"""Post-loan API under /api/v1/postloan/: thin classes, one service or selector call each.
Loans are addressed by their application's id."""

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ChoiceLabelField
from common.errors import InvalidInput
from org.permissions import HasRule, StaffOnly
from org.second_factor import step_up_otp_field, step_up_required, without_otp
from postloan import selectors, services
from postloan.daily import daily_job_run
from postloan.models import (
    Alert,
    Classification,
    ClassificationChange,
    InspectionTask,
    Loan,
    OwnerRequest,
    Prepayment,
    Repayment,
    WriteOff,
)

# --- Output serializers ----------------------------------------------------------------------


class LoanSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="application_id")
    reference = serializers.CharField(source="application.reference")
    company_name = serializers.CharField(source="application.company.name")
    status = serializers.CharField()
    classification = serializers.CharField()
    classification_display = ChoiceLabelField(Classification.choices, source="classification")
    is_non_performing = serializers.BooleanField()

    class Meta:
        model = Loan
        fields = [
            "id",
            "application",
            "reference",
            "company_name",
            "status",
            "currency",
            "principal",
            "disbursed_on",
            "scheduled_total",
            "paid_total",
            "outstanding_total",
            "outstanding_principal",
            "paid_instalments",
            "oldest_unpaid_due",
            "days_past_due",
            "overdue_interest",
            "overdue_interest_unpaid",
            "classification",
            "classification_display",
            "is_non_performing",
            "last_inspection_on",
            "next_inspection_due",
            "litigation_flag",
            "guarantor_trouble_flag",
            "flags_note",
            "relationship_manager",
            "branch",
            "closed_at",
        ]


class InstalmentPositionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    interest = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)
    paid = serializers.DecimalField(max_digits=18, decimal_places=2)
    status = serializers.CharField()
    days_overdue = serializers.IntegerField()


class TaskSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="loan.application_id")
    reference = serializers.CharField(source="loan.application.reference")
    company_name = serializers.CharField(source="loan.application.company.name")
    owner_name = serializers.SerializerMethodField()
    days_overdue = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    method = serializers.CharField()
    outcome = serializers.CharField()

    class Meta:
        model = InspectionTask
        fields = [
            "id",
            "application",
            "reference",
            "company_name",
            "kind",
            "status",
            "due_date",
            "days_overdue",
            "method",
            "questions",
            "answers",
            "findings",
            "outcome",
            "revenue_previous",
            "revenue_current",
            "owner",
            "owner_name",
            "alert",
            "created_at",
            "completed_by",
            "completed_at",
        ]

    def get_owner_name(self, obj) -> str:
        return obj.owner.get_full_name() or obj.owner.username


class AlertSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="loan.application_id")
    reference = serializers.CharField(source="loan.application.reference")
    company_name = serializers.CharField(source="loan.application.company.name")
    rule_code = serializers.CharField(source="rule.code")
    rule_name = serializers.CharField(source="rule.display_name")
    rule_kind = serializers.CharField(source="rule.kind")
    severity = serializers.CharField()
    status = serializers.CharField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "application",
            "reference",
            "company_name",
            "rule",
            "rule_code",
            "rule_name",
            "rule_kind",
            "severity",
            "evidence",
            "status",
            "action_plan",
            "created_at",
            "acknowledged_by",
            "acknowledged_at",
            "closed_by",
            "closed_at",
            "close_comment",
        ]


class RepaymentSerializer(serializers.ModelSerializer):
    source = serializers.CharField()

    class Meta:
        model = Repayment
        fields = [
            "id",
            "amount",
            "currency",
            "value_date",
            "external_id",
            "source",
            "recorded_by",
            "created_at",
        ]


class ClassificationChangeSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="loan.application_id")
    kind = serializers.CharField()
    status = serializers.CharField()
    from_classification = serializers.CharField()
    to_classification = serializers.CharField()

    class Meta:
        model = ClassificationChange
        fields = [
            "id",
            "application",
            "kind",
            "status",
            "from_classification",
            "to_classification",
            "days_past_due",
            "reason",
            "proposed_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_comment",
        ]


class WriteOffSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="loan.application_id")
    status = serializers.CharField()

    class Meta:
        model = WriteOff
        fields = [
            "id",
            "application",
            "status",
            "amount",
            "currency",
            "reason",
            "proposed_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_comment",
        ]


class LoanDetailSerializer(serializers.Serializer):
    loan = LoanSerializer()
    instalments = InstalmentPositionSerializer(many=True)
    tasks = TaskSerializer(many=True)
    alerts = AlertSerializer(many=True)
    repayments = RepaymentSerializer(many=True)
    classification_changes = ClassificationChangeSerializer(many=True)
    write_offs = WriteOffSerializer(many=True)


def _detail(request, application_id: int) -> Response:
    detail = selectors.loan_detail(user=request.user, application_id=application_id)
    detail["instalments"] = detail["position"].instalments
    return Response(LoanDetailSerializer(detail).data)


def _flag(value) -> bool:
    return value in ("1", "true", "True", "yes")


# --- Loans ---------------------------------------------------------------------------------


class LoanListApi(ListAPIView):
    """Loans in your scope, worst first. Filters: status, classification, mine."""

    serializer_class = LoanSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("classification", str),
            OpenApiParameter("mine", bool),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.loan_list(
            user=self.request.user,
            filters={
                "status": params.get("status"),
                "classification": params.get("classification"),
                "mine": _flag(params.get("mine")),
            },
        )


class LoanDetailApi(APIView):
    """A loan's position (schedule against repayments), tasks, alerts, history."""

    @extend_schema(responses=LoanDetailSerializer)
    def get(self, request, application_id: int):
        return _detail(request, application_id)


class RepaymentApi(APIView):
    class PostloanRepaymentInputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01")
        )
        value_date = serializers.DateField()
        currency = serializers.CharField(max_length=3, required=False)
        external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(responses=RepaymentSerializer(many=True))
    def get(self, request, application_id: int):
        loan = selectors.loan_get(user=request.user, application_id=application_id)
        return Response(
            RepaymentSerializer(loan.repayments.order_by("value_date", "id"), many=True).data
        )

    @extend_schema(request=PostloanRepaymentInputSerializer, responses={201: LoanDetailSerializer})
    def post(self, request, application_id: int):
        serializer = self.PostloanRepaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.repayment_record(
            application_id=application_id, actor=request.user, **serializer.validated_data
        )
        response = _detail(request, application_id)
        response.status_code = status.HTTP_201_CREATED
        return response


class RepaymentImportApi(APIView):
    """Import a core-banking CSV (columns reference, value_date, amount, currency,
    external_id). One bad row rejects the whole file: 400 with `rows` (line numbers)."""

    parser_classes = [MultiPartParser, FormParser]

    class PostloanImportInputSerializer(serializers.Serializer):
        file = serializers.FileField()

    class PostloanImportOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        file_name = serializers.CharField()
        row_count = serializers.IntegerField()

    @extend_schema(
        request=PostloanImportInputSerializer, responses={201: PostloanImportOutputSerializer}
    )
    def post(self, request):
        serializer = self.PostloanImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise InvalidInput(details={"file": [_("The file is too large (5 MB at most).")]})
        batch = services.repayment_import(
            actor=request.user, file_name=upload.name, content=upload.read()
        )
        return Response(
            self.PostloanImportOutputSerializer(batch).data, status=status.HTTP_201_CREATED
        )


class LoanFlagApi(APIView):
    class PostloanFlagInputSerializer(serializers.Serializer):
        litigation = serializers.BooleanField(required=False, allow_null=True, default=None)
        guarantor_trouble = serializers.BooleanField(required=False, allow_null=True, default=None)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=PostloanFlagInputSerializer, responses=LoanSerializer)
    def post(self, request, application_id: int):
        serializer = self.PostloanFlagInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.loan_flag(
            application_id=application_id, actor=request.user, **serializer.validated_data
        )
        loan = selectors.loan_get(user=request.user, application_id=application_id)
        return Response(LoanSerializer(loan).data)


class ClassificationProposeApi(APIView):
    class PostloanClassificationInputSerializer(serializers.Serializer):
        to_classification = serializers.CharField(
            max_length=20, help_text="normal, special_mention, substandard, doubtful or loss"
        )
        reason = serializers.CharField(max_length=4000)

    @extend_schema(
        request=PostloanClassificationInputSerializer,
        responses={201: ClassificationChangeSerializer},
    )
    def post(self, request, application_id: int):
        serializer = self.PostloanClassificationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.classification_propose(
            application_id=application_id, actor=request.user, **serializer.validated_data
        )
        return Response(ClassificationChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class PostloanDecisionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class StepUpDecisionInputSerializer(PostloanDecisionInputSerializer):
    otp = step_up_otp_field()


class ClassificationPendingApi(ListAPIView):
    """Proposed classification changes waiting for a risk officer."""

    serializer_class = ClassificationChangeSerializer

    def get_queryset(self):
        return selectors.classification_pending(user=self.request.user)


class ClassificationDecideApi(APIView):
    approve = True

    @extend_schema(
        request=PostloanDecisionInputSerializer, responses=ClassificationChangeSerializer
    )
    def post(self, request, pk: int):
        serializer = PostloanDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.classification_decide(
            change_id=pk, actor=request.user, approve=self.approve, **serializer.validated_data
        )
        return Response(ClassificationChangeSerializer(change).data)


class ClassificationApproveApi(ClassificationDecideApi):
    """Approve a proposed change (a risk officer other than the proposer; 403 otherwise)."""

    approve = True


class ClassificationRejectApi(ClassificationDecideApi):
    """Reject a proposed change."""

    approve = False


class WriteOffProposeApi(APIView):
    class PostloanWriteOffInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=4000)

    @extend_schema(request=PostloanWriteOffInputSerializer, responses={201: WriteOffSerializer})
    def post(self, request, application_id: int):
        serializer = self.PostloanWriteOffInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        write_off = services.write_off_propose(
            application_id=application_id, actor=request.user, **serializer.validated_data
        )
        return Response(WriteOffSerializer(write_off).data, status=status.HTTP_201_CREATED)


class WriteOffPendingApi(ListAPIView):
    """Proposed write-offs waiting for a second risk officer."""

    serializer_class = WriteOffSerializer

    def get_queryset(self):
        return selectors.write_off_pending(user=self.request.user)


class WriteOffDecideApi(APIView):
    approve = True

    @extend_schema(request=PostloanDecisionInputSerializer, responses=WriteOffSerializer)
    def post(self, request, pk: int):
        serializer = PostloanDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        write_off = services.write_off_decide(
            write_off_id=pk, actor=request.user, approve=self.approve, **serializer.validated_data
        )
        return Response(WriteOffSerializer(write_off).data)


class WriteOffApproveApi(WriteOffDecideApi):
    """Approve a write-off (a risk officer other than the proposer): the loan ends
    written_off. Needs a fresh second factor (`otp`, else 403 step_up_required)."""

    approve = True

    @extend_schema(request=StepUpDecisionInputSerializer, responses=WriteOffSerializer)
    @step_up_required()
    def post(self, request, pk: int):
        return super().post(request, pk)


class WriteOffRejectApi(WriteOffDecideApi):
    """Reject a write-off."""

    approve = False


# --- Tasks ---------------------------------------------------------------------------------


class TaskListApi(ListAPIView):
    """Post-loan inspection tasks in your scope. Filters: status, mine, overdue, application."""

    serializer_class = TaskSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("mine", bool),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("application", int),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        application = params.get("application")
        return selectors.task_list(
            user=self.request.user,
            filters={
                "status": params.get("status"),
                "mine": _flag(params.get("mine")),
                "overdue": _flag(params.get("overdue")),
                "application": int(application) if (application or "").isdigit() else None,
            },
        )


class TaskDetailApi(APIView):
    @extend_schema(responses=TaskSerializer)
    def get(self, request, pk: int):
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=pk)).data)


class TaskCompleteApi(APIView):
    class PostloanTaskCompleteInputSerializer(serializers.Serializer):
        findings = serializers.CharField(max_length=10000)
        outcome = serializers.CharField(max_length=10, help_text="positive, neutral or negative")
        answers = serializers.DictField(
            child=serializers.CharField(allow_blank=True, max_length=2000),
            required=False,
            default=dict,
        )
        method = serializers.CharField(
            max_length=20, required=False, help_text="site_visit or remote"
        )
        revenue_previous = serializers.DecimalField(
            max_digits=18,
            decimal_places=2,
            min_value=Decimal("0"),
            required=False,
            allow_null=True,
            default=None,
        )
        revenue_current = serializers.DecimalField(
            max_digits=18,
            decimal_places=2,
            min_value=Decimal("0"),
            required=False,
            allow_null=True,
            default=None,
        )

    @extend_schema(request=PostloanTaskCompleteInputSerializer, responses=TaskSerializer)
    def post(self, request, pk: int):
        serializer = self.PostloanTaskCompleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.task_complete(task_id=pk, actor=request.user, **serializer.validated_data)
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=pk)).data)


class TaskAttachmentApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class PostloanAttachmentInputSerializer(serializers.Serializer):
        file = serializers.FileField()

    class PostloanAttachmentOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()

    @extend_schema(
        request=PostloanAttachmentInputSerializer,
        responses={201: PostloanAttachmentOutputSerializer},
    )
    def post(self, request, pk: int):
        serializer = self.PostloanAttachmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > 10 * 1024 * 1024:
            raise InvalidInput(details={"file": [_("The file is too large (10 MB at most).")]})
        attachment = services.task_attachment_add(task_id=pk, actor=request.user, file=upload)
        return Response(
            self.PostloanAttachmentOutputSerializer(attachment).data, status=status.HTTP_201_CREATED
        )


# --- Alerts and the queue ------------------------------------------------------------------


class AlertListApi(ListAPIView):
    """Alerts in your scope; open and acknowledged ones unless `status` is given."""

    serializer_class = AlertSerializer

    @extend_schema(
        parameters=[OpenApiParameter("status", str), OpenApiParameter("application", int)]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        application = params.get("application")
        return selectors.alert_list(
            user=self.request.user,
            filters={
                "status": params.get("status"),
                "application": int(application) if (application or "").isdigit() else None,
            },
        )


class AlertActionApi(APIView):
    action_name = ""

    class PostloanAlertActionInputSerializer(serializers.Serializer):
        comment = serializers.CharField(
            max_length=4000, required=False, allow_blank=True, default=""
        )
        action_plan = serializers.CharField(
            max_length=4000, required=False, allow_blank=True, default=""
        )

    @extend_schema(request=PostloanAlertActionInputSerializer, responses=AlertSerializer)
    def post(self, request, pk: int):
        serializer = self.PostloanAlertActionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if self.action_name == "acknowledge":
            services.alert_acknowledge(alert_id=pk, actor=request.user, comment=data["comment"])
        elif self.action_name == "plan":
            services.alert_record_plan(
                alert_id=pk, actor=request.user, action_plan=data["action_plan"]
            )
        else:
            services.alert_close(alert_id=pk, actor=request.user, comment=data["comment"])
        return Response(AlertSerializer(selectors.alert_get(user=request.user, alert_id=pk)).data)


class AlertAcknowledgeApi(AlertActionApi):
    """Acknowledge an alert (risk officer)."""

    action_name = "acknowledge"


class AlertPlanApi(AlertActionApi):
    """Record the action plan for an alert (risk officer)."""

    action_name = "plan"


class AlertCloseApi(AlertActionApi):
    """Close an alert with a comment (risk officer)."""

    action_name = "close"


class PortfolioClassSerializer(serializers.Serializer):
    classification = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    outstanding = serializers.DecimalField(max_digits=20, decimal_places=2)


class PortfolioSerializer(serializers.Serializer):
    classes = PortfolioClassSerializer(many=True)
    total_outstanding = serializers.DecimalField(max_digits=20, decimal_places=2)
    npl_outstanding = serializers.DecimalField(max_digits=20, decimal_places=2)
    npl_ratio = serializers.DecimalField(max_digits=7, decimal_places=2)


class QueueSerializer(serializers.Serializer):
    overdue_tasks = TaskSerializer(many=True)
    alerts = AlertSerializer(many=True)
    portfolio = PortfolioSerializer()


class QueueApi(APIView):
    """The risk officer's view: overdue post-loan tasks worst first (days overdue,
    classification, exposure), open alerts, and the portfolio with the NPL ratio."""

    @extend_schema(responses=QueueSerializer)
    def get(self, request):
        user = request.user
        return Response(
            QueueSerializer(
                {
                    "overdue_tasks": selectors.overdue_task_queue(user=user)[:100],
                    "alerts": selectors.alert_list(user=user)[:100],
                    "portfolio": selectors.portfolio_by_classification(user=user),
                }
            ).data
        )


class PortfolioApi(APIView):
    @extend_schema(responses=PortfolioSerializer)
    def get(self, request):
        return Response(
            PortfolioSerializer(selectors.portfolio_by_classification(user=request.user)).data
        )


class ExposureFiguresSerializer(serializers.Serializer):
    currency = serializers.CharField()
    loans = serializers.DecimalField(max_digits=18, decimal_places=2)
    loan_count = serializers.IntegerField()
    undrawn = serializers.DecimalField(max_digits=18, decimal_places=2)
    facility_count = serializers.IntegerField()
    in_approval = serializers.DecimalField(max_digits=18, decimal_places=2)
    in_approval_count = serializers.IntegerField()
    approved = serializers.DecimalField(max_digits=18, decimal_places=2)
    approved_count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=18, decimal_places=2)


class ExposureCustomerSerializer(ExposureFiguresSerializer):
    company_id = serializers.IntegerField()
    name = serializers.CharField()
    credit_code = serializers.CharField()
    industry = serializers.CharField(help_text="GB/T 4754 section")
    legal_representative = serializers.CharField()
    group = serializers.CharField(
        help_text="Its group (same controlling shareholder, or legal representative): the "
        "name and the ID number's last 4"
    )
    group_link = serializers.CharField(
        help_text="controlling_shareholder, legal_representative, or empty (no group)"
    )
    guaranteed_by = serializers.ListField(child=serializers.CharField())
    guarantees = serializers.ListField(child=serializers.CharField())
    limit = serializers.DecimalField(
        max_digits=18, decimal_places=2, allow_null=True, help_text="The limit it is above"
    )


class ExposureGroupSerializer(ExposureFiguresSerializer):
    group = serializers.CharField()
    legal_representative = serializers.CharField(
        help_text="The controlling shareholder's or legal representative's name (group_link)"
    )
    group_link = serializers.CharField()
    companies = serializers.ListField(child=serializers.CharField())
    company_count = serializers.IntegerField()
    limit = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class ExposureIndustrySerializer(ExposureFiguresSerializer):
    section = serializers.CharField()
    customer_count = serializers.IntegerField()


class ExposureBranchSerializer(ExposureFiguresSerializer):
    branch = serializers.CharField()
    customer_count = serializers.IntegerField()


class ExposureTotalSerializer(ExposureFiguresSerializer):
    customer_count = serializers.IntegerField()


class ExposureLimitsSerializer(serializers.Serializer):
    single_customer = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    group = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    version = serializers.IntegerField(allow_null=True)


class ExposurePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


EXPOSURE_ROWS = {
    "customer": ExposureCustomerSerializer,
    "group": ExposureGroupSerializer,
    "industry": ExposureIndustrySerializer,
    "branch": ExposureBranchSerializer,
}


class ExposureSnapshotSerializer(serializers.Serializer):
    snapshot_id = serializers.IntegerField(source="pk", allow_null=True)
    taken_at = serializers.DateTimeField(allow_null=True)
    as_of = serializers.DateField(allow_null=True)
    trigger = serializers.CharField(allow_null=True, help_text="nightly or requested")
    requested_by = serializers.CharField(
        source="requested_by.username", allow_null=True, default=None
    )


class ExposureApi(APIView):
    """The bank's exposure as of the latest snapshot (`snapshot_id`, `taken_at`, `as_of`:
    the nightly one or a refresh; all null before the first, with no rows) for risk officers
    and branch heads, over their branch scope, per currency, for one `dimension`: customer
    (the default), group, industry or branch, largest first (industry and branch: by section
    or name), paged (`page`, `page_size`); `q` finds a customer (or its group) by name or
    credit code. `limit` is set on the customers and groups above the active matrix version's
    concentration limits (in CNY); `totals` are the scope's, per currency; `refreshing` says
    a newer snapshot is being taken. `results` are ExposureCustomer rows by customer,
    ExposureGroup by group, ExposureIndustry by industry, ExposureBranch by branch."""

    @extend_schema(
        parameters=[
            OpenApiParameter("dimension", str, enum=["customer", "group", "industry", "branch"]),
            OpenApiParameter("q", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=inline_serializer(
            "ExposurePage",
            {
                "dimension": serializers.CharField(),
                **ExposureSnapshotSerializer().get_fields(),
                "refreshing": serializers.BooleanField(),
                "limits": ExposureLimitsSerializer(),
                "totals": ExposureTotalSerializer(many=True),
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": ExposureCustomerSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        from postloan.exposure import exposure_overview_for

        overview = exposure_overview_for(
            user=request.user,
            dimension=request.query_params.get("dimension", "customer"),
            q=request.query_params.get("q", "").strip(),
        )
        paginator = ExposurePagination()
        page = paginator.paginate_queryset(overview.rows, request, view=self)
        rows = EXPOSURE_ROWS[overview.dimension](overview.figures(page), many=True).data
        response = paginator.get_paginated_response(rows)
        snapshot = overview.snapshot
        response.data = {
            "dimension": overview.dimension,
            **(
                ExposureSnapshotSerializer(snapshot).data
                if snapshot
                else dict.fromkeys(ExposureSnapshotSerializer().get_fields())
            ),
            "refreshing": overview.refreshing is not None,
            "limits": ExposureLimitsSerializer(overview.limits).data,
            "totals": ExposureTotalSerializer(overview.totals, many=True).data,
            **response.data,
        }
        return response


class ExposureRefreshApi(APIView):
    """ "Refresh now" (risk officers and branch heads): a new snapshot of the bank's exposure,
    taken in the background after this answers (202, `snapshot_id`, `status` requested);
    the exposure answer shows it once taken. 409 `exposure_refreshing` while another is being
    taken."""

    class ExposureRefreshOutputSerializer(serializers.Serializer):
        snapshot_id = serializers.IntegerField(source="pk")
        status = serializers.CharField()

    @extend_schema(request=None, responses={202: ExposureRefreshOutputSerializer})
    def post(self, request):
        from postloan.snapshot import exposure_snapshot_request

        snapshot = exposure_snapshot_request(actor=request.user)
        return Response(self.ExposureRefreshOutputSerializer(snapshot).data, status=202)


class DailyJobApi(APIView):
    """Run the daily job now (risk officers): the same steps as the nightly beat task and
    the postloan_daily command, repayment reminders included (postloan.daily.daily_job_run)."""

    class PostloanDailyJobOutputSerializer(serializers.Serializer):
        positions_updated = serializers.IntegerField()
        classifications_raised = serializers.IntegerField()
        inspections_created = serializers.IntegerField()
        alerts_raised = serializers.IntegerField()
        warning_inspections_created = serializers.IntegerField()
        alert_notifications = serializers.IntegerField()
        exposure_alerts_raised = serializers.IntegerField()
        reminders_sent = serializers.IntegerField()
        clocks_started = serializers.IntegerField()
        seconds = serializers.FloatField()

    permission_classes = [StaffOnly, HasRule("postloan.triage_alert")]

    @extend_schema(request=None, responses=PostloanDailyJobOutputSerializer)
    def post(self, request):
        return Response(self.PostloanDailyJobOutputSerializer(daily_job_run()).data)


# --- Prepayment ----------------------------------------------------------------------------


class PayoffQuoteSerializer(serializers.Serializer):
    value_date = serializers.DateField()
    currency = serializers.CharField()
    kind = serializers.CharField()
    principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    interest_due = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Unpaid interest of instalments already due."
    )
    interest_accrued = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        help_text="Interest accrued from accrued_from to value_date on the principal not yet due.",
    )
    interest_paid_in_advance = serializers.DecimalField(max_digits=18, decimal_places=2)
    interest = serializers.DecimalField(max_digits=18, decimal_places=2)
    overdue_interest = serializers.DecimalField(max_digits=18, decimal_places=2)
    fee_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    fee = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)
    outstanding_principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    annual_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    day_count = serializers.CharField()
    accrued_from = serializers.DateField()
    accrual_days = serializers.IntegerField()
    kinds_allowed = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField()


class PayoffQuoteInputSerializer(serializers.Serializer):
    value_date = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=Prepayment.Kind.choices, default=Prepayment.Kind.FULL)
    principal = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=Decimal("0.01"), required=False
    )


QUOTE_PARAMETERS = [
    OpenApiParameter("value_date", str, description="YYYY-MM-DD; today by default"),
    OpenApiParameter("kind", str, description="full, shorten_term or lower_instalment"),
    OpenApiParameter("principal", str, description="The principal to prepay (partial)"),
]


class PrepaymentSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="loan.application_id")
    kind = serializers.CharField()
    kind_display = ChoiceLabelField(Prepayment.Kind.choices, source="kind")
    status = serializers.CharField()

    class Meta:
        model = Prepayment
        fields = [
            "id",
            "application",
            "kind",
            "kind_display",
            "status",
            "value_date",
            "currency",
            "principal",
            "interest",
            "overdue_interest",
            "fee",
            "total",
            "comment",
            "filed_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_comment",
            "repayment",
        ]


class PayoffQuoteApi(APIView):
    """A payoff quote for a date: principal, interest to the date, overdue interest and the
    product's prepayment fee (full, or a partial `principal`)."""

    @extend_schema(parameters=QUOTE_PARAMETERS, responses=PayoffQuoteSerializer)
    def get(self, request, application_id: int):
        serializer = PayoffQuoteInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        quote = selectors.loan_payoff_quote(
            user=request.user, application_id=application_id, **serializer.validated_data
        )
        return Response(PayoffQuoteSerializer(quote).data)


class PrepaymentApi(APIView):
    """A loan's prepayments; POST files one with its quote (confirmed by another person)."""

    class PostloanPrepaymentInputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Prepayment.Kind.choices)
        value_date = serializers.DateField()
        principal = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        comment = serializers.CharField(max_length=4000, required=False, allow_blank=True)
        request_id = serializers.IntegerField(
            required=False,
            help_text="The owner's open prepayment request this prepayment answers.",
        )

    @extend_schema(responses=PrepaymentSerializer(many=True))
    def get(self, request, application_id: int):
        loan = selectors.loan_get(user=request.user, application_id=application_id)
        return Response(PrepaymentSerializer(selectors.loan_prepayments(loan=loan), many=True).data)

    @extend_schema(request=PostloanPrepaymentInputSerializer, responses={201: PrepaymentSerializer})
    def post(self, request, application_id: int):
        serializer = self.PostloanPrepaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        prepayment = services.prepayment_file(
            application_id=application_id, actor=request.user, **serializer.validated_data
        )
        return Response(PrepaymentSerializer(prepayment).data, status=status.HTTP_201_CREATED)


class OwnerRequestSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="loan.application_id")
    kind_display = ChoiceLabelField(OwnerRequest.Kind.choices, source="kind")
    is_prepayment = serializers.BooleanField(
        read_only=True, help_text="A prepayment (filed as one); otherwise a change."
    )
    status = serializers.CharField(help_text="open, filed, declined or withdrawn.")
    status_display = ChoiceLabelField(OwnerRequest.Status.choices, source="status")

    class Meta:
        model = OwnerRequest
        fields = [
            "id",
            "application",
            "kind",
            "kind_display",
            "is_prepayment",
            "status",
            "status_display",
            "value_date",
            "principal",
            "note",
            "asked_by",
            "created_at",
            "prepayment",
            "change",
            "handled_by",
            "handled_at",
            "answer",
        ]


class OwnerRequestListApi(APIView):
    """The owner's requests on a loan, asked on the portal: prepayments and changes. File a
    prepayment request with POST .../prepayments/ and a change request with POST
    .../changes/, each with its `request_id`; or decline it."""

    @extend_schema(responses=OwnerRequestSerializer(many=True))
    def get(self, request, application_id: int):
        loan = selectors.loan_get(user=request.user, application_id=application_id)
        rows = selectors.loan_owner_requests(loan=loan)
        return Response(OwnerRequestSerializer(rows, many=True).data)


class OwnerRequestDeclineApi(APIView):
    """Decline an owner's open request, saying why (`comment`; the owner reads it): a
    prepayment request by staff who file prepayments, a change request by the loan's
    relationship manager."""

    @extend_schema(request=PostloanDecisionInputSerializer, responses=OwnerRequestSerializer)
    def post(self, request, owner_request_id: int, application_id: int | None = None):
        serializer = PostloanDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.owner_request_decline(
            application_id=application_id,
            request_id=owner_request_id,
            actor=request.user,
            comment=serializer.validated_data.get("comment", ""),
        )
        return Response(OwnerRequestSerializer(row).data)


class PrepaymentRequestListApi(OwnerRequestListApi):
    """Before the owner's requests were one: GET .../prepayment-requests/ (every request)."""

    schema = None  # not in the API's schema: the route before the requests were one


class PrepaymentRequestDeclineApi(OwnerRequestDeclineApi):
    """Before the owner's requests were one: .../prepayment-requests/<id>/decline/."""

    schema = None  # not in the API's schema: the route before the requests were one

    def post(self, request, application_id: int, prepayment_request_id: int):
        return super().post(
            request, owner_request_id=prepayment_request_id, application_id=application_id
        )


class ChangeRequestDeclineApi(OwnerRequestDeclineApi):
    """Before the owner's requests were one: change-requests/<id>/decline/."""

    schema = None  # not in the API's schema: the route before the requests were one

    def post(self, request, pk: int):
        return super().post(request, owner_request_id=pk)


class PrepaymentConfirmApi(APIView):
    """Confirm a prepayment filed by someone else: the money is recorded, the schedule
    rebuilt (the old one kept) or the loan closed. Needs a fresh second factor (`otp`, else
    403 step_up_required), as confirming a disbursement does."""

    @extend_schema(request=StepUpDecisionInputSerializer, responses=PrepaymentSerializer)
    @step_up_required()
    def post(self, request, pk: int):
        serializer = StepUpDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        prepayment = services.prepayment_confirm(
            prepayment_id=pk, actor=request.user, **without_otp(serializer.validated_data)
        )
        return Response(PrepaymentSerializer(prepayment).data)


class PrepaymentCancelApi(APIView):
    """Cancel a prepayment not yet confirmed."""

    @extend_schema(request=PostloanDecisionInputSerializer, responses=PrepaymentSerializer)
    def post(self, request, pk: int):
        serializer = PostloanDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        prepayment = services.prepayment_cancel(
            prepayment_id=pk, actor=request.user, **serializer.validated_data
        )
        return Response(PrepaymentSerializer(prepayment).data)


# --- Changes to a live loan (postloan.changes) ------------------------------------------------


class LoanChangeSerializer(serializers.Serializer):
    """A change application with what its LoanChange carries."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    change_kind = serializers.CharField()
    change_kind_display = serializers.CharField(source="get_change_kind_display")
    change_of = serializers.IntegerField(source="change_of_id")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    term_months = serializers.IntegerField()
    interest_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    repayment_method = serializers.CharField()
    filed_by = serializers.CharField(source="filed_by.username")
    investigator = serializers.CharField(source="investigator.username", default=None)
    created_at = serializers.DateTimeField()
    extension_months = serializers.IntegerField(source="loan_change.extension_months")
    grace_months = serializers.IntegerField(source="loan_change.grace_months")
    reason = serializers.CharField(source="loan_change.reason")
    figures = serializers.JSONField(source="loan_change.figures")
    review = serializers.JSONField(source="loan_change.review")
    review_opinion = serializers.CharField(source="loan_change.review_opinion")
    reviewed_at = serializers.DateTimeField(source="loan_change.reviewed_at")
    agreement_reference = serializers.CharField(source="loan_change.agreement_reference")
    applied_on = serializers.DateField(source="loan_change.applied_on")
    capitalised_principal = serializers.DecimalField(
        max_digits=18, decimal_places=2, source="loan_change.capitalised_principal"
    )
    capitalised_interest = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        source="loan_change.capitalised_interest",
        help_text="A restructuring's past-due contract interest made principal.",
    )
    capitalised_overdue_interest = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        source="loan_change.capitalised_overdue_interest",
        help_text="A restructuring's overdue interest made principal.",
    )


class LoanChangeHistorySerializer(serializers.Serializer):
    change_of = serializers.IntegerField(allow_null=True)
    change_of_status = serializers.CharField(allow_null=True)
    renewed_by = serializers.IntegerField(allow_null=True)
    changes = LoanChangeSerializer(many=True)


class LoanChangesApi(APIView):
    """A loan's changes (GET, with the loan it was itself a change of); POST: its
    relationship manager files one (submitted at once, reviewed by a colleague). 400 with
    field messages, 403 for anyone but the loan's RM, 409 `not_eligible` with the failed
    rules (`rules`) for a renewal, `open_change`, `arrears`, `loan_inactive`."""

    class LoanChangeFileInputSerializer(serializers.Serializer):
        kind = serializers.CharField()
        reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)
        amount = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        term_months = serializers.IntegerField(min_value=1, max_value=600, required=False)
        interest_rate = serializers.DecimalField(
            max_digits=6, decimal_places=3, min_value=Decimal("0"), required=False
        )
        repayment_method = serializers.CharField(required=False, allow_blank=True)
        extension_months = serializers.IntegerField(min_value=1, max_value=600, required=False)
        grace_months = serializers.IntegerField(min_value=0, max_value=600, required=False)
        request_id = serializers.IntegerField(required=False)

    @extend_schema(responses=LoanChangeHistorySerializer)
    def get(self, request, application_id: int):
        from applications.selectors import application_get
        from postloan.changes import loan_change_history

        application = application_get(user=request.user, pk=application_id)
        history = loan_change_history(application=application)
        return Response(
            {
                "change_of": history["change_of"].pk if history["change_of"] else None,
                # The loan it changed, as it stands (a renewed loan: closed).
                "change_of_status": (
                    history["change_of_loan"].status if history["change_of_loan"] else None
                ),
                # The renewal paid out that repaid this loan.
                "renewed_by": history["renewed_by"].pk if history["renewed_by"] else None,
                "changes": LoanChangeSerializer(history["changes"], many=True).data,
            }
        )

    @extend_schema(request=LoanChangeFileInputSerializer, responses={201: LoanChangeSerializer})
    def post(self, request, application_id: int):
        from postloan.changes import change_file

        serializer = self.LoanChangeFileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = change_file(
            actor=request.user, application_id=application_id, **serializer.validated_data
        )
        return Response(LoanChangeSerializer(application).data, status=status.HTTP_201_CREATED)


class LoanChangeReviewApi(APIView):
    """The change's reviewer (its investigator) confirms the figures, read again now, with
    the borrower's updated figures (`updated`: annual_revenue, net_profit, total_debt,
    employees) and an opinion."""

    class LoanChangeReviewInputSerializer(serializers.Serializer):
        opinion = serializers.CharField(max_length=4000, allow_blank=True)
        updated = serializers.DictField(required=False)

    @extend_schema(request=LoanChangeReviewInputSerializer, responses=LoanChangeSerializer)
    def post(self, request, pk: int):
        from postloan.changes import change_review_confirm

        serializer = self.LoanChangeReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = change_review_confirm(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(LoanChangeSerializer(change.application).data)


class LoanChangeApplyApi(APIView):
    """Apply an approved extension or restructuring on its signed supplementary agreement:
    the loan's new schedule from today (the old one kept). A restructuring with interest
    past due: 409 `interest_past_due` (with `amount`, `interest`, `overdue_interest`) where
    the product has it paid first, or that interest made principal where it capitalises."""

    class LoanChangeApplyInputSerializer(serializers.Serializer):
        agreement_reference = serializers.CharField(max_length=60, allow_blank=True)
        signed_on = serializers.DateField(required=False)

    @extend_schema(request=LoanChangeApplyInputSerializer, responses=LoanChangeSerializer)
    def post(self, request, pk: int):
        from postloan.changes import change_apply

        serializer = self.LoanChangeApplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = change_apply(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(LoanChangeSerializer(application).data)
