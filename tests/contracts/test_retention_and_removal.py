"""Retention periods are configured per kind in the admin (seeded with the periods the code
had); an entry keeps the retention date it was filed with, so a shorter period never lets an
entry go early. A guarantor or an item of collateral named in a prepared contract cannot be
removed: the intake and investigation APIs answer 409 with the contract's number, not 500."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from applications.models import LoanApplication
from common.errors import Conflict
from contracts.loanfile import loan_file_entries, loan_file_record
from contracts.models import (
    RETENTION_YEARS,
    ArchiveEntry,
    ContractDocument,
    DocumentKind,
    RetentionPeriod,
)
from contracts.services import contract_render
from intake.models import Collateral, Guarantor

pytestmark = pytest.mark.django_db


def _prepared(staff, approved) -> dict[str, ContractDocument]:
    client = Client()
    client.force_login(staff["rm"])
    response = client.post(reverse("contracts-prepare", args=[approved.pk]))
    assert response.status_code == 302
    for contract in ContractDocument.objects.filter(application=approved):
        assert contract_render(contract_id=contract.pk).pdf_status == "ready"
    return {c.kind: c for c in ContractDocument.objects.filter(application=approved)}


def _years_later(moment: datetime.datetime, years: int) -> datetime.date:
    return (moment + datetime.timedelta(days=round(365.25 * years))).date()


def test_the_periods_are_seeded_from_the_code_in_both_languages():
    periods = {p.kind: p for p in RetentionPeriod.objects.all()}
    assert set(periods) == set(DocumentKind.values)
    for kind, years in RETENTION_YEARS.items():
        assert periods[kind].years == years
        assert periods[kind].label and periods[kind].label_zh
    assert periods["signed_contract"].years == 30
    assert periods["signed_contract"].label_zh == "已签署合同"


def test_a_shorter_period_applies_to_new_filings_and_never_shortens_a_filed_entry(staff, approved):
    _prepared(staff, approved)
    filed = loan_file_record(application=approved, actor=staff["rm"])
    contract_entries = [e for e in filed if e.kind == DocumentKind.CONTRACT]
    assert contract_entries
    entry = contract_entries[0]
    assert entry.retain_until == _years_later(entry.filed_at, 30)

    # The administrator shortens the period for contracts through the admin.
    admin = get_user_model().objects.create_superuser("records_admin", "r@example.cn", "pw")
    client = Client()
    client.force_login(admin)
    period = RetentionPeriod.objects.get(kind=DocumentKind.CONTRACT)
    response = client.post(
        reverse("admin:contracts_retentionperiod_change", args=[period.pk]),
        {"years": "1", "label": period.label, "label_zh": period.label_zh},
    )
    assert response.status_code == 302, response.content[:800]
    assert RetentionPeriod.objects.get(pk=period.pk).years == 1
    assert ArchiveEntry.retention_end(DocumentKind.CONTRACT, timezone.now()) == _years_later(
        timezone.now(), 1
    )
    # Its kind cannot be changed, nor the period deleted.
    deleted = client.post(
        reverse("admin:contracts_retentionperiod_delete", args=[period.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert RetentionPeriod.objects.filter(pk=period.pk).exists()

    # The entry already filed keeps its date, in the model and in the database.
    entry.refresh_from_db()
    assert entry.retain_until == _years_later(entry.filed_at, 30)
    with pytest.raises(Conflict):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ArchiveEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ArchiveEntry.objects.filter(pk=entry.pk).update(retain_until=timezone.localdate())
    assert ArchiveEntry.objects.get(pk=entry.pk).retain_until == entry.retain_until
    # Lengthening stays possible (a legal hold).
    longer = entry.retain_until + datetime.timedelta(days=365)
    ArchiveEntry.objects.filter(pk=entry.pk).update(retain_until=longer)
    assert ArchiveEntry.objects.get(pk=entry.pk).retain_until == longer

    # Filing again keeps every date as it was.
    before = {e.pk: e.retain_until for e in loan_file_entries(approved)}
    loan_file_record(application=approved)
    assert {e.pk: e.retain_until for e in loan_file_entries(approved)} == before


def _back_to(application, status: str, **fields) -> None:
    # No transition leads an approved application back to where its guarantors can be
    # edited; the guard must hold all the same (a future reopening, an operator's repair).
    LoanApplication.objects.filter(pk=application.pk).update(status=status, **fields)


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_removing_a_guarantor_or_collateral_named_in_a_contract_answers_409(staff, approved):
    collateral = Collateral.objects.create(
        application=approved,
        kind=Collateral.Kind.values[0],
        description="Workshop machinery",
        declared_value=Decimal("200000.00"),
    )
    contracts = _prepared(staff, approved)
    guarantor = Guarantor.objects.get(application=approved)
    guarantee = ContractDocument.objects.get(application=approved, guarantor=guarantor)
    pledge = ContractDocument.objects.get(application=approved, collateral=collateral)
    assert contracts

    # Intake: the relationship manager, while the bank waits for the applicant.
    _back_to(approved, "info_requested")
    rm = _api(staff["rm"])
    with translation.override("en"):
        response = rm.delete(reverse("api-guarantor", args=[approved.pk, guarantor.pk]))
        assert response.status_code == 409, response.data
        assert response.data["code"] == "in_contract"
        assert guarantee.number in response.data["detail"]
        assert "guarantor" in response.data["detail"]
        response = rm.delete(reverse("api-collateral-item", args=[approved.pk, collateral.pk]))
        assert response.status_code == 409, response.data
        assert pledge.number in response.data["detail"]
    response = rm.delete(
        reverse("api-guarantor", args=[approved.pk, guarantor.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 409
    assert f"该保证人已列入已拟定的合同（{guarantee.number}）" in response.data["detail"]

    # Investigation: the investigator, while investigating.
    _back_to(approved, "investigation", investigator=staff["rm"])
    investigator = _api(staff["rm"])
    response = investigator.delete(
        reverse("api-investigation-guarantor", args=[approved.pk, guarantor.pk])
    )
    assert response.status_code == 409, response.data
    assert response.data["code"] == "in_contract"
    response = investigator.delete(
        reverse("api-investigation-collateral-item", args=[approved.pk, collateral.pk])
    )
    assert response.status_code == 409, response.data
    assert response.data["code"] == "in_contract"

    # Nothing was removed.
    assert Guarantor.objects.filter(pk=guarantor.pk).exists()
    assert Collateral.objects.filter(pk=collateral.pk).exists()


def test_a_guarantor_no_contract_names_is_still_removed(staff, approved):
    _prepared(staff, approved)
    # Added after the contracts were prepared: no contract names her.
    extra = Guarantor.objects.create(application=approved, name="Li Na", id_number="")
    assert not ContractDocument.objects.filter(guarantor=extra).exists()
    _back_to(approved, "info_requested")
    response = _api(staff["rm"]).delete(reverse("api-guarantor", args=[approved.pk, extra.pk]))
    assert response.status_code == 204
    assert not Guarantor.objects.filter(pk=extra.pk).exists()


def test_staff_file_on_purpose_and_the_nightly_job_files_the_rest(staff, owner, approved):
    from audit.models import AuditEvent
    from contracts.tasks import file_loan_files

    _prepared(staff, approved)
    client = Client()
    client.force_login(staff["rm"])
    with translation.override("en"):
        page = client.get(reverse("contracts-page", args=[approved.pk]))
    assert page.status_code == 200
    assert page.context["loan_file_entries"] == 0
    unfiled = page.context["loan_file_unfiled"]
    assert unfiled >= 2  # the loan and the guarantee contract as prepared
    assert not ArchiveEntry.objects.filter(application=approved).exists()

    # The owner has no loan file: the staff API refuses them.
    assert _api(owner).get(reverse("api-loan-file", args=[approved.pk])).status_code == 403
    assert _api(owner).post(reverse("api-loan-file", args=[approved.pk])).status_code == 403
    assert not ArchiveEntry.objects.filter(application=approved).exists()

    response = client.post(reverse("contracts-loan-file-record", args=[approved.pk]))
    assert response.status_code == 302
    assert ArchiveEntry.objects.filter(application=approved).count() == unfiled
    assert AuditEvent.objects.get(action="loan_file_recorded").actor == staff["rm"]
    page = client.get(reverse("contracts-page", args=[approved.pk]))
    assert page.context["loan_file_entries"] == unfiled
    assert page.context["loan_file_unfiled"] == 0

    # A document made afterwards is filed by the nightly job (as the system).
    assert file_loan_files() == 0
    from disbursement.models import Offer
    from disbursement.services import offer_render

    offer_render(offer_id=Offer.objects.get(application=approved).pk)
    assert file_loan_files() == 1
    entry = ArchiveEntry.objects.get(application=approved, kind=DocumentKind.OFFER_LETTER)
    filed = AuditEvent.objects.get(action="loan_file_entry_filed", subject_id=entry.pk)
    assert filed.actor is None and filed.actor_role == "system"
