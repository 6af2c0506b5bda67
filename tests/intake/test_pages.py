import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from applications.models import LoanApplication
from tests import lifecycle
from tests.intake.conftest import pdf

pytestmark = pytest.mark.django_db


def test_the_staff_panel_shows_checklist_documents_and_requests(
    client, api, staff, company, product, checklist
):
    pk = lifecycle.file_draft(api, staff, company, product)
    api(staff["rm"]).post(
        reverse("api-documents", args=[pk]),
        {"document_type": "business_licence", "file": pdf()},
        format="multipart",
    )
    # Rendered on its own: the application page includes it among the other stages' panels.
    request = RequestFactory().get(f"/applications/{pk}/")
    request.user = staff["rm"]
    application = LoanApplication.objects.get(pk=pk)
    html = render_to_string(
        "intake/application_panel.html",
        {"application": application, "user": staff["rm"]},
        request=request,
    )
    assert "Materials checklist" in html and "licence.pdf" in html
    assert reverse("intake-staff-action", args=[pk]) in html


def test_staff_reject_a_document_from_the_panel(
    client, api, staff, company, product, checklist, owner
):
    pk = lifecycle.file_draft(api, staff, company, product)
    doc = (
        api(staff["rm"])
        .post(
            reverse("api-documents", args=[pk]),
            {"document_type": "business_licence", "file": pdf()},
            format="multipart",
        )
        .data["id"]
    )
    client.force_login(staff["rm"])
    response = client.post(
        reverse("intake-staff-action", args=[pk]),
        {"action": "reject", "document": doc, "reason": "Expired licence"},
    )
    assert response.status_code == 302
    client.force_login(owner)
    html = client.get(reverse("portal-application", args=[pk])).content.decode()
    assert "Expired licence" in html


def test_the_portal_product_list_needs_no_login(client, product, checklist):
    response = client.get(reverse("portal-products"))
    assert response.status_code == 200
    assert product.name in response.content.decode()
