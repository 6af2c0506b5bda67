"""The loan file (档案) of a complete case: the ZIP lists every document the case produced,
its index's hashes verify every file, and nothing is deleted before its retention ends."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from pypdf import PdfReader

from common.errors import Conflict
from contracts.models import ArchiveEntry, ContractDocument
from disbursement.models import Disbursement, Offer
from disbursement.services import offer_render
from intake.models import ChecklistItem, Document, DocumentType
from investigation.models import CreditMemo, SiteVisit, SiteVisitPhoto
from postloan.models import InspectionTask, TaskAttachment
from tests import lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(product):
    for position, (stage, code) in enumerate(
        [("submit", "business_licence"), ("start_investigation", "bank_statements")]
    ):
        ChecklistItem.objects.create(
            product=product,
            stage=stage,
            document_type=DocumentType.objects.create(code=code, name=code.replace("_", " ")),
            required=True,
            position=position,
        )


@pytest.fixture
def complete_case(api, staff, company, product, checklist):
    """Filed, investigated (a site-visit photo), approved (the offer letter rendered),
    contracts signed, paid out, and a post-loan inspection with an attachment."""
    from postloan import demo

    demo.seed()  # the inspection rules: the payout schedules the first check
    pk = lifecycle.file_draft(api, staff, company, product, language="en")
    lifecycle.walk_to(api, staff, pk, "contract_signed")
    offer_render(offer_id=Offer.objects.get(application_id=pk).pk)
    visit = SiteVisit.objects.get(investigation__application_id=pk)
    photo = SiteVisitPhoto(visit=visit, extension="jpg", caption="Workshop")
    photo.image.save("workshop.jpg", ContentFile(b"\xff\xd8\xff photo bytes"), save=True)
    lifecycle.disburse(api, staff, pk)
    task = InspectionTask.objects.filter(loan__application_id=pk).order_by("pk").first()
    attached = api(staff["rm"]).post(
        reverse("api-postloan-task-attachments", args=[task.pk]),
        {"file": SimpleUploadedFile("use-of-funds.pdf", b"%PDF-1.4\n% receipts\n")},
        format="multipart",
    )
    assert attached.status_code == 201, attached.data
    return pk


def test_the_zip_of_a_complete_case_lists_every_document_it_produced(complete_case, api, staff):
    pk = complete_case
    response = api(staff["rm"]).get(reverse("api-loan-file-zip", args=[pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    index = json.loads(archive.read("index.json"))

    # What the case produced, read from where each stage keeps it.
    produced = {
        *(
            f"intake.document:{d}"
            for d in Document.objects.filter(application_id=pk).values_list("pk", flat=True)
        ),
        *(
            f"investigation.sitevisitphoto:{p}"
            for p in SiteVisitPhoto.objects.filter(
                visit__investigation__application_id=pk
            ).values_list("pk", flat=True)
        ),
        *(
            f"investigation.creditmemo:{m}"
            for m in CreditMemo.objects.filter(application_id=pk).values_list("pk", flat=True)
        ),
        f"disbursement.offer:{Offer.objects.get(application_id=pk).pk}",
        f"disbursement.disbursement:{Disbursement.objects.get(application_id=pk).pk}",
        *(
            f"postloan.taskattachment:{a}"
            for a in TaskAttachment.objects.filter(task__loan__application_id=pk).values_list(
                "pk", flat=True
            )
        ),
    }
    for contract in ContractDocument.objects.filter(application_id=pk):
        produced |= {
            f"contracts.contractdocument:{contract.pk}",
            f"contracts.contractdocument.signed:{contract.pk}",
        }
    assert len(produced) >= 9
    assert {d["source"] for d in index["documents"]} == produced

    # Every file is in the ZIP and has the hash the index gives; each entry says what it is.
    assert set(archive.namelist()) == {d["file"] for d in index["documents"]} | {
        "index.json",
        "index.pdf",
    }
    index_pdf = PdfReader(io.BytesIO(archive.read("index.pdf")))
    index_text = "".join(page.extract_text() for page in index_pdf.pages).replace("\n", "")
    for document in index["documents"]:
        assert document["file"] in index_text
        assert document["sha256"][:16] in index_text
    for document in index["documents"]:
        content = archive.read(document["file"])
        assert hashlib.sha256(content).hexdigest() == document["sha256"]
        assert document["size"] == len(content)
        assert document["kind"] and document["version"] >= 1 and document["created_at"]
    kinds = {d["kind"] for d in index["documents"]}
    assert kinds == {
        "intake_document",
        "site_visit_photo",
        "credit_memo",
        "offer_letter",
        "contract",
        "signed_contract",
        "disbursement_record",
        "postloan_attachment",
    }
    uploads = [d for d in index["documents"] if d["kind"] == "intake_document"]
    assert {d["uploaded_by"] for d in uploads} == {staff["rm"].username}


def test_the_verify_command_reports_the_first_altered_file_and_nothing_is_deleted_early(
    complete_case, capsys
):
    pk = complete_case
    call_command("loan_file_verify", str(pk))
    assert "verified" in capsys.readouterr().out
    document = Document.objects.filter(application_id=pk).order_by("pk").first()
    storage, name = document.file.storage, document.file.name
    with storage.open(name, "rb") as handle:
        content = bytearray(handle.read())
    content[0] ^= 0xFF
    storage.delete(name)
    storage.save(name, ContentFile(bytes(content)))
    with pytest.raises(SystemExit):
        call_command("loan_file_verify", str(pk))
    assert f"intake.document:{document.pk}" in capsys.readouterr().err

    entry = ArchiveEntry.objects.filter(application_id=pk).first()
    assert entry.retain_until.year >= entry.filed_at.year + 10
    with pytest.raises(Conflict):
        entry.delete()
    # The database refuses too, whatever deletes the row or rewrites its hash.
    with pytest.raises(DatabaseError), transaction.atomic():
        ArchiveEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ArchiveEntry.objects.filter(pk=entry.pk).update(sha256="0" * 64)
    assert ArchiveEntry.objects.get(pk=entry.pk).sha256 == entry.sha256
