import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from notifications.models import EmailDelivery, Notification
from org.roles import Role
from sla import services
from sla.models import Deadline, SlaEvent
from tests.factories import make_staff
from tests.sla.helpers import at, one_day_policy, overdue_deadline


@pytest.fixture
def eager_celery(settings):
    from loanflow.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def regional_head(head_office):
    return make_staff(Role.BRANCH_HEAD, head_office, username="rupert_regional_head")


@pytest.mark.django_db
def test_a_reminder_reaches_the_owner_and_escalations_climb_the_hierarchy(
    staff, branch, regional_head, eager_celery, django_capture_on_commit_callbacks
):
    one_day_policy()
    deadline = services.clock_start(
        subject_type="tests.task",
        subject_id=1,
        step="investigation",
        owner=staff["rm"],
        role="",
        branch=branch,
        started_at=at("2026-11-20 16:00"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=at("2026-11-23 13:59")) == 0
        assert services.sla_sweep(now=at("2026-11-23 14:00")) == 1
    reminder = Notification.objects.get(kind="reminder")
    assert reminder.user == staff["rm"]
    assert [m.to for m in mail.outbox] == [[staff["rm"].email]]
    assert "Investigation" in mail.outbox[0].subject or "调查" in mail.outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=at("2026-11-23 16:00")) == 1
    level1 = Notification.objects.get(kind="escalation")
    assert level1.user == staff["head"]  # the Beijing branch head
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=at("2026-11-24 12:00")) == 1
        assert services.sla_sweep(now=at("2026-11-30 12:00")) == 0
    level2 = Notification.objects.filter(kind="escalation").exclude(pk=level1.pk).get()
    assert level2.user == regional_head  # the next level up: head office
    assert {tuple(m.to) for m in mail.outbox} == {
        (staff["rm"].email,),
        (staff["head"].email,),
        (regional_head.email,),
    }
    assert EmailDelivery.objects.filter(status="sent").count() == 3

    deadline.refresh_from_db()
    assert deadline.escalation_level == 2 and deadline.next_fire_at is None
    trail = AuditEvent.objects.filter(kind="sla", subject_id=deadline.pk).order_by("id")
    assert [e.action for e in trail] == ["sla_reminder", "sla_escalation_1", "sla_escalation_2"]


@pytest.mark.django_db
def test_after_an_outage_one_sweep_catches_up_on_everything_once(staff, branch, regional_head):
    deadlines = [
        overdue_deadline(owner=staff["rm"], branch=branch, subject_id=i) for i in range(1, 4)
    ]
    assert services.sla_sweep() == 9  # reminder + two escalations each
    assert services.sla_sweep() == 0
    for deadline in deadlines:
        assert sorted(deadline.events.values_list("kind", "level")) == [
            ("escalation", 1),
            ("escalation", 2),
            ("reminder", 0),
        ]
    assert Notification.objects.filter(kind="escalation", user=staff["head"]).count() == 3


@pytest.mark.django_db
def test_without_a_head_in_the_branch_the_escalation_goes_up(staff, branch, regional_head):
    staff["head"].groups.clear()
    overdue_deadline(owner=staff["rm"], branch=branch)
    services.sla_sweep()
    assert set(
        Notification.objects.filter(kind="escalation").values_list("user__username", flat=True)
    ) == {"rupert_regional_head"}


@pytest.mark.django_db
def test_a_paused_deadline_does_not_fire(staff, branch, company, product, api):
    from applications.models import LoanApplication
    from tests import lifecycle

    pk = lifecycle.file_draft(api, staff, company, product)
    application = LoanApplication.objects.get(pk=pk)
    overdue_deadline(owner=staff["rm"], branch=branch, application=application)
    services.clock_pause_application(application=application)
    assert services.sla_sweep() == 0
    assert not SlaEvent.objects.exists()


@pytest.mark.django_db
def test_a_sweep_with_nothing_due_uses_the_partial_index(staff, branch):
    future = timezone.now() + timedelta(days=30)
    Deadline.objects.bulk_create(
        [
            Deadline(
                subject_type="tests.bulk",
                subject_id=i,
                step="tier1",
                branch=branch,
                target_business_seconds=28800,
                due_at=future,
                next_fire_at=future,
            )
            for i in range(5000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_deadline")
    qs = Deadline.objects.filter(status="pending", next_fire_at__lte=timezone.now()).order_by(
        "next_fire_at"
    )[:500]
    plan = qs.explain()
    assert "sla_deadline_fire" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert services.sla_sweep() == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_fire_each_event_once(head_office, branch, staff):
    make_staff(Role.BRANCH_HEAD, head_office, username="rupert_regional_head")
    for i in range(1, 31):
        overdue_deadline(owner=staff["rm"], branch=branch, subject_id=i)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            results.append(services.sla_sweep(batch_size=4))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(results) == 90
    assert SlaEvent.objects.count() == 90
    assert Notification.objects.filter(kind="escalation").count() == 60
    assert Notification.objects.filter(kind="reminder").count() == 30
    assert AuditEvent.objects.filter(kind="sla").count() == 90
