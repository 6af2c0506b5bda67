"""The sweep works a batch at a time: a fixed number of statements and one email task per
batch, however many deadlines are due, and still each event exactly once."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from notifications.models import EmailDelivery, Notification
from org.roles import Role
from sla import services
from sla.models import Deadline, SlaEvent
from tests.factories import make_staff
from tests.sla.helpers import overdue_deadline


@pytest.fixture
def regional_head(head_office):
    return make_staff(Role.BRANCH_HEAD, head_office, username="rupert_regional_head")


def overdue_mix(*, staff, branch, other_branch, count: int, first_id: int) -> list[Deadline]:
    """Overdue deadlines of every kind of recipient: an owner, a role in a branch, and a
    branch without a head (escalations go up to head office)."""
    deadlines = []
    for subject_id, (owner, at) in zip(
        range(first_id, first_id + count),
        itertools.cycle([(staff["rm"], branch), (None, branch), (None, other_branch)]),
    ):
        deadlines.append(overdue_deadline(owner=owner, branch=at, subject_id=subject_id))
    return deadlines


def sweep_counting_queries(**kwargs) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        fired = services.sla_sweep(**kwargs)
    return fired, len(queries)


@pytest.mark.django_db
def test_a_sweep_runs_the_same_number_of_queries_for_6_or_60_due_deadlines(
    staff, branch, other_branch, regional_head
):
    make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm_shanghai")
    few = overdue_mix(staff=staff, branch=branch, other_branch=other_branch, count=6, first_id=1)
    fired_few, queries_few = sweep_counting_queries()
    many = overdue_mix(
        staff=staff, branch=branch, other_branch=other_branch, count=60, first_id=100
    )
    fired_many, queries_many = sweep_counting_queries()

    assert (fired_few, fired_many) == (18, 180)  # reminder + two escalations each
    assert queries_many == queries_few, (queries_few, queries_many)
    assert queries_few <= 16
    assert services.sla_sweep() == 0
    for deadline in few + many:
        assert sorted(deadline.events.values_list("kind", "level")) == [
            ("escalation", 1),
            ("escalation", 2),
            ("reminder", 0),
        ]
    assert SlaEvent.objects.count() == 198


@pytest.mark.django_db
def test_a_batch_sweep_notifies_the_same_people_as_before(
    staff, branch, other_branch, regional_head
):
    shanghai_rm = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm_sh")
    owned, beijing_role, shanghai_role = overdue_mix(
        staff=staff, branch=branch, other_branch=other_branch, count=3, first_id=1
    )
    assert services.sla_sweep() == 9

    def notified(deadline, kind, level):
        event = SlaEvent.objects.get(deadline=deadline, kind=kind, level=level)
        return set(event.recipients)

    rms_in_beijing = {staff["rm"].pk, staff["rm2"].pk}
    assert notified(owned, "reminder", 0) == {staff["rm"].pk}
    assert notified(beijing_role, "reminder", 0) == rms_in_beijing
    assert notified(shanghai_role, "reminder", 0) == {shanghai_rm.pk}
    # Beijing has a head; Shanghai has none, so its escalations go to head office.
    assert notified(owned, "escalation", 1) == {staff["head"].pk}
    assert notified(owned, "escalation", 2) == {regional_head.pk}
    assert notified(shanghai_role, "escalation", 1) == {regional_head.pk}
    assert notified(shanghai_role, "escalation", 2) == {regional_head.pk}
    reminders = Notification.objects.filter(kind="reminder")
    assert sorted(reminders.values_list("user_id", flat=True)) == sorted(
        [staff["rm"].pk, *rms_in_beijing, shanghai_rm.pk]
    )
    # Level 1 of both Beijing deadlines to its head; level 2 of all three to head office.
    assert Notification.objects.filter(kind="escalation", user=staff["head"]).count() == 2
    assert Notification.objects.filter(kind="escalation", user=regional_head).count() == 4


@pytest.mark.django_db
def test_each_fired_event_has_its_system_audit_row(staff, branch, regional_head):
    deadline = overdue_deadline(owner=staff["rm"], branch=branch)
    services.sla_sweep()
    events = {(e.kind, e.level): e for e in deadline.events.all()}
    trail = AuditEvent.objects.filter(
        kind="sla", subject_type="sla.deadline", subject_id=deadline.pk
    ).order_by("id")
    assert [row.action for row in trail] == ["sla_reminder", "sla_escalation_1", "sla_escalation_2"]
    for row, key in zip(
        trail, [("reminder", 0), ("escalation", 1), ("escalation", 2)], strict=True
    ):
        assert row.actor is None and row.actor_role == "system"
        assert row.comment == f"investigation due {deadline.due_at.isoformat()}"
        assert row.data["event"] == events[key].pk
        assert row.data["recipients"] == events[key].recipients
        assert row.data["due_at"] == deadline.due_at.isoformat()
        assert (row.data["subject_type"], row.data["subject_id"]) == ("tests.task", 1)


@pytest.mark.django_db
def test_an_applications_deadline_names_and_links_the_application(
    staff, branch, regional_head, company, product, api
):
    from applications.models import LoanApplication
    from tests import lifecycle

    application = LoanApplication.objects.get(pk=lifecycle.file_draft(api, staff, company, product))
    staff["rm"].staff_profile.preferred_language = "en"
    staff["rm"].staff_profile.save()
    deadline = overdue_deadline(owner=staff["rm"], branch=branch, application=application)
    assert services.sla_sweep() == 3

    reminder = Notification.objects.get(kind="reminder")
    assert reminder.user == staff["rm"] and reminder.application == application
    assert reminder.url == f"/applications/{application.pk}/"
    assert reminder.title.startswith(f"Reminder: Investigation for {application.reference}")
    assert reminder.body == "Most of the time allowed for this step has passed."
    email = EmailDelivery.objects.get(notification=reminder)
    assert application.reference in email.body and email.language == "en"
    escalation = Notification.objects.get(kind="escalation", user=staff["head"])
    assert escalation.title.startswith(f"升级（第 1 级）：{application.reference} 的")  # zh-hans
    trail = AuditEvent.objects.filter(kind="sla", subject_id=deadline.pk)
    assert set(trail.values_list("application_id", flat=True)) == {application.pk}


@pytest.mark.django_db
def test_one_email_task_is_queued_per_batch_after_commit(
    staff, branch, other_branch, regional_head, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import tasks

    queued = []
    monkeypatch.setattr(
        tasks.send_emails, "apply_async", lambda args, kwargs, **options: queued.append(args[0])
    )
    overdue_mix(staff=staff, branch=branch, other_branch=other_branch, count=12, first_id=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.sla_sweep(batch_size=5) == 36
        assert queued == []  # nothing leaves before the commit
    assert len(callbacks) == 3  # batches of 5, 5 and 2 deadlines
    sent = sorted(itertools.chain.from_iterable(queued))
    assert sent == sorted(EmailDelivery.objects.values_list("pk", flat=True))
    assert len(sent) == Notification.objects.count() == 36  # 9 people per 3 deadlines


@pytest.mark.django_db
def test_a_deadline_that_fails_does_not_hold_up_the_others(
    staff, branch, regional_head, monkeypatch
):
    deadlines = [
        overdue_deadline(owner=staff["rm"], branch=branch, subject_id=i) for i in range(1, 5)
    ]
    broken = deadlines[1]
    real_of = services._Recipients.of

    def of(self, due, kind, level):
        if due.id == broken.pk:
            raise RuntimeError("a broken deadline")
        return real_of(self, due, kind, level)

    monkeypatch.setattr(services._Recipients, "of", of)
    assert services.sla_sweep() == 9
    assert not broken.events.exists()
    broken.refresh_from_db()
    assert broken.escalation_level == 0 and broken.next_fire_at is not None

    monkeypatch.setattr(services._Recipients, "of", real_of)
    assert services.sla_sweep() == 3  # the next sweep fires it
    assert SlaEvent.objects.count() == 12


def _due_by_the_rules(deadline: Deadline, now) -> list[tuple[str, int]]:
    """The events due, by the rules the clocks use (reminder before due; escalation 1 at
    due; escalation 2 when its time has come)."""
    events = []
    if (
        deadline.reminder_at
        and not deadline.reminder_fired_at
        and deadline.reminder_at <= now
        and deadline.reminder_at < deadline.due_at
    ):
        events.append(("reminder", 0))
    if deadline.escalation_level < 1 and deadline.due_at <= now:
        events.append(("escalation", 1))
    if deadline.escalation_level < 2 and deadline.escalation2_at and deadline.escalation2_at <= now:
        events.append(("escalation", 2))
    return events


@pytest.mark.django_db
def test_the_sweep_marks_every_state_as_the_deadline_model_computes_it(
    staff, branch, regional_head
):
    now = timezone.now()
    hour = timedelta(hours=1)
    states = itertools.product(
        [None, now - 5 * hour, now + hour, now - hour],  # reminder (the last after due)
        [None, now - 4 * hour],  # reminder sent
        [now - 2 * hour, now + 2 * hour],  # due
        [0, 1, 2],  # escalation level reached
        [None, now - timedelta(minutes=30), now + 3 * hour],  # second escalation
    )
    expected = {}
    for subject_id, (reminder, sent, due, level, escalation2) in enumerate(states, start=1):
        if reminder == now - hour:
            reminder = due + hour
        deadline = Deadline.objects.create(
            subject_type="tests.grid",
            subject_id=subject_id,
            step="investigation",
            owner=staff["rm"],
            branch=branch,
            target_business_seconds=28800,
            started_at=now - 10 * hour,
            due_at=due,
            reminder_at=reminder,
            reminder_fired_at=sent,
            escalation_level=level,
            escalation2_at=escalation2,
            next_fire_at=now - timedelta(minutes=1),
        )
        expected[deadline.pk] = (_due_by_the_rules(deadline, now), level)

    services.sla_sweep(now=now)

    for deadline in Deadline.objects.filter(subject_type="tests.grid"):
        fired, level_before = expected[deadline.pk]
        assert sorted(deadline.events.values_list("kind", "level")) == sorted(fired)
        if ("reminder", 0) in fired:
            assert deadline.reminder_fired_at == now
        levels = [level for kind, level in fired if kind == "escalation"]
        assert deadline.escalation_level == max([level_before, *levels])
        assert deadline.next_fire_at == deadline.compute_next_fire_at()
        assert deadline.next_fire_at is None or deadline.next_fire_at > now


@pytest.mark.django_db
def test_with_nothing_due_the_sweep_is_one_index_probe_even_on_stale_statistics(branch):
    now = timezone.now()
    past, future = now - timedelta(hours=2), now + timedelta(days=3)
    Deadline.objects.bulk_create(
        [
            Deadline(
                subject_type="tests.bulk",
                subject_id=i,
                step="tier1",
                target_business_seconds=28800,
                due_at=past if i % 100 == 0 else future,
                next_fire_at=past if i % 100 == 0 else future,
            )
            for i in range(5000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_deadline")  # the statistics expect 1% to be due...
    assert services.sla_sweep() == 50  # ...and still do once none is
    with connection.cursor() as cursor:
        # Make index reads look as dear as on a big table: an unordered "any row due?"
        # then plans a sequential scan, hoping to meet one of the 1% soon.
        cursor.execute("SET LOCAL random_page_cost = 100")

    with CaptureQueriesContext(connection) as captured:
        assert services.sla_sweep() == 0
    assert len(captured.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "sla_deadline_fire" in plan and "Seq Scan" not in plan, plan
