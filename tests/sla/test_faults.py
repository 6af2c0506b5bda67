"""Fault tests against real services: each test runs its own redis-server on a spare port
and its own Celery worker process against the pytest database."""

import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from common.queue import enqueue_now
from notifications.models import EmailDelivery, Notification
from notifications.services import email_requeue_undelivered
from org.roles import Role
from sla import services
from sla.models import Deadline, SlaEvent
from sla.tasks import sweep
from tests import lifecycle
from tests.factories import make_staff
from tests.sla.helpers import overdue_deadline
from tests.sla.services_fixtures import (
    RedisServer,
    WorkerProcess,
    app_using_broker,
    spare_port,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_redis():
    server = RedisServer(spare_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def workers(private_redis, tmp_path):
    started: list[WorkerProcess] = []

    def start(**extra_env) -> WorkerProcess:
        worker = WorkerProcess(
            redis_url=private_redis.url,
            var_dir=tmp_path,
            extra_env={k: str(v) for k, v in extra_env.items()},
        )
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def mailbox(tmp_path) -> str:
    mail_dir = tmp_path / "mail"
    if not mail_dir.exists():
        return ""
    return "\n".join(p.read_text(errors="replace") for p in sorted(mail_dir.iterdir()))


def test_with_redis_down_transitions_commit_pages_load_and_mail_follows_later(
    private_redis, workers, tmp_path, staff, owner, company, product, api, client
):
    with app_using_broker(private_redis.url):
        pk = lifecycle.file_draft(api, staff, company, product)
        lifecycle.submit(api, staff, pk)  # Redis up: the broker connection is warm
        private_redis.stop()

        started = time.monotonic()
        lifecycle.start_investigation(api, staff, pk)
        assert time.monotonic() - started < 5
        application = LoanApplication.objects.get(pk=pk)
        assert application.status == "investigation"
        assert (
            Deadline.objects.get(application=application, status="pending").step == "investigation"
        )

        client.force_login(staff["rm"])
        started = time.monotonic()
        assert client.get(reverse("notification-list")).status_code == 200
        assert client.get(reverse("application-detail", args=[pk])).status_code == 200
        assert time.monotonic() - started < 5

        # The applicant's emails are recorded, not lost; one was never handed to the broker.
        waiting = EmailDelivery.objects.filter(to=owner.email).exclude(status="sent")
        assert waiting.count() >= 1
        started = time.monotonic()
        assert email_requeue_undelivered(now=timezone.now() + timezone.timedelta(hours=1)) == 0
        assert time.monotonic() - started < 5

        private_redis.start()
        workers()
        assert email_requeue_undelivered(now=timezone.now() + timezone.timedelta(hours=1)) >= 1
        assert wait_for(lambda: not EmailDelivery.objects.exclude(status="sent").exists())
    assert owner.email in mailbox(tmp_path)
    assert "LF" in mailbox(tmp_path)  # the application reference is in the text


def test_after_redis_returns_the_sweep_fires_each_missed_escalation_once(
    private_redis, workers, tmp_path, staff, branch, head_office
):
    regional = make_staff(Role.BRANCH_HEAD, head_office, username="rupert_regional_head")
    deadlines = [
        overdue_deadline(owner=staff["rm"], branch=branch, subject_id=i) for i in range(1, 4)
    ]
    with app_using_broker(private_redis.url):
        workers()
        private_redis.stop()
        started = time.monotonic()
        assert enqueue_now(sweep) is False  # beat's tick during the outage is lost...
        assert time.monotonic() - started < 5
        assert not SlaEvent.objects.exists()

        private_redis.start()
        workers()  # a fresh worker; the first one may still be reconnecting
        assert enqueue_now(sweep) and enqueue_now(sweep)  # ...and two ticks after it
        assert wait_for(
            lambda: (
                SlaEvent.objects.count() == 9
                and not Deadline.objects.filter(next_fire_at__isnull=False).exists()
            )
        )
        time.sleep(1)
        assert SlaEvent.objects.count() == 9
        for deadline in deadlines:
            assert sorted(deadline.events.values_list("kind", "level")) == [
                ("escalation", 1),
                ("escalation", 2),
                ("reminder", 0),
            ]
        assert Notification.objects.filter(kind="escalation", user=staff["head"]).count() == 3
        assert Notification.objects.filter(kind="escalation", user=regional).count() == 3
        assert Notification.objects.filter(kind="reminder", user=staff["rm"]).count() == 3
        assert wait_for(lambda: EmailDelivery.objects.filter(status="sent").count() == 9)
    mail = mailbox(tmp_path)
    assert mail.count(f"To: {staff['head'].email}") == 3
    assert mail.count(f"To: {regional.email}") == 3
    assert mail.count(f"To: {staff['rm'].email}") == 3


def _sweep_in_transaction() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'idle in transaction' "
            "AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_sweep_leaves_no_duplicate(
    private_redis, workers, staff, branch, head_office
):
    make_staff(Role.BRANCH_HEAD, head_office, username="rupert_regional_head")
    for i in range(1, 4):
        overdue_deadline(owner=staff["rm"], branch=branch, subject_id=i)
    with app_using_broker(private_redis.url):
        worker = workers(LOANFLOW_SLA_SWEEP_PAUSE=60)
        assert enqueue_now(sweep)
        # The worker has fired every event inside its transaction and now sits in it.
        assert wait_for(_sweep_in_transaction, timeout=30)
        worker.kill()
    assert wait_for(lambda: not _sweep_in_transaction(), timeout=15)
    assert not SlaEvent.objects.exists()  # its transaction died with it

    assert services.sla_sweep() == 9
    assert services.sla_sweep() == 0
    assert SlaEvent.objects.count() == 9
    assert Notification.objects.filter(kind="escalation").count() == 6
