"""The loan file (档案): every document a case produced, gathered from where each stage keeps
it (intake documents, site-visit photos, credit memos, the offer letter, the contracts as
prepared and as signed, the disbursement record, post-loan attachments), filed as archive
entries with the SHA-256 each had when filed; downloadable as one ZIP with a JSON index
whose hashes verify every file; verified by recomputing every hash (`loan_file_verify`,
`manage.py loan_file_verify`)."""

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import ArchiveEntry, ContractDocument, DocumentKind


@dataclass
class LoanFileItem:
    kind: str
    source: str
    version: int
    title: str
    filename: str
    uploaded_by: object
    created_at: datetime
    read: Callable[[], bytes]


def _file_reader(field) -> Callable[[], bytes]:
    """Read a stored file through its storage (never by path: any store works)."""

    def read() -> bytes:
        with field.storage.open(field.name, "rb") as handle:
            return handle.read()

    return read


def _disbursement_record(disbursement) -> bytes:
    return json.dumps(
        {
            "application": disbursement.application.reference,
            "account_number": disbursement.account_number,
            "amount": str(disbursement.amount),
            "currency": disbursement.currency,
            "value_date": disbursement.value_date.isoformat(),
            "maker": disbursement.maker.username,
            "made_at": disbursement.made_at.isoformat(),
            "checker": disbursement.checker.username if disbursement.checker else None,
            "checked_at": disbursement.checked_at.isoformat() if disbursement.checked_at else None,
        },
        indent=2,
        sort_keys=True,
    ).encode()


def loan_file_items(application) -> list[LoanFileItem]:
    """Every document of the application, wherever its stage keeps it."""
    from disbursement.models import Disbursement, Offer
    from intake.models import Document
    from investigation.models import CreditMemo, SiteVisitPhoto
    from postloan.models import TaskAttachment

    ref = application.reference
    items: list[LoanFileItem] = []
    for doc in (
        Document.objects.filter(application=application)
        .select_related("document_type", "uploaded_by")
        .order_by("uploaded_at", "id")
    ):
        items.append(
            LoanFileItem(
                DocumentKind.INTAKE_DOCUMENT,
                f"intake.document:{doc.pk}",
                doc.version,
                f"{doc.document_type.code} v{doc.version}: {doc.original_name}",
                f"intake/{doc.document_type.code}-v{doc.version}-{doc.pk}{doc.extension}",
                doc.uploaded_by,
                doc.uploaded_at,
                _file_reader(doc.file),
            )
        )
    for photo in (
        SiteVisitPhoto.objects.filter(visit__investigation__application=application)
        .select_related("visit__recorded_by")
        .order_by("created_at", "id")
    ):
        items.append(
            LoanFileItem(
                DocumentKind.SITE_VISIT_PHOTO,
                f"investigation.sitevisitphoto:{photo.pk}",
                1,
                photo.caption or f"site visit {photo.visit.visit_date}",
                f"investigation/photo-{photo.pk}.{photo.extension or 'bin'}",
                photo.visit.recorded_by,
                photo.created_at,
                _file_reader(photo.image),
            )
        )
    for memo in (
        CreditMemo.objects.filter(application=application, status=CreditMemo.Status.READY)
        .select_related("requested_by")
        .order_by("version")
    ):
        items.append(
            LoanFileItem(
                DocumentKind.CREDIT_MEMO,
                f"investigation.creditmemo:{memo.pk}",
                memo.version,
                f"credit memo v{memo.version}",
                f"investigation/credit-memo-v{memo.version}.pdf",
                memo.requested_by,
                memo.rendered_at or memo.created_at,
                _file_reader(memo.file),
            )
        )
    offer = Offer.objects.filter(application=application, status=Offer.Status.READY).first()
    if offer is not None and offer.pdf:
        content = bytes(offer.pdf)
        items.append(
            LoanFileItem(
                DocumentKind.OFFER_LETTER,
                f"disbursement.offer:{offer.pk}",
                1,
                "offer letter",
                f"disbursement/offer-{ref}.pdf",
                None,
                offer.rendered_at or offer.created_at,
                lambda content=content: content,
            )
        )
    for contract in ContractDocument.objects.filter(application=application).select_related(
        "prepared_by"
    ):
        if contract.sha256:
            items.append(
                LoanFileItem(
                    DocumentKind.CONTRACT,
                    f"contracts.contractdocument:{contract.pk}",
                    contract.template.version,
                    f"{contract.number} ({contract.get_kind_display()})",
                    f"contracts/{contract.number}.pdf",
                    contract.prepared_by,
                    contract.prepared_at,
                    _file_reader(contract.file),
                )
            )
        if contract.signed_sha256:
            items.append(
                LoanFileItem(
                    DocumentKind.SIGNED_CONTRACT,
                    f"contracts.contractdocument.signed:{contract.pk}",
                    1,
                    f"{contract.number} signed",
                    f"contracts/{contract.number}-signed.pdf",
                    None,
                    contract.signed_at,
                    _file_reader(contract.signed_file),
                )
            )
    disbursement = (
        Disbursement.objects.filter(application=application)
        .select_related("maker", "checker", "application")
        .first()
    )
    if disbursement is not None and disbursement.status == Disbursement.Status.CONFIRMED:
        content = _disbursement_record(disbursement)
        items.append(
            LoanFileItem(
                DocumentKind.DISBURSEMENT_RECORD,
                f"disbursement.disbursement:{disbursement.pk}",
                1,
                "disbursement record",
                f"disbursement/disbursement-{ref}.json",
                disbursement.maker,
                disbursement.checked_at or disbursement.made_at,
                lambda content=content: content,
            )
        )
    for attachment in (
        TaskAttachment.objects.filter(task__loan__application=application)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "id")
    ):
        items.append(
            LoanFileItem(
                DocumentKind.POSTLOAN_ATTACHMENT,
                f"postloan.taskattachment:{attachment.pk}",
                1,
                attachment.name,
                f"postloan/{attachment.pk}-{attachment.name}",
                attachment.uploaded_by,
                attachment.uploaded_at,
                _file_reader(attachment.file),
            )
        )
    return items


def loan_file_record(*, application, actor=None) -> list[ArchiveEntry]:
    """File every document not filed yet, with the SHA-256 it has now; an entry once filed
    keeps its hash for good. Returns the application's entries, oldest first."""
    filed = set(
        ArchiveEntry.objects.filter(application=application).values_list("source", "version")
    )
    for item in loan_file_items(application):
        if (item.source, item.version) in filed:
            continue
        content = item.read()
        now = timezone.now()
        try:
            with transaction.atomic():
                entry = ArchiveEntry.objects.create(
                    application=application,
                    kind=item.kind,
                    source=item.source,
                    version=item.version,
                    title=item.title[:300],
                    filename=item.filename[:300],
                    uploaded_by=item.uploaded_by,
                    created_at=item.created_at or now,
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=len(content),
                    filed_at=now,
                    retain_until=ArchiveEntry.retention_end(item.kind, now),
                )
                audit_record(
                    action="loan_file_entry_filed",
                    actor=actor,
                    actor_role="" if actor else "system",
                    application=application,
                    kind="action",
                    subject_type="contracts.archiveentry",
                    subject_id=entry.pk,
                    data={"source": item.source, "version": item.version, "sha256": entry.sha256},
                )
        except IntegrityError:  # filed meanwhile by a concurrent request: its hash stands
            continue
    return list(ArchiveEntry.objects.filter(application=application).order_by("filed_at", "id"))


@dataclass(frozen=True)
class Mismatch:
    source: str
    filename: str
    expected: str
    found: str


def loan_file_verify(*, application) -> Mismatch | None:
    """Recompute the hash of every filed document from its store; the first that differs
    from the hash it was filed with (or can no longer be read), else None."""
    readers = {(i.source, i.version): i for i in loan_file_items(application)}
    for entry in ArchiveEntry.objects.filter(application=application).order_by("filed_at", "id"):
        item = readers.get((entry.source, entry.version))
        try:
            found = hashlib.sha256(item.read()).hexdigest() if item else "missing"
        except OSError:
            found = "unreadable"
        if found != entry.sha256:
            return Mismatch(entry.source, entry.filename, entry.sha256, found)
    return None


def loan_file_index(application, entries) -> dict:
    return {
        "application": application.reference,
        "company": application.company.name,
        "generated_at": timezone.now().isoformat(),
        "documents": [
            {
                "file": entry.filename,
                "kind": entry.kind,
                "title": entry.title,
                "version": entry.version,
                "source": entry.source,
                "uploaded_by": entry.uploaded_by.username if entry.uploaded_by else None,
                "created_at": entry.created_at.isoformat(),
                "filed_at": entry.filed_at.isoformat(),
                "retain_until": entry.retain_until.isoformat(),
                "size": entry.size,
                "sha256": entry.sha256,
            }
            for entry in entries
        ],
    }


def loan_file_index_pdf(application, index: dict) -> bytes:
    """The index as a PDF for auditors: every file with its kind, version, uploader, time,
    retention and SHA-256, in the application's language."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from contracts.pdf import _stylesheet
    from disbursement.pdf import document_language, render_html

    language = document_language(application.language)
    with translation.override(language):
        labels = dict(DocumentKind.choices)
        documents = [
            {**d, "kind_display": str(labels.get(d["kind"], d["kind"]))} for d in index["documents"]
        ]
        html = render_to_string(
            "contracts/pdf/index.html",
            {
                "index": {**index, "documents": documents},
                "lang": language,
                "chinese": language == "zh-hans",
            },
        )
    return render_html(html, stylesheets=(_stylesheet(),))


def loan_file_zip(*, application, actor=None) -> bytes:
    """The loan file as one ZIP: every document filed, under its file name, and index.json
    (and the same as index.pdf) listing each with its kind, version, source, uploader, time and SHA-256. A file whose
    content no longer has the hash it was filed with is still included, as it is: the index
    then shows the mismatch to whoever checks it."""
    entries = loan_file_record(application=application, actor=actor)
    readers = {(i.source, i.version): i for i in loan_file_items(application)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            item = readers.get((entry.source, entry.version))
            if item is not None:
                archive.writestr(entry.filename, item.read())
        index = loan_file_index(application, entries)
        archive.writestr("index.json", json.dumps(index, indent=2, ensure_ascii=False))
        archive.writestr("index.pdf", loan_file_index_pdf(application, index))
    audit_record(
        action="loan_file_downloaded",
        actor=actor,
        actor_role="" if actor else "system",
        application=application,
        kind="action",
        subject_type="applications.loanapplication",
        subject_id=application.pk,
        data={"documents": len(entries)},
    )
    return buffer.getvalue()
