"""A failing source never blocks a request: the call is queued, retried with a backoff that
doubles, the circuit breaker opens after repeated failures (the source is then not called at
all until it closes), and the query fails after its last attempt with the case still usable."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from datasources import breaker, services
from datasources.models import SourceQuery
from tests.datasources.conftest import consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing(settings):
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT = "error"
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES = ["courts"]
    settings.LOANFLOW_DATASOURCE_MAX_ATTEMPTS = 4
    settings.LOANFLOW_DATASOURCE_BACKOFF_SECONDS = 30
    settings.LOANFLOW_DATASOURCE_BREAKER_FAILURES = 3
    settings.LOANFLOW_DATASOURCE_BREAKER_OPEN_SECONDS = 120
    return settings


def _due_now(query):
    SourceQuery.objects.filter(pk=query.pk).update(next_attempt_at=timezone.now())


def test_retries_with_backoff_then_the_breaker_opens_and_the_request_is_not_blocked(
    api, investigating, staff, owner, failing, django_capture_on_commit_callbacks
):
    consent(investigating, by=owner)
    started = time.monotonic()
    response = api(staff["rm"]).post(
        reverse("api-sources-query", args=[investigating.pk]),
        {"sources": ["courts"]},
        format="json",
    )
    assert response.status_code == 202
    assert time.monotonic() - started < 5
    query = SourceQuery.objects.get()

    # First failure: retried after the backoff, the retry enqueued after commit.
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.source_answer_fetch(query_id=query.pk) == "retry"
    assert len(callbacks) == 1
    query.refresh_from_db()
    assert query.status == "pending" and query.attempts == 1
    assert "503" in query.error
    assert query.next_attempt_at >= before + datetime.timedelta(seconds=30)
    # Not due yet: a delivery now does not call the source.
    assert services.source_answer_fetch(query_id=query.pk) == "skipped"

    _due_now(query)
    assert services.source_answer_fetch(query_id=query.pk) == "retry"
    query.refresh_from_db()
    # The backoff doubles.
    assert query.next_attempt_at >= timezone.now() + datetime.timedelta(seconds=59)
    assert breaker.open_until("courts") is None

    _due_now(query)
    assert services.source_answer_fetch(query_id=query.pk) == "retry"
    # The third failure in a row opens the breaker: the source is left alone.
    resting = breaker.open_until("courts")
    assert resting is not None
    _due_now(query)
    assert services.source_answer_fetch(query_id=query.pk) == "breaker_open"
    query.refresh_from_db()
    assert query.attempts == 3  # not called while open
    assert query.next_attempt_at == resting

    # While it rests, the case stays usable: the panel answers, other sources run.
    page = api(staff["rm"]).get(reverse("api-sources", args=[investigating.pk]))
    assert page.status_code == 200 and page.data["queries"][0]["status"] == "pending"
    other = api(staff["rm"]).post(
        reverse("api-sources-query", args=[investigating.pk]), {"sources": ["tax"]}, format="json"
    )
    assert other.status_code == 202
    tax = SourceQuery.objects.get(source="tax")
    assert services.source_answer_fetch(query_id=tax.pk) == "arrived"

    # The breaker closes; the last attempt fails the query, on the audit trail.
    from django.core.cache import cache

    cache.clear()
    _due_now(query)
    assert services.source_answer_fetch(query_id=query.pk) == "failed"
    query.refresh_from_db()
    assert query.status == "failed" and query.attempts == 4
    assert AuditEvent.objects.filter(action="datasource_failed", subject_id=query.pk).exists()


def test_a_timeout_is_a_failure_and_the_sweep_requeues_due_queries(
    api, investigating, staff, owner, failing, django_capture_on_commit_callbacks
):
    failing.LOANFLOW_DATASOURCE_SIMULATED_FAULT = "timeout"
    consent(investigating, by=owner)
    api(staff["rm"]).post(
        reverse("api-sources-query", args=[investigating.pk]),
        {"sources": ["courts"]},
        format="json",
    )
    query = SourceQuery.objects.get()
    assert services.source_answer_fetch(query_id=query.pk) == "retry"
    query.refresh_from_db()
    assert "SourceTimeout" in query.error
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.source_queries_requeue_due() == 0
    _due_now(query)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.source_queries_requeue_due() == 1
    assert len(callbacks) == 1
    # The source recovers: the next attempt arrives.
    failing.LOANFLOW_DATASOURCE_SIMULATED_FAULT = ""
    assert services.source_answer_fetch(query_id=query.pk) == "arrived"
