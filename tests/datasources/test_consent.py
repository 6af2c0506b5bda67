"""No query runs without the applicant's consent in force for the source, and the refusal says
why; consent is given by the owner in the portal or recorded by the RM from a signed form, and
revoked; each is a transition on the audit trail."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from datasources.models import Consent, SourceQuery
from tests.datasources.conftest import consent
from tests.factories import CompanyFactory, make_applicant

pytestmark = pytest.mark.django_db


def _query(api, user, application, sources=("bureau",)):
    with translation.override("en"):
        return api(user).post(
            reverse("api-sources-query", args=[application.pk]),
            {"sources": list(sources), "purpose": "pre_loan"},
            format="json",
        )


def test_without_consent_the_query_is_refused_with_the_reason(api, investigating, staff):
    response = _query(api, staff["rm"], investigating, ["bureau", "courts"])
    assert response.status_code == 409
    assert response.data["code"] == "no_consent"
    assert "Credit bureau: the applicant has not consented" in response.data["detail"]
    assert len(response.data["missing"]) == 2
    assert not SourceQuery.objects.exists()


def test_a_consent_covers_only_its_sources(api, investigating, staff, owner):
    consent(investigating, by=owner, scope=["tax"])
    refused = _query(api, staff["rm"], investigating, ["tax", "courts"])
    assert refused.status_code == 409
    assert refused.data["missing"] == [
        "Courts: the applicant has not consented. Ask the owner to give consent in the portal, "
        "or record the consent form they signed."
    ]
    assert not SourceQuery.objects.exists()
    assert _query(api, staff["rm"], investigating, ["tax"]).status_code == 202


def test_the_owner_gives_consent_in_the_portal_and_the_query_runs(api, investigating, staff, owner):
    given = api(owner).post(
        reverse("api-portal-consents", args=[investigating.pk]),
        {"scope": ["bureau", "tax"], "days": 30},
        format="json",
    )
    assert given.status_code == 201, given.data
    assert given.data["status"] == "granted"
    row = Consent.objects.get()
    assert row.granted_by == owner and row.channel == "portal"
    assert row.valid_until > timezone.now() + datetime.timedelta(days=29)
    event = AuditEvent.objects.get(action="datasource_consent_grant")
    assert event.actor == owner and event.subject_id == row.pk
    assert event.data["scope"] == ["bureau", "tax"]

    listed = api(owner).get(reverse("api-portal-consents", args=[investigating.pk]))
    assert [c["id"] for c in listed.data] == [row.pk]
    assert _query(api, staff["rm"], investigating, ["bureau", "tax"]).status_code == 202


def test_a_revoked_consent_refuses_with_its_date(api, investigating, staff, owner):
    row = consent(investigating, by=owner)
    revoked = api(owner).post(
        reverse("api-portal-consent-revoke", args=[investigating.pk, row.pk]), {}, format="json"
    )
    assert revoked.status_code == 200, revoked.data
    assert revoked.data["status"] == "revoked"
    assert AuditEvent.objects.filter(action="datasource_consent_revoke", actor=owner).exists()
    response = _query(api, staff["rm"], investigating)
    assert response.status_code == 409
    assert "revoked their consent on" in response.data["detail"]
    again = api(owner).post(
        reverse("api-portal-consent-revoke", args=[investigating.pk, row.pk]), {}, format="json"
    )
    assert again.status_code == 409


def test_an_expired_consent_refuses(api, investigating, staff, owner):
    row = consent(investigating, by=owner)
    Consent.objects.filter(pk=row.pk).update(valid_until=timezone.now() - datetime.timedelta(1))
    response = _query(api, staff["rm"], investigating)
    assert response.status_code == 409
    assert "consent expired on" in response.data["detail"]


def test_the_rm_records_a_signed_form(api, investigating, staff):
    until = (timezone.now() + datetime.timedelta(days=60)).isoformat()
    response = api(staff["rm"]).post(
        reverse("api-sources-consent", args=[investigating.pk]),
        {
            "scope": ["registry", "courts"],
            "valid_until": until,
            "file": SimpleUploadedFile("form.pdf", b"%PDF-1.4\nsigned"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.data
    row = Consent.objects.get()
    assert row.channel == "signed_form" and row.granted_by == staff["rm"]
    assert row.signed_form.read().startswith(b"%PDF-")
    assert _query(api, staff["rm"], investigating, ["registry", "courts"]).status_code == 202


def _record(api, user, application, *, days: int, file):
    with translation.override("en"):
        return api(user).post(
            reverse("api-sources-consent", args=[application.pk]),
            {
                "scope": ["registry"],
                "valid_until": (timezone.now() + datetime.timedelta(days=days)).isoformat(),
                "file": file,
            },
            format="multipart",
        )


def test_a_signed_form_needs_a_scan_and_a_future_date(api, investigating, staff):
    past = _record(
        api, staff["rm"], investigating, days=-1, file=SimpleUploadedFile("f.pdf", b"%PDF-1.4")
    )
    assert past.status_code == 400
    assert past.data["valid_until"] == ["A date in the future, within a year from today."]
    not_a_scan = _record(
        api, staff["rm"], investigating, days=30, file=SimpleUploadedFile("f.pdf", b"MZ\x90\x00")
    )
    assert not_a_scan.status_code == 400
    assert not_a_scan.data["file"] == ["Upload the signed form as PDF, JPEG or PNG."]
    assert not Consent.objects.exists()


def test_only_the_case_officer_queries_and_other_owners_see_nothing(
    api, investigating, staff, owner, branch
):
    consent(investigating, by=owner)
    assert _query(api, staff["rm2"], investigating).status_code == 403
    stranger = make_applicant(CompanyFactory(home_branch=branch), username="oscar_owner")
    response = api(stranger).post(
        reverse("api-portal-consents", args=[investigating.pk]),
        {"scope": ["bureau"]},
        format="json",
    )
    assert response.status_code == 404
    assert api(owner).get(reverse("api-sources", args=[investigating.pk])).status_code == 403
