"""Thin API classes for the approval queues, decisions and committee votes."""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.selectors import application_get
from approvals import selectors, services
from approvals.filters import TaskQueueFilter
from approvals.models import ApprovalTask, CommitteeVote, DeclineReason
from common.errors import InvalidInput
from org.second_factor import step_up_otp_field, step_up_required, without_otp


class TaskOutputSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference")
    application_status = serializers.CharField(source="application.status")
    company_name = serializers.CharField(source="application.company.name")
    product_code = serializers.CharField(source="application.product.code")
    amount = serializers.DecimalField(source="application.amount", max_digits=18, decimal_places=2)
    currency = serializers.CharField(source="application.currency")
    risk_grade = serializers.CharField(source="application.risk_grade")
    branch_name = serializers.CharField(source="branch.name")
    # The step's name in the reader's language.
    step_name = serializers.CharField(source="step_display", read_only=True)
    claimed_by_username = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalTask
        fields = [
            "id",
            "application",
            "application_reference",
            "application_status",
            "company_name",
            "product_code",
            "amount",
            "currency",
            "risk_grade",
            "kind",
            "step",
            "step_name",
            "step_index",
            "role",
            "branch",
            "branch_name",
            "status",
            "claimed_by",
            "claimed_by_username",
            "claimed_at",
            "due_at",
            "is_overdue",
            "decision",
            "decided_by",
            "decided_at",
            "comment",
        ]

    def get_claimed_by_username(self, obj) -> str | None:
        return obj.claimed_by.username if obj.claimed_by_id else None

    def get_is_overdue(self, obj) -> bool:
        now = self.context.get("now")
        return bool(now and obj.status in ApprovalTask.OPEN_STATES and obj.due_at < now)


class QueueCountSerializer(serializers.Serializer):
    role = serializers.CharField()
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    claimed = serializers.IntegerField()
    mine = serializers.IntegerField()
    overdue = serializers.IntegerField()


class QueuePaginator(Paginator):
    """A queue's pages; the whole queue sized from its counts (`size`), not counted again."""

    def __init__(self, object_list, per_page, *, size: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.size = size

    @cached_property
    def count(self) -> int:
        return self.size if self.size is not None else super().count


class QueuePagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    size: int | None = None

    def django_paginator_class(self, queryset, page_size):
        return QueuePaginator(queryset, page_size, size=self.size)


@extend_schema_view(
    get=extend_schema(
        responses=inline_serializer(
            "ApprovalQueuePage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "counts": QueueCountSerializer(many=True),
                "results": TaskOutputSerializer(many=True),
            },
        )
    )
)
class QueueApi(ListAPIView):
    """Your approval queues (your roles, your branch scope), oldest due first, with counts
    per queue. Filters: role, product, branch, amount_min, amount_max, grade, overdue, mine,
    q (reference or company name)."""

    serializer_class = TaskOutputSerializer
    pagination_class = QueuePagination
    filterset_class = TaskQueueFilter

    def get_queryset(self):
        return selectors.task_queue(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def list(self, request, *args, **kwargs):
        counts = selectors.task_queue_counts(user=request.user)
        if not any(request.query_params.get(name) for name in TaskQueueFilter.base_filters):
            self.paginator.size = selectors.task_queue_size(counts=counts)
        response = super().list(request, *args, **kwargs)
        response.data["counts"] = counts
        return response


class TaskDetailApi(APIView):
    @extend_schema(responses=TaskOutputSerializer)
    def get(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        return Response(TaskOutputSerializer(task, context={"now": timezone.now()}).data)


class CommentInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, allow_blank=True, required=False, default="")


class StepUpCommentInputSerializer(CommentInputSerializer):
    otp = step_up_otp_field()


def _task_response(task) -> Response:
    """The acted-on task's row as the action left it: the task the action held, with its
    application, company, product and branch (selectors.task_get for an action)."""
    return Response(TaskOutputSerializer(task, context={"now": timezone.now()}).data)


class TaskClaimApi(APIView):
    """Claim an open task: it is then yours alone. 409 at once when someone else holds it."""

    @extend_schema(request=None, responses=TaskOutputSerializer)
    def post(self, request, pk: int):
        return _task_response(services.task_claim(task_id=pk, actor=request.user))


class TaskReleaseApi(APIView):
    @extend_schema(request=CommentInputSerializer, responses=TaskOutputSerializer)
    def post(self, request, pk: int):
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _task_response(
            services.task_release(task_id=pk, actor=request.user, **serializer.validated_data)
        )


class TaskReassignApi(APIView):
    """A branch head gives the task to a colleague (assignee null: back to the queue)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalsTaskReassignInput"

        assignee = serializers.IntegerField(allow_null=True)
        comment = serializers.CharField(
            max_length=4000, allow_blank=True, required=False, default=""
        )

    @extend_schema(request=InputSerializer, responses=TaskOutputSerializer)
    def post(self, request, pk: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignee_id = serializer.validated_data["assignee"]
        assignee = None
        if assignee_id is not None:
            assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
            if assignee is None:
                raise InvalidInput(details={"assignee": ["Unknown user."]})
        return _task_response(
            services.task_reassign(
                task_id=pk,
                actor=request.user,
                assignee=assignee,
                comment=serializer.validated_data["comment"],
            )
        )


class OtherTermsInputSerializer(serializers.Serializer):
    """The fields of an approval on other terms (services._terms_changed checks them)."""

    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="To approve on other terms: a lower amount.",
    )
    term_months = serializers.IntegerField(
        min_value=1,
        max_value=600,
        required=False,
        allow_null=True,
        help_text="To approve on other terms: another term within the product's.",
    )
    interest_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        required=False,
        allow_null=True,
        help_text="To approve on other terms: another annual rate within the product's.",
    )


class TaskDecideApi(APIView):
    """Decide a step: approve, approve_with_conditions (conditions), decline (reasons: codes
    from /approvals/decline-reasons/, at least one), return_to_investigation,
    request_information; an approval of an application with open High flags says how each is
    mitigated (mitigations: flag id -> text); for an
    after-the-fact review: confirm or concern. 403 with the reason when segregation of duties
    or your limit forbids it (logged)."""

    class InputSerializer(OtherTermsInputSerializer):
        class Meta:
            ref_name = "ApprovalsTaskDecideInput"

        decision = serializers.ChoiceField(choices=ApprovalTask.Decision.choices)
        comment = serializers.CharField(
            max_length=4000, allow_blank=True, required=False, default=""
        )
        conditions = serializers.ListField(
            child=serializers.CharField(max_length=2000, allow_blank=True),
            required=False,
            default=list,
        )
        reasons = serializers.ListField(
            child=serializers.CharField(max_length=50), required=False, default=list
        )
        mitigations = serializers.DictField(
            child=serializers.CharField(max_length=4000, allow_blank=True),
            required=False,
            default=dict,
            help_text="To approve an application with open High flags: flag id -> how it is "
            "mitigated, one for each.",
        )
        below_floor_reason = serializers.CharField(
            max_length=4000,
            allow_blank=True,
            required=False,
            default="",
            help_text="To approve a proposed rate below the pricing floor: why.",
        )
        otp = step_up_otp_field()

    @extend_schema(request=InputSerializer, responses=TaskOutputSerializer)
    @step_up_required()
    def post(self, request, pk: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = without_otp(serializer.validated_data)
        terms = {key: data.pop(key, None) for key in services.TERMS}
        return _task_response(
            services.task_decide(task_id=pk, actor=request.user, terms=terms, **data)
        )


class VoteOutputSerializer(serializers.ModelSerializer):
    member_username = serializers.CharField(source="member.username")

    class Meta:
        model = CommitteeVote
        fields = ["id", "task", "member", "member_username", "vote", "comment", "cast_at"]


class CommitteeVoteApi(APIView):
    """A committee member's vote: approve, decline or abstain (a later vote replaces an
    earlier one); a vote to approve an application with open High flags says how each is
    mitigated (mitigations: flag id -> text)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalsCommitteeVoteInput"

        vote = serializers.ChoiceField(choices=CommitteeVote.Vote.choices)
        comment = serializers.CharField(
            max_length=4000, allow_blank=True, required=False, default=""
        )
        mitigations = serializers.DictField(
            child=serializers.CharField(max_length=4000, allow_blank=True),
            required=False,
            default=dict,
            help_text="To vote to approve an application with open High flags: flag id -> how "
            "it is mitigated, one for each.",
        )

    @extend_schema(request=InputSerializer, responses=VoteOutputSerializer)
    def post(self, request, pk: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vote = services.committee_vote(task_id=pk, actor=request.user, **serializer.validated_data)
        return Response(VoteOutputSerializer(vote).data)


class CommitteeCloseApi(APIView):
    """The chair closes the vote (quorum and majority from the route's matrix version). A vote
    that approves may approve on other terms (amount, term_months, interest_rate, as a
    step's decision; the comment says why)."""

    class InputSerializer(OtherTermsInputSerializer, StepUpCommentInputSerializer):
        class Meta:
            ref_name = "ApprovalsCommitteeCloseInput"

    @extend_schema(request=InputSerializer, responses=TaskOutputSerializer)
    @step_up_required()
    def post(self, request, pk: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = without_otp(serializer.validated_data)
        terms = {key: data.pop(key, None) for key in services.TERMS}
        return _task_response(
            services.committee_close(task_id=pk, actor=request.user, terms=terms, **data)
        )


class StepSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    is_current = serializers.BooleanField()
    tasks = TaskOutputSerializer(many=True)
    votes = VoteOutputSerializer(many=True)


class ConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    satisfied_at = serializers.DateTimeField(allow_null=True)


class ConcernSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    comment = serializers.CharField()
    raised_by = serializers.CharField(source="raised_by.username")
    raised_at = serializers.DateTimeField()
    review_task = serializers.IntegerField(source="task_id")
    alert = serializers.IntegerField(source="alert_id", allow_null=True)
    cleared_by = serializers.CharField(source="cleared_by.username", allow_null=True, default=None)
    cleared_at = serializers.DateTimeField(allow_null=True)
    clear_reason = serializers.CharField()


class ConcernClearApi(APIView):
    """Clear a post-reviewer's concern, saying why: a branch head or a credit reviewer who did
    not raise it (403 otherwise, logged); 409 when it is already cleared. A payout it held
    back may then be made."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalsConcernClearInput"

        reason = serializers.CharField(max_length=4000, allow_blank=True, required=False)

    @extend_schema(request=InputSerializer, responses=ConcernSerializer)
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        concern = services.post_review_concern_clear(
            concern_id=pk, actor=request.user, reason=data.validated_data.get("reason", "")
        )
        return Response(ConcernSerializer(concern).data)


class ApplicationApprovalApi(APIView):
    """The route of an application: why it was chosen (the matrix's amount bands apply to the
    group's exposure after this application), its steps with who and when, the conditions,
    committee votes and after-the-fact reviews."""

    @extend_schema(
        responses=inline_serializer(
            "ApplicationApproval",
            {
                "status": serializers.CharField(allow_null=True),
                "route": serializers.ListField(child=serializers.CharField()),
                "reason": serializers.CharField(),
                "exposure_after": serializers.DecimalField(
                    max_digits=18, decimal_places=2, allow_null=True
                ),
                "exposure": serializers.DictField(
                    help_text="The customer's and its group's exposure after this application "
                    "when the route was fixed (currency, amount, customer, group, related "
                    "companies with their link and exposure)."
                ),
                "matrix_version": serializers.IntegerField(allow_null=True),
                "fast_track": serializers.BooleanField(),
                "decided_by_system": serializers.BooleanField(),
                "current_step": serializers.IntegerField(allow_null=True),
                "current_task": serializers.IntegerField(allow_null=True),
                "steps": StepSerializer(many=True),
                "conditions": ConditionSerializer(many=True),
                "post_reviews": TaskOutputSerializer(many=True),
                "concerns": ConcernSerializer(many=True),
            },
        )
    )
    def get(self, request, pk: int):
        application = application_get(user=request.user, pk=pk)
        panel = selectors.approval_panel(application=application)
        record = panel["record"]
        ctx = {"now": timezone.now()}
        current_task = None
        steps = []
        for step in panel["steps"]:
            votes = [v for t in step["tasks"] for v in t.votes.all()]
            for t in step["tasks"]:
                if t.status in ("open", "claimed", "waiting"):
                    current_task = t.pk
            steps.append(
                {
                    "index": step["index"],
                    "code": step["step"]["code"],
                    "name": step["step"].get("name", ""),
                    "role": step["step"]["role"],
                    "is_current": step["is_current"],
                    "tasks": TaskOutputSerializer(step["tasks"], many=True, context=ctx).data,
                    "votes": VoteOutputSerializer(votes, many=True).data,
                }
            )
        return Response(
            {
                "status": record.status if record else None,
                "route": [s["code"] for s in record.route] if record else [],
                "reason": record.reason_display if record else "",
                "exposure_after": record.exposure_after if record else None,
                "exposure": record.exposure if record else {},
                "matrix_version": record.matrix_version.number
                if record and record.matrix_version_id
                else None,
                "fast_track": bool(record and record.fast_track),
                "decided_by_system": bool(record and record.decided_by_system),
                "current_step": record.current_step if record else None,
                "current_task": current_task,
                "steps": steps,
                "conditions": ConditionSerializer(panel["conditions"], many=True).data,
                "post_reviews": TaskOutputSerializer(
                    panel["post_reviews"], many=True, context=ctx
                ).data,
                "concerns": ConcernSerializer(panel["concerns"], many=True).data,
            }
        )


class DeclineReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeclineReason
        fields = [
            "code",
            "label",
            "label_zh",
            "display_label",
            "applicant_text",
            "applicant_text_zh",
        ]


class DeclineReasonListApi(APIView):
    @extend_schema(responses=DeclineReasonSerializer(many=True))
    def get(self, request):
        return Response(
            DeclineReasonSerializer(DeclineReason.objects.filter(is_active=True), many=True).data
        )
