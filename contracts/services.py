"""Writes of the contracts: template versions (copied, never edited once in use), preparing
an application's contracts from its approved offer, rendering their PDFs after commit, and
signing: each party in turn (the borrower's legal representative on the portal or face to
face in the branch, each guarantor in the branch), then the bank's authorised signer. Every
signature is confirmed with a one-time code (portal.verification) and records the signer's
identity, the time and the SHA-256 of the exact PDF signed, sealed by the e-signature
provider (contracts.esign)."""

import hashlib
import logging
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from applications.selectors import application_get
from audit.services import audit_record, audit_refusal
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, SegregationOfDuties
from common.queue import enqueue_on_commit
from contracts import selectors
from contracts.esign import Signer, esign_provider
from contracts.models import ContractDocument, ContractKind, ContractTemplate, Party, Signature
from disbursement.models import Offer
from org.permissions import has_role_perm
from org.roles import Role, has_role, primary_role
from org.selectors import is_staff_member
from portal.verification import (
    Outcome,
    address_masked,
    address_parse,
    code_refusal,
    code_send,
    code_use,
    owner_code_address,
)

logger = logging.getLogger(__name__)

SUBJECT = "contracts.contractdocument"


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- Template versions -----------------------------------------------------------------------


def contract_template_copy(*, template: ContractTemplate) -> ContractTemplate:
    """A new, inactive version of the template with the same text, to edit."""
    with transaction.atomic():
        number = (
            ContractTemplate.objects.select_for_update()
            .filter(kind=template.kind, product=template.product, language=template.language)
            .aggregate(n=Max("version"))["n"]
            or 0
        ) + 1
        return ContractTemplate.objects.create(
            kind=template.kind,
            product=template.product,
            language=template.language,
            version=number,
            name=template.name,
            name_zh=template.name_zh,
            body=template.body,
        )


def contract_template_activate(*, template: ContractTemplate) -> None:
    """Make this version the one new contracts use, and freeze it."""
    with transaction.atomic():
        ContractTemplate.objects.select_for_update().filter(
            kind=template.kind, product=template.product, language=template.language
        ).exclude(pk=template.pk).filter(is_active=True).update(is_active=False)
        template.is_active = True
        template.activated_at = template.activated_at or timezone.now()
        template.save(update_fields=["is_active", "activated_at"])


def contract_template_defaults_ensure() -> int:
    """Version 1 of each default template, active, where there is none (a flushed
    database; migration 0002 seeds a new one). Returns how many were created."""
    from contracts.defaults import DEFAULT_TEMPLATES

    created = 0
    for kind, language, name, name_zh, body in DEFAULT_TEMPLATES:
        if ContractTemplate.objects.filter(kind=kind, language=language, product=None).exists():
            continue
        ContractTemplate.objects.create(
            kind=kind,
            language=language,
            version=1,
            name=name,
            name_zh=name_zh,
            body=body,
            is_active=True,
            activated_at=timezone.now(),
        )
        created += 1
    return created


# --- Preparing the contracts -----------------------------------------------------------------


def _in_signing_state(application) -> None:
    if application.status not in selectors.SIGNING_STATES:
        raise Conflict(
            _("Contracts are prepared and signed only for an approved application."),
            code="transition_not_allowed",
        )


def contracts_prepare(*, application_id: int, actor) -> list[ContractDocument]:
    """The relationship manager prepares every required contract not prepared yet, each
    filled from the active template version for the product and the application's language;
    their PDFs are rendered after the commit. Returns the contracts created."""
    application = application_get(user=actor, pk=application_id)
    if not (is_staff_member(actor) and has_role_perm(actor, "contracts.prepare_contracts")):
        raise Forbidden(_("Only the relationship manager prepares the contracts."))
    with transaction.atomic():
        application = application_get(user=actor, pk=application_id, for_update=True)
        _in_signing_state(application)
        offer = Offer.objects.defer("pdf").filter(application=application).first()
        if offer is None:
            raise Conflict(_("There is no offer for this application."), code="no_offer")
        language = "en" if (application.language or "").startswith("en") else "zh-hans"
        existing = {
            (c.kind, c.guarantor_id, c.collateral_id)
            for c in ContractDocument.objects.filter(application=application)
        }
        created = []
        for required in selectors.contracts_required(application):
            if required.key in existing:
                continue
            template = selectors.template_for(
                kind=required.kind, product=application.product, language=language
            )
            if template is None:
                raise Conflict(
                    _("There is no active template for the %(contract)s.")
                    % {"contract": required.label()},
                    code="no_template",
                )
            created.append(
                _contract_create(application, offer, required, template, language, actor)
            )
        for contract in created:
            enqueue_on_commit(_render_task(), contract.pk)
    return created


def _render_task():
    from contracts.tasks import render_contract_pdf

    return render_contract_pdf


def _contract_create(application, offer, required, template, language, actor) -> ContractDocument:
    from contracts.pdf import contract_context, contract_text

    count = ContractDocument.objects.filter(application=application, kind=required.kind).count()
    prefix = {ContractKind.LOAN: "JK", ContractKind.GUARANTEE: "BZ", ContractKind.PLEDGE: "DY"}
    number = f"{prefix[required.kind]}-{application.reference}-{count + 1}"
    context = contract_context(
        application=application,
        offer=offer,
        number=number,
        guarantor=required.guarantor,
        collateral=required.collateral,
    )
    contract = ContractDocument.objects.create(
        application=application,
        kind=required.kind,
        number=number,
        template=template,
        guarantor=required.guarantor,
        collateral=required.collateral,
        language=language,
        text=contract_text(template=template, context=context),
        prepared_by=actor,
    )
    if not template.is_frozen:  # pragma: no cover - only active versions are chosen
        template.activated_at = timezone.now()
        template.save(update_fields=["activated_at"])
    audit_record(
        action="contract_prepared",
        actor=actor,
        actor_role=primary_role(actor),
        application=application,
        kind="action",
        subject_type=SUBJECT,
        subject_id=contract.pk,
        data={
            "number": number,
            "kind": required.kind,
            "template_id": template.pk,
            "template_version": template.version,
            "language": language,
        },
    )
    return contract


def contract_render(*, contract_id: int) -> ContractDocument | None:
    """Render a prepared contract's PDF and store it with its SHA-256 (Celery task body).
    Once ready it is never rendered again: the parties sign exactly that file."""
    from contracts.pdf import render_contract

    contract = (
        ContractDocument.objects.select_related("application", "template")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None or contract.pdf_status == ContractDocument.PdfStatus.READY:
        return contract
    try:
        content = render_contract(contract)
    except Exception as exc:  # noqa: BLE001 - any rendering failure is recorded, not raised
        logger.exception("Contract %s failed to render", contract_id)
        ContractDocument.objects.filter(pk=contract_id).exclude(
            pdf_status=ContractDocument.PdfStatus.READY
        ).update(pdf_status=ContractDocument.PdfStatus.FAILED, error=str(exc)[:2000])
        return ContractDocument.objects.get(pk=contract_id)
    with transaction.atomic():
        contract = ContractDocument.objects.select_for_update().get(pk=contract_id)
        if contract.pdf_status == ContractDocument.PdfStatus.READY:
            return contract
        contract.file.save(f"{contract.number}.pdf", ContentFile(content), save=False)
        contract.sha256 = sha256_of(content)
        contract.pdf_status = ContractDocument.PdfStatus.READY
        contract.error = ""
        contract.save(update_fields=["file", "sha256", "pdf_status", "error"])
    return contract


def contract_render_signed(*, contract_id: int) -> ContractDocument | None:
    """Render the signed contract (its text and the signature page) and store it with its
    SHA-256 (Celery task body, after the bank's signature commits)."""
    from contracts.pdf import render_signed

    contract = (
        ContractDocument.objects.select_related("application", "template")
        .filter(pk=contract_id, status=ContractDocument.Status.SIGNED)
        .first()
    )
    if contract is None or contract.signed_sha256:
        return contract
    signatures = contract.signatures.select_related("witness").order_by("signed_at", "id")
    content = render_signed(contract, signatures)
    with transaction.atomic():
        contract = ContractDocument.objects.select_for_update().get(pk=contract_id)
        if contract.signed_sha256:
            return contract
        contract.signed_file.save(f"{contract.number}-signed.pdf", ContentFile(content), save=False)
        contract.signed_sha256 = sha256_of(content)
        contract.save(update_fields=["signed_file", "signed_sha256"])
        audit_record(
            action="contract_signed_pdf_stored",
            actor=None,
            actor_role="system",
            application=contract.application,
            kind="action",
            subject_type=SUBJECT,
            subject_id=contract.pk,
            data={"number": contract.number, "signed_sha256": contract.signed_sha256},
        )
    return contract


def contracts_render_pending(*, older_than_seconds: int = 120, limit: int = 50) -> int:
    """Sweep: render the contract PDFs and signed PDFs still missing a while after they were
    due (their enqueue after commit was lost). Returns how many were rendered."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        ContractDocument.objects.filter(
            pdf_status=ContractDocument.PdfStatus.PENDING, prepared_at__lt=cutoff
        ).values_list("pk", flat=True)[:limit]
    )
    for contract_id in pending:
        contract_render(contract_id=contract_id)
    unsigned_pdf = list(
        ContractDocument.objects.filter(
            status=ContractDocument.Status.SIGNED, signed_sha256="", signed_at__lt=cutoff
        ).values_list("pk", flat=True)[:limit]
    )
    for contract_id in unsigned_pdf:
        contract_render_signed(contract_id=contract_id)
    return len(pending) + len(unsigned_pdf)


# --- Signing ---------------------------------------------------------------------------------


def _purpose(contract: ContractDocument, party: str) -> str:
    return f"contract_sign:{contract.pk}:{party}"


def _locked_contract(application, contract_id: int) -> ContractDocument:
    contract = (
        ContractDocument.objects.select_for_update()
        .filter(pk=contract_id, application=application)
        .first()
    )
    if contract is None:
        raise NotFound()
    contract.application = application
    return contract


def _ready_to_sign(contract: ContractDocument, party: str, document_sha256: str) -> None:
    """409 unless `party` may sign `contract` now, the PDF they read being the one stored."""
    _in_signing_state(contract.application)
    if contract.pdf_status != ContractDocument.PdfStatus.READY:
        raise Conflict(_("The contract's PDF is still being prepared."), code="pdf_pending")
    if party == Party.BANK:
        if contract.status != ContractDocument.Status.AWAITING_BANK:
            raise Conflict(
                _("The bank signs last, once every other party has signed."),
                code="parties_first",
            )
    else:
        if party not in contract.required_parties():
            raise InvalidInput(details={"party": [_("This party does not sign this contract.")]})
        if contract.status != ContractDocument.Status.AWAITING_PARTIES or (
            contract.signatures.filter(party=party).exists()
        ):
            raise Conflict(_("This party has already signed."), code="already_signed")
    if document_sha256 and document_sha256 != contract.sha256:
        raise Conflict(
            _("The contract changed since it was opened. Read it again before signing."),
            code="contract_changed",
        )


def _code_address(*, actor, party: str, method: str, address: str) -> tuple[str, str]:
    """Where the code goes: in the branch, the signer's mobile number or e-mail address as
    they give it; otherwise the actor's own (the address they proved, or their e-mail)."""
    if method == Signature.Method.BRANCH:
        return address_parse(address)
    own = owner_code_address(actor)
    if own is None:
        raise Conflict(
            _("There is no mobile number or e-mail address to send a code to."),
            code="no_code_address",
        )
    return own


def _check_signer(*, actor, party: str, method: str) -> None:
    """403 unless the actor may sign (or witness) as `party` by `method`; 400 when the
    party does not sign that way (the bank signs only as the bank, the others never)."""
    if method not in Signature.Method.values:
        raise InvalidInput(details={"method": [_("Choose how the contract is signed.")]})
    if party not in Party.values or (party == Party.BANK) != (method == Signature.Method.BANK):
        raise InvalidInput(details={"party": [_("This party does not sign this way.")]})
    if method == Signature.Method.PORTAL:
        if party != Party.BORROWER or not has_role(actor, Role.APPLICANT):
            raise Forbidden(_("Only the borrower signs on the portal."))
        if not has_role_perm(actor, "contracts.sign_contract"):
            raise Forbidden()
    elif method == Signature.Method.BRANCH:
        if not (is_staff_member(actor) and has_role_perm(actor, "contracts.sign_contract")):
            raise Forbidden(_("Only a relationship manager witnesses a signing in the branch."))
    elif not (is_staff_member(actor) and has_role_perm(actor, "contracts.sign_for_bank")):
        raise Forbidden(_("Only the bank's authorised signer signs for the bank."))


def contract_signing_code_send(
    *,
    application_id: int,
    contract_id: int,
    actor,
    party: str,
    method: str,
    language: str,
    address: str = "",
) -> tuple[str, str]:
    """Send the one-time code that confirms `party`'s signature of the contract: to the
    owner's own address on the portal, to the signer's mobile number or e-mail address in the branch, to the
    authorised signer's own address for the bank. Returns (channel, address masked)."""
    application = application_get(user=actor, pk=application_id)
    _check_signer(actor=actor, party=party, method=method)
    with transaction.atomic():
        contract = _locked_contract(application, contract_id)
        _ready_to_sign(contract, party, "")
        channel, address = _code_address(actor=actor, party=party, method=method, address=address)
        code_send(
            purpose=_purpose(contract, party),
            channel=channel,
            address=address,
            language=language,
            actor=actor,
            application=application,
        )
    return channel, address_masked(channel, address)


def contract_sign(
    *,
    application_id: int,
    contract_id: int,
    actor,
    party: str,
    method: str,
    otp: str,
    document_sha256: str = "",
    read_confirmed: bool = True,
    id_number: str = "",
    address: str = "",
    client_ip: str | None = None,
) -> Signature:
    """`party` signs the contract's PDF (the one whose SHA-256 is `document_sha256`, when
    given), confirmed with the code sent by contract_signing_code_send:

    - on the portal (method "portal"), the owner signs as the borrower's legal
      representative, having confirmed they read the contract (`read_confirmed`);
    - in the branch (面签, method "branch"), the signer shows their ID card to the staff
      member who witnesses it (`actor`), who enters its number (`id_number`, checked against
      the record) and the code the signer received on `address`;
    - for the bank (method "bank"), the authorised signer, last, who neither prepared the
      contract nor witnessed a signature of it.

    404 outside the actor's scope, 403 for the wrong role or a breach of segregation of
    duties, 409 out of turn, 400 on a wrong code, identity or confirmation."""
    application = application_get(user=actor, pk=application_id)
    _check_signer(actor=actor, party=party, method=method)
    outcome = None
    refusal = None
    try:
        with transaction.atomic():
            contract = _locked_contract(application, contract_id)
            _ready_to_sign(contract, party, document_sha256)
            name, recorded_id = selectors.party_identity(contract, party)
            errors: dict[str, list[str]] = {}
            if method == Signature.Method.PORTAL and read_confirmed is not True:
                errors["read_confirmed"] = [_("Confirm that you have read the contract.")]
            if method == Signature.Method.BRANCH and (
                (id_number or "").strip().upper() != (recorded_id or "").upper() or not recorded_id
            ):
                errors["id_number"] = [_("The ID number does not match the signer's on record.")]
            if not (otp or "").strip():
                errors["otp"] = [_("Enter the code that was sent.")]
            if errors:
                raise InvalidInput(next(iter(errors.values()))[0], details=errors)
            if method == Signature.Method.BANK:
                name = actor.get_full_name() or actor.username
                recorded_id = ""
                witnesses = set(
                    contract.signatures.exclude(witness=None).values_list("witness_id", flat=True)
                )
                if actor.pk == contract.prepared_by_id or actor.pk in witnesses:
                    refusal = SegregationOfDuties(
                        _(
                            "You prepared this contract or witnessed its signing, so another "
                            "authorised signer must sign for the bank."
                        )
                    )
                    raise refusal
            channel, address = _code_address(
                actor=actor, party=party, method=method, address=address
            )
            outcome = code_use(purpose=_purpose(contract, party), address=address, code=otp)
            if outcome == Outcome.OK:
                signature = _signed(
                    contract=contract,
                    actor=actor,
                    party=party,
                    method=method,
                    signer=Signer(party=party, name=name, id_number=recorded_id or ""),
                    channel=channel,
                    address=address,
                    client_ip=client_ip,
                )
    except SegregationOfDuties as exc:
        audit_refusal(
            action="contract_sign_for_bank",
            actor=actor,
            actor_role=primary_role(actor),
            application=application,
            reason=str(exc.message),
            code=exc.code,
        )
        raise
    if outcome != Outcome.OK:
        raise code_refusal(outcome, field="otp")
    return signature


def _signed(
    *, contract, actor, party, method, signer: Signer, channel, address, client_ip
) -> Signature:
    provider = esign_provider()
    signed_at = timezone.now()
    signature = Signature.objects.create(
        contract=contract,
        party=party,
        method=method,
        signer_name=signer.name,
        signer_id_number=signer.id_number,
        user=actor if method != Signature.Method.BRANCH else None,
        witness=actor if method == Signature.Method.BRANCH else None,
        code_channel=channel,
        code_sent_to=address_masked(channel, address),
        document_sha256=contract.sha256,
        provider=provider.name,
        seal=provider.seal(signer=signer, document_sha256=contract.sha256, signed_at=signed_at),
        client_ip=client_ip,
        signed_at=signed_at,
    )
    from_state = contract.status
    method_of = contract.sign_by_bank if party == Party.BANK else contract.sign_by_party
    # The transition's own permission, as the role's group grants it (a witness in the
    # branch holds contracts.sign_contract for the party they witness).
    if not has_transition_perm(method_of, actor):
        raise Forbidden(code="role")
    if party == Party.BANK:
        if not can_proceed(contract.sign_by_bank):  # pragma: no cover - _ready_to_sign checked
            raise Conflict(code="transition_not_allowed")
        contract.sign_by_bank()
    else:
        signed = set(contract.signatures.values_list("party", flat=True))
        contract.sign_by_party(remaining=len(selectors.parties_remaining(contract, signed)))
    contract.save(update_fields=["status", "signed_at"])
    audit_record(
        action="contract_signed_by_bank" if party == Party.BANK else "contract_signed_by_party",
        actor=actor,
        actor_role=primary_role(actor),
        application=contract.application,
        kind="action",
        subject_type=SUBJECT,
        subject_id=contract.pk,
        data={
            "number": contract.number,
            "from": from_state,
            "to": contract.status,
            "party": party,
            "method": method,
            "signer": signer.name,
            "document_sha256": contract.sha256,
            "signature_id": signature.pk,
            "confirmed_with": "one_time_code",
            "provider": provider.name,
        },
    )
    if contract.status == ContractDocument.Status.SIGNED:
        from contracts.tasks import render_signed_contract_pdf

        enqueue_on_commit(render_signed_contract_pdf, contract.pk)
    return signature


def removal_refused(error, *, item: str) -> Conflict:
    """The 409 for a guarantor (`item="guarantor"`) or an item of collateral
    (`item="collateral"`) that cannot be removed because rows protect it (a ContractDocument
    names it once its contract is prepared): names the contracts, so the relationship manager
    knows why."""
    numbers = sorted(
        obj.number for obj in error.protected_objects if isinstance(obj, ContractDocument)
    )
    guarantor = item == "guarantor"
    if numbers:
        message = (
            _(
                "This guarantor is named in a contract already prepared (%(contracts)s) and "
                "cannot be removed."
            )
            if guarantor
            else _(
                "This item of collateral is named in a contract already prepared "
                "(%(contracts)s) and cannot be removed."
            )
        )
        return Conflict(message % {"contracts": ", ".join(numbers)}, code="in_contract")
    message = (
        _("This guarantor is referred to by other records and cannot be removed.")
        if guarantor
        else _("This item of collateral is referred to by other records and cannot be removed.")
    )
    return Conflict(message, code="referred_to")
