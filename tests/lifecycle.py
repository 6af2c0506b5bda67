"""How to walk an application through each stage through the API, one function per stage.

Each stage app's owner keeps its function true to the stage's real requirements (materials,
investigation, the approval route, maker-checker disbursement, ...), so every test that needs
an application in a given state gets there the way a user would.
"""

import re
from decimal import Decimal

from django.urls import reverse


def _post(client, name: str, pk: int, payload: dict | None = None, expect: int = 200):
    response = client.post(
        reverse(f"api-application-{name}", args=[pk]), payload or {}, format="json"
    )
    assert response.status_code == expect, (name, response.status_code, response.data)
    return response


def file_draft(api_for, staff, company, product, **overrides) -> int:
    payload = {
        "company": company.pk,
        "product": product.pk,
        "amount": "800000.00",
        "term_months": 12,
        "interest_rate": "4.350",
        "repayment_method": "equal_instalments",
        "guarantee_type": "credit",
        "purpose": "Working capital",
    }
    payload.update(overrides)
    response = api_for(staff["rm"]).post(reverse("api-applications"), payload, format="json")
    assert response.status_code == 201, response.data
    return response.data["id"]


def prepare_materials(api_for, staff, pk: int) -> None:
    """Intake: upload every required document of the checklist (both stages) through the API,
    and have the relationship manager accept each, so submit and start_investigation pass."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api_for(staff["rm"])
    response = client.get(reverse("api-checklist", args=[pk]))
    assert response.status_code == 200, response.data
    for line in response.data:
        if not line["required"] or line["state"] == "accepted":
            continue
        payload = {
            "document_type": line["document_type"],
            "file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%lifecycle\n"),
        }
        if line["guarantor"]:
            payload["guarantor"] = line["guarantor"]
        uploaded = client.post(reverse("api-documents", args=[pk]), payload, format="multipart")
        assert uploaded.status_code == 201, uploaded.data
        accepted = client.post(
            reverse("api-document-review", args=[pk, uploaded.data["id"]]),
            {"decision": "accept"},
            format="json",
        )
        assert accepted.status_code == 200, accepted.data


def submit(api_for, staff, pk: int) -> None:
    prepare_materials(api_for, staff, pk)
    _post(api_for(staff["rm"]), "submit", pk)


def start_investigation(api_for, staff, pk: int) -> None:
    _post(api_for(staff["rm"]), "start-investigation", pk)


def complete_investigation(api_for, staff, pk: int) -> None:
    """Investigation: questionnaire, verification, score and memo before approval (through
    the investigation API as the investigator; the memo is rendered here synchronously, as
    the Celery worker would after commit)."""
    from applications.models import LoanApplication
    from investigation import demo
    from investigation.services import memo_render

    application = LoanApplication.objects.select_related("product", "investigator").get(pk=pk)
    demo.seed_questionnaire(application.product)
    demo.seed_scorecard()
    demo.seed_policy()
    client = api_for(application.investigator or staff["rm"])

    def call(method: str, name: str, *args, payload=None, expect=200):
        url = reverse(f"api-investigation{name}", args=[pk, *args])
        response = getattr(client, method)(url, payload or {}, format="json")
        assert response.status_code == expect, (name, response.status_code, response.data)
        return response.data

    workspace = call("get", "")
    sample = {"text": "Checked on site", "number": "12", "yes_no": "no", "date": "2025-01-31"}
    call(
        "put",
        "-answers",
        payload={
            "answers": {
                q["code"]: (
                    q["choices"][0] if q["answer_type"] == "choice" else sample[q["answer_type"]]
                )
                for q in workspace["questions"]
            }
        },
    )
    call(
        "post",
        "-site-visits",
        expect=201,
        payload={
            "visit_date": "2025-01-15",
            "participants": "RM and the owner",
            "findings": "Busy workshop, stock as declared.",
        },
    )
    for period, revenue in (("year_before_last", "5000000.00"), ("last_year", "6000000.00")):
        call(
            "put",
            "-financials",
            period,
            payload={
                "revenue": revenue,
                "net_profit": "600000.00",
                "total_assets": "8000000.00",
                "total_liabilities": "3200000.00",
                "current_assets": "4000000.00",
                "current_liabilities": "2000000.00",
                "bank_inflows_12m": revenue,
                "tax_paid": "180000.00",
            },
        )
    sources = {
        "registration": "registry",
        "legal_representative": "registry",
        "address": "site_visit",
        "revenue": "tax_record",
        "tax": "tax_record",
        "bank_flows": "bank_statement",
        "collateral": "registry",
    }
    for item in workspace["verifications"]:
        call(
            "put",
            "-verification",
            item["fact"],
            payload={"status": "verified", "source": sources.get(item["fact"], "registry")},
        )
    call(
        "patch",
        "-assessment",
        payload={
            "repayment_record": "good",
            "tax_grade": "A",
            "industry_risk": "medium",
            "opinion": "Stable business; recommend approval.",
        },
    )
    call("post", "-score", expect=201)
    memo = call("post", "-memos", expect=202)
    assert memo_render(memo_id=memo["id"]).status == "ready"


def send_to_approval(api_for, staff, pk: int) -> None:
    complete_investigation(api_for, staff, pk)
    _post(api_for(staff["rm"]), "send-to-approval", pk)


def approve(api_for, staff, pk: int) -> None:
    """Approval: clear every step of the route through the approval queue, one distinct
    person per step (审贷分离); extra approvers/committee members are created as needed."""
    from applications.models import LoanApplication
    from approvals.models import ApprovalRecord
    from approvals.selectors import approver_limit
    from approvals.services import approval_fast_track_sweep
    from org.roles import Role
    from tests.factories import make_staff

    def state():
        response = api_for(staff["reviewer"]).get(reverse("api-approvals-application", args=[pk]))
        assert response.status_code == 200, response.data
        return response.data

    if ApprovalRecord.objects.filter(application_id=pk, status="pending_auto").exists():
        approval_fast_track_sweep()  # the on_commit task of a non-transactional test
    branch = staff["approver"].staff_profile.branch
    pools = {
        "credit_reviewer": [staff["reviewer"]],
        "approver": [staff["approver"]],
        "committee_member": [staff["committee"]],
    }
    application = LoanApplication.objects.get(pk=pk)
    data = state()
    for _ in range(10):
        if data["status"] != "in_progress":
            break
        step = data["steps"][data["current_step"]]
        task = data["current_task"]
        pool = pools[step["role"]]
        if step["role"] == "committee_member":
            quorum = ApprovalRecord.objects.filter(application_id=pk).first().committee_quorum
            while len(pool) < quorum:
                pool.append(
                    make_staff(
                        Role.COMMITTEE_MEMBER, branch, username=f"committee_{pk}_{len(pool)}"
                    )
                )
            chair = api_for(pool[0])
            r = chair.post(reverse("api-approvals-claim", args=[task]), format="json")
            assert r.status_code == 200, r.data
            for member in pool[:quorum]:
                r = api_for(member).post(
                    reverse("api-approvals-vote", args=[task]),
                    {"vote": "approve", "comment": "Sound"},
                    format="json",
                )
                assert r.status_code == 200, r.data
            r = chair.post(reverse("api-approvals-close-vote", args=[task]), {}, format="json")
            assert r.status_code == 200, r.data
        else:
            if (
                pool
                and step["role"] == "approver"
                and approver_limit(
                    user=pool[0], grade=application.risk_grade, currency=application.currency
                )
                < application.amount
            ):
                pool.pop(0)
            user = (
                pool.pop(0)
                if pool
                else make_staff(
                    Role.APPROVER,
                    branch,
                    username=f"approver_{pk}_{step['code']}",
                    limit=Decimal("100000000"),
                )
            )
            client = api_for(user)
            r = client.post(reverse("api-approvals-claim", args=[task]), format="json")
            assert r.status_code == 200, r.data
            r = client.post(
                reverse("api-approvals-decide", args=[task]),
                {"decision": "approve", "comment": "Good cash flow"},
                format="json",
            )
            assert r.status_code == 200, r.data
        data = state()
    assert data["status"] == "approved", data


def offer_code(api_for, owner, pk: int) -> str:
    """The owner asks for the code that confirms accepting the offer; it is read from the
    e-mail sent (the test owners have no mobile number as their login)."""
    from django.core import mail
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_for(owner).post(reverse("api-portal-offer-code", args=[pk]))
    assert response.status_code == 202, ("offer_code", response.status_code, response.data)
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def accept_offer(api_for, owner, pk: int, **client_kwargs):
    """Contract, as the owner signs it: they read the offer (its digest as shown), confirm
    they have, and give the code sent to them."""
    code = offer_code(api_for, owner, pk)
    client = api_for(owner)
    shown = client.get(reverse("api-portal-application", args=[pk])).data["offer"]
    response = client.post(
        reverse("api-portal-offer-accept", args=[pk]),
        {"read_confirmed": True, "otp": code, "documents_sha256": shown["documents_sha256"]},
        format="json",
        **client_kwargs,
    )
    assert response.status_code == 200, ("accept_offer", response.status_code, response.data)
    return response


def sign_contract(api_for, staff, pk: int) -> None:
    """Contract: the relationship manager records the signed contract (the applicant may
    instead accept the offer on the portal: accept_offer)."""
    response = api_for(staff["rm"]).post(
        reverse("api-disbursement-contract", args=[pk]),
        {"number": f"HT-{pk}", "signed_on": "2026-01-05"},
        format="json",
    )
    assert response.status_code == 201, ("sign_contract", response.status_code, response.data)


def _code_sent(client, url: str, payload: dict | None = None) -> str:
    """POST to `url` (it sends a one-time code by e-mail after the commit) and read the code
    from the e-mail sent."""
    from django.core import mail
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, payload or {}, format="json")
    assert response.status_code == 202, ("code", response.status_code, response.data)
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def sign_contracts(api_for, staff, pk: int, *, owner=None) -> list[dict]:
    """Contracts: the relationship manager prepares every required contract (the PDFs are
    rendered here synchronously, as the worker would after commit); each party signs in
    turn, the owner on the portal when given (else face to face in the branch, witnessed by
    the relationship manager), each guarantor in the branch; then the branch head signs
    for the bank. Returns the contracts as the staff API shows them."""
    from applications.models import LoanApplication
    from contracts.models import ContractDocument
    from contracts.services import (
        contract_render,
        contract_render_signed,
        contract_template_defaults_ensure,
    )
    from intake.models import Guarantor
    from org.roles import Role
    from tests.factories import make_staff

    head = staff.get("head") or make_staff(
        Role.BRANCH_HEAD, staff["rm"].staff_profile.branch, username=f"signer_{pk}"
    )
    rm, bank = api_for(staff["rm"]), api_for(head)
    contract_template_defaults_ensure()  # a test that flushed the database lost the seeded ones
    prepared = rm.post(reverse("api-contracts-prepare", args=[pk]), format="json")
    assert prepared.status_code == 201, ("prepare", prepared.status_code, prepared.data)
    for contract_id in ContractDocument.objects.filter(application_id=pk).values_list(
        "pk", flat=True
    ):
        contract_render(contract_id=contract_id)
    company = LoanApplication.objects.select_related("company").get(pk=pk).company
    contracts = rm.get(reverse("api-contracts", args=[pk])).data["contracts"]
    for contract in contracts:
        one = [pk, contract["id"]]
        for party in contract["parties"]:
            if party == "borrower" and owner is not None:
                client = api_for(owner)
                code = _code_sent(client, reverse("api-portal-contract-code", args=one))
                signed = client.post(
                    reverse("api-portal-contract-sign", args=one),
                    {
                        "read_confirmed": True,
                        "otp": code,
                        "documents_sha256": contract["sha256"],
                    },
                    format="json",
                )
            else:
                id_number = (
                    Guarantor.objects.get(pk=contract["guarantor"]).id_number
                    if party == "guarantor"
                    else company.legal_representative_id
                )
                address = f"signer-{contract['id']}-{party}@example.cn"
                code = _code_sent(
                    rm,
                    reverse("api-contracts-code", args=one),
                    {"party": party, "method": "branch", "address": address},
                )
                signed = rm.post(
                    reverse("api-contracts-sign", args=one),
                    {
                        "party": party,
                        "method": "branch",
                        "otp": code,
                        "id_number": id_number,
                        "address": address,
                        "document_sha256": contract["sha256"],
                    },
                    format="json",
                )
            assert signed.status_code == 200, ("sign", party, signed.status_code, signed.data)
        code = _code_sent(
            bank, reverse("api-contracts-code", args=one), {"party": "bank", "method": "bank"}
        )
        signed = bank.post(
            reverse("api-contracts-sign", args=one),
            {"party": "bank", "method": "bank", "otp": code, "document_sha256": contract["sha256"]},
            format="json",
        )
        assert signed.status_code == 200, ("sign for the bank", signed.status_code, signed.data)
        contract_render_signed(contract_id=contract["id"])
    overview = rm.get(reverse("api-contracts", args=[pk])).data
    assert overview["unsigned"] == [], overview["unsigned"]
    return overview["contracts"]


def disburse(api_for, staff, pk: int, amount: str | None = None) -> None:
    """Disbursement: every required contract signed (sign_contracts, unless already), the
    officer satisfies every condition precedent and records the payout (maker); a different
    user with the checker role confirms it (checker)."""
    from applications.models import LoanApplication
    from contracts.selectors import contracts_unsigned

    if contracts_unsigned(LoanApplication.objects.get(pk=pk)):
        sign_contracts(api_for, staff, pk)
    maker, checker = api_for(staff["disburser"]), api_for(staff["checker"])
    conditions = maker.get(reverse("api-disbursement-conditions", args=[pk]))
    assert conditions.status_code == 200, conditions.data
    for condition in conditions.data:
        if not condition["satisfied"]:
            done = maker.post(
                reverse("api-disbursement-condition-satisfy", args=[pk, condition["id"]]),
                {},
                format="json",
            )
            assert done.status_code == 200, ("satisfy", done.status_code, done.data)
    if amount is None:
        amount = maker.get(reverse("api-application", args=[pk])).data["amount"]
    recorded = maker.post(
        reverse("api-disbursement-record", args=[pk]),
        {"account_number": "6222020200112233", "amount": amount, "value_date": "2026-01-15"},
        format="json",
    )
    assert recorded.status_code == 201, ("record", recorded.status_code, recorded.data)
    confirmed = checker.post(reverse("api-disbursement-confirm", args=[pk]), {}, format="json")
    assert confirmed.status_code == 200, ("confirm", confirmed.status_code, confirmed.data)


def close(api_for, staff, pk: int) -> None:
    """Post-loan: every instalment repaid through the post-loan API (the RM records them);
    the last repayment closes the loan (system transition)."""
    from datetime import date

    client = api_for(staff["rm"])
    detail = client.get(reverse("api-postloan-loan", args=[pk]))
    assert detail.status_code == 200, detail.data
    instalments = detail.data["instalments"]
    assert instalments, "the disbursement fixed no schedule"
    for row in instalments:
        outstanding = Decimal(row["total"]) - Decimal(row["paid"])
        if outstanding <= 0:
            continue
        response = client.post(
            reverse("api-postloan-repayments", args=[pk]),
            {
                "amount": str(outstanding),
                "value_date": date.today().isoformat(),
                "external_id": f"LIFECYCLE-{pk}-{row['number']}",
            },
            format="json",
        )
        assert response.status_code == 201, ("repayment", response.status_code, response.data)
    assert response.data["loan"]["status"] == "closed", response.data["loan"]


WALK = [
    ("submitted", submit),
    ("investigation", start_investigation),
    ("in_approval", send_to_approval),
    ("approved", approve),
    ("contract_signed", sign_contract),
    ("disbursed", disburse),
    ("closed", close),
]


def walk_to(api_for, staff, pk: int, status: str) -> None:
    """Take a draft through the stages until it reaches `status`."""
    for reached, step in WALK:
        step(api_for, staff, pk)
        if reached == status:
            return
    raise AssertionError(f"{status} is not on the main walk")


AMOUNT = Decimal("800000.00")
