"""Intake services: companies, declared guarantors and collateral, documents, information
requests, online applications and the pre-screen. Every write is atomic and audited."""

import hashlib
import logging
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, ProtectedError, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import OPEN_STATUSES, LoanApplication, Product, Status
from applications.selectors import (
    applicant_company_id,
    application_get,
    company_visible_to,
)
from applications.services import application_create, application_transition
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from customers.models import Company
from customers.uscc import validate_uscc
from intake.models import (
    AdmissionFacts,
    Collateral,
    Document,
    DocumentType,
    Guarantor,
    InfoRequest,
    NegativeListEntry,
    PrescreenResult,
    PrescreenRule,
    prescreen_entry_worded,
    prescreen_text,
)
from intake.selectors import prescreen_rules_for
from notifications.services import Formatted, notify
from org.permissions import has_role_perm
from org.roles import Role, has_role, primary_role
from org.selectors import is_staff_member, staff_branch

logger = logging.getLogger(__name__)

# While materials can still change (documents uploaded, requests answered).
MATERIAL_STATUSES = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.INVESTIGATION,
    Status.IN_APPROVAL,
    Status.INFO_REQUESTED,
)
# While the declared guarantors and collateral can change.
DECLARATION_STATUSES = (Status.DRAFT, Status.INFO_REQUESTED)


def _role(user) -> str:
    return primary_role(user) if user is not None else "system"


def _is_owner(user, application: LoanApplication) -> bool:
    return applicant_company_id(user) == application.company_id


def _may_edit_materials(user, application: LoanApplication) -> bool:
    if _is_owner(user, application):
        return True
    return is_staff_member(user) and (
        has_role_perm(user, "applications.create_application")
        or has_role_perm(user, "applications.request_information")
    )


def may_review_documents(user) -> bool:
    """Bank staff who may ask the applicant for information review their documents."""
    return is_staff_member(user) and has_role_perm(user, "applications.request_information")


def _owners_of(application: LoanApplication):
    User = get_user_model()
    return User.objects.filter(
        company_bindings__company_id=application.company_id,
        company_bindings__status="active",
        is_active=True,
    )


# --- Companies --------------------------------------------------------------------------------

COMPANY_FIELDS = (
    "name",
    "industry_code",
    "registration_date",
    "employees",
    "legal_representative",
    "legal_representative_id",
    "controlling_shareholder",
    "controlling_shareholder_id",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
)


def credit_code_clean(value: str) -> str:
    code = (value or "").strip().upper()
    try:
        validate_uscc(code)
    except ValidationError as exc:
        raise InvalidInput(
            _("The credit code is not valid."), details={"credit_code": list(exc.messages)}
        ) from None
    return code


@transaction.atomic
def company_find_or_create(
    *, actor, credit_code: str, data: dict | None = None
) -> tuple[Company, bool]:
    """Find a company by its unified social credit code, or create it in the actor's
    branch from `data` (staff only). A company outside the actor's scope (another branch's
    customer, with no application the actor may see) is not shown: 409."""
    if not is_staff_member(actor):
        raise Forbidden()
    code = credit_code_clean(credit_code)
    company = Company.objects.filter(credit_code=code).first()
    if company is not None:
        if not company_visible_to(user=actor, company=company):
            raise Conflict(
                _(
                    "This credit code belongs to a customer of another branch, whose details "
                    "are not shown here. Ask that branch to file the application or to "
                    "transfer the customer."
                ),
                code="company_of_another_branch",
            )
        _company_shareholder_update(actor=actor, company=company, data=data or {})
        return company, False
    data = dict(data or {})
    missing = {
        field: [_("This field is required.")]
        for field in ("name", "industry_code", "registration_date", "legal_representative")
        if not data.get(field)
    }
    if missing:
        raise InvalidInput(_("This company is new: please enter its details."), details=missing)
    company = Company(
        credit_code=code,
        home_branch=staff_branch(actor),
        **{k: v for k, v in data.items() if k in COMPANY_FIELDS},
    )
    try:
        company.full_clean()
    except ValidationError as exc:
        raise InvalidInput(details=exc.message_dict) from None
    company.save()
    audit_record(
        action="company_create",
        actor=actor,
        actor_role=_role(actor),
        kind="action",
        subject_type="customers.company",
        subject_id=company.pk,
        data={"credit_code": code},
    )
    return company, True


SHAREHOLDER_FIELDS = ("controlling_shareholder", "controlling_shareholder_id")


def _company_details_apply(company: Company, changes: dict) -> dict:
    """Set the changed details on the company, checked as a whole (400 with field messages),
    and save those that differ: what they were before ({} when nothing changed)."""
    before = {key: getattr(company, key) for key in changes}
    for key, value in changes.items():
        setattr(company, key, value)
    try:
        company.full_clean()
    except ValidationError as exc:
        raise InvalidInput(details=exc.message_dict) from None
    changed = {key: value for key, value in before.items() if getattr(company, key) != value}
    if changed:
        company.save(update_fields=list(changed))
    return changed


def _company_shareholder_update(*, actor, company: Company, data: dict) -> None:
    """At intake, a controlling shareholder entered for a customer the bank knows is recorded
    on it (the portfolio's group key, postloan.exposure.group_key), audited with what it
    replaced; the rest of an existing customer's details are edited in its record, not here.
    Nothing entered, or the same shareholder: nothing changes."""
    given = {field: str(data.get(field) or "").strip() for field in SHAREHOLDER_FIELDS}
    if not any(given.values()):
        return
    before = {field: getattr(company, field) for field in SHAREHOLDER_FIELDS}
    if not _company_details_apply(company, given):
        return
    audit_record(
        action="company_shareholder_update",
        actor=actor,
        actor_role=_role(actor),
        kind="action",
        subject_type="customers.company",
        subject_id=company.pk,
        data={"before": before, "after": {f: getattr(company, f) for f in SHAREHOLDER_FIELDS}},
    )


# --- Guarantors and collateral ----------------------------------------------------------------


def _declaration_application(*, actor, application_id: int) -> LoanApplication:
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not _may_edit_materials(actor, application):
        raise Forbidden()
    if application.status not in DECLARATION_STATUSES:
        raise Conflict(
            _(
                "Guarantors and collateral can only be changed on a draft or while "
                "the bank is waiting for you."
            ),
            code="not_editable",
        )
    return application


@transaction.atomic
def guarantor_add(
    *, actor, application_id: int, kind: str, name: str, id_number: str, relationship: str = ""
) -> Guarantor:
    application = _declaration_application(actor=actor, application_id=application_id)
    id_number = id_number.strip().upper()
    if kind == Guarantor.Kind.COMPANY:
        id_number = credit_code_clean(id_number)
    elif not id_number:
        raise InvalidInput(details={"id_number": [_("Enter the guarantor's ID number.")]})
    guarantor = Guarantor.objects.create(
        application=application,
        kind=kind,
        name=name.strip(),
        id_number=id_number,
        relationship=relationship,
    )
    audit_record(
        action="guarantor_add",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.guarantor",
        subject_id=guarantor.pk,
        data={"name": guarantor.name, "kind": kind},
    )
    return guarantor


@transaction.atomic
def guarantor_remove(*, actor, application_id: int, guarantor_id: int) -> None:
    application = _declaration_application(actor=actor, application_id=application_id)
    try:
        deleted, _rows = Guarantor.objects.filter(application=application, pk=guarantor_id).delete()
    except ProtectedError as error:  # named in a prepared contract: 409, not 500
        from contracts.services import removal_refused

        raise removal_refused(error, item="guarantor") from error
    if not deleted:
        raise NotFound()
    audit_record(
        action="guarantor_remove",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.guarantor",
        subject_id=guarantor_id,
    )


@transaction.atomic
def collateral_add(
    *,
    actor,
    application_id: int,
    kind: str,
    description: str,
    declared_value: Decimal,
    currency: str = "CNY",
) -> Collateral:
    application = _declaration_application(actor=actor, application_id=application_id)
    if declared_value <= 0:
        raise InvalidInput(details={"declared_value": [_("Enter a value above zero.")]})
    item = Collateral.objects.create(
        application=application,
        kind=kind,
        description=description.strip(),
        declared_value=declared_value,
        currency=currency,
    )
    audit_record(
        action="collateral_add",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.collateral",
        subject_id=item.pk,
        data={"declared_value": str(declared_value), "currency": currency},
    )
    return item


@transaction.atomic
def collateral_remove(*, actor, application_id: int, collateral_id: int) -> None:
    application = _declaration_application(actor=actor, application_id=application_id)
    try:
        deleted, _rows = Collateral.objects.filter(
            application=application, pk=collateral_id
        ).delete()
    except ProtectedError as error:  # named in a prepared contract: 409, not 500
        from contracts.services import removal_refused

        raise removal_refused(error, item="collateral") from error
    if not deleted:
        raise NotFound()
    audit_record(
        action="collateral_remove",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.collateral",
        subject_id=collateral_id,
    )


# --- Documents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


PDF = FileKind("application/pdf", ".pdf")
JPEG = FileKind("image/jpeg", ".jpg")
PNG = FileKind("image/png", ".png")
DOCX = FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
ALLOWED_TYPES_TEXT = "PDF, JPEG, PNG, DOCX, XLSX"


def sniff_file_kind(uploaded) -> FileKind | None:
    """The file's type by its content (magic bytes), never by its name."""
    uploaded.seek(0)
    head = uploaded.read(8)
    uploaded.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(uploaded) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            uploaded.seek(0)
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
    return None


def display_name_clean(name: str) -> str:
    # Invisible format characters go (a right-to-left override makes "contract\u202efdp.exe"
    # read as "contractexe.pdf").
    name = "".join(ch for ch in (name or "") if unicodedata.category(ch) != "Cf").strip()
    if not name:
        raise InvalidInput(details={"file": [_("The file has no name.")]})
    if "/" in name or "\\" in name or ".." in name or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(
            details={
                "file": [
                    _(
                        "The file name must be a plain name such as 'licence.pdf', without folders, "
                        "'..' or control characters."
                    )
                ]
            }
        )
    if len(name) > 200:
        raise InvalidInput(
            details={"file": [_("The file name is too long (200 characters at most).")]}
        )
    return name


def validate_upload(uploaded, *, name: str | None = None) -> tuple[FileKind, str]:
    """Check the upload before anything is stored: name, size and type by content."""
    display = display_name_clean(name if name is not None else uploaded.name)
    limit = settings.LOANFLOW_MAX_UPLOAD_BYTES
    if uploaded.size > limit:
        raise InvalidInput(
            details={
                "file": [
                    _(
                        "The file is %(size)s MB; the limit is %(limit)s MB. Please send a smaller scan "
                        "or split it."
                    )
                    % {"size": f"{uploaded.size / 1048576:.1f}", "limit": f"{limit / 1048576:.1f}"}
                ]
            }
        )
    if uploaded.size == 0:
        raise InvalidInput(details={"file": [_("The file is empty.")]})
    kind = sniff_file_kind(uploaded)
    if kind is None:
        raise InvalidInput(
            details={
                "file": [
                    _(
                        "This file is not a document we accept. Allowed types are %(types)s (checked by "
                        "the file's content, not its name)."
                    )
                    % {"types": ALLOWED_TYPES_TEXT}
                ]
            }
        )
    return kind, _named_as(display, kind)


def _named_as(display: str, kind: FileKind) -> str:
    """The display name with the extension of the type its content has ("poly.html" holding
    a PDF is shown as "poly.pdf"); ".jpeg" stays for a JPEG."""
    stem, dot, suffix = display.rpartition(".")
    known = {kind.extension, ".jpeg"} if kind is JPEG else {kind.extension}
    if dot and stem and f".{suffix.lower()}" in known:
        return display
    base = stem if dot and stem else display
    return f"{base[: 200 - len(kind.extension)]}{kind.extension}"


def upload_sha256(uploaded) -> str:
    """The SHA-256 of an uploaded file's bytes, kept with every stored upload (documents,
    message attachments), the file left at its start."""
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return digest.hexdigest()


@transaction.atomic
def document_upload(
    *,
    actor,
    application_id: int,
    document_type: str,
    file,
    guarantor_id: int | None = None,
    name: str | None = None,
    info_request_id: int | None = None,
) -> Document:
    """Store a new version of one document. Earlier versions stay (history)."""
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not _may_edit_materials(actor, application):
        raise Forbidden()
    if application.status not in MATERIAL_STATUSES:
        raise Conflict(
            _("Documents can no longer be added to this application."), code="not_editable"
        )
    doc_type = DocumentType.objects.filter(code=document_type).first()
    if doc_type is None:
        raise InvalidInput(details={"document_type": [_("Unknown document type.")]})
    guarantor = None
    if guarantor_id:
        guarantor = Guarantor.objects.filter(application=application, pk=guarantor_id).first()
        if guarantor is None:
            raise InvalidInput(details={"guarantor": [_("Unknown guarantor.")]})
    info_request = None
    if info_request_id:
        info_request = InfoRequest.objects.filter(
            application=application,
            pk=info_request_id,
            status=InfoRequest.Status.OPEN,
        ).first()
        if info_request is None:
            raise InvalidInput(details={"info_request": [_("This request is not open.")]})
    kind, display = validate_upload(file, name=name)
    previous = (
        Document.objects.select_for_update()
        .filter(
            application=application, document_type=doc_type, guarantor=guarantor, is_current=True
        )
        .first()
    )
    version = 1
    if previous is not None:
        version = previous.version + 1
        Document.objects.filter(pk=previous.pk).update(is_current=False)
    document = Document(
        application=application,
        document_type=doc_type,
        guarantor=guarantor,
        version=version,
        original_name=display,
        content_type=kind.content_type,
        extension=kind.extension,
        size=file.size,
        sha256=upload_sha256(file),
        uploaded_by=actor,
    )
    document.file.save("upload", file, save=False)
    document.save()
    audit_record(
        action="document_upload",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.document",
        subject_id=document.pk,
        data={
            "document_type": doc_type.code,
            "version": version,
            "size": document.size,
            "sha256": document.sha256,
        },
    )
    # A document answers the open request for the same type (or the one named).
    requests = InfoRequest.objects.select_for_update().filter(
        application=application, status=InfoRequest.Status.OPEN, kind=InfoRequest.Kind.DOCUMENT
    )
    if info_request is not None:
        requests = requests.filter(pk=info_request.pk)
    else:
        requests = requests.filter(document_type=doc_type)
    answered = list(requests)
    for item in answered:
        _mark_answered(item, actor=actor, document=document)
    if answered:
        _resume_if_complete(application, actor=actor)
    return document


@transaction.atomic
def document_review(
    *, actor, application_id: int, document_id: int, decision: str, reason: str = ""
) -> Document:
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not may_review_documents(actor):
        raise Forbidden(_("Only bank staff review documents."))
    document = (
        Document.objects.select_for_update().filter(application=application, pk=document_id).first()
    )
    if document is None:
        raise NotFound()
    if not document.is_current:
        raise Conflict(
            _("A newer version of this document exists; review that one."), code="superseded"
        )
    if decision not in ("accept", "reject"):
        raise InvalidInput(details={"decision": [_("Choose accept or reject.")]})
    if decision == "reject" and not reason.strip():
        raise InvalidInput(
            details={
                "reason": [
                    _("Say why the document is rejected, so the applicant knows what to fix.")
                ]
            }
        )
    status = Document.Status.ACCEPTED if decision == "accept" else Document.Status.REJECTED
    if document.status == status:
        raise Conflict(
            _("This document is already %(status)s.") % {"status": document.get_status_display()},
            code="already_reviewed",
        )
    document.status = status
    document.review_reason = reason.strip()
    document.reviewed_by = actor
    document.reviewed_at = timezone.now()
    document.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
    audit_record(
        action=f"document_{decision}",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.document",
        subject_id=document.pk,
        comment=document.review_reason,
        data={"document_type": document.document_type.code, "version": document.version},
    )
    if decision == "reject":
        for owner in _owners_of(application):
            notify(
                user=owner,
                kind="info_request",
                title=gettext_lazy("A document needs to be sent again"),
                body=Formatted(
                    gettext_lazy("%(doc)s: %(reason)s"),
                    doc=lazy(document.document_type.localized, str)("name"),
                    reason=document.review_reason,
                ),
                url=reverse("portal-apply-application", args=[application.pk]),
                application=application,
            )
    return document


# --- Information requests ---------------------------------------------------------------------


@transaction.atomic
def info_request_create(
    *, actor, application_id: int, items: list[dict], comment: str = ""
) -> list[InfoRequest]:
    """Ask the applicant for documents or answers. The application waits (info_requested)
    and returns to its stage when everything is answered."""
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not may_review_documents(actor):
        raise Forbidden(_("Only bank staff request information."))
    if not items:
        raise InvalidInput(details={"items": [_("Add at least one item.")]})
    created = []
    for index, item in enumerate(items):
        kind = item.get("kind")
        doc_type = None
        if kind == InfoRequest.Kind.DOCUMENT:
            doc_type = DocumentType.objects.filter(code=item.get("document_type") or "").first()
            if doc_type is None:
                raise InvalidInput(
                    details={
                        f"items[{index}].document_type": [_("Choose which document is needed.")]
                    }
                )
        text = (item.get("text") or "").strip() or (doc_type.name if doc_type else "")
        if not text:
            raise InvalidInput(details={f"items[{index}].text": [_("Say what is needed.")]})
        due = item.get("due_date")
        if due is not None and due < timezone.localdate():
            raise InvalidInput(
                details={f"items[{index}].due_date": [_("The due date is in the past.")]}
            )
        created.append(
            InfoRequest.objects.create(
                application=application,
                kind=kind,
                document_type=doc_type,
                text=text,
                due_date=due,
                requested_by=actor,
            )
        )
    ids = [request.pk for request in created]
    if application.status in (Status.SUBMITTED, Status.INVESTIGATION, Status.IN_APPROVAL):
        application_transition(
            application_id=application.pk,
            transition="request_information",
            actor=actor,
            comment=comment,
            data={"info_requests": ids},
        )
    elif application.status not in (Status.DRAFT, Status.INFO_REQUESTED):
        raise Conflict(
            _("Information can no longer be requested on this application."), code="not_editable"
        )
    for request in created:
        audit_record(
            action="info_request",
            actor=actor,
            actor_role=_role(actor),
            application=application,
            kind="action",
            subject_type="intake.inforequest",
            subject_id=request.pk,
            comment=request.text,
            data={"kind": request.kind, "due_date": str(request.due_date or "")},
        )
    for owner in _owners_of(application):
        notify(
            user=owner,
            kind="info_request",
            title=Formatted(
                gettext_lazy("The bank needs more information for %(ref)s"),
                ref=application.reference,
            ),
            body="\n".join(request.text for request in created),
            url=reverse("portal-apply-application", args=[application.pk]),
            application=application,
        )
    return created


def _mark_answered(
    request: InfoRequest, *, actor, answer: str = "", document: Document | None = None
) -> None:
    request.status = InfoRequest.Status.ANSWERED
    request.answer = answer
    request.answer_document = document
    request.answered_by = actor
    request.answered_at = timezone.now()
    request.save(
        update_fields=["status", "answer", "answer_document", "answered_by", "answered_at"]
    )
    audit_record(
        action="info_request_answer",
        actor=actor,
        actor_role=_role(actor),
        application=request.application,
        kind="action",
        subject_type="intake.inforequest",
        subject_id=request.pk,
        comment=answer[:500],
    )


def _resume_if_complete(application: LoanApplication, *, actor) -> None:
    if application.status != Status.INFO_REQUESTED:
        return
    if InfoRequest.objects.filter(application=application, status=InfoRequest.Status.OPEN).exists():
        return
    application_transition(
        application_id=application.pk,
        transition="resume",
        actor=None,
        system=True,
        comment=_("Everything requested was answered."),
        data={"note": "everything_answered"},
    )
    notify(
        user=application.relationship_manager,
        kind="status_change",
        title=Formatted(
            gettext_lazy("%(ref)s: the applicant answered everything"), ref=application.reference
        ),
        url=reverse("application-detail", args=[application.pk]),
        application=application,
    )


@transaction.atomic
def info_request_answer(*, actor, application_id: int, request_id: int, answer: str) -> InfoRequest:
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not _may_edit_materials(actor, application):
        raise Forbidden()
    request = (
        InfoRequest.objects.select_for_update()
        .filter(application=application, pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound()
    if request.status != InfoRequest.Status.OPEN:
        raise Conflict(_("This request is already answered."), code="answered")
    if request.kind == InfoRequest.Kind.DOCUMENT:
        raise InvalidInput(details={"answer": [_("This request needs a document: upload it.")]})
    if not answer.strip():
        raise InvalidInput(details={"answer": [_("Write your answer.")]})
    request.application = application
    _mark_answered(request, actor=actor, answer=answer.strip())
    _resume_if_complete(application, actor=actor)
    return request


@transaction.atomic
def info_request_cancel(*, actor, application_id: int, request_id: int) -> InfoRequest:
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not may_review_documents(actor):
        raise Forbidden()
    updated = InfoRequest.objects.filter(
        application=application, pk=request_id, status=InfoRequest.Status.OPEN
    ).update(status=InfoRequest.Status.CANCELLED)
    if not updated:
        raise NotFound()
    audit_record(
        action="info_request_cancel",
        actor=actor,
        actor_role=_role(actor),
        application=application,
        kind="action",
        subject_type="intake.inforequest",
        subject_id=request_id,
    )
    _resume_if_complete(application, actor=actor)
    return InfoRequest.objects.get(pk=request_id)


# --- Online applications ----------------------------------------------------------------------


def relationship_manager_pick(*, branch):
    """The branch's relationship manager with the least open work (one aggregate query)."""
    User = get_user_model()
    return (
        User.objects.filter(
            is_active=True, groups__name=Role.RELATIONSHIP_MANAGER, staff_profile__branch=branch
        )
        .annotate(
            open_work=Count(
                "managed_applications",
                distinct=True,
                # An active facility's application stays contract_signed: not open work
                # (LoanApplicationQuerySet.without_facility_applications).
                filter=Q(managed_applications__status__in=OPEN_STATUSES)
                & (
                    Q(managed_applications__product__facility_terms__isnull=True)
                    | Q(managed_applications__drawdown__isnull=False)
                ),
            )
        )
        .order_by("open_work", "id")
        .first()
    )


# What the owner may update on applying online (the controlling shareholder: the portfolio's
# group key, postloan.exposure.group_key).
ONLINE_COMPANY_FIELDS = (
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "employees",
    "controlling_shareholder",
    "controlling_shareholder_id",
)


@transaction.atomic
def application_apply_online(
    *,
    actor,
    product: Product,
    amount: Decimal,
    term_months: int,
    repayment_method: str,
    guarantee_type: str,
    purpose: str = "",
    interest_rate: Decimal | None = None,
    company_changes: dict | None = None,
    language: str = "zh-hans",
) -> LoanApplication:
    """An SME owner applies on the portal (7x24): a draft in the online channel, assigned to
    the home branch's least busy relationship manager, who is notified."""
    company_id = applicant_company_id(actor)
    if company_id is None or not has_role(actor, Role.APPLICANT):
        raise Forbidden(_("Only the company's registered owner can apply online."))
    if not product.is_open_on(timezone.localdate()):
        raise InvalidInput(details={"product": [_("This product is not open for applications.")]})
    company = Company.objects.select_related("home_branch").get(pk=company_id)
    changes = {
        k: v
        for k, v in (company_changes or {}).items()
        if k in ONLINE_COMPANY_FIELDS and v not in (None, "")
    }
    if changes:
        _company_details_apply(company, changes)
    branch = company.home_branch
    rm = relationship_manager_pick(branch=branch)
    if rm is None:
        raise Conflict(
            _("Your branch cannot take online applications right now; please call the branch."),
            code="no_relationship_manager",
        )
    # The rate is the bank's to set; an online request starts at the product's lowest rate.
    rate = interest_rate if interest_rate is not None else product.min_rate
    application = application_create(
        actor=actor,
        company=company,
        product=product,
        amount=amount,
        term_months=term_months,
        interest_rate=rate,
        repayment_method=repayment_method,
        guarantee_type=guarantee_type,
        purpose=purpose,
        channel=LoanApplication.Channel.ONLINE,
        relationship_manager=rm,
        branch=branch,
        language=language,
    )
    audit_record(
        action="assign_relationship_manager",
        actor=None,
        actor_role="system",
        application=application,
        kind="action",
        data={"relationship_manager": rm.pk, "rule": "least_open_work"},
    )
    notify(
        user=rm,
        kind="assignment",
        title=Formatted(
            gettext_lazy("New online application %(ref)s from %(company)s"),
            ref=application.reference,
            company=company.name,
        ),
        url=reverse("application-detail", args=[application.pk]),
        application=application,
    )
    return application


# --- Pre-screen -------------------------------------------------------------------------------


def negative_list_hits(application: LoanApplication) -> list[list]:
    """[code, params] for every party of the application found on the negative list."""
    company = application.company
    guarantors = list(application.guarantors.all())
    codes = {company.credit_code.upper()}
    ids = {company.legal_representative_id.upper()} - {""}
    names = {company.name.strip(), company.legal_representative.strip()}
    for guarantor in guarantors:
        (codes if guarantor.kind == Guarantor.Kind.COMPANY else ids).add(
            guarantor.id_number.upper()
        )
        names.add(guarantor.name.strip())
    entries = list(
        NegativeListEntry.objects.filter(is_active=True).filter(
            Q(credit_code__in=codes - {""}) | Q(id_number__in=ids - {""}) | Q(name__in=names - {""})
        )
    )
    hits = []

    def matches(entry, *, code="", id_number="", name=""):
        return (
            (entry.credit_code and entry.credit_code == code.upper())
            or (entry.id_number and entry.id_number == id_number.upper())
            or (entry.name and entry.name == name.strip())
        )

    for entry in entries:
        if matches(entry, code=company.credit_code, name=company.name):
            hits.append(["negative_company", {"name": company.name, "reason": entry.reason}])
        if matches(
            entry, id_number=company.legal_representative_id, name=company.legal_representative
        ):
            hits.append(
                [
                    "negative_representative",
                    {"name": company.legal_representative, "reason": entry.reason},
                ]
            )
        for guarantor in guarantors:
            if matches(
                entry, code=guarantor.id_number, id_number=guarantor.id_number, name=guarantor.name
            ):
                hits.append(
                    ["negative_guarantor", {"name": guarantor.name, "reason": entry.reason}]
                )
    return hits


def prescreen_evaluate(application: LoanApplication) -> tuple[list[dict], list[dict]]:
    """(checked, failures): each active rule for the product, with its reasons when it fails,
    kept as [code, params] ("messages", worded for each reader by prescreen_entry_worded) and
    in the words of the moment ("reasons"). Every rule but the negative list is assessed from
    the application's facts by PrescreenRule.assess, the one the owner's eligibility check
    runs (intake.selectors)."""
    facts = AdmissionFacts.of_application(application)
    terms = application.product_snapshot or application.product.snapshot()
    today = timezone.localdate()
    checked, failures = [], []
    for rule in prescreen_rules_for(product_id=application.product_id):
        if rule.kind == PrescreenRule.Kind.NEGATIVE_LIST:
            messages = negative_list_hits(application)
        else:
            messages = rule.assess(facts, terms=terms, today=today).messages
        entry = {
            "rule": rule.pk,
            "name": rule.name,
            "name_zh": rule.name_zh,
            "kind": rule.kind,
            "passed": not messages,
            "reasons": [prescreen_text(code, params) for code, params in messages],
            "messages": messages,
        }
        checked.append(entry)
        if messages:
            failures.append(entry)
    return checked, failures


def prescreen_record(*, application: LoanApplication, actor=None) -> PrescreenResult:
    """Run the pre-screen and record the result (call inside the submit's transaction)."""
    checked, failures = prescreen_evaluate(application)
    result = PrescreenResult.objects.create(
        application=application, passed=not failures, failures=failures, checked=checked
    )
    if not checked:
        return result  # no admission rules configured: nothing was screened
    audit_record(
        action="prescreen_pass" if result.passed else "prescreen_fail",
        actor=None,
        actor_role="system",
        application=application,
        kind="action",
        subject_type="intake.prescreenresult",
        subject_id=result.pk,
        data={
            "failures": [reason for f in failures for reason in f["reasons"]],
            "rules": [c["rule"] for c in checked],
        },
    )
    return result


def prescreen_on_submit(*, application: LoanApplication, actor) -> None:
    """The pre-screen runs with the submit and is recorded in its transaction; a failure is
    declined by the system right after the submit commits, so both stay in the trail."""
    result = prescreen_record(application=application, actor=actor)
    if not result.passed:
        application_id, result_id = application.pk, result.pk
        transaction.on_commit(
            lambda: prescreen_decline(application_id=application_id, result_id=result_id)
        )


def _failure_reasons(failures: list[dict]) -> str:
    """The failed rules' reasons, one a line, in the active language."""
    return "\n".join(
        reason for failure in failures for reason in prescreen_entry_worded(failure)["reasons"]
    )


def prescreen_decline(*, application_id: int, result_id: int) -> None:
    """Decline an application that failed the pre-screen (after the submit committed)."""
    result = PrescreenResult.objects.filter(pk=result_id).first()
    if result is None or result.passed:
        return
    reasons = [reason for failure in result.failures for reason in failure["reasons"]]
    try:
        application = application_transition(
            application_id=application_id,
            transition="decline",
            actor=None,
            system=True,
            comment=_("Declined by the pre-screen."),
            data={"reasons": reasons, "note": "prescreen_declined"},
        )
    except (Conflict, NotFound) as exc:
        logger.warning("Pre-screen decline of %s not taken: %s", application_id, exc)
        return
    notify(
        user=application.relationship_manager,
        kind="decision",
        title=Formatted(
            gettext_lazy("%(ref)s was declined by the pre-screen"), ref=application.reference
        ),
        body=lazy(_failure_reasons, str)(result.failures),
        url=reverse("application-detail", args=[application.pk]),
        application=application,
    )
