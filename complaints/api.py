"""Complaints over the API. The owner's under /api/v1/portal/complaints/ (OwnersOnly: their
company's complaints; another's is a 404); the bank's under /api/v1/complaints/ (the default
StaffOnly: an owner's token gets 403), for staff of the company's branch subtree. Each view
validates its input and calls one service or selector."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ChoiceLabelField
from complaints import selectors, services
from complaints.models import RESPONSE_MAX_LENGTH, TEXT_MAX_LENGTH, Complaint
from org.permissions import OwnersOnly

TAG_PORTAL = "portal"
TAG_STAFF = "complaints"


class CategoryOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name", help_text="In the reader's language.")


class PortalComplaintOutput(serializers.Serializer):
    """A complaint as the owner reads it: what was said, where it is, and the bank's answer;
    never who at the bank handles it or what they noted."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.display_name")
    channel = serializers.CharField()
    channel_display = ChoiceLabelField(Complaint.Channel.choices, source="channel")
    application = serializers.IntegerField(source="application_id", allow_null=True)
    application_reference = serializers.CharField(
        source="application.reference", allow_null=True, default=None
    )
    text = serializers.CharField()
    status = serializers.CharField()
    status_display = ChoiceLabelField(Complaint.Status.choices, source="status")
    received_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    response = serializers.CharField(help_text="The resolution, or the reason it was rejected.")


class StaffComplaintOutput(PortalComplaintOutput):
    company = serializers.IntegerField(source="company_id")
    company_name = serializers.CharField(source="company.name")
    branch = serializers.IntegerField(source="branch_id")
    branch_name = serializers.CharField(source="branch.name")
    relationship_manager = serializers.IntegerField(
        source="relationship_manager_id", allow_null=True
    )
    filed_by = serializers.IntegerField(source="filed_by_id")
    acknowledged_by = serializers.IntegerField(source="acknowledged_by_id", allow_null=True)
    answered_by = serializers.IntegerField(source="answered_by_id", allow_null=True)
    actions = serializers.SerializerMethodField(help_text="The transitions you may take on it now.")

    def get_actions(self, complaint) -> list[str]:
        return selectors.complaint_actions(user=self.context["request"].user, complaint=complaint)


# --- The owner's ----------------------------------------------------------------------------


class PortalComplaintCategoryListApi(APIView):
    """The categories a complaint may be filed under."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG_PORTAL], responses=CategoryOutput(many=True))
    def get(self, request):
        return Response(CategoryOutput(selectors.complaint_categories(), many=True).data)


class PortalComplaintListApi(APIView):
    """The complaints of the company you act for, newest first (GET); file one (POST): a
    category, what went wrong, and optionally the application (or loan) it is about."""

    permission_classes = [OwnersOnly]

    class PortalComplaintInput(serializers.Serializer):
        category = serializers.CharField(max_length=50)
        text = serializers.CharField(max_length=TEXT_MAX_LENGTH)
        application = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(tags=[TAG_PORTAL], responses=PortalComplaintOutput(many=True))
    def get(self, request):
        complaints = selectors.portal_complaint_list(user=request.user)
        return Response(PortalComplaintOutput(complaints, many=True).data)

    @extend_schema(
        tags=[TAG_PORTAL], request=PortalComplaintInput, responses={201: PortalComplaintOutput}
    )
    def post(self, request):
        serializer = self.PortalComplaintInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = services.complaint_file(
            actor=request.user,
            category=data["category"],
            text=data["text"],
            application_id=data["application"],
        )
        return Response(PortalComplaintOutput(complaint).data, status=status.HTTP_201_CREATED)


class PortalComplaintApi(APIView):
    """One complaint of the company you act for: its status and the bank's response."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=[TAG_PORTAL], responses=PortalComplaintOutput)
    def get(self, request, pk: int):
        complaint = selectors.portal_complaint_get(user=request.user, pk=pk)
        return Response(PortalComplaintOutput(complaint).data)


# --- The bank's -----------------------------------------------------------------------------


class ComplaintCategoryListApi(APIView):
    """The categories a complaint may be recorded under."""

    @extend_schema(tags=[TAG_STAFF], responses=CategoryOutput(many=True))
    def get(self, request):
        return Response(CategoryOutput(selectors.complaint_categories(), many=True).data)


class ComplaintListApi(ListAPIView):
    """The complaints of your branch subtree, open ones first (oldest first), then the
    answered (GET; filters: status, one status or "open"; mine, those given to you). Record
    one received by telephone, letter or in the branch on the company's behalf (POST)."""

    serializer_class = StaffComplaintOutput

    class RecordInput(serializers.Serializer):
        company = serializers.IntegerField(required=False, allow_null=True, default=None)
        credit_code = serializers.CharField(
            max_length=18, required=False, allow_blank=True, default=""
        )
        category = serializers.CharField(max_length=50)
        channel = serializers.ChoiceField(choices=services.STAFF_CHANNELS)
        text = serializers.CharField(max_length=TEXT_MAX_LENGTH)
        application = serializers.IntegerField(required=False, allow_null=True, default=None)
        received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

        def validate(self, data):
            if data["company"] is None and not data["credit_code"]:
                raise serializers.ValidationError(
                    {"company": [_("Give the company, or its unified social credit code.")]}
                )
            return data

    @extend_schema(
        tags=[TAG_STAFF],
        parameters=[OpenApiParameter("status", str), OpenApiParameter("mine", bool)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.complaint_list(
            user=self.request.user,
            status=params.get("status", ""),
            mine=params.get("mine") in ("1", "true", "yes"),
        )

    @extend_schema(tags=[TAG_STAFF], request=RecordInput, responses={201: StaffComplaintOutput})
    def post(self, request):
        serializer = self.RecordInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = services.complaint_record(
            actor=request.user,
            company_id=data["company"],
            credit_code=data["credit_code"],
            category=data["category"],
            channel=data["channel"],
            text=data["text"],
            application_id=data["application"],
            received_at=data["received_at"],
        )
        return Response(
            StaffComplaintOutput(complaint, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ComplaintApi(APIView):
    """One complaint of your branch subtree, with the actions you may take on it now."""

    @extend_schema(tags=[TAG_STAFF], responses=StaffComplaintOutput)
    def get(self, request, pk: int):
        complaint = selectors.complaint_get(user=request.user, pk=pk)
        return Response(StaffComplaintOutput(complaint, context={"request": request}).data)


def _text_input(name: str, help_text: str) -> type[serializers.Serializer]:
    field = serializers.CharField(
        max_length=RESPONSE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=help_text,
    )
    return type(f"Complaint{name.title()}Input", (serializers.Serializer,), {name: field})


class _TransitionApi(APIView):
    transition = ""
    field = ""
    Input: type[serializers.Serializer]

    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        complaint = services.complaint_transition(
            actor=request.user,
            complaint_id=pk,
            transition=self.transition,
            text=serializer.validated_data[self.field],
        )
        return Response(StaffComplaintOutput(complaint, context={"request": request}).data)


class ComplaintAcknowledgeApi(_TransitionApi):
    """Take the complaint up (received -> being handled): its relationship manager or a
    branch head over its branch; `note`, optional, is kept in the audit trail. 409 unless
    received."""

    transition, field = "acknowledge", "note"
    Input = _text_input("note", "An optional note, kept in the audit trail.")

    @extend_schema(tags=[TAG_STAFF], request=Input, responses=StaffComplaintOutput)
    def post(self, request, pk: int):
        return super().post(request, pk)


class ComplaintResolveApi(_TransitionApi):
    """Resolve the complaint with the `response` the owner reads (required; the owner is
    told). 409 unless being handled."""

    transition, field = "resolve", "response"
    Input = _text_input("response", "The response the owner reads (required).")

    @extend_schema(tags=[TAG_STAFF], request=Input, responses=StaffComplaintOutput)
    def post(self, request, pk: int):
        return super().post(request, pk)


class ComplaintRejectApi(_TransitionApi):
    """Reject the complaint with the `reason` the owner reads (required; the owner is told).
    409 unless being handled."""

    transition, field = "reject", "reason"
    Input = _text_input("reason", "The reason the owner reads (required).")

    @extend_schema(tags=[TAG_STAFF], request=Input, responses=StaffComplaintOutput)
    def post(self, request, pk: int):
        return super().post(request, pk)
