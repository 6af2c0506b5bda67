"""Thin API classes for the approval queues, decisions and committee votes."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import ISO_8601, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from applications.selectors import application_get
from approvals import selectors, services
from approvals.models import ApprovalTask, CommitteeVote, DeclineReason
from loanflow.errors import InvalidInput

# Formatting of dates and amounts in a task row, as the serializer's own fields format them.
_DATETIME = serializers.DateTimeField()
_AMOUNT = serializers.DecimalField(max_digits=18, decimal_places=2)

# A task as the API shows it: each output key and the ORM path it is read from (the task's own
# columns and a few of its application's, company's, product's, branch's and holder's).
# `is_overdue` is computed.
TASK_ROW = {
    "id": "id", "application": "application_id",
    "application_reference": "application__reference",
    "application_status": "application__status",
    "company_name": "application__company__name",
    "product_code": "application__product__code",
    "amount": "application__amount", "currency": "application__currency",
    "risk_grade": "application__risk_grade", "kind": "kind", "step": "step",
    "step_name": "step_name", "step_index": "step_index", "role": "role",
    "branch": "branch_id", "branch_name": "branch__name", "status": "status",
    "claimed_by": "claimed_by_id", "claimed_by_username": "claimed_by__username",
    "claimed_at": "claimed_at", "due_at": "due_at", "is_overdue": None,
    "decision": "decision", "decided_by": "decided_by_id", "decided_at": "decided_at",
    "comment": "comment",
}
TASK_ROW_PATHS = tuple(path for path in TASK_ROW.values() if path)
_DATETIMES = frozenset({"claimed_at", "due_at", "decided_at"})
_ATTRIBUTES = {path: path.split("__") for path in TASK_ROW_PATHS}


def task_row(values: dict, *, now, tz=None) -> dict:
    """A task's API row from its values keyed by ORM path: what task_queue_rows() gives for a
    queue page (no model instances), or task_values() for one task. With `tz` (the current
    time zone, looked up once for a page of rows), aware times are written as the DRF field
    writes them in ISO 8601, without its per-value lookups."""
    row = {}
    for key, path in TASK_ROW.items():
        if path is None:  # is_overdue
            row[key] = bool(now and values["status"] in ApprovalTask.OPEN_STATES
                            and values["due_at"] < now)
            continue
        value = values[path]
        if value is not None:
            if key in _DATETIMES:
                value = (_iso_datetime(value, tz) if tz is not None and value.tzinfo
                         else _DATETIME.to_representation(value))
            elif key == "amount":
                value = _AMOUNT.to_representation(value)
        row[key] = value
    return row


def _row_timezone():
    """The time zone task_row writes times in (None: let the DRF field format them)."""
    return _DATETIME.default_timezone() if api_settings.DATETIME_FORMAT == ISO_8601 else None


def _iso_datetime(value, tz) -> str:
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_values(task: ApprovalTask) -> dict:
    """A loaded task's values keyed by ORM path, as task_row() reads them."""
    values = {}
    for path, attributes in _ATTRIBUTES.items():
        value = task
        for attribute in attributes:
            value = getattr(value, attribute) if value is not None else None
        values[path] = value
    return values


class TaskOutputSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference")
    application_status = serializers.CharField(source="application.status")
    company_name = serializers.CharField(source="application.company.name")
    product_code = serializers.CharField(source="application.product.code")
    amount = serializers.DecimalField(source="application.amount", max_digits=18,
                                      decimal_places=2)
    currency = serializers.CharField(source="application.currency")
    risk_grade = serializers.CharField(source="application.risk_grade")
    branch_name = serializers.CharField(source="branch.name")
    claimed_by_username = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalTask
        fields = list(TASK_ROW)

    def to_representation(self, task):
        """The declared fields, built directly (task_row). A queue page serializes 25 tasks
        per request, and DRF's generic field-by-field path cost more than the page's queries;
        dates and amounts still go through their DRF fields, so the output is the same (a test
        checks it against the generic path)."""
        return task_row(task_values(task), now=self.context.get("now"))

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


class QueuePagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


QUEUE_FILTERS = ("role", "product", "branch", "amount_min", "amount_max", "grade", "overdue",
                 "mine", "q")


class QueueApi(APIView):
    """Your approval queues (your roles, your branch scope), oldest due first, with counts
    per queue. Filters: role, product, branch, amount_min, amount_max, grade, overdue, mine,
    q (reference or company name)."""

    @extend_schema(
        parameters=[OpenApiParameter(name, str) for name in QUEUE_FILTERS]
        + [OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=inline_serializer("ApprovalQueuePage", {
            "count": serializers.IntegerField(), "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "counts": QueueCountSerializer(many=True),
            "results": TaskOutputSerializer(many=True)}),
    )
    def get(self, request):
        from django.utils import timezone

        now = timezone.now()
        filters = {name: request.query_params.get(name) for name in QUEUE_FILTERS}
        counts = selectors.task_queue_counts(user=request.user, now=now)
        rows = selectors.task_queue_rows(user=request.user, filters=filters, now=now,
                                         counts=counts, paths=TASK_ROW_PATHS)
        paginator = QueuePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        # The DRF fields' own formats, applied directly (a test compares them with the
        # generic serializers): the page's 25 rows went through them field by field.
        tz = _row_timezone()
        data = [task_row(values, now=now, tz=tz) for values in page]
        response = paginator.get_paginated_response(data)
        response.data["counts"] = counts  # plain role names and integers, as documented
        return response


class TaskDetailApi(APIView):
    @extend_schema(responses=TaskOutputSerializer)
    def get(self, request, pk: int):
        from django.utils import timezone

        task = selectors.task_get(user=request.user, pk=pk)
        return Response(TaskOutputSerializer(task, context={"now": timezone.now()}).data)


class CommentInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, allow_blank=True, required=False,
                                    default="")


def _task_response(task) -> Response:
    """The acted-on task's row, read again after the action (one plain query)."""
    from django.utils import timezone

    values = selectors.task_row_values(pk=task.pk, paths=TASK_ROW_PATHS)
    return Response(task_row(values, now=timezone.now(), tz=_row_timezone()))


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
        return _task_response(services.task_release(task_id=pk, actor=request.user,
                                                    **serializer.validated_data))


class TaskReassignApi(APIView):
    """A branch head gives the task to a colleague (assignee null: back to the queue)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalsTaskReassignInput"

        assignee = serializers.IntegerField(allow_null=True)
        comment = serializers.CharField(max_length=4000, allow_blank=True, required=False,
                                        default="")

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
        return _task_response(services.task_reassign(
            task_id=pk, actor=request.user, assignee=assignee,
            comment=serializer.validated_data["comment"]))


class TaskDecideApi(APIView):
    """Decide a step: approve, approve_with_conditions (conditions), decline (reasons: codes
    from /approvals/decline-reasons/), return_to_investigation, request_information; for an
    after-the-fact review: confirm or concern. 403 with the reason when segregation of duties
    or your limit forbids it (logged)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalsTaskDecideInput"

        decision = serializers.ChoiceField(choices=ApprovalTask.Decision.choices)
        comment = serializers.CharField(max_length=4000, allow_blank=True, required=False,
                                        default="")
        conditions = serializers.ListField(child=serializers.CharField(max_length=2000,
                                                                      allow_blank=True),
                                           required=False, default=list)
        reasons = serializers.ListField(child=serializers.CharField(max_length=50),
                                        required=False, default=list)

    @extend_schema(request=InputSerializer, responses=TaskOutputSerializer)
    def post(self, request, pk: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _task_response(services.task_decide(task_id=pk, actor=request.user,
                                                   **serializer.validated_data))


class VoteOutputSerializer(serializers.ModelSerializer):
    member_username = serializers.CharField(source="member.username")

    class Meta:
        model = CommitteeVote
        fields = ["id", "task", "member", "member_username", "vote", "comment", "cast_at"]


class CommitteeVoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalsCommitteeVoteInput"

        vote = serializers.ChoiceField(choices=CommitteeVote.Vote.choices)
        comment = serializers.CharField(max_length=4000, allow_blank=True, required=False,
                                        default="")

    @extend_schema(request=InputSerializer, responses=VoteOutputSerializer)
    def post(self, request, pk: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vote = services.committee_vote(task_id=pk, actor=request.user,
                                       **serializer.validated_data)
        return Response(VoteOutputSerializer(vote).data)


class CommitteeCloseApi(APIView):
    """The chair closes the vote (quorum and majority from the route's matrix version)."""

    @extend_schema(request=CommentInputSerializer, responses=TaskOutputSerializer)
    def post(self, request, pk: int):
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _task_response(services.committee_close(task_id=pk, actor=request.user,
                                                       **serializer.validated_data))


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


class ApplicationApprovalApi(APIView):
    """The route of an application: why it was chosen, its steps with who and when, the
    conditions, committee votes and after-the-fact reviews."""

    @extend_schema(responses=inline_serializer("ApplicationApproval", {
        "status": serializers.CharField(allow_null=True),
        "route": serializers.ListField(child=serializers.CharField()),
        "reason": serializers.CharField(),
        "matrix_version": serializers.IntegerField(allow_null=True),
        "fast_track": serializers.BooleanField(),
        "decided_by_system": serializers.BooleanField(),
        "current_step": serializers.IntegerField(allow_null=True),
        "current_task": serializers.IntegerField(allow_null=True),
        "steps": StepSerializer(many=True),
        "conditions": ConditionSerializer(many=True),
        "post_reviews": TaskOutputSerializer(many=True),
    }))
    def get(self, request, pk: int):
        from django.utils import timezone

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
            steps.append({"index": step["index"], "code": step["step"]["code"],
                          "name": step["step"].get("name", ""), "role": step["step"]["role"],
                          "is_current": step["is_current"],
                          "tasks": TaskOutputSerializer(step["tasks"], many=True,
                                                        context=ctx).data,
                          "votes": VoteOutputSerializer(votes, many=True).data})
        return Response({
            "status": record.status if record else None,
            "route": [s["code"] for s in record.route] if record else [],
            "reason": record.reason if record else "",
            "matrix_version": record.matrix_version.number if record and
            record.matrix_version_id else None,
            "fast_track": bool(record and record.fast_track),
            "decided_by_system": bool(record and record.decided_by_system),
            "current_step": record.current_step if record else None,
            "current_task": current_task,
            "steps": steps,
            "conditions": ConditionSerializer(panel["conditions"], many=True).data,
            "post_reviews": TaskOutputSerializer(panel["post_reviews"], many=True,
                                                 context=ctx).data,
        })


class DeclineReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeclineReason
        fields = ["code", "label", "applicant_text", "applicant_text_zh"]


class DeclineReasonListApi(APIView):
    @extend_schema(responses=DeclineReasonSerializer(many=True))
    def get(self, request):
        return Response(DeclineReasonSerializer(
            DeclineReason.objects.filter(is_active=True), many=True).data)
