"""How to walk an application through each stage through the API, one function per stage.

Each stage app's owner keeps its function true to the stage's real requirements (materials,
investigation, the approval route, maker-checker disbursement, ...), so every test that needs
an application in a given state gets there the way a user would.
"""

from decimal import Decimal

from django.urls import reverse


def _post(client, name: str, pk: int, payload: dict | None = None, expect: int = 200):
    response = client.post(reverse(f"api-application-{name}", args=[pk]), payload or {},
                           format="json")
    assert response.status_code == expect, (name, response.status_code, response.data)
    return response


def file_draft(api_for, staff, company, product, **overrides) -> int:
    payload = {
        "company": company.pk, "product": product.pk, "amount": "800000.00",
        "term_months": 12, "interest_rate": "4.350", "repayment_method": "equal_instalments",
        "guarantee_type": "credit", "purpose": "Working capital",
    }
    payload.update(overrides)
    response = api_for(staff["rm"]).post(reverse("api-applications"), payload, format="json")
    assert response.status_code == 201, response.data
    return response.data["id"]


def prepare_materials(api_for, staff, pk: int) -> None:
    """Intake: whatever the checklist needs before submit."""


def submit(api_for, staff, pk: int) -> None:
    prepare_materials(api_for, staff, pk)
    _post(api_for(staff["rm"]), "submit", pk)


def start_investigation(api_for, staff, pk: int) -> None:
    _post(api_for(staff["rm"]), "start-investigation", pk)


def complete_investigation(api_for, staff, pk: int) -> None:
    """Investigation: questionnaire, verification, score and memo before approval."""


def send_to_approval(api_for, staff, pk: int) -> None:
    complete_investigation(api_for, staff, pk)
    _post(api_for(staff["rm"]), "send-to-approval", pk)


def approve(api_for, staff, pk: int) -> None:
    """Approval: clear every step of the route."""
    _post(api_for(staff["approver"]), "approve", pk, {"comment": "Good cash flow"})


def sign_contract(api_for, staff, pk: int) -> None:
    _post(api_for(staff["rm"]), "sign-contract", pk)


def disburse(api_for, staff, pk: int) -> None:
    """Disbursement: maker records, a different checker confirms."""
    _post(api_for(staff["checker"]), "disburse", pk)


def close(api_for, staff, pk: int) -> None:
    """Post-loan: repaid in full, then closed."""
    _post(api_for(staff["risk"]), "close", pk)


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
