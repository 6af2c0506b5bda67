"""The loan file (档案): every document a case produced, gathered from where each stage keeps
it (intake documents, the external-data answers as received with their consent and any signed
consent form, site-visit photos, credit memos, the approval records (each route with its reason,
each step's decision with the committee's votes), the offer letter, the contracts as prepared
and as signed, the disbursement record, post-loan alerts and inspections and their
attachments), filed as archive entries with the SHA-256 each had when filed and the retention
date its kind's configured period (RetentionPeriod) gave it then; downloadable as one ZIP with
a JSON (and PDF) index whose hashes verify every file; verified by recomputing every hash
(`loan_file_verify`, `manage.py loan_file_verify`). Credit facilities produce no document of
their own (their decisions are the approval records above).

When documents are filed (a choice, recorded here): `loan_file_items` is the one definition of
what belongs to the file, and `loan_file_record` files what is not filed yet. It runs only on
purpose, never as a side effect of reading: the explicit, audited action "file the loan file"
(staff page and `POST /api/v1/contracts/<id>/loan-file/`), the nightly job
(`contracts.tasks.file_loan_files`, also `manage.py loan_file_record`) and the verification
command. The index, the ZIP and the verification only read what was filed. Filing at the source
instead (on commit of every service that makes a document) would reach into eight apps'
services, some of them closed to change, for no stronger guarantee: until it is filed a document
is kept by its own app's rules (intake documents are versioned and never deleted, contracts and
signatures are append-only, records are protected rows); from filing on, the entry's own
`retain_until` (set at filing, never shortened: database triggers) refuses its deletion. A
record still changing (an approval step not decided, an alert still open, an inspection not
done, a query without an answer) is filed once it is final, so the hash filed never has to
change."""

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


def _json_reader(build: Callable[[], dict]) -> Callable[[], bytes]:
    """A record rendered as a JSON document (sorted keys, so the same record always hashes
    the same); built when read, not when gathered."""

    def read() -> bytes:
        return json.dumps(
            build(), indent=2, sort_keys=True, ensure_ascii=False, default=str
        ).encode()

    return read


def _username(user) -> str | None:
    return user.username if user is not None else None


def _when(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _external_data_items(application) -> list[LoanFileItem]:
    """Each answer from an external source as received, with the consent it was asked under;
    each signed consent form as scanned."""
    from datasources.models import Consent, SourceQuery

    items: list[LoanFileItem] = []
    for consent in (
        Consent.objects.filter(application=application)
        .exclude(signed_form="")
        .select_related("granted_by")
        .order_by("created_at", "id")
    ):
        name = consent.signed_form.name.rsplit("/", 1)[-1]
        items.append(
            LoanFileItem(
                DocumentKind.CONSENT_FORM,
                f"datasources.consent.form:{consent.pk}",
                1,
                f"signed consent form {consent.pk}",
                f"datasources/consent-{consent.pk}-{name}",
                consent.granted_by,
                consent.granted_at or consent.created_at,
                _file_reader(consent.signed_form),
            )
        )
    for query in (
        SourceQuery.objects.filter(
            application=application, answered_at__isnull=False, answer__isnull=False
        )
        .select_related("consent__granted_by", "requested_by")
        .order_by("answered_at", "id")
    ):

        def build(query=query) -> dict:
            consent = query.consent
            return {
                "application": application.reference,
                "query": query.pk,
                "source": query.source,
                "adapter": query.adapter,
                "credit_code": query.credit_code,
                "purpose": query.purpose,
                "requested_by": _username(query.requested_by),
                "requested_at": _when(query.requested_at),
                "answered_at": _when(query.answered_at),
                "reused_from": query.reused_from_id,
                "answer": query.answer,
                "consent": {
                    "id": consent.pk,
                    "channel": consent.channel,
                    "scope": consent.scope,
                    "granted_by": _username(consent.granted_by),
                    "granted_at": _when(consent.granted_at),
                    "valid_until": _when(consent.valid_until),
                    "signed_form": consent.signed_form.name or None,
                },
            }

        items.append(
            LoanFileItem(
                DocumentKind.EXTERNAL_DATA,
                f"datasources.sourcequery:{query.pk}",
                1,
                f"{query.get_source_display()} answer {query.pk}",
                f"datasources/{query.source}-{query.pk}.json",
                query.requested_by,
                query.answered_at,
                _json_reader(build),
            )
        )
    return items


def _approval_items(application) -> list[LoanFileItem]:
    """Each approval route once decided (its rule, steps and why), and each decided step with
    its decision, comment and the committee's votes."""
    from approvals.models import ApprovalRecord, ApprovalTask

    items: list[LoanFileItem] = []
    for record in (
        ApprovalRecord.objects.filter(application=application, decided_at__isnull=False)
        .select_related("matrix_version")
        .order_by("created_at", "id")
    ):

        def build_record(record=record) -> dict:
            return {
                "application": application.reference,
                "record": record.pk,
                "matrix_version": record.matrix_version.number if record.matrix_version else None,
                "rule": record.rule_name,
                "route": record.route,
                "reason": record.reason,
                "reason_data": record.reason_data,
                "fast_track": record.fast_track,
                "decided_by_system": record.decided_by_system,
                "status": record.status,
                "exposure": record.exposure,
                "terms": record.terms,
                "created_at": _when(record.created_at),
                "decided_at": _when(record.decided_at),
            }

        items.append(
            LoanFileItem(
                DocumentKind.APPROVAL_RECORD,
                f"approvals.approvalrecord:{record.pk}",
                1,
                f"approval route {record.pk}: {record.get_status_display()}",
                f"approvals/route-{record.pk}.json",
                None,
                record.decided_at,
                _json_reader(build_record),
            )
        )
    for task in (
        ApprovalTask.objects.filter(application=application, decided_at__isnull=False)
        .select_related("decided_by")
        .prefetch_related("votes__member")
        .order_by("decided_at", "id")
    ):

        def build_task(task=task) -> dict:
            return {
                "application": application.reference,
                "record": task.record_id,
                "task": task.pk,
                "kind": task.kind,
                "step_index": task.step_index,
                "step": task.step,
                "step_name": task.step_name,
                "step_name_zh": task.step_name_zh,
                "role": task.role,
                "decision": task.decision,
                "comment": task.comment,
                "decided_by": _username(task.decided_by),
                "decided_at": _when(task.decided_at),
                "votes": [
                    {
                        "member": vote.member.username,
                        "vote": vote.vote,
                        "comment": vote.comment,
                        "cast_at": _when(vote.cast_at),
                    }
                    for vote in task.votes.all()
                ],
            }

        items.append(
            LoanFileItem(
                DocumentKind.APPROVAL_RECORD,
                f"approvals.approvaltask:{task.pk}",
                1,
                f"approval step {task.step}: {task.get_decision_display()}",
                f"approvals/step-{task.pk}-{task.step}.json",
                task.decided_by,
                task.decided_at,
                _json_reader(build_task),
            )
        )
    return items


def _postloan_record_items(application) -> list[LoanFileItem]:
    """Each post-loan alert once closed and each inspection once done, as records."""
    from postloan.models import Alert, InspectionTask

    items: list[LoanFileItem] = []
    for alert in (
        Alert.objects.filter(loan__application=application, closed_at__isnull=False)
        .select_related("rule", "acknowledged_by", "closed_by")
        .order_by("created_at", "id")
    ):

        def build_alert(alert=alert) -> dict:
            return {
                "application": application.reference,
                "alert": alert.pk,
                "rule": alert.rule.code,
                "severity": alert.severity,
                "evidence": alert.evidence,
                "status": alert.status,
                "action_plan": alert.action_plan,
                "raised_at": _when(alert.created_at),
                "acknowledged_by": _username(alert.acknowledged_by),
                "acknowledged_at": _when(alert.acknowledged_at),
                "closed_by": _username(alert.closed_by),
                "closed_at": _when(alert.closed_at),
                "close_comment": alert.close_comment,
            }

        items.append(
            LoanFileItem(
                DocumentKind.POSTLOAN_RECORD,
                f"postloan.alert:{alert.pk}",
                1,
                f"alert {alert.pk} ({alert.severity})",
                f"postloan/alert-{alert.pk}.json",
                alert.closed_by,
                alert.closed_at,
                _json_reader(build_alert),
            )
        )
    for task in (
        InspectionTask.objects.filter(loan__application=application, completed_at__isnull=False)
        .select_related("completed_by")
        .order_by("completed_at", "id")
    ):

        def build_task(task=task) -> dict:
            return {
                "application": application.reference,
                "inspection": task.pk,
                "kind": task.kind,
                "method": task.method,
                "due_date": _when(task.due_date),
                "alert": task.alert_id,
                "questions": task.questions,
                "answers": task.answers,
                "findings": task.findings,
                "outcome": task.outcome,
                "revenue_previous": task.revenue_previous,
                "revenue_current": task.revenue_current,
                "status": task.status,
                "completed_by": _username(task.completed_by),
                "completed_at": _when(task.completed_at),
            }

        items.append(
            LoanFileItem(
                DocumentKind.POSTLOAN_RECORD,
                f"postloan.inspectiontask:{task.pk}",
                1,
                f"inspection {task.pk} ({task.get_kind_display()})",
                f"postloan/inspection-{task.pk}.json",
                task.completed_by,
                task.completed_at,
                _json_reader(build_task),
            )
        )
    return items


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
    items.extend(_external_data_items(application))
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
    items.extend(_approval_items(application))
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
    items.extend(_postloan_record_items(application))
    return items


def loan_file_record(*, application, actor=None) -> list[ArchiveEntry]:
    """File every document not filed yet, with the SHA-256 it has now and the retention date
    its kind's configured period gives it now; an entry once filed keeps both for good. An
    action taken on purpose (staff, nightly job, command), audited: each entry filed and the
    action itself. Returns the entries filed by this call."""
    filed = set(
        ArchiveEntry.objects.filter(application=application).values_list("source", "version")
    )
    created: list[ArchiveEntry] = []
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
        created.append(entry)
    audit_record(
        action="loan_file_recorded",
        actor=actor,
        actor_role="" if actor else "system",
        application=application,
        kind="action",
        subject_type="applications.loanapplication",
        subject_id=application.pk,
        data={"filed": len(created)},
    )
    return created


def loan_file_entries(application) -> list[ArchiveEntry]:
    """The application's entries as filed, oldest first (reading files nothing)."""
    return list(
        ArchiveEntry.objects.filter(application=application)
        .select_related("uploaded_by")
        .order_by("filed_at", "id")
    )


def loan_file_unfiled(application) -> int:
    """How many of the case's documents are not filed yet (the page says so)."""
    filed = set(
        ArchiveEntry.objects.filter(application=application).values_list("source", "version")
    )
    return sum(1 for i in loan_file_items(application) if (i.source, i.version) not in filed)


def loan_files_record_all() -> int:
    """The nightly job: file what every case produced since; the number of entries filed.
    Applications never submitted (drafts) have no loan file yet."""
    from applications.models import LoanApplication

    count = 0
    for application in LoanApplication.objects.exclude(status="draft").order_by("pk").iterator():
        count += len(loan_file_record(application=application))
    return count


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
    (and the same as index.pdf) listing each with its kind, version, source, uploader, time,
    retention and SHA-256. Files nothing: documents not filed yet are not in it. A file whose
    content no longer has the hash it was filed with is still included, as it is: the index
    then shows the mismatch to whoever checks it."""
    entries = loan_file_entries(application)
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
