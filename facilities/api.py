"""Facilities over the API: the bank's under /api/v1/facilities/ (the default StaffOnly),
the owner's under /api/v1/portal/facilities/ (OwnersOnly: their company's facilities; another
company's is a 404). Each view validates its input and calls one service or selector."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ChoiceLabelField
from common.errors import Forbidden
from facilities import selectors, services
from facilities.models import Drawdown, DrawdownApproval, Facility
from org.permissions import OwnersOnly, has_role_perm
from org.second_factor import step_up_otp_field, step_up_required

TAG_STAFF = "facilities"
TAG_PORTAL = "portal"


class DrawdownOutput(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    term_months = serializers.IntegerField()
    interest_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    repayment_method = serializers.CharField()
    status = serializers.CharField()
    status_display = ChoiceLabelField(Drawdown.Status.choices, source="status")
    application = serializers.IntegerField(source="application_id", allow_null=True)
    application_status = serializers.CharField(
        source="application.status", allow_null=True, default=None
    )
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class StaffDrawdownOutput(DrawdownOutput):
    approval_reasons = serializers.ListField(child=serializers.CharField())
    approval_reason_labels = serializers.ListField(child=serializers.CharField())
    pricing = serializers.DictField(
        help_text="The drawdown's price build-up when requested (pricing.calc), with its "
        "parameter version; empty before the facility application was scored."
    )
    requested_by = serializers.IntegerField(source="requested_by_id")
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decision_comment = serializers.CharField()


class AvailabilityOutput(serializers.Serializer):
    limit = serializers.DecimalField(max_digits=18, decimal_places=2)
    drawn = serializers.DecimalField(max_digits=18, decimal_places=2)
    pending = serializers.DecimalField(max_digits=18, decimal_places=2)
    undrawn = serializers.DecimalField(max_digits=18, decimal_places=2)
    available = serializers.DecimalField(max_digits=18, decimal_places=2)


class MonitoredLoanOutput(serializers.Serializer):
    application = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    outstanding_principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    days_past_due = serializers.IntegerField()
    classification = serializers.CharField()
    overdue_interest_unpaid = serializers.DecimalField(max_digits=18, decimal_places=2)
    open_alerts = serializers.IntegerField()


class MonitoredAlertOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan = serializers.IntegerField(help_text="The loan's application id.")
    reference = serializers.CharField()
    rule = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    raised = serializers.DateTimeField()


class MonitoringOutput(serializers.Serializer):
    """The facility's drawdown loans as post-loan sees them, and the company's standing."""

    outstanding_principal = serializers.DecimalField(max_digits=18, decimal_places=2)
    overdue_interest_unpaid = serializers.DecimalField(max_digits=18, decimal_places=2)
    worst_days_past_due = serializers.IntegerField()
    worst_classification = serializers.CharField()
    worst_classification_display = serializers.CharField()
    loans = MonitoredLoanOutput(many=True)
    alerts = MonitoredAlertOutput(many=True)


class FacilityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="application.reference")
    company = serializers.IntegerField(source="company_id")
    company_name = serializers.CharField(source="company.name")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    term_months = serializers.IntegerField()
    revolving = serializers.BooleanField()
    max_drawdown_term_months = serializers.IntegerField()
    min_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    max_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    conditions = serializers.ListField(child=serializers.CharField())
    approved_on = serializers.DateField()
    expires_on = serializers.DateField()
    status = serializers.CharField()
    status_display = ChoiceLabelField(Facility.Status.choices, source="status")
    availability = serializers.SerializerMethodField()

    def get_availability(self, facility) -> AvailabilityOutput:
        # A list passes every facility's availability, read together (the context's).
        known = self.context.get("availabilities")
        if known is None:
            known = {facility.pk: selectors.facility_availability(facility=facility)}
        return AvailabilityOutput(known[facility.pk].as_dict()).data


def _listed(serializer, facilities) -> list:
    facilities = list(facilities)
    availabilities = selectors.facility_availabilities(facilities=facilities)
    return serializer(facilities, many=True, context={"availabilities": availabilities}).data


class StaffFacilityOutput(FacilityOutput):
    application = serializers.IntegerField(source="application_id")
    branch = serializers.IntegerField(source="branch_id")
    drawdown_approval = serializers.CharField()
    drawdown_approval_display = ChoiceLabelField(
        DrawdownApproval.choices, source="drawdown_approval"
    )
    auto_approval_limit = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    status_reason = serializers.CharField()
    pricing = serializers.DictField(
        help_text="The price build-up the pricing range was approved on (the lower end, for "
        "the limit and term; pricing.calc), with its parameter version and, below the "
        "floor, the approver's reason."
    )


class DrawdownInput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    term_months = serializers.IntegerField(min_value=1, max_value=600)
    interest_rate = serializers.DecimalField(
        max_digits=6, decimal_places=3, required=False, allow_null=True, default=None
    )
    repayment_method = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    purpose = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _request_drawdown(request, pk: int) -> Drawdown:
    serializer = DrawdownInput(data=request.data)
    serializer.is_valid(raise_exception=True)
    return services.drawdown_request(
        facility_id=pk, actor=request.user, **serializer.validated_data
    )


# --- The bank's ---------------------------------------------------------------------------


class FacilityListApi(APIView):
    """The facilities of your branch subtree (head office: all), newest first."""

    @extend_schema(tags=[TAG_STAFF], responses=StaffFacilityOutput(many=True))
    def get(self, request):
        facilities = selectors.facility_list(
            user=request.user,
            filters={
                "status": request.query_params.get("status", ""),
                "company": request.query_params.get("company", ""),
            },
        )[:200]
        return Response(_listed(StaffFacilityOutput, facilities))


class FacilityApi(APIView):
    """One facility: its terms, what is available and its drawdowns."""

    @extend_schema(tags=[TAG_STAFF], responses=StaffFacilityOutput)
    def get(self, request, pk: int):
        facility = selectors.facility_get(user=request.user, pk=pk)
        data = StaffFacilityOutput(facility).data
        data["drawdowns"] = StaffDrawdownOutput(
            selectors.facility_drawdowns(facility=facility), many=True
        ).data
        data["monitoring"] = MonitoringOutput(
            selectors.facility_monitoring(facility=facility).as_dict()
        ).data
        return Response(data)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


def _transition_api(name: str):
    class FacilityTransitionApi(APIView):
        @extend_schema(tags=[TAG_STAFF], request=ReasonInput, responses=StaffFacilityOutput)
        def post(self, request, pk: int):
            serializer = ReasonInput(data=request.data)
            serializer.is_valid(raise_exception=True)
            facility = services.facility_transition(
                facility_id=pk,
                transition=name,
                actor=request.user,
                reason=serializer.validated_data["reason"],
            )
            return Response(StaffFacilityOutput(facility).data)

    FacilityTransitionApi.__name__ = f"Facility{name.title()}Api"
    FacilityTransitionApi.__doc__ = f"A risk officer: {name} the facility, with the reason."
    return FacilityTransitionApi


FacilityFreezeApi = _transition_api("freeze")
FacilityUnfreezeApi = _transition_api("unfreeze")
FacilityCloseApi = _transition_api("close")


class FacilityDrawdownListApi(APIView):
    """The relationship manager requests a drawdown for the company (POST)."""

    @extend_schema(tags=[TAG_STAFF], request=DrawdownInput, responses={201: StaffDrawdownOutput})
    def post(self, request, pk: int):
        drawdown = _request_drawdown(request, pk)
        return Response(StaffDrawdownOutput(drawdown).data, status=status.HTTP_201_CREATED)


class DrawdownQueueItemOutput(serializers.Serializer):
    drawdown = StaffDrawdownOutput()
    facility = serializers.IntegerField(source="facility.pk")
    reference = serializers.CharField(source="facility.application.reference")
    company = serializers.IntegerField(source="facility.company_id")
    company_name = serializers.CharField(source="facility.company.name")
    min_rate = serializers.DecimalField(source="facility.min_rate", max_digits=6, decimal_places=3)
    max_rate = serializers.DecimalField(source="facility.max_rate", max_digits=6, decimal_places=3)
    availability = serializers.SerializerMethodField()
    classification = serializers.CharField(source="classification_code")
    classification_display = serializers.CharField(source="classification")
    open_alerts = serializers.IntegerField()
    exposure_after = serializers.DecimalField(max_digits=18, decimal_places=2)
    may_decide = serializers.BooleanField()

    def get_availability(self, row) -> AvailabilityOutput:
        return AvailabilityOutput(row["availability"].as_dict()).data


class DrawdownQueueApi(APIView):
    """The drawdowns of your branch subtree waiting for a drawdown approver, oldest first,
    with the facility's availability, the company's classification and open alerts, the
    customer's exposure after the drawdown and its price build-up (drawdown approvers only:
    403 for anyone else). `may_decide` is false for a drawdown you requested or whose
    facility you filed or manage."""

    @extend_schema(tags=[TAG_STAFF], responses=DrawdownQueueItemOutput(many=True))
    def get(self, request):
        if not has_role_perm(request.user, services.DRAWDOWN_PERMISSION):
            raise Forbidden(_("Only a drawdown approver sees the drawdowns waiting for one."))
        drawdowns = list(selectors.drawdowns_awaiting_approver(user=request.user)[:200])
        rows = selectors.drawdown_queue_rows(user=request.user, drawdowns=drawdowns)
        return Response(DrawdownQueueItemOutput(rows, many=True).data)


class DrawdownDecideApi(APIView):
    """A drawdown approver approves or declines a drawdown waiting for one (a credit
    decision: confirmed with a fresh code from the authenticator, as an approval step)."""

    class DecideInput(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "decline"])
        comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        otp = step_up_otp_field()

    @extend_schema(tags=[TAG_STAFF], request=DecideInput, responses=StaffDrawdownOutput)
    @step_up_required()
    def post(self, request, pk: int):
        serializer = self.DecideInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        drawdown = services.drawdown_decide(
            drawdown_id=pk,
            actor=request.user,
            decision=serializer.validated_data["decision"],
            comment=serializer.validated_data.get("comment", ""),
        )
        return Response(StaffDrawdownOutput(drawdown).data)


# --- The owner's --------------------------------------------------------------------------


class PortalFacilityListApi(APIView):
    """The facilities of the company you act for, with what is available to draw."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG_PORTAL], responses=FacilityOutput(many=True))
    def get(self, request):
        return Response(_listed(FacilityOutput, selectors.facility_list(user=request.user)))


class PortalFacilityApi(APIView):
    """One facility of the company you act for, with its drawdowns."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG_PORTAL], responses=FacilityOutput)
    def get(self, request, pk: int):
        facility = selectors.facility_get(user=request.user, pk=pk)
        data = FacilityOutput(facility).data
        data["drawdowns"] = DrawdownOutput(
            selectors.facility_drawdowns(facility=facility), many=True
        ).data
        return Response(data)


class PortalDrawdownApi(APIView):
    """Request a drawdown under one of your company's active facilities."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG_PORTAL], request=DrawdownInput, responses={201: DrawdownOutput})
    def post(self, request, pk: int):
        drawdown = _request_drawdown(request, pk)
        return Response(DrawdownOutput(drawdown).data, status=status.HTTP_201_CREATED)
