"""A loan contract signed by the owner on the portal and a guarantee contract signed face to
face in the branch, then by the bank, through the pages; every hash checked; one byte of a
stored file altered and the loan file's verification finds it."""

import hashlib
import re

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from audit.models import AuditEvent
from contracts.esign import BuiltInProvider, Signer
from contracts.loanfile import loan_file_record, loan_file_verify
from contracts.models import ContractDocument, ContractKind, Party, Signature
from contracts.services import contract_render, contract_render_signed

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _code(django_capture_on_commit_callbacks, post) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = post()
    assert response.status_code == 302, response.content[:500]
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def _sha(field) -> str:
    with field.storage.open(field.name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _prepare(staff, approved) -> dict[str, ContractDocument]:
    response = _client(staff["rm"]).post(reverse("contracts-prepare", args=[approved.pk]))
    assert response.status_code == 302
    for contract in ContractDocument.objects.filter(application=approved):
        assert contract_render(contract_id=contract.pk).pdf_status == "ready"
    return {c.kind: c for c in ContractDocument.objects.filter(application=approved)}


def _sign_in_branch(
    client, capture, contract, *, party, id_number, address="g@example.cn", code=None
):
    one = [contract.application_id, contract.pk]
    if code is None:
        code = _code(
            capture,
            lambda: client.post(
                reverse("contracts-code", args=one),
                {"party": party, "method": "branch", "address": address},
            ),
        )
    client.last_code = code
    return client.post(
        reverse("contracts-sign", args=one),
        {
            "party": party,
            "method": "branch",
            "address": address,
            "id_number": id_number,
            "otp": code,
            "document_sha256": contract.sha256,
        },
    )


def _sign_for_bank(client, capture, contract):
    one = [contract.application_id, contract.pk]
    code = _code(
        capture,
        lambda: client.post(
            reverse("contracts-code", args=one), {"party": "bank", "method": "bank"}
        ),
    )
    return client.post(
        reverse("contracts-sign", args=one),
        {"party": "bank", "method": "bank", "otp": code, "document_sha256": contract.sha256},
    )


def test_a_loan_and_a_guarantee_contract_signed_on_the_portal_and_in_the_branch(
    approved, staff, owner, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    contracts = _prepare(staff, approved)
    assert set(contracts) == {ContractKind.LOAN, ContractKind.GUARANTEE}
    loan, guarantee = contracts[ContractKind.LOAN], contracts[ContractKind.GUARANTEE]
    assert "Zhang Wei" in guarantee.text and approved.company.name in loan.text
    assert "120000.00 CNY" in loan.text and "Pledge of receivables" in loan.text

    # The owner signs the loan contract on the portal, having read it.
    portal = _client(owner)
    page = portal.get(reverse("portal-contracts", args=[approved.pk]))
    assert page.status_code == 200 and loan.number in page.content.decode()
    one = [approved.pk, loan.pk]
    code = _code(capture, lambda: portal.post(reverse("portal-contract-code", args=one)))
    unread = portal.post(
        reverse("portal-contract-sign", args=one),
        {"otp": code, "documents_sha256": loan.sha256},
    )
    assert unread.status_code == 400
    signed = portal.post(
        reverse("portal-contract-sign", args=one),
        {"otp": code, "documents_sha256": loan.sha256, "read_confirmed": "on"},
    )
    assert signed.status_code == 302, signed.content[:500]
    loan.refresh_from_db()
    assert loan.status == ContractDocument.Status.AWAITING_BANK

    # The guarantor signs theirs face to face, witnessed by the relationship manager; the
    # wrong ID number is refused.
    rm = _client(staff["rm"])
    guarantor_id = guarantee.guarantor.id_number
    wrong = _sign_in_branch(rm, capture, guarantee, party="guarantor", id_number="X" * 18)
    assert wrong.status_code == 400
    with translation.override("en"):
        assert "does not match" in wrong.content.decode()
    ok = _sign_in_branch(
        rm, capture, guarantee, party="guarantor", id_number=guarantor_id, code=rm.last_code
    )
    assert ok.status_code == 302, ok.content[:500]

    # The bank signs last: the branch head, through the staff page.
    head = _client(staff["head"])
    for contract in (loan, guarantee):
        assert _sign_for_bank(head, capture, contract).status_code == 302
        contract_render_signed(contract_id=contract.pk)
        contract.refresh_from_db()
        assert contract.status == ContractDocument.Status.SIGNED

    # Every hash: each signature names the exact PDF the parties read, which the store still
    # holds; the signed PDF's hash is its content's; each seal verifies.
    provider = BuiltInProvider()
    for contract in (loan, guarantee):
        assert _sha(contract.file) == contract.sha256
        assert _sha(contract.signed_file) == contract.signed_sha256
        signatures = list(contract.signatures.all())
        assert [s.party for s in signatures] == [*contract.required_parties(), Party.BANK]
        for s in signatures:
            assert s.document_sha256 == contract.sha256
            assert provider.verify(
                seal=s.seal,
                signer=Signer(party=s.party, name=s.signer_name, id_number=s.signer_id_number),
                document_sha256=s.document_sha256,
                signed_at=s.signed_at,
            )
        with contract.signed_file.storage.open(contract.signed_file.name, "rb") as handle:
            text = "".join(page.extract_text() for page in PdfReader(handle).pages)
        for s in signatures:
            assert s.signer_name in text
        assert contract.sha256[:16] in text.replace("\n", "")
    portal_signature = loan.signatures.get(party=Party.BORROWER)
    assert portal_signature.method == Signature.Method.PORTAL
    assert portal_signature.user == owner
    assert portal_signature.signer_id_number == approved.company.legal_representative_id
    branch_signature = guarantee.signatures.get(party=Party.GUARANTOR)
    assert branch_signature.method == Signature.Method.BRANCH
    assert branch_signature.witness == staff["rm"]
    assert branch_signature.signer_id_number == guarantor_id
    assert branch_signature.code_sent_to == "g***@example.cn"
    assert (
        AuditEvent.objects.filter(application=approved, action="contract_signed_by_party").count()
        == 2
    )
    assert (
        AuditEvent.objects.filter(application=approved, action="contract_signed_by_bank").count()
        == 2
    )

    # The loan file verifies, until one byte of a stored file changes.
    entries = loan_file_record(application=approved)
    assert {e.source for e in entries} >= {
        f"contracts.contractdocument:{loan.pk}",
        f"contracts.contractdocument.signed:{guarantee.pk}",
    }
    assert loan_file_verify(application=approved) is None
    verified = _client(staff["rm"]).post(
        reverse("contracts-loan-file-verify", args=[approved.pk]), follow=True
    )
    with translation.override("en"):
        assert "Every document of the loan file has the hash" in verified.content.decode()

    storage, name = guarantee.signed_file.storage, guarantee.signed_file.name
    with storage.open(name, "rb") as handle:
        content = bytearray(handle.read())
    content[len(content) // 2] ^= 0x01
    storage.delete(name)
    assert storage.save(name, ContentFile(bytes(content))) == name

    mismatch = loan_file_verify(application=approved)
    assert mismatch is not None
    assert mismatch.source == f"contracts.contractdocument.signed:{guarantee.pk}"
    assert mismatch.expected == guarantee.signed_sha256
    assert mismatch.found == hashlib.sha256(bytes(content)).hexdigest()
    from tests.conftest import api_for

    answer = api_for(staff["rm"]).post(reverse("api-loan-file-verify", args=[approved.pk]))
    assert answer.status_code == 200
    assert answer.data["ok"] is False and answer.data["source"] == mismatch.source


def test_the_bank_signs_last_and_not_the_person_who_prepared_it(
    approved, staff, branch, django_capture_on_commit_callbacks
):
    from org.roles import Role
    from tests.factories import make_staff

    capture = django_capture_on_commit_callbacks
    contracts = _prepare(staff, approved)
    loan = contracts[ContractKind.LOAN]
    head = _client(staff["head"])
    one = [approved.pk, loan.pk]
    early = head.post(reverse("contracts-code", args=one), {"party": "bank", "method": "bank"})
    assert early.status_code == 409

    rm = _client(staff["rm"])
    legal_id = approved.company.legal_representative_id
    assert (
        _sign_in_branch(rm, capture, loan, party="borrower", id_number=legal_id).status_code == 302
    )
    again = _sign_in_branch(rm, capture, loan, party="borrower", id_number=legal_id, code="1")
    assert again.status_code == 409

    # The relationship manager, also an authorised signer, prepared it and witnessed it.
    both = make_staff([Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD], branch, username="both")
    ContractDocument.objects.filter(pk=loan.pk).update(prepared_by=both)
    refused = _sign_for_bank(_client(both), capture, loan)
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(
        application=approved, action="contract_sign_for_bank", kind=AuditEvent.Kind.REFUSAL
    ).exists()
    assert _sign_for_bank(head, capture, loan).status_code == 302


def test_only_the_rm_prepares_and_an_owner_cannot_sign_for_the_bank(approved, staff, owner, api):
    refused = api(staff["disburser"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    assert refused.status_code == 403
    prepared = api(staff["rm"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    assert prepared.status_code == 201
    assert len(prepared.data["contracts"]) == 2
    again = api(staff["rm"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    assert again.status_code == 201 and len(again.data["contracts"]) == 2
    contract = ContractDocument.objects.filter(application=approved).first()
    contract_render(contract_id=contract.pk)
    staff_only = api(owner).post(
        reverse("api-contracts-sign", args=[approved.pk, contract.pk]),
        {"party": "bank", "method": "bank", "otp": "123456"},
        format="json",
    )
    assert staff_only.status_code == 403
    mine = api(owner).get(reverse("api-portal-contracts", args=[approved.pk]))
    assert mine.status_code == 200
    assert {row["kind"] for row in mine.data} == {"loan", "guarantee"}
    assert [row["can_sign"] for row in mine.data if row["kind"] == "guarantee"] == [False]


def test_the_sweep_renders_contracts_whose_render_was_lost(approved, staff, api):
    from datetime import timedelta

    from django.utils import timezone

    from contracts.services import contracts_render_pending

    prepared = api(staff["rm"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    assert prepared.status_code == 201
    assert contracts_render_pending() == 0  # just prepared: the worker has them
    ContractDocument.objects.filter(application=approved).update(
        prepared_at=timezone.now() - timedelta(minutes=5)
    )
    assert contracts_render_pending() == 2
    for contract in ContractDocument.objects.filter(application=approved):
        assert contract.pdf_status == "ready" and _sha(contract.file) == contract.sha256
