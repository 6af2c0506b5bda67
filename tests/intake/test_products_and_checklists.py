from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from applications.models import LoanApplication
from tests import lifecycle
from tests.intake.conftest import pdf

pytestmark = pytest.mark.django_db


def test_editing_a_product_bumps_its_version_and_filed_applications_keep_their_terms(
    api, staff, company, product
):
    pk = lifecycle.file_draft(api, staff, company, product)
    assert product.version == 1
    product.max_amount = Decimal("3000000.00")
    product.save()
    product.refresh_from_db()
    assert product.version == 2
    product.name = product.name  # no change of terms: no new version
    product.save()
    assert product.version == 2
    application = LoanApplication.objects.get(pk=pk)
    assert application.product_snapshot["version"] == 1
    assert application.product_snapshot["max_amount"] == "5000000.00"


def test_the_checklist_is_published_per_product_without_login(client, product, checklist):
    response = client.get(reverse("portal-product", args=[product.code]))
    assert response.status_code == 200
    assert "Property ownership certificate" in response.content.decode()
    response = APIClient().get(reverse("api-product", args=[product.code]))
    assert response.status_code == 200
    codes = [row["document_type"] for row in response.data["checklist"]]
    assert codes == [
        "business_licence",
        "property_certificate",
        "guarantor_id",
        "bank_statements",
        "tax_returns",
    ]
    assert client.get(reverse("portal-products")).status_code == 200
    assert APIClient().get(reverse("api-product", args=["NOPE"])).status_code == 404


def test_a_mortgage_asks_for_the_property_certificate_and_a_credit_loan_does_not(
    api, staff, company, product, checklist
):
    credit = lifecycle.file_draft(api, staff, company, product, guarantee_type="credit")
    client = api(staff["rm"])
    response = client.post(reverse("api-application-submit", args=[credit]), {}, format="json")
    assert response.status_code == 409
    assert response.data["missing"] == ["Missing document: Business licence."]

    LoanApplication.objects.filter(pk=credit).update(status="withdrawn")
    mortgage = lifecycle.file_draft(api, staff, company, product, guarantee_type="mortgage")
    response = client.post(reverse("api-application-submit", args=[mortgage]), {}, format="json")
    assert response.status_code == 409
    assert "Missing document: Property ownership certificate." in response.data["missing"]


def test_each_guarantor_needs_their_own_document(api, staff, company, product, checklist):
    pk = lifecycle.file_draft(api, staff, company, product)
    client = api(staff["rm"])
    for name, id_number in [("Wang Wu", "110101198001010010"), ("Li Si", "110101198001010029")]:
        response = client.post(
            reverse("api-guarantors", args=[pk]),
            {"kind": "person", "name": name, "id_number": id_number, "relationship": "shareholder"},
            format="json",
        )
        assert response.status_code == 201, response.data
    first_guarantor = response.data["id"]
    client.post(
        reverse("api-documents", args=[pk]),
        {"document_type": "business_licence", "file": pdf()},
        format="multipart",
    )
    client.post(
        reverse("api-documents", args=[pk]),
        {"document_type": "guarantor_id", "guarantor": first_guarantor, "file": pdf("id.pdf")},
        format="multipart",
    )
    response = client.post(reverse("api-application-submit", args=[pk]), {}, format="json")
    assert response.status_code == 409
    assert response.data["missing"] == ["Missing document: Guarantor's ID for guarantor Wang Wu."]


def test_the_investigation_waits_until_the_bank_accepted_every_required_document(
    api, staff, company, product, checklist
):
    pk = lifecycle.file_draft(api, staff, company, product)
    client = api(staff["rm"])
    ids = {}
    for code in ("business_licence", "bank_statements"):
        response = client.post(
            reverse("api-documents", args=[pk]),
            {"document_type": code, "file": pdf()},
            format="multipart",
        )
        assert response.status_code == 201, response.data
        ids[code] = response.data["id"]
    assert (
        client.post(reverse("api-application-submit", args=[pk]), {}, format="json").status_code
        == 200
    )
    response = client.post(
        reverse("api-application-start-investigation", args=[pk]), {}, format="json"
    )
    assert response.status_code == 409
    assert "Document not yet accepted by the bank: Business licence." in response.data["missing"]
    for doc_id in ids.values():
        client.post(
            reverse("api-document-review", args=[pk, doc_id]), {"decision": "accept"}, format="json"
        )
    response = client.post(
        reverse("api-application-start-investigation", args=[pk]), {}, format="json"
    )
    assert response.status_code == 200, response.data


def test_the_lifecycle_helper_satisfies_the_checklist(api, staff, company, product, checklist):
    pk = lifecycle.file_draft(api, staff, company, product, guarantee_type="mortgage")
    lifecycle.submit(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)
    assert LoanApplication.objects.get(pk=pk).status == "investigation"


def test_a_product_outside_its_active_dates_takes_no_applications(api, staff, company, product):
    from datetime import timedelta

    from django.utils import timezone

    product.active_until = timezone.localdate() - timedelta(days=1)
    product.save()
    response = api(staff["rm"]).post(
        reverse("api-applications"),
        {
            "company": company.pk,
            "product": product.pk,
            "amount": "800000.00",
            "term_months": 12,
            "interest_rate": "4.350",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.data["product"] == ["This product is not open for applications."]
    assert APIClient().get(reverse("api-product", args=[product.code])).status_code == 404
