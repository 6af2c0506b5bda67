"""The loan file (档案) of a complete case: the ZIP lists every document the case produced,
its index's hashes verify every file, and nothing is deleted before its retention ends."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from approvals.models import ApprovalRecord, ApprovalTask
from audit.models import AuditEvent
from common.errors import Conflict
from contracts.models import ArchiveEntry, ContractDocument
from datasources.models import Consent, SourceQuery
from datasources.services import consent_record_signed, source_answer_fetch, source_query_request
from disbursement.models import Disbursement, Offer
from disbursement.services import offer_render
from intake.models import ChecklistItem, Document, DocumentType
from investigation.models import CreditMemo, SiteVisit, SiteVisitPhoto
from postloan.models import Alert, InspectionTask, TaskAttachment
from postloan.services import alert_close, task_complete
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
    """Filed, investigated (a site-visit photo), an external source asked under a signed
    consent form, approved (the offer letter rendered), contracts signed, paid out, and a
    post-loan inspection with an attachment, done with a negative finding whose alert was
    closed."""
    from postloan import demo

    demo.seed()  # the inspection rules: the payout schedules the first check
    pk = lifecycle.file_draft(api, staff, company, product, language="en")
    lifecycle.walk_to(api, staff, pk, "contract_signed")
    consent_record_signed(
        actor=staff["rm"],
        application_id=pk,
        scope=["tax"],
        valid_until=timezone.now() + timedelta(days=90),
        file=SimpleUploadedFile("consent.pdf", b"%PDF-1.4\n% signed consent form\n"),
    )
    (query,) = source_query_request(actor=staff["rm"], application_id=pk, sources=["tax"])
    assert source_answer_fetch(query_id=query.pk) == "arrived"
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
    task.refresh_from_db()
    task_complete(
        task_id=task.pk,
        actor=staff["rm"],
        findings="Funds diverted",
        outcome="negative",
        answers={q["key"]: "Checked" for q in task.questions},
    )
    # The negative finding raised alerts: one is closed (a final record), the others stay
    # open (not filed until they are closed).
    alert = Alert.objects.filter(loan__application_id=pk).order_by("pk").first()
    alert_close(alert_id=alert.pk, actor=staff["risk"], comment="Explained and repaid")
    return pk


def test_the_zip_of_a_complete_case_lists_every_document_it_produced(complete_case, api, staff):
    pk = complete_case
    client = api(staff["rm"])
    # Reading files nothing: the index, the ZIP and the verification write no entry and no
    # filing audit row.
    assert client.get(reverse("api-loan-file", args=[pk])).data["documents"] == []
    unfiled = zipfile.ZipFile(
        io.BytesIO(client.get(reverse("api-loan-file-zip", args=[pk])).content)
    )
    assert json.loads(unfiled.read("index.json"))["documents"] == []
    assert client.post(reverse("api-loan-file-verify", args=[pk])).data["ok"] is True
    assert not ArchiveEntry.objects.filter(application_id=pk).exists()
    assert not AuditEvent.objects.filter(action="loan_file_entry_filed").exists()

    # Filing is an explicit, audited action.
    filed = client.post(reverse("api-loan-file", args=[pk]))
    assert filed.status_code == 200
    entries = ArchiveEntry.objects.filter(application_id=pk).count()
    assert len(filed.data["documents"]) == entries
    assert AuditEvent.objects.filter(action="loan_file_entry_filed").count() == entries
    recorded = AuditEvent.objects.get(action="loan_file_recorded")
    assert recorded.actor == staff["rm"] and recorded.data == {"filed": entries}
    # Filing again files nothing more.
    assert client.post(reverse("api-loan-file", args=[pk])).status_code == 200
    assert ArchiveEntry.objects.filter(application_id=pk).count() == entries

    response = client.get(reverse("api-loan-file-zip", args=[pk]))
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
    produced |= {
        *(
            f"datasources.sourcequery:{q}"
            for q in SourceQuery.objects.filter(application_id=pk).values_list("pk", flat=True)
        ),
        *(
            f"datasources.consent.form:{c}"
            for c in Consent.objects.filter(application_id=pk).values_list("pk", flat=True)
        ),
        *(
            f"approvals.approvalrecord:{r}"
            for r in ApprovalRecord.objects.filter(application_id=pk).values_list("pk", flat=True)
        ),
        *(
            f"approvals.approvaltask:{t}"
            for t in ApprovalTask.objects.filter(
                application_id=pk, decided_at__isnull=False
            ).values_list("pk", flat=True)
        ),
        *(
            f"postloan.alert:{a}"
            for a in Alert.objects.filter(loan__application_id=pk, status="closed").values_list(
                "pk", flat=True
            )
        ),
        *(
            f"postloan.inspectiontask:{t}"
            for t in InspectionTask.objects.filter(
                loan__application_id=pk, status="done"
            ).values_list("pk", flat=True)
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
        "external_data",
        "consent_form",
        "approval_record",
        "postloan_record",
    }
    # The records say what they record: the answer as received with its consent, each
    # approval step's decision, the alert's closing.
    by_source = {d["source"]: d for d in index["documents"]}
    answer = json.loads(
        archive.read(
            by_source[f"datasources.sourcequery:{SourceQuery.objects.get(application_id=pk).pk}"][
                "file"
            ]
        )
    )
    query = SourceQuery.objects.get(application_id=pk)
    assert answer["answer"] == query.answer
    assert answer["consent"]["channel"] == "signed_form"
    assert answer["consent"]["granted_by"] == staff["rm"].username
    for task in ApprovalTask.objects.filter(application_id=pk, decided_at__isnull=False):
        step = json.loads(archive.read(by_source[f"approvals.approvaltask:{task.pk}"]["file"]))
        assert step["decision"] == task.decision and step["step"] == task.step
    record = ApprovalRecord.objects.filter(application_id=pk).first()
    route = json.loads(archive.read(by_source[f"approvals.approvalrecord:{record.pk}"]["file"]))
    assert route["route"] == record.route and route["reason"] == record.reason
    alert = json.loads(
        archive.read(
            by_source[
                f"postloan.alert:{Alert.objects.get(loan__application_id=pk, status='closed').pk}"
            ]["file"]
        )
    )
    assert alert["close_comment"] == "Explained and repaid"
    assert alert["closed_by"] == staff["risk"].username
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
