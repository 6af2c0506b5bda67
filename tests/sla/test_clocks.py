from datetime import timedelta

import pytest

from sla import services
from sla.models import Deadline
from sla.selectors import deadline_for, deadlines_for
from tests import lifecycle
from tests.sla.helpers import at, one_day_policy

APP = "applications.loanapplication"


@pytest.mark.django_db
def test_it_computes_due_reminder_and_escalation_times_from_the_policy(staff, branch):
    one_day_policy()
    deadline = services.clock_start(
        subject_type="tests.task",
        subject_id=7,
        step="investigation",
        owner=staff["rm"],
        branch=branch,
        started_at=at("2026-11-20 16:00"),
    )
    assert deadline.due_at == at("2026-11-23 16:00")
    assert deadline.reminder_at == at("2026-11-23 14:00")  # 75% of 8 business hours
    assert deadline.escalation2_at == at("2026-11-24 12:00")  # 4 business hours late
    assert deadline.next_fire_at == deadline.reminder_at
    assert deadline.region == "CN" and deadline.target_business_seconds == 8 * 3600


@pytest.mark.django_db
def test_starting_a_clock_twice_returns_the_open_one(staff, branch):
    first = services.clock_start(
        subject_type="tests.task", subject_id=7, step="tier1", branch=branch
    )
    second = services.clock_start(
        subject_type="tests.task", subject_id=7, step="tier1", branch=branch
    )
    assert first.pk == second.pk
    assert services.clock_stop(subject_type="tests.task", subject_id=7) == 1
    third = services.clock_start(
        subject_type="tests.task", subject_id=7, step="tier1", branch=branch
    )
    assert third.pk != first.pk


@pytest.mark.django_db
def test_a_stopped_clock_has_nothing_left_to_fire(staff, branch):
    deadline = services.clock_start(
        subject_type="tests.task",
        subject_id=8,
        step="tier1",
        branch=branch,
        started_at=at("2026-11-02 09:00"),
    )
    services.clock_stop(subject_type="tests.task", subject_id=8, step="tier1")
    deadline.refresh_from_db()
    assert deadline.status == "stopped" and deadline.next_fire_at is None
    assert services.sla_sweep() == 0


@pytest.mark.django_db
def test_pause_and_resume_keep_the_remaining_business_time(staff, branch, company, product, api):
    pk = lifecycle.file_draft(api, staff, company, product)
    one_day_policy("contract")
    from applications.models import LoanApplication

    application = LoanApplication.objects.get(pk=pk)
    # Started Friday 16:00 with 3 business days: due Wednesday 16:00.
    deadline = services.clock_start(
        subject_type="tests.task",
        subject_id=9,
        step="tier2",
        application=application,
        branch=branch,
        started_at=at("2026-11-20 16:00"),
    )
    assert deadline.due_at == at("2026-11-25 16:00")
    # Paused Monday 10:00 with 22 business hours left...
    services.clock_pause_application(application=application, paused_at=at("2026-11-23 10:00"))
    deadline.refresh_from_db()
    assert deadline.status == "paused" and deadline.next_fire_at is None
    assert deadline.remaining_business_seconds() == 22 * 3600
    # ...resumed Thursday 11:00: the 22 hours run Thu 6 h + Fri 8 h + Mon 8 h.
    services.clock_resume_application(application=application, resumed_at=at("2026-11-26 11:00"))
    deadline.refresh_from_db()
    assert deadline.status == "pending"
    assert deadline.due_at == at("2026-11-30 17:00")
    assert deadline.reminder_at == at("2026-11-30 11:00")  # 75% point kept its 16 h lead
    assert deadline.next_fire_at == deadline.reminder_at


@pytest.mark.django_db
def test_stopping_a_paused_clock_moves_its_due_time_to_the_stop_plus_what_remained(
    staff, branch, company, product, api
):
    pk = lifecycle.file_draft(api, staff, company, product)
    from applications.models import LoanApplication

    application = LoanApplication.objects.get(pk=pk)
    paused = services.clock_start(
        subject_type="tests.task",
        subject_id=10,
        step="tier2",
        application=application,
        branch=branch,
        started_at=at("2026-11-20 16:00"),
    )
    # Paused Monday 10:00 with 22 business hours left; stopped Thursday 11:00.
    services.clock_pause_application(application=application, paused_at=at("2026-11-23 10:00"))
    running = services.clock_start(
        subject_type="tests.task",
        subject_id=10,
        step="tier1",
        branch=branch,
        started_at=at("2026-11-20 16:00"),
    )
    assert (
        services.clock_stop(
            subject_type="tests.task", subject_id=10, stopped_at=at("2026-11-26 11:00")
        )
        == 2
    )
    paused.refresh_from_db()
    running_due = running.due_at
    running.refresh_from_db()
    assert paused.status == running.status == "stopped"
    assert paused.stopped_at == running.stopped_at == at("2026-11-26 11:00")
    assert paused.next_fire_at is None and running.next_fire_at is None
    assert paused.due_at == at("2026-11-30 17:00")  # Thu 6 h + Fri 8 h + Mon 8 h
    assert running.due_at == running_due  # a running clock keeps its due time
    # Stopped clocks are not stopped again.
    assert services.clock_stop(subject_type="tests.task", subject_id=10) == 0
    paused.refresh_from_db()
    assert paused.stopped_at == at("2026-11-26 11:00")


@pytest.mark.django_db
def test_stopping_some_steps_leaves_the_subjects_other_clocks_running(branch):
    for step in ("tier1", "tier2", "committee"):
        services.clock_start(subject_type="tests.task", subject_id=11, step=step, branch=branch)
    services.clock_start(subject_type="tests.task", subject_id=12, step="tier1", branch=branch)
    assert (
        services.clock_stop(
            subject_type="tests.task", subject_id=11, steps={"tier1", "committee", "contract"}
        )
        == 2
    )
    assert services.clock_stop(subject_type="tests.task", subject_id=11, steps=set()) == 0
    running = Deadline.objects.exclude(status="stopped").values_list("subject_id", "step")
    assert sorted(running) == [(11, "tier2"), (12, "tier1")]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_starting_the_same_clock_at_once_leave_one_open_clock(branch):
    import threading

    from django.db import connection, transaction

    inserted, started = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                started["first"] = services.clock_start(
                    subject_type="tests.task", subject_id=13, step="tier1", branch=branch
                )
                inserted.set()
                # Still uncommitted while the second transaction tries the same clock.
                threading.Event().wait(0.5)
        finally:
            inserted.set()
            connection.close()

    def second():
        try:
            inserted.wait(10)
            with transaction.atomic():
                started["second"] = services.clock_start(
                    subject_type="tests.task", subject_id=13, step="tier1", branch=branch
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert started["first"].pk is not None
    assert started["second"].pk == started["first"].pk
    assert Deadline.objects.filter(subject_type="tests.task", subject_id=13).count() == 1


@pytest.mark.django_db
def test_the_application_clocks_follow_its_status(staff, company, product, api):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    intake = deadline_for(APP, pk)
    assert intake.step == "intake_check" and intake.owner == staff["rm"]
    lifecycle.start_investigation(api, staff, pk)
    investigation = deadline_for(APP, pk)
    assert investigation.step == "investigation"
    intake.refresh_from_db()
    assert intake.status == "stopped"

    lifecycle._post(
        api(staff["rm"]), "request-information", pk, {"comment": "Need bank statements"}
    )
    investigation.refresh_from_db()
    assert investigation.status == "paused"
    lifecycle._post(api(staff["rm"]), "resume", pk)
    investigation.refresh_from_db()
    assert investigation.status == "pending" and investigation.next_fire_at is not None

    lifecycle._post(api(staff["rm"]), "withdraw", pk)
    assert deadline_for(APP, pk) is None
    assert not Deadline.objects.filter(application_id=pk).exclude(status="stopped").exists()


@pytest.mark.django_db
def test_deadlines_for_a_list_is_one_query(staff, branch, django_assert_num_queries):
    for subject_id in range(1, 6):
        services.clock_start(
            subject_type="tests.task", subject_id=subject_id, step="tier1", branch=branch
        )
    services.clock_start(
        subject_type="tests.task",
        subject_id=1,
        step="tier2",
        branch=branch,
        started_at=at("2026-01-05 09:00"),
    )
    with django_assert_num_queries(1):
        found = deadlines_for("tests.task", [1, 2, 3, 4, 5, 99])
    assert set(found) == {1, 2, 3, 4, 5}
    assert found[1].step == "tier2"  # the earliest due one wins


@pytest.mark.django_db
def test_remaining_time_goes_negative_when_overdue(staff, branch):
    from django.utils import timezone

    deadline = services.clock_start(
        subject_type="tests.task",
        subject_id=3,
        step="tier1",
        branch=branch,
        started_at=timezone.now() - timedelta(days=30),
    )
    assert deadline.is_overdue
    assert deadline.remaining_business_seconds() < -10 * 8 * 3600


@pytest.mark.django_db
def test_a_products_own_active_policy_wins_over_the_steps_default(product):
    from sla.models import SlaPolicy
    from tests.factories import ProductFactory

    other = ProductFactory(code="SME-OTHER")
    default = SlaPolicy.objects.create(step="contract", target=5)
    assert services.sla_policy_for(step="contract", product=product) == default
    SlaPolicy.objects.create(step="contract", product=other, target=1)
    own = SlaPolicy.objects.create(step="contract", product=product, target=2, is_active=False)
    assert services.sla_policy_for(step="contract", product=product) == default
    own.is_active = True
    own.save()
    found = services.sla_policy_for(step="contract", product_id=product.pk)
    assert found == own and found.target == 2 and found.unit == "days"
    assert services.sla_policy_for(step="contract") == default
    assert services.sla_policy_for(step="disbursement", product=product) is None
