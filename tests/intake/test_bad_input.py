"""Bad input is answered 400 with a message that says what to fix, and nothing is stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import LoanApplication
from customers.models import Company
from intake.models import Document, Guarantor
from tests import lifecycle
from tests.factories import make_uscc
from tests.intake.conftest import pdf

pytestmark = pytest.mark.django_db


def _wrong_check_digit() -> str:
    code = make_uscc()
    return code[:17] + ("0" if code[17] != "0" else "1")


def test_a_wrong_credit_code_check_digit_is_a_field_error(api, staff):
    response = api(staff["rm"]).post(
        reverse("api-company-find-or-create"),
        {
            "credit_code": _wrong_check_digit(),
            "name": "Typo Trading",
            "industry_code": "F51",
            "registration_date": "2018-01-01",
            "legal_representative": "Zhao Liu",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "check character" in response.data["credit_code"][0]
    assert not Company.objects.filter(name="Typo Trading").exists()


def test_a_new_company_is_created_and_found_again_by_its_credit_code(api, staff, branch):
    code = make_uscc()
    client = api(staff["rm"])
    response = client.post(
        reverse("api-company-find-or-create"), {"credit_code": code}, format="json"
    )
    assert response.status_code == 400
    assert set(response.data) >= {"name", "industry_code", "registration_date"}
    payload = {
        "credit_code": code.lower(),
        "name": "New Trading",
        "industry_code": "F51",
        "registration_date": "2018-01-01",
        "legal_representative": "Zhao Liu",
    }
    response = client.post(reverse("api-company-find-or-create"), payload, format="json")
    assert response.status_code == 201, response.data
    assert response.data["company"]["home_branch"] == branch.pk
    response = client.post(
        reverse("api-company-find-or-create"), {"credit_code": code}, format="json"
    )
    assert response.status_code == 200
    assert response.data["created"] is False


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("amount", "9000000.00", "The amount must be between"),
        ("term_months", 48, "The term must be between 3 and 36 months"),
    ],
)
def test_an_amount_or_term_outside_the_product_is_a_field_error(
    api, staff, company, product, field, value, message
):
    payload = {
        "company": company.pk,
        "product": product.pk,
        "amount": "800000.00",
        "term_months": 12,
        "interest_rate": "4.350",
        "repayment_method": "equal_instalments",
        "guarantee_type": "credit",
    }
    payload[field] = value
    response = api(staff["rm"]).post(reverse("api-applications"), payload, format="json")
    assert response.status_code == 400
    assert message in response.data[field][0]
    assert not LoanApplication.objects.exists()


@pytest.fixture
def draft(api, staff, company, product, checklist):
    return lifecycle.file_draft(api, staff, company, product)


def _upload(client, pk, file, **extra):
    return client.post(
        reverse("api-documents", args=[pk]),
        {"document_type": "business_licence", "file": file, **extra},
        format="multipart",
    )


def _nothing_stored(root):
    assert not Document.objects.exists()
    assert not root.exists() or not any(path.is_file() for path in root.rglob("*"))


def test_an_oversized_file_is_refused(api, staff, draft, settings, _documents_root):
    settings.LOANFLOW_MAX_UPLOAD_BYTES = 1024
    response = _upload(api(staff["rm"]), draft, pdf(content=b"%PDF-1.4\n" + b"0" * 2000))
    assert response.status_code == 400
    assert "Please send a smaller scan" in response.data["file"][0]
    _nothing_stored(_documents_root)


def test_an_oversized_file_at_the_default_ten_megabytes_is_refused(
    api, staff, draft, _documents_root
):
    big = pdf(content=b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))
    response = _upload(api(staff["rm"]), draft, big)
    assert response.status_code == 400
    assert "the limit is 10.0 MB" in response.data["file"][0]
    _nothing_stored(_documents_root)


def test_an_html_file_renamed_pdf_is_refused_by_its_content(api, staff, draft, _documents_root):
    fake = SimpleUploadedFile(
        "licence.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )
    response = _upload(api(staff["rm"]), draft, fake)
    assert response.status_code == 400
    assert "PDF, JPEG, PNG" in response.data["file"][0]
    _nothing_stored(_documents_root)


def test_a_path_in_the_file_name_is_refused(api, staff, draft, _documents_root):
    response = _upload(api(staff["rm"]), draft, pdf(), name="../../etc/licence.pdf")
    assert response.status_code == 400
    assert "without folders" in response.data["file"][0]
    _nothing_stored(_documents_root)


def test_a_path_the_browser_sends_never_reaches_the_disk(api, staff, draft, _documents_root):
    response = _upload(api(staff["rm"]), draft, pdf("../../../outside.pdf"))
    assert response.status_code == 201
    document = Document.objects.get()
    assert document.original_name == "outside.pdf"
    stored = list(_documents_root.rglob("*.pdf"))
    assert len(stored) == 1 and stored[0].parent.parent == _documents_root
    assert stored[0].name != "outside.pdf" and len(stored[0].stem) == 32
    assert not (_documents_root.parent / "outside.pdf").exists()


def test_an_unknown_document_type_is_refused(api, staff, draft):
    response = api(staff["rm"]).post(
        reverse("api-documents", args=[draft]),
        {"document_type": "nope", "file": pdf()},
        format="multipart",
    )
    assert response.status_code == 400
    assert "document_type" in response.data
    assert not Document.objects.exists()


def test_a_wrong_legal_representative_id_number_is_a_field_error(api, staff):
    response = api(staff["rm"]).post(
        reverse("api-company-find-or-create"),
        {
            "credit_code": make_uscc(),
            "name": "Typo Trading",
            "industry_code": "F51",
            "registration_date": "2018-01-01",
            "legal_representative": "Zhao Liu",
            "legal_representative_id": "110101198001010011",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "check digit" in response.data["legal_representative_id"][0]
    assert not Company.objects.filter(name="Typo Trading").exists()


@pytest.mark.parametrize(
    ("kind", "id_number", "message"),
    [
        ("person", "110101198001010011", "check digit"),
        ("person", "91350100M000100Y43", "17 digits"),
        ("company", "110101198001010010", "check character"),
    ],
)
def test_a_guarantors_number_is_checked_for_their_kind(api, staff, draft, kind, id_number, message):
    response = api(staff["rm"]).post(
        reverse("api-guarantors", args=[draft]),
        {"kind": kind, "name": "Wang Wu", "id_number": id_number},
        format="json",
    )
    assert response.status_code == 400
    assert message in response.data["id_number"][0]
    assert not Guarantor.objects.exists()


def test_a_bad_history_flag_on_the_document_list_is_a_field_error(api, staff, draft):
    response = api(staff["rm"]).get(reverse("api-documents", args=[draft]), {"history": "x"})
    assert response.status_code == 400
    assert "history" in response.data


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("contract\u202efdp.exe", "contractfdp.pdf"),  # a right-to-left override
        ("poly.html", "poly.pdf"),
        ("scan", "scan.pdf"),
        ("营业执照.PDF", "营业执照.PDF"),
    ],
)
def test_a_display_name_loses_invisible_characters_and_takes_the_contents_extension(
    api, staff, draft, sent, shown
):
    response = _upload(api(staff["rm"]), draft, pdf(), name=sent)
    assert response.status_code == 201, response.data
    assert Document.objects.get().original_name == shown
