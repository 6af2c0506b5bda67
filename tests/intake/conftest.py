from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.models import ChecklistItem, DocumentType

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name: str = "licence.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def _documents_root(file_stores):
    return file_stores["documents"]


@pytest.fixture
def doc_types(db):
    types = {}
    for code, name in [
        ("business_licence", "Business licence"),
        ("property_certificate", "Property ownership certificate"),
        ("guarantor_id", "Guarantor's ID"),
        ("bank_statements", "Bank statements"),
        ("tax_returns", "Tax returns"),
    ]:
        types[code] = DocumentType.objects.create(code=code, name=name)
    return types


@pytest.fixture
def checklist(product, doc_types):
    """Licence always; property certificate only for a mortgage; an ID per guarantor;
    bank statements before the investigation; tax returns optional."""
    rows = [
        ("submit", "business_licence", True, "", False),
        ("submit", "property_certificate", True, "mortgage", False),
        ("submit", "guarantor_id", True, "", True),
        ("start_investigation", "bank_statements", True, "", False),
        ("start_investigation", "tax_returns", False, "", False),
    ]
    return [
        ChecklistItem.objects.create(
            product=product,
            stage=stage,
            document_type=doc_types[code],
            required=required,
            only_for_guarantee_type=only,
            per_guarantor=per,
            position=i,
        )
        for i, (stage, code, required, only, per) in enumerate(rows)
    ]


AMOUNT = Decimal("800000.00")
