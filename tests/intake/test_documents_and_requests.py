from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from intake.models import Document
from tests import lifecycle
from tests.intake.conftest import PNG_BYTES, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(api, staff, company, product, checklist):
    pk = lifecycle.file_draft(api, staff, company, product)
    client = api(staff["rm"])
    client.post(
        reverse("api-documents", args=[pk]),
        {"document_type": "business_licence", "file": pdf()},
        format="multipart",
    )
    assert (
        client.post(reverse("api-application-submit", args=[pk]), {}, format="json").status_code
        == 200
    )
    return pk


def test_a_re_upload_keeps_the_history(api, staff, submitted):
    client = api(staff["rm"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("api-documents", args=[submitted]),
        {"document_type": "business_licence", "file": SimpleUploadedFile("licence.png", PNG_BYTES)},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.data["version"] == 2 and response.data["content_type"] == "image/png"
    current = client.get(reverse("api-documents", args=[submitted])).data
    history = client.get(reverse("api-documents", args=[submitted]), {"history": "1"}).data
    assert [d["version"] for d in current] == [2]
    assert [d["version"] for d in history] == [2, 1]


def _needed(client, pk: int) -> list[dict]:
    """What the owner's portal lists as still needed (their to-do list)."""
    response = client.get(reverse("api-portal-application", args=[pk]))
    assert response.status_code == 200, response.data
    return response.data["needed"]


def test_a_rejected_document_reappears_on_the_applicants_to_do_list(api, staff, submitted, owner):
    doc = Document.objects.get(application_id=submitted)
    client = api(staff["rm"])
    response = client.post(
        reverse("api-document-review", args=[submitted, doc.pk]),
        {"decision": "reject"},
        format="json",
    )
    assert response.status_code == 400 and "reason" in response.data
    response = client.post(
        reverse("api-document-review", args=[submitted, doc.pk]),
        {"decision": "reject", "reason": "The scan is unreadable"},
        format="json",
    )
    assert response.status_code == 200
    todo = _needed(api(owner), submitted)
    assert [(t["kind"], t["text"], t["reason"]) for t in todo][0] == (
        "resend",
        "Business licence",
        "The scan is unreadable",
    )
    response = api(owner).post(
        reverse("api-portal-documents", args=[submitted]),
        {"document_type": "business_licence", "file": pdf()},
        format="multipart",
    )
    assert response.status_code == 201
    todo = _needed(api(owner), submitted)
    assert "resend" not in [t["kind"] for t in todo]


def test_requested_information_pauses_the_application_until_everything_is_answered(
    api, staff, submitted, owner
):
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    response = api(staff["rm"]).post(
        reverse("api-info-requests", args=[submitted]),
        {
            "comment": "Two things before we go on",
            "items": [
                {"kind": "document", "document_type": "tax_returns", "due_date": due},
                {"kind": "question", "text": "Who are your three largest customers?"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    question = response.data[1]["id"]
    assert LoanApplication.objects.get(pk=submitted).status == "info_requested"
    from notifications.models import Notification

    assert Notification.objects.filter(user=owner, kind="info_request").exists()
    todo = _needed(api(owner), submitted)
    # The requests first, then what the checklist still needs before the investigation.
    assert [(t["kind"], t["text"]) for t in todo] == [
        ("document", "Tax returns"),
        ("question", "Who are your three largest customers?"),
        ("document", "Bank statements"),
    ]

    owner_client = api(owner)
    response = owner_client.post(
        reverse("api-portal-documents", args=[submitted]),
        {"document_type": "tax_returns", "file": pdf("tax.pdf")},
        format="multipart",
    )
    assert response.status_code == 201
    assert LoanApplication.objects.get(pk=submitted).status == "info_requested"
    response = owner_client.post(
        reverse("api-portal-info-request-answer", args=[submitted, question]),
        {"answer": "Three supermarkets in Beijing"},
        format="json",
    )
    assert response.status_code == 200
    assert question not in [n["info_request_id"] for n in response.data["needed"]]
    assert response.data["status"] == "submitted"
    assert LoanApplication.objects.get(pk=submitted).status == "submitted"


def test_a_request_with_a_due_date_in_the_past_is_refused(api, staff, submitted):
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = api(staff["rm"]).post(
        reverse("api-info-requests", args=[submitted]),
        {"items": [{"kind": "question", "text": "X", "due_date": past}]},
        format="json",
    )
    assert response.status_code == 400
    assert LoanApplication.objects.get(pk=submitted).status == "submitted"


def test_lists_cost_the_same_queries_whatever_their_length(
    api, staff, submitted, django_assert_max_num_queries
):
    client = api(staff["rm"])
    urls = [
        reverse("api-documents", args=[submitted]),
        reverse("api-checklist", args=[submitted]),
        reverse("api-todo", args=[submitted]),
        reverse("api-info-requests", args=[submitted]),
    ]
    before = {}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url, {"history": "1"})
        before[url] = len(ctx)
    for code in ("bank_statements", "tax_returns"):
        for _ in range(2):
            client.post(
                reverse("api-documents", args=[submitted]),
                {"document_type": code, "file": pdf()},
                format="multipart",
            )
    client.post(
        reverse("api-info-requests", args=[submitted]),
        {"items": [{"kind": "question", "text": "A"}, {"kind": "question", "text": "B"}]},
        format="json",
    )
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            client.get(url, {"history": "1"})


def test_a_document_is_accepted_once_and_the_panel_offers_only_the_actions_left(
    api, staff, submitted
):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from audit.models import AuditEvent

    doc = Document.objects.get(application_id=submitted)
    client = api(staff["rm"])
    url = reverse("api-document-review", args=[submitted, doc.pk])

    def panel(user):
        request = RequestFactory().get(f"/applications/{submitted}/")
        request.user = user
        application = LoanApplication.objects.get(pk=submitted)
        return render_to_string(
            "intake/application_panel.html",
            {"application": application, "user": user},
            request=request,
        )

    assert 'value="accept"' in panel(staff["rm"]) and 'value="reject"' in panel(staff["rm"])
    assert client.post(url, {"decision": "accept"}, format="json").status_code == 200
    again = client.post(url, {"decision": "accept"}, format="json")
    assert again.status_code == 409 and again.data["code"] == "already_reviewed"
    assert (
        AuditEvent.objects.filter(application_id=submitted, action="document_accept").count() == 1
    )
    # Accepted: only a rejection is left to offer; to a risk officer, who may not review, nothing.
    assert 'value="accept"' not in panel(staff["rm"]) and 'value="reject"' in panel(staff["rm"])
    assert 'name="action"' not in panel(staff["risk"]).split("Pre-screen")[0]
