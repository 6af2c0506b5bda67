"""The issue's check: with the simulated sources and a real Celery worker on Redis, an
eligible application the owner submits online through the portal's API reaches an approved
offer in under a minute of wall time, every call to a source on the audit trail (who asked,
why, under which consent), and no step taken by a person after the submission."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from approvals.models import ApprovalRecord
from audit.models import AuditEvent
from datasources.models import Consent, DataRoute, SourceQuery
from disbursement.models import Offer
from investigation.models import Investigation, ScoreResult
from tests.datasources.test_submission_route import (
    ALL,
    CLEAN,
    _apply,
    _human_steps_after,
    _owner_of,
    _submit,
    seed_bank,
)


@pytest.fixture
def setup(transactional_db):
    seed_bank()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_eligible_online_application_gets_an_approved_offer_within_a_minute_on_a_real_worker(
    setup, staff, branch, api, live_celery_worker
):
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    started = time.monotonic()
    _submit(client, pk, consent=ALL)
    application = LoanApplication.objects.get(pk=pk)
    while time.monotonic() - started < 60:
        application.refresh_from_db()
        if application.status == "approved" and Offer.objects.filter(application=pk).exists():
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    assert application.status == "approved", (application.status, elapsed)
    assert elapsed < 60
    offer = Offer.objects.get(application=application)
    assert offer.amount == Decimal("200000.00") and offer.currency == "CNY"
    assert client.get(reverse("api-portal-application", args=[pk])).data["offer"]["amount"]

    # The consent given with the submission, by the owner, covers every call.
    consent = Consent.objects.get(application=application)
    assert consent.channel == "portal" and consent.granted_by == owner
    queries = SourceQuery.objects.filter(application=application)
    assert sorted(q.source for q in queries) == ALL
    for query in queries:
        assert query.status == "arrived" and query.requested_by is None
        assert query.purpose == "pre_loan" and query.consent == consent
    # The audit trail of each call: asked by the system, why, under which consent; answered.
    asked = AuditEvent.objects.filter(application=application, action="datasource_query")
    assert sorted(e.data["source"] for e in asked) == ALL
    for event in asked:
        assert event.actor is None and event.actor_role == "system"
        assert event.data["purpose"] == "pre_loan"
        assert event.data["trigger"] == "online_submission"
        assert event.data["consent_id"] == consent.pk
    answered = AuditEvent.objects.filter(application=application, action="datasource_answer")
    assert sorted(e.data["source"] for e in answered) == ALL

    # Every step after the owner's submission was the system's.
    submitted = AuditEvent.objects.get(application=application, action="submit")
    assert submitted.actor == owner
    assert _human_steps_after(application, submitted) == []
    transitions = list(
        AuditEvent.objects.filter(application=application, kind="transition")
        .order_by("id")
        .values_list("action", "actor_role")
    )
    assert transitions[-3:] == [
        ("start_investigation", "system"),
        ("send_to_approval", "system"),
        ("approve", "system"),
    ]
    assert application.investigator == application.relationship_manager
    record = ApprovalRecord.objects.get(application=application)
    assert record.decided_by_system and ["external_data", {}] in record.reason_data["parts"]
    assert Investigation.objects.get(application=application).site_visit_waived_at is not None
    assert ScoreResult.objects.get(application=application).scored_by is None
    assert DataRoute.objects.get(application=application).status == "sent"
