"""Each call is recorded with who asked, why, under which consent and when, and the answer as
received; it runs in a Celery task after commit, never in the request; a fresh answer about
the company is reused (a new record pointing at it) instead of asking again."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from datasources import adapters, services
from datasources.models import SourceQuery
from tests.datasources.conftest import consent

pytestmark = pytest.mark.django_db


def _ask(api, user, application, capture, sources=("tax",)):
    with capture() as callbacks:
        response = api(user).post(
            reverse("api-sources-query", args=[application.pk]),
            {"sources": list(sources), "purpose": "pre_loan"},
            format="json",
        )
    assert response.status_code == 202, response.data
    return response, callbacks


def test_a_call_is_recorded_with_who_why_consent_and_when_then_answered_by_the_worker(
    api, investigating, staff, owner, django_capture_on_commit_callbacks
):
    given = consent(investigating, by=owner)
    before = timezone.now()
    response, callbacks = _ask(api, staff["rm"], investigating, django_capture_on_commit_callbacks)
    # The request only queued the call: one task enqueued after commit.
    assert len(callbacks) == 1
    assert response.data[0]["status"] == "pending"
    query = SourceQuery.objects.get()
    assert query.requested_by == staff["rm"]
    assert query.purpose == "pre_loan"
    assert query.consent == given
    assert query.requested_at >= before
    assert query.credit_code == investigating.company.credit_code
    assert query.adapter == "datasources.adapters.SimulatedTax"
    asked = AuditEvent.objects.get(action="datasource_query")
    assert asked.actor == staff["rm"] and asked.subject_id == query.pk
    assert asked.data["consent_id"] == given.pk and asked.data["purpose"] == "pre_loan"

    assert services.source_answer_fetch(query_id=query.pk) == "arrived"
    query.refresh_from_db()
    assert query.status == "arrived" and query.attempts == 1
    expected = adapters.SimulatedTax().fetch(
        adapters.subject_of(investigating, as_of=timezone.localdate()), timeout=1
    )
    assert query.answer == expected
    assert AuditEvent.objects.filter(action="datasource_answer", subject_id=query.pk).exists()
    # A second delivery of the task does nothing.
    assert services.source_answer_fetch(query_id=query.pk) == "skipped"

    shown = api(staff["rm"]).get(reverse("api-sources", args=[investigating.pk]))
    assert shown.data["queries"][0]["status"] == "arrived"
    assert shown.data["queries"][0]["requested_by"] == staff["rm"].username


def test_a_fresh_answer_is_reused_and_an_old_one_is_not(
    api, investigating, staff, owner, settings, django_capture_on_commit_callbacks
):
    consent(investigating, by=owner)
    _ask(api, staff["rm"], investigating, django_capture_on_commit_callbacks)
    first = SourceQuery.objects.get()
    services.source_answer_fetch(query_id=first.pk)
    first.refresh_from_db()

    response, callbacks = _ask(api, staff["rm"], investigating, django_capture_on_commit_callbacks)
    assert callbacks == []  # nothing to ask the source
    assert response.data[0]["status"] == "arrived" and response.data[0]["cached"] is True
    reuse = SourceQuery.objects.get(pk=response.data[0]["id"])
    assert reuse.reused_from == first
    assert reuse.answer == first.answer
    assert reuse.requested_by == staff["rm"]
    assert reuse.facts.count() == 3

    # Older than the cache time: asked again.
    SourceQuery.objects.filter(pk=first.pk).update(
        answered_at=timezone.now()
        - datetime.timedelta(hours=settings.LOANFLOW_DATASOURCE_CACHE_HOURS, minutes=1)
    )
    response, callbacks = _ask(api, staff["rm"], investigating, django_capture_on_commit_callbacks)
    assert response.data[0]["status"] == "pending"
    assert len(callbacks) == 1


def test_a_consent_revoked_while_the_call_waits_stops_it(
    api, investigating, staff, owner, django_capture_on_commit_callbacks
):
    given = consent(investigating, by=owner)
    _ask(api, staff["rm"], investigating, django_capture_on_commit_callbacks)
    revoked = api(owner).post(
        reverse("api-portal-consent-revoke", args=[investigating.pk, given.pk]), {}, format="json"
    )
    assert revoked.status_code == 200
    query = SourceQuery.objects.get()
    assert services.source_answer_fetch(query_id=query.pk) == "no_consent"
    query.refresh_from_db()
    assert query.status == "failed" and query.answer is None and query.attempts == 0
    assert AuditEvent.objects.filter(action="datasource_failed", subject_id=query.pk).exists()
