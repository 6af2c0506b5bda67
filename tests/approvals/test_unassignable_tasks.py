"""A task nobody in its queue may take does not sit for ever: the branch head hears of it at
once, with the reason, as an escalation (which cannot be muted), and may give it, claimed or
not, to someone who may take it, never to someone segregation of duties excludes.

The case from the field: a grade-E 900K application on a tier-1 route (no committee to
decide), with the approvers' grade-E limit at 500K."""

from decimal import Decimal

import pytest
from django.urls import reverse

from applications.services import application_transition
from approvals.models import ApprovalTask, ApproverLimit
from audit.models import AuditEvent
from notifications.models import Kind, Notification, NotificationMute
from org.models import StaffProfile
from org.roles import Role
from tests.factories import ApplicationFactory, CompanyFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery():
    from loanflow.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def grade_e_tier1(staff, branch, product, api, django_capture_on_commit_callbacks):
    """No authority matrix (the default route: credit review, then tier 1 with the limit
    checked); the approver's grade-E limit is 500K; a 900K grade-E application passes credit
    review: its tier-1 task opens."""
    ApproverLimit.objects.create(
        user=staff["approver"], grade="E", currency="CNY", max_amount=Decimal("500000")
    )
    application = ApplicationFactory(
        status="investigation",
        company=CompanyFactory(home_branch=branch),
        product=product,
        amount=Decimal("900000"),
        risk_grade="E",
        route_recommendation="enhanced",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        investigator=staff["rm"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="send_to_approval", actor=staff["rm"]
        )
    review = ApprovalTask.objects.get(application=application, step="credit_review")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff["reviewer"]).post(
            f"/api/v1/approvals/tasks/{review.pk}/decide/",
            {"decision": "approve", "comment": "ok"},
            format="json",
        )
    assert response.status_code == 200, response.content
    return ApprovalTask.objects.get(application=application, step="tier1")


@pytest.fixture(autouse=True)
def _branch_head_reads_english(staff):
    StaffProfile.objects.filter(user=staff["head"]).update(preferred_language="en")


def test_a_task_no_approvers_limit_covers_is_escalated_to_the_branch_head_with_the_reason(
    staff, grade_e_tier1
):
    task = grade_e_tier1
    (escalation,) = Notification.objects.filter(user=staff["head"])
    assert escalation.kind == Kind.ESCALATION
    assert escalation.title == (f"Nobody may take Tier 1 approval for {task.application.reference}")
    assert escalation.body.startswith(
        "No Approver serving Beijing branch has an authority limit that covers 900K CNY at grade E."
    )
    assert escalation.url == reverse("approvals-task", args=[task.pk])
    # Nobody in the queue is told of a task none of them may take.
    assert not Notification.objects.filter(user=staff["approver"]).exists()
    unassignable = AuditEvent.objects.get(action="task_unassignable", subject_id=task.pk)
    assert unassignable.data["branch_heads"] == [staff["head"].pk]
    assert "900K" in unassignable.comment


def test_the_escalation_reaches_a_branch_head_who_muted_escalations(
    staff, branch, product, api, django_capture_on_commit_callbacks
):
    # A mute row the service would refuse (escalations cannot be muted), written directly.
    NotificationMute.objects.create(user=staff["head"], kind=Kind.ESCALATION)
    NotificationMute.objects.create(user=staff["head"], kind=Kind.ASSIGNMENT)
    ApproverLimit.objects.create(
        user=staff["approver"], grade="E", currency="CNY", max_amount=Decimal("500000")
    )
    application = ApplicationFactory(
        status="investigation",
        company=CompanyFactory(home_branch=branch),
        product=product,
        amount=Decimal("900000"),
        risk_grade="E",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        investigator=staff["rm"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="send_to_approval", actor=staff["rm"]
        )
    review = ApprovalTask.objects.get(application=application)
    with django_capture_on_commit_callbacks(execute=True):
        api(staff["reviewer"]).post(
            f"/api/v1/approvals/tasks/{review.pk}/decide/",
            {"decision": "approve", "comment": "ok"},
            format="json",
        )
    assert Notification.objects.filter(user=staff["head"], kind=Kind.ESCALATION).count() == 1


def test_a_task_someone_may_take_is_not_escalated(staff, head_office, grade_e_tier1, api):
    # (A second run of the same tier-1 case, where head office has a senior approver.)
    senior = make_staff(Role.APPROVER, head_office, username="sid_senior")
    ApproverLimit.objects.create(
        user=senior, grade="E", currency="CNY", max_amount=Decimal("2000000")
    )
    from approvals.services import task_takers

    takers, reason = task_takers(task=grade_e_tier1)
    assert takers == [senior] and reason is None


def test_the_branch_head_sees_why_and_gives_the_unclaimed_task_to_someone_who_may_take_it(
    staff, head_office, grade_e_tier1, client, django_capture_on_commit_callbacks
):
    task = grade_e_tier1
    client.force_login(staff["head"])
    page = client.get(reverse("approvals-task", args=[task.pk]))
    assert page.status_code == 200
    assert "No Approver serving Beijing branch has an authority limit" in page.content.decode()
    # Head office raises someone's limit; the branch head gives the task to him.
    senior = make_staff(Role.APPROVER, head_office, username="sid_senior")
    ApproverLimit.objects.create(
        user=senior, grade="E", currency="CNY", max_amount=Decimal("2000000")
    )
    page = client.get(reverse("approvals-task", args=[task.pk]))
    assert f'<option value="{senior.pk}">' in page.content.decode()
    assert f'<option value="{staff["approver"].pk}">' not in page.content.decode()
    response = client.post(
        reverse("approvals-task-action", args=[task.pk, "reassign"]),
        {"assignee": senior.pk, "comment": "Above the branch's limits"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "claimed" and task.claimed_by == senior
    (given,) = Notification.objects.filter(user=senior)
    assert given.kind == Kind.ASSIGNMENT and task.application.reference in given.title


def test_an_unclaimed_task_is_never_given_to_someone_whose_limit_does_not_cover_it(
    staff, grade_e_tier1, api
):
    task = grade_e_tier1
    response = api(staff["head"]).post(
        f"/api/v1/approvals/tasks/{task.pk}/reassign/",
        {"assignee": staff["approver"].pk},
        format="json",
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == "open" and task.claimed_by is None


def test_an_approver_cannot_give_an_unclaimed_task_away(staff, grade_e_tier1, branch, api):
    other = make_staff(Role.APPROVER, branch, username="olga_approver")
    response = api(staff["approver"]).post(
        f"/api/v1/approvals/tasks/{grade_e_tier1.pk}/reassign/",
        {"assignee": other.pk},
        format="json",
    )
    assert response.status_code == 403


def test_a_bad_assignee_on_the_page_is_a_message_not_an_error(staff, grade_e_tier1, client):
    client.force_login(staff["head"])
    response = client.post(
        reverse("approvals-task-action", args=[grade_e_tier1.pk, "reassign"]),
        {"assignee": "nobody"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose someone from the list." in response.content.decode()


def test_a_late_unclaimed_task_escalates_to_the_branch_head_on_the_page_where_he_may_reassign_it(
    staff, branch, grade_e_tier1, client
):
    from datetime import timedelta

    from django.utils import timezone

    from sla import services as sla_services
    from sla.models import Deadline

    task = grade_e_tier1
    Notification.objects.all().delete()
    # Its clock as if it had started long ago.
    Deadline.objects.filter(subject_type="approvals.task", subject_id=task.pk).delete()
    sla_services.clock_start(
        subject_type="approvals.task",
        subject_id=task.pk,
        step=task.step,
        application=task.application,
        role=task.role,
        branch=task.branch,
        started_at=timezone.now() - timedelta(hours=400),
    )
    sla_services.sla_sweep()
    escalation = Notification.objects.filter(user=staff["head"], kind=Kind.ESCALATION).first()
    assert escalation is not None
    assert escalation.url == reverse("approvals-task", args=[task.pk])
    assert "nobody has taken the task from the queue" in escalation.body
    client.force_login(staff["head"])
    assert 'id="reassign"' in client.get(escalation.url).content.decode()


def test_a_late_claimed_task_escalates_saying_who_holds_it(staff, in_approval):
    from datetime import timedelta

    from django.utils import timezone

    from approvals.services import task_claim
    from sla import services as sla_services
    from sla.models import Deadline

    application = in_approval()
    task = ApprovalTask.objects.get(application=application, step="credit_review")
    task_claim(task_id=task.pk, actor=staff["reviewer"])
    Deadline.objects.filter(subject_type="approvals.task", subject_id=task.pk).update(
        started_at=timezone.now() - timedelta(hours=400),
        due_at=timezone.now() - timedelta(hours=300),
        reminder_at=timezone.now() - timedelta(hours=350),
        escalation2_at=timezone.now() - timedelta(hours=200),
        next_fire_at=timezone.now() - timedelta(hours=350),
    )
    sla_services.sla_sweep()
    bodies = set(
        Notification.objects.filter(kind=Kind.ESCALATION, application=application).values_list(
            "body", flat=True
        )
    )
    assert bodies and all(
        f"{staff['reviewer'].username} holds the task and has not decided it" in body
        for body in bodies
    )


def test_who_may_take_a_review_is_read_in_three_queries_however_many_serve_its_queue(
    staff, branch, head_office, in_approval, django_assert_num_queries
):
    from approvals.services import task_takers

    for n in range(6):
        make_staff(Role.CREDIT_REVIEWER, head_office if n % 2 else branch, username=f"rev{n}")
    task = ApprovalTask.objects.select_related("application", "record", "branch").get(
        application=in_approval()
    )
    # The people and their language and mutes; their roles; who acted at which step.
    with django_assert_num_queries(3):
        takers, reason = task_takers(task=task)
    assert len(takers) == 7 and reason is None
