"""The issue's two reference endpoints, served by the benchmark's gunicorn only (never by the
product: see bench/settings.py). The issue gives their rates on its own 2-core machine (a
minimal DRF transition ~850 req/s, a minimal DRF queue page of 25 rows ~790 req/s); measured
here in the same run as LoanFlow's figures, they say how fast this machine is at the same
work, so that LoanFlow's figures can be read against the targets on any machine.

Minimal means: DRF's own token authentication, no role, scope, segregation or state checks,
no stage effects; the writes the issue names and nothing else."""

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from applications.models import LoanApplication
from approvals.models import ApprovalTask
from audit.models import AuditEvent
from loanflow.urls import urlpatterns as product_urlpatterns
from sla.models import Deadline


class MinimalDecisionApi(APIView):
    """An approval decision reduced to its writes: lock the task and its application, mark
    both decided, two audit rows, stop the task's clock (the hand-written psycopg transition
    of the decision figure, through the ORM and DRF)."""

    authentication_classes = [TokenAuthentication]

    def post(self, request, pk: int):
        now = timezone.now()
        with transaction.atomic():
            task = ApprovalTask.objects.select_for_update().get(pk=pk)
            LoanApplication.objects.select_for_update().filter(pk=task.application_id).values_list(
                "pk"
            ).get()
            ApprovalTask.objects.filter(pk=pk).update(
                status="done",
                decision="approve",
                decided_by=request.user,
                decided_at=now,
                last_activity_at=now,
            )
            LoanApplication.objects.filter(pk=task.application_id).update(
                status="approved", decided_at=now, status_changed_at=now
            )
            AuditEvent.objects.bulk_create(
                [
                    AuditEvent(
                        kind="transition",
                        application_id=task.application_id,
                        actor=request.user,
                        actor_role="approver",
                        action=action,
                        from_state="in_approval",
                        to_state="approved",
                        comment=request.data.get("comment", ""),
                    )
                    for action in ("step_approve", "approve")
                ]
            )
            Deadline.objects.filter(subject_type="approvals.task", subject_id=pk).exclude(
                status="stopped"
            ).update(status="stopped", stopped_at=now, next_fire_at=None)
        return Response({"id": pk, "status": "done"})


class MinimalTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApprovalTask
        fields = [
            "id",
            "application",
            "kind",
            "step",
            "step_name",
            "step_index",
            "role",
            "branch",
            "status",
            "claimed_by",
            "claimed_at",
            "due_at",
            "decision",
            "decided_by",
            "decided_at",
            "comment",
        ]


class MinimalQueueApi(APIView):
    """The first 25 open approver tasks of the user's branch, oldest due first: no counts, no
    filters, no joined columns."""

    authentication_classes = [TokenAuthentication]

    def get(self, request):
        branch_id = request.user.staff_profile.branch_id
        tasks = ApprovalTask.objects.filter(
            branch_id=branch_id, role="approver", status__in=ApprovalTask.OPEN_STATES
        ).order_by("due_at", "id")[:25]
        return Response({"results": MinimalTaskSerializer(tasks, many=True).data})


urlpatterns = [
    path("bench/minimal/decide/<int:pk>/", MinimalDecisionApi.as_view()),
    path("bench/minimal/queue/", MinimalQueueApi.as_view()),
    *product_urlpatterns,
]
