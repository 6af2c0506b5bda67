"""The payout waits until every required contract is signed by every party and the bank."""

import pytest
from django.urls import reverse
from django.utils import translation

from approvals.models import ApprovalCondition
from contracts.models import ContractDocument
from disbursement import services
from disbursement.models import Disbursement
from tests import lifecycle

pytestmark = pytest.mark.django_db


def _record(api, staff, pk):
    return api(staff["disburser"]).post(
        reverse("api-disbursement-record", args=[pk]),
        {"account_number": "6222020200112233", "amount": "120000.00", "value_date": "2026-12-01"},
        format="json",
    )


def test_disbursement_is_refused_while_a_contract_is_unsigned(approved, staff, api):
    lifecycle.sign_contract(api, staff, approved.pk)  # the offer's contract recorded
    for condition in ApprovalCondition.objects.filter(application=approved):
        services.condition_satisfy(
            application_id=approved.pk, condition_id=condition.pk, actor=staff["disburser"]
        )
    with translation.override("en"):
        refused = _record(api, staff, approved.pk)
    assert refused.status_code == 409
    assert refused.data["code"] == "contracts_unsigned"
    assert refused.data["missing"] == [
        "Loan contract (not signed)",
        "Guarantee contract: Zhang Wei (not signed)",
    ]
    assert not Disbursement.objects.filter(application=approved).exists()

    # Prepared and signed by the parties, but not yet by the bank: still refused.
    prepared = api(staff["rm"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    assert prepared.status_code == 201
    ContractDocument.objects.filter(application=approved, kind="guarantee").delete()
    with translation.override("en"):
        refused = _record(api, staff, approved.pk)
    assert refused.status_code == 409
    assert "Guarantee contract: Zhang Wei (not signed)" in refused.data["missing"]

    signed = lifecycle.sign_contracts(api, staff, approved.pk)
    assert {c["status"] for c in signed} == {"signed"}
    recorded = _record(api, staff, approved.pk)
    assert recorded.status_code == 201, recorded.data


def test_the_staff_page_says_what_the_payout_waits_for(approved, staff, client):
    client.force_login(staff["disburser"])
    with translation.override("en"):
        page = client.get(reverse("contracts-page", args=[approved.pk]))
        assert page.status_code == 200
        assert "Guarantee contract: Zhang Wei (not signed)" in page.content.decode()
