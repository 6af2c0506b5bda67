"""Owner B and staff of another branch never reach owner A's application and documents: staff
of another branch get 404 from every intake endpoint, owner B 403 (the intake endpoints are
internal to the bank) and 404 from the owners' own endpoints."""

import pytest
from django.urls import reverse

from intake.models import Document, InfoRequest
from org.roles import Role
from tests import lifecycle
from tests.factories import CompanyFactory, make_applicant, make_staff
from tests.intake.conftest import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(api, staff, company, product, checklist, owner, other_branch):
    pk = lifecycle.file_draft(api, staff, company, product)
    client = api(staff["rm"])
    guarantor = client.post(
        reverse("api-guarantors", args=[pk]),
        {"kind": "person", "name": "Wang Wu", "id_number": "110101198001010010"},
        format="json",
    ).data["id"]
    collateral = client.post(
        reverse("api-collateral", args=[pk]),
        {"kind": "property", "description": "Warehouse", "declared_value": "1200000.00"},
        format="json",
    ).data["id"]
    doc = client.post(
        reverse("api-documents", args=[pk]),
        {"document_type": "business_licence", "file": pdf()},
        format="multipart",
    ).data["id"]
    request = client.post(
        reverse("api-info-requests", args=[pk]),
        {"items": [{"kind": "question", "text": "Who are your main customers?"}]},
        format="json",
    ).data[0]["id"]
    owner_b = make_applicant(CompanyFactory(home_branch=other_branch), username="bella_owner")
    other_rm = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm")
    return {
        "pk": pk,
        "guarantor": guarantor,
        "collateral": collateral,
        "doc": doc,
        "request": request,
        "outsiders": [owner_b, other_rm],
    }


def _calls(s):
    pk = s["pk"]
    return [
        ("get", reverse("api-guarantors", args=[pk]), None),
        (
            "post",
            reverse("api-guarantors", args=[pk]),
            {"kind": "person", "name": "X", "id_number": "110101198001010029"},
        ),
        ("delete", reverse("api-guarantor", args=[pk, s["guarantor"]]), None),
        ("get", reverse("api-collateral", args=[pk]), None),
        (
            "post",
            reverse("api-collateral", args=[pk]),
            {"kind": "other", "description": "X", "declared_value": "1.00"},
        ),
        ("delete", reverse("api-collateral-item", args=[pk, s["collateral"]]), None),
        ("get", reverse("api-documents", args=[pk]), None),
        ("get", reverse("api-document-download", args=[pk, s["doc"]]), None),
        ("post", reverse("api-document-review", args=[pk, s["doc"]]), {"decision": "accept"}),
        ("get", reverse("api-checklist", args=[pk]), None),
        ("get", reverse("api-todo", args=[pk]), None),
        ("get", reverse("api-prescreen", args=[pk]), None),
        ("get", reverse("api-info-requests", args=[pk]), None),
        (
            "post",
            reverse("api-info-requests", args=[pk]),
            {"items": [{"kind": "question", "text": "X"}]},
        ),
        ("post", reverse("api-info-request-answer", args=[pk, s["request"]]), {"answer": "X"}),
        ("post", reverse("api-info-request-cancel", args=[pk, s["request"]]), {}),
    ]


def test_an_outsider_never_reaches_the_application_through_an_intake_endpoint(api, setting):
    owner_b, other_rm = setting["outsiders"]
    for outsider, expected in ((owner_b, 403), (other_rm, 404)):
        client = api(outsider)
        for method, url, payload in _calls(setting):
            response = getattr(client, method)(url, payload, format="json")
            assert response.status_code == expected, (
                outsider.username,
                method,
                url,
                response.status_code,
            )
        upload = client.post(
            reverse("api-documents", args=[setting["pk"]]),
            {"document_type": "business_licence", "file": pdf()},
            format="multipart",
        )
        assert upload.status_code == expected
    pk = setting["pk"]
    portal = api(owner_b)
    assert (
        portal.post(
            reverse("api-portal-documents", args=[pk]),
            {"document_type": "business_licence", "file": pdf()},
            format="multipart",
        ).status_code
        == 404
    )
    answer = reverse("api-portal-info-request-answer", args=[pk, setting["request"]])
    assert portal.post(answer, {"answer": "X"}, format="json").status_code == 404
    download = reverse("api-portal-document-download", args=[pk, setting["doc"]])
    assert portal.get(download).status_code == 404
    assert Document.objects.count() == 1
    assert InfoRequest.objects.get().status == "open"


def test_an_outsider_gets_404_from_the_pages_too(client, setting):
    pk = setting["pk"]
    for outsider in setting["outsiders"]:
        client.force_login(outsider)
        assert (
            client.get(reverse("intake-document-download", args=[pk, setting["doc"]])).status_code
            == 404
        )
    client.force_login(setting["outsiders"][0])
    assert client.get(reverse("portal-apply-application", args=[pk])).status_code == 404
    client.force_login(setting["outsiders"][1])
    assert client.get(reverse("application-file-documents", args=[pk])).status_code == 404


def test_the_owner_downloads_their_document_as_an_attachment(api, setting, owner):
    response = api(owner).get(
        reverse("api-portal-document-download", args=[setting["pk"], setting["doc"]])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="licence.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_the_owner_cannot_review_documents(api, setting, owner):
    response = api(owner).post(
        reverse("api-document-review", args=[setting["pk"], setting["doc"]]),
        {"decision": "accept"},
        format="json",
    )
    assert response.status_code == 403
    assert response.data["code"] == "staff_only"
    assert Document.objects.get().status == "pending"
