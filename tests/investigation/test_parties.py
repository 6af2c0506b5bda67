"""The guarantors and collateral filed in the wizard are the ones the investigator completes:
one set of records, carried from filing into the workspace, never typed twice."""

from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from intake.models import Collateral, Guarantor
from investigation.selectors import investigation_missing
from tests import lifecycle

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def filed(api, staff, company, product, config):
    """An application whose RM filed a guarantor and collateral in the wizard's step 3, then
    submitted it and started the investigation."""
    pk = lifecycle.file_draft(api, staff, company, product, guarantee_type="guarantee")
    rm = Client()
    rm.force_login(staff["rm"])
    parties = reverse("application-file-parties", args=[pk])
    response = rm.post(
        parties,
        {
            "form": "guarantor",
            "g-kind": "person",
            "g-name": "Wang Wu",
            "g-id_number": "110101198001010010",
            "g-relationship": "Shareholder",
        },
    )
    assert response.status_code == 302
    response = rm.post(
        parties,
        {
            "form": "collateral",
            "c-kind": "equipment",
            "c-description": "Two CNC lathes",
            "c-declared_value": "1000000",
            "c-currency": "CNY",
        },
    )
    assert response.status_code == 302
    lifecycle.submit(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)
    return {"pk": pk, "rm": rm}


def test_a_guarantor_filed_in_the_wizard_is_in_the_workspace_and_completed_there_without_retyping(
    filed,
):
    pk, rm = filed["pk"], filed["rm"]
    guarantor = Guarantor.objects.get(application_id=pk)
    page = rm.get(reverse("investigation-workspace", args=[pk])).content.decode()
    assert "Wang Wu" in page and "110101198001010010" in page and "Shareholder" in page
    assert "To assess" in page
    assert reverse("investigation-guarantor-assess", args=[pk, guarantor.pk]) in page

    # only the investigator's figures are entered: no name, no ID number
    response = rm.post(
        reverse("investigation-guarantor-assess", args=[pk, guarantor.pk]),
        {
            f"g{guarantor.pk}-guaranteed_amount": "800000",
            f"g{guarantor.pk}-own_exposure": "150000",
            f"g{guarantor.pk}-net_worth": "5000000",
            f"g{guarantor.pk}-notes": "Owns the factory building",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "Guarantor assessed." in response.content.decode()
    assert Guarantor.objects.filter(application_id=pk).count() == 1
    guarantor.refresh_from_db()
    assert (guarantor.name, guarantor.relationship) == ("Wang Wu", "Shareholder")
    assert guarantor.guaranteed_amount == D("800000.00")
    assert guarantor.own_exposure == D("150000.00")
    assert guarantor.notes == "Owns the factory building"
    assert AuditEvent.objects.filter(
        action="investigation_guarantor_assess", subject_id=guarantor.pk
    ).exists()


def test_collateral_filed_in_the_wizard_is_valued_in_the_workspace_and_counts_as_cover(
    filed, api, staff
):
    pk, rm = filed["pk"], filed["rm"]
    item = Collateral.objects.get(application_id=pk)
    response = rm.post(
        reverse("investigation-collateral-value", args=[pk, item.pk]),
        {
            f"c{item.pk}-valuation": "900000",
            f"c{item.pk}-valuation_date": "2026-11-30",
            f"c{item.pk}-haircut_pct": "40",
        },
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()
    item.refresh_from_db()
    assert item.declared_value == D("1000000.00") and item.lendable_value == D("540000.00")
    assert Collateral.objects.filter(application_id=pk).count() == 1
    data = api(staff["rm"]).get(reverse("api-investigation", args=[pk])).data
    (row,) = data["collateral"]
    assert row["id"] == row["intake_collateral_id"] == item.pk
    assert row["collateral_type"] == "equipment" and row["lendable_value"] == "540000.00"


def test_a_guarantor_or_collateral_not_yet_completed_keeps_the_application_from_approval(filed):
    pk = filed["pk"]
    from applications.models import LoanApplication

    application = LoanApplication.objects.get(pk=pk)
    missing = investigation_missing(application=application)
    assert "Guarantor Wang Wu has not been assessed." in missing
    assert "Collateral 'Two CNC lathes' has not been valued." in missing
    guarantor = Guarantor.objects.get(application_id=pk)
    Guarantor.objects.filter(pk=guarantor.pk).update(guaranteed_amount=D("800000"))
    assert "Guarantor Wang Wu has not been assessed." not in investigation_missing(
        application=application
    )


def test_the_api_completes_the_filed_guarantor_instead_of_adding_a_copy(filed, api, staff):
    pk = filed["pk"]
    guarantor = Guarantor.objects.get(application_id=pk)
    client = api(staff["rm"])
    response = client.post(
        reverse("api-investigation-guarantors", args=[pk]),
        {"intake_guarantor_id": guarantor.pk, "guaranteed_amount": "700000.00"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["id"] == guarantor.pk and response.data["name"] == "Wang Wu"
    response = client.put(
        reverse("api-investigation-guarantor", args=[pk, guarantor.pk]),
        {"guaranteed_amount": "750000.00", "own_exposure": "0"},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["guaranteed_amount"] == "750000.00" and response.data["is_assessed"]
    assert Guarantor.objects.filter(application_id=pk).count() == 1


def test_a_wrong_amount_comes_back_in_the_section_with_its_field_message(filed):
    pk, rm = filed["pk"], filed["rm"]
    guarantor = Guarantor.objects.get(application_id=pk)
    response = rm.post(
        reverse("investigation-guarantor-assess", args=[pk, guarantor.pk]),
        {f"g{guarantor.pk}-guaranteed_amount": "-5", f"g{guarantor.pk}-notes": "kept"},
        **HTMX,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.startswith('<section id="guarantors"')
    assert "Ensure this value is greater than or equal to 0." in body
    assert "kept</textarea>" in body  # what was typed stays
    guarantor.refresh_from_db()
    assert guarantor.guaranteed_amount is None


def test_a_guarantor_of_another_application_is_not_found(filed, investigating):
    pk, rm = filed["pk"], filed["rm"]
    guarantor = Guarantor.objects.get(application_id=pk)
    response = rm.post(
        reverse("investigation-guarantor-assess", args=[investigating.pk, guarantor.pk]),
        {f"g{guarantor.pk}-guaranteed_amount": "1", f"g{guarantor.pk}-own_exposure": "0"},
        **HTMX,
    )
    assert response.status_code == 404
    guarantor.refresh_from_db()
    assert guarantor.guaranteed_amount is None


def test_a_guarantor_with_documents_on_file_cannot_be_removed(filed, api, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from intake.models import DocumentType

    pk, rm = filed["pk"], filed["rm"]
    guarantor = Guarantor.objects.get(application_id=pk)
    DocumentType.objects.get_or_create(code="guarantor_id", defaults={"name": "Guarantor's ID"})
    uploaded = api(staff["rm"]).post(
        reverse("api-documents", args=[pk]),
        {
            "document_type": "guarantor_id",
            "guarantor": guarantor.pk,
            "file": SimpleUploadedFile("id.pdf", b"%PDF-1.4\n%id\n"),
        },
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.data
    response = rm.post(reverse("investigation-guarantor-remove", args=[pk, guarantor.pk]), **HTMX)
    assert response.status_code == 409
    assert "has documents on file" in response.content.decode()
    assert Guarantor.objects.filter(pk=guarantor.pk).exists()
