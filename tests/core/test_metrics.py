"""/metrics: django-prometheus's request metrics and LoanFlow's own gauges, computed at each
scrape, for the allowed addresses or a bearer token only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from approvals.models import ApprovalRecord, ApprovalTask
from disbursement.models import Offer
from notifications.models import EmailDelivery
from org.roles import Role
from sla.models import Deadline
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def samples(response) -> dict:
    """{(name, frozenset(labels)): value} of a Prometheus text answer."""
    text = response.content.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_refused_to_an_address_not_allowed(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404
    assert b"loanflow_" not in response.content


def test_metrics_answer_a_loopback_scraper_by_default(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert ("django_http_requests_before_middlewares_total", frozenset()) in samples(response)


def test_metrics_answer_an_allowed_network(client, settings):
    import ipaddress

    settings.LOANFLOW_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_metrics_answer_anywhere_with_the_bearer_token_and_not_with_a_wrong_one(client, settings):
    settings.LOANFLOW_METRICS_TOKEN = "s3cret-scrape-token"
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **remote)
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess", **remote)
    assert ok.status_code == 200
    assert wrong.status_code == 404


def test_an_empty_token_setting_never_lets_an_empty_bearer_in(client, settings):
    settings.LOANFLOW_METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404


def test_the_domain_gauges_count_the_seeded_work(client, branch):
    now = timezone.now()
    application = ApplicationFactory(company__home_branch=branch, status="approval")
    record = ApprovalRecord.objects.create(application=application)

    def task(role, due_at, status=ApprovalTask.Status.OPEN):
        created = ApprovalTask.objects.create(
            application=application, record=record, role=role, branch=branch, due_at=due_at
        )
        ApprovalTask.objects.filter(pk=created.pk).update(status=status)

    # Approver queue: two overdue (one claimed), one not yet due; a finished one never counts.
    task(Role.APPROVER, now - timedelta(hours=3))
    task(Role.APPROVER, now - timedelta(hours=1), ApprovalTask.Status.CLAIMED)
    task(Role.APPROVER, now + timedelta(hours=5))
    task(Role.APPROVER, now - timedelta(hours=9), ApprovalTask.Status.DONE)
    task(Role.CREDIT_REVIEWER, now + timedelta(hours=1))

    def deadline(step, next_fire_at):
        Deadline.objects.create(
            subject_type="application",
            subject_id=application.pk,
            application=application,
            step=step,
            target_business_seconds=3600,
            due_at=now + timedelta(hours=1),
            next_fire_at=next_fire_at,
        )

    # The sweep is behind by two events, the oldest ten minutes late.
    deadline("a", now - timedelta(minutes=10))
    deadline("b", now - timedelta(minutes=1))
    deadline("c", now + timedelta(minutes=30))

    Offer.objects.create(
        application=application,
        amount=Decimal("800000"),
        currency="CNY",
        interest_rate=Decimal("4.35"),
        term_months=12,
        repayment_method="equal_instalments",
        status=Offer.Status.FAILED,
    )
    for status in ["queued", "failed", "failed", "sent", "gave_up"]:
        EmailDelivery.objects.create(to="alice@example.com", subject="s", body="b", status=status)

    values = samples(client.get("/metrics"))

    def value(name, **labels):
        return values[(name, frozenset(labels.items()))]

    assert value("loanflow_approval_tasks_open", role="approver") == 3
    assert value("loanflow_approval_tasks_overdue", role="approver") == 2
    assert value("loanflow_approval_tasks_open", role="credit_reviewer") == 1
    assert value("loanflow_approval_tasks_overdue", role="credit_reviewer") == 0
    assert value("loanflow_sla_events_due_unfired") == 2
    assert 600 <= value("loanflow_sla_oldest_due_unfired_seconds") < 660
    assert value("loanflow_documents_render_failed", document="offer_letter") == 1
    assert value("loanflow_documents_render_failed", document="credit_memo") == 0
    assert value("loanflow_email_deliveries_undelivered", status="queued") == 1
    assert value("loanflow_email_deliveries_undelivered", status="failed") == 2


def test_the_queue_gauges_are_the_length_of_each_celery_queue_in_redis(client, settings):
    import redis

    assert settings.REDIS_URL, "the suite runs with Redis"
    connection = redis.Redis.from_url(settings.REDIS_URL)
    connection.delete(*settings.LOANFLOW_CELERY_QUEUES)
    connection.rpush("pdf", "m1", "m2", "m3")
    try:
        values = samples(client.get("/metrics"))
    finally:
        connection.delete("pdf")
    assert values[("loanflow_celery_queue_length", frozenset({("queue", "pdf")}))] == 3
    assert values[("loanflow_celery_queue_length", frozenset({("queue", "sla")}))] == 0
    assert values[("loanflow_celery_queue_length", frozenset({("queue", "celery")}))] == 0
