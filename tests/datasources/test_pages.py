"""The workspace's "External data" section and the portal's consent panel: the investigator
asks the sources and sees pending then arrived; without consent the refusal is shown in place;
the owner gives and withdraws consent from the application page."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from datasources import services
from datasources.models import Consent, SourceQuery
from tests.datasources.conftest import consent

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def rm(staff):
    client = Client()
    client.force_login(staff["rm"])
    return client


def test_the_section_refuses_in_place_without_consent(investigating, rm):
    with translation.override("en"):
        response = rm.post(
            reverse("datasources-query", args=[investigating.pk]),
            {"sources": ["bureau", "tax"]},
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        )
    assert response.status_code == 409
    body = response.content.decode()
    assert body.startswith('<section id="sources"')
    assert "the applicant has not consented" in body
    assert not SourceQuery.objects.exists()


def test_the_section_shows_pending_then_arrived_with_the_facts(investigating, rm, owner):
    consent(investigating, by=owner)
    response = rm.post(
        reverse("datasources-query", args=[investigating.pk]),
        {"sources": ["registry"]},
        HTTP_ACCEPT_LANGUAGE="en",
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pending" in body
    # The section polls itself while the call is pending.
    poll = reverse("datasources-section", args=[investigating.pk])
    assert f'hx-get="{poll}" hx-trigger="every 5s"' in body
    query = SourceQuery.objects.get()
    services.source_answer_fetch(query_id=query.pk)
    query.refresh_from_db()
    page = rm.get(
        reverse("investigation-workspace", args=[investigating.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'id="source-registry"' in page and "Arrived" in page
    assert 'hx-trigger="every 5s"' not in page
    # The answer as received, for whoever wants to read it.
    assert "Answer as received" in page and query.answer["credit_code"] in page
    assert rm.get(poll).status_code == 200
    assert "Registration status" in page


def test_the_owner_gives_and_withdraws_consent_on_the_portal_page(investigating, owner):
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("portal-application", args=[investigating.pk]))
    assert page.status_code == 200
    assert 'id="consent"' in page.content.decode()
    given = client.post(
        reverse("datasources-portal-consent", args=[investigating.pk]),
        {"scope": ["bureau", "courts"]},
    )
    assert given.status_code == 302
    row = Consent.objects.get()
    assert row.status == "granted" and row.scope == ["bureau", "courts"]
    client.post(reverse("datasources-portal-consent-revoke", args=[investigating.pk, row.pk]))
    row.refresh_from_db()
    assert row.status == "revoked" and row.revoked_by == owner
