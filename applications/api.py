"""Thin API classes: validate input, call one service, serialise the result."""

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from applications import labels
from applications.filters import ApplicationFilter
from applications.models import (
    GuaranteeType,
    LoanApplication,
    Product,
    RepaymentMethod,
    Status,
)
from applications.selectors import application_get, application_list
from applications.services import (
    INTERNAL_TRANSITIONS,
    TRANSITION_NAMES,
    application_available_actions,
    application_create,
    application_transition,
    application_update_draft,
)
from audit.selectors import application_timeline
from common.api import ChoiceLabelField
from common.errors import Forbidden, NotFound
from customers.models import Company
from org.permissions import OpenToOwners
from org.roles import roles_of


class ApplicationOutputSerializer(serializers.ModelSerializer):
    company_name = serializers.CharField(source="company.name")
    company_credit_code = serializers.CharField(source="company.credit_code")
    branch_name = serializers.CharField(source="branch.name")
    product_code = serializers.CharField(source="product.code")
    status_display = ChoiceLabelField(Status.choices, source="status")
    relationship_manager_name = serializers.SerializerMethodField()

    class Meta:
        model = LoanApplication
        fields = [
            "id",
            "reference",
            "status",
            "status_display",
            "company",
            "company_name",
            "company_credit_code",
            "branch",
            "branch_name",
            "product",
            "product_code",
            "amount",
            "currency",
            "term_months",
            "interest_rate",
            "repayment_method",
            "guarantee_type",
            "purpose",
            "channel",
            "language",
            "relationship_manager",
            "relationship_manager_name",
            "investigator",
            "risk_grade",
            "risk_score",
            "route_recommendation",
            "flag_count",
            "decline_reasons",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "disbursed_at",
            "closed_at",
            "status_changed_at",
        ]

    def get_relationship_manager_name(self, obj) -> str:
        rm = obj.relationship_manager
        return rm.get_full_name() or rm.username


class ApplicationListSerializer(serializers.Serializer):
    """A row of the application list: what a list shows of each application. The detail
    (`ApplicationDetailSerializer`) has every field. Declared, not a ModelSerializer: the list
    serializes 25 rows on every request, and introspecting the model for them cost more than
    reading them."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    status_display = ChoiceLabelField(Status.choices, source="status")
    company = serializers.IntegerField(source="company_id")
    company_name = serializers.CharField(source="company.name")
    company_credit_code = serializers.CharField(source="company.credit_code")
    branch = serializers.IntegerField(source="branch_id")
    branch_name = serializers.CharField(source="branch.name")
    product = serializers.IntegerField(source="product_id")
    product_code = serializers.CharField(source="product.code")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    term_months = serializers.IntegerField()
    channel = serializers.CharField()
    relationship_manager = serializers.IntegerField(source="relationship_manager_id")
    relationship_manager_name = serializers.SerializerMethodField()
    risk_grade = serializers.CharField()
    flag_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()

    def get_relationship_manager_name(self, obj) -> str:
        rm = obj.relationship_manager
        return rm.get_full_name() or rm.username


# The columns the list prints, and no others.
LIST_COLUMNS = (
    "id",
    "reference",
    "status",
    "company_id",
    "branch_id",
    "product_id",
    "amount",
    "currency",
    "term_months",
    "channel",
    "relationship_manager_id",
    "risk_grade",
    "flag_count",
    "created_at",
    "status_changed_at",
    "company__name",
    "company__credit_code",
    "branch__name",
    "product__code",
    "relationship_manager__first_name",
    "relationship_manager__last_name",
    "relationship_manager__username",
)


class ApplicationDetailSerializer(ApplicationOutputSerializer):
    allowed_actions = serializers.SerializerMethodField()

    class Meta(ApplicationOutputSerializer.Meta):
        fields = [*ApplicationOutputSerializer.Meta.fields, "allowed_actions", "product_snapshot"]

    def get_allowed_actions(self, obj) -> list[str]:
        return application_available_actions(application=obj, user=self.context["request"].user)


class ApplicationListApi(ListAPIView):
    """Applications the user may see, newest first. Filters: status (comma-separated), branch,
    product, mine, q (reference, company name or credit code). Each row is a summary; the
    detail has every field."""

    serializer_class = ApplicationListSerializer

    class CreateInputSerializer(serializers.Serializer):
        company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
        product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
        amount = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01")
        )
        term_months = serializers.IntegerField(min_value=1, max_value=600)
        interest_rate = serializers.DecimalField(
            max_digits=6, decimal_places=3, min_value=Decimal("0")
        )
        repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices)
        guarantee_type = serializers.ChoiceField(choices=GuaranteeType.choices)
        purpose = serializers.CharField(max_length=2000, allow_blank=True, required=False)
        language = serializers.ChoiceField(choices=["en", "zh-hans"], required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("branch", int),
            OpenApiParameter("product", int),
            OpenApiParameter("mine", bool),
            OpenApiParameter("q", str),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filterset = ApplicationFilter(self.request.query_params)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return application_list(user=self.request.user, filters=filterset.selector_filters()).only(
            *LIST_COLUMNS
        )

    @extend_schema(request=CreateInputSerializer, responses={201: ApplicationDetailSerializer})
    def post(self, request):
        serializer = self.CreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = application_create(actor=request.user, **serializer.validated_data)
        application = application_get(user=request.user, pk=application.pk)
        return Response(
            ApplicationDetailSerializer(application, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ApplicationDetailApi(APIView):
    class UpdateInputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(
            max_digits=18, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        term_months = serializers.IntegerField(min_value=1, max_value=600, required=False)
        interest_rate = serializers.DecimalField(
            max_digits=6, decimal_places=3, min_value=Decimal("0"), required=False
        )
        repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices, required=False)
        guarantee_type = serializers.ChoiceField(choices=GuaranteeType.choices, required=False)
        purpose = serializers.CharField(max_length=2000, allow_blank=True, required=False)
        language = serializers.ChoiceField(choices=["en", "zh-hans"], required=False)

    @extend_schema(responses=ApplicationDetailSerializer)
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        return Response(ApplicationDetailSerializer(application, context={"request": request}).data)

    @extend_schema(request=UpdateInputSerializer, responses=ApplicationDetailSerializer)
    def patch(self, request, pk: int):
        serializer = self.UpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        application_update_draft(
            application_id=pk, actor=request.user, changes=serializer.validated_data
        )
        application = application_get(user=request.user, pk=pk)
        return Response(ApplicationDetailSerializer(application, context={"request": request}).data)


class TimelineEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.SerializerMethodField()
    actor_role = serializers.CharField()
    # In the reader's language: the action in words, and the system's texts worded.
    action_label = serializers.SerializerMethodField()
    comment = serializers.SerializerMethodField()

    def get_action_label(self, event) -> str:
        return labels.action_label(event.action)

    def get_comment(self, event) -> str:
        return labels.event_comment(event)

    def get_actor(self, event) -> str:
        if event.actor is None:
            return "system"
        return event.actor.get_full_name() or event.actor.username


class ApplicationTimelineApi(APIView):
    @extend_schema(responses=TimelineEventSerializer(many=True))
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        # Staff only (owners read the plain-language events of /api/v1/portal/).
        events = application_timeline(application=application, include_refusals=True)
        return Response(TimelineEventSerializer(events, many=True).data)


class TransitionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    reasons = serializers.ListField(child=serializers.CharField(max_length=100), required=False)


class ApplicationTransitionApi(APIView):
    """Take one named transition. 403 when your role may not, or segregation of duties
    forbids it; 409 when it is not allowed in the current state, something is missing
    (listed in `missing`), or someone else changed the application first."""

    transition_name: str = ""
    input_serializer_class = TransitionInputSerializer

    def post(self, request, pk: int):
        if self.transition_name not in TRANSITION_NAMES:
            raise NotFound()
        if self.transition_name in INTERNAL_TRANSITIONS:
            application_get(user=request.user, pk=pk)
            raise Forbidden(
                _("This action is taken through its stage's own screen."), code="use_stage_endpoint"
            )
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        comment = data.pop("comment", "")
        application_transition(
            application_id=pk,
            transition=self.transition_name,
            actor=request.user,
            comment=comment,
            data=data,
        )
        application = application_get(user=request.user, pk=pk)
        return Response(ApplicationDetailSerializer(application, context={"request": request}).data)


def transition_view(name: str):
    def post(self, request, pk: int):
        return ApplicationTransitionApi.post(self, request, pk)

    post = extend_schema(
        request=TransitionInputSerializer,
        responses=ApplicationDetailSerializer,
        operation_id=f"applications_{name}",
    )(post)
    view_class = type(
        f"{name.title().replace('_', '')}TransitionApi",
        (ApplicationTransitionApi,),
        {
            "transition_name": name,
            "post": post,
            "__doc__": f"Take the '{name}' transition. " + ApplicationTransitionApi.__doc__,
        },
    )
    return view_class.as_view()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    branch = serializers.IntegerField(allow_null=True)
    company = serializers.IntegerField(allow_null=True)


class MeApi(APIView):
    """Who am I: roles, branch (staff) or company (SME owner)."""

    permission_classes = [OpenToOwners]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        profile = getattr(user, "staff_profile", None)
        applicant = getattr(user, "applicant_profile", None)
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "name": user.get_full_name(),
                "roles": sorted(roles_of(user)),
                "branch": profile.branch_id if profile else None,
                "company": applicant.company_id if applicant else None,
            }
        )
