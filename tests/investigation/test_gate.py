"""The gate on send_to_approval, walked through the API the way an RM works."""

from django.urls import reverse

from applications.services import application_transition
from investigation.models import CreditMemo
from tests import lifecycle


def _walk_to_investigation(api, staff, company, product) -> int:
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)
    return pk


def test_the_gate_refuses_an_incomplete_investigation_and_names_what_is_missing(
    api, staff, company, product, config
):
    pk = _walk_to_investigation(api, staff, company, product)
    rm = api(staff["rm"])
    rm.put(
        reverse("api-investigation-answers", args=[pk]),
        {"answers": {"main_business": "Textiles"}},
        format="json",
    )
    response = rm.post(reverse("api-application-send-to-approval", args=[pk]), {}, format="json")
    assert response.status_code == 409
    missing = " | ".join(response.data["missing"])
    assert "Textiles" not in missing
    assert "What is the company's main business" not in missing  # answered
    # In the reader's language (the English of this request), whatever the application's.
    assert "Who are the top three customers and their share of sales?" in missing
    assert "Verification not done" in missing and "Declared revenue" in missing
    assert "risk score has not been computed" in missing
    assert "credit memo has not been generated" in missing


def test_a_complete_investigation_goes_to_approval(api, staff, company, product, config):
    pk = _walk_to_investigation(api, staff, company, product)
    lifecycle.send_to_approval(api, staff, pk)
    detail = api(staff["rm"]).get(reverse("api-application", args=[pk])).data
    assert detail["status"] == "in_approval"
    assert detail["risk_grade"] in "ABCDE" and detail["route_recommendation"]


def test_a_change_after_the_memo_requires_a_new_memo(api, staff, company, product, config):
    pk = _walk_to_investigation(api, staff, company, product)
    lifecycle.complete_investigation(api, staff, pk)
    rm = api(staff["rm"])
    rm.patch(
        reverse("api-investigation-assessment", args=[pk]), {"opinion": "Changed"}, format="json"
    )
    response = rm.post(reverse("api-application-send-to-approval", args=[pk]), {}, format="json")
    assert response.status_code == 409
    assert response.data["missing"] == [
        "The credit memo has not been generated since the investigation last changed."
    ]
    # the memo cannot be requested on a stale score either
    stale = rm.post(reverse("api-investigation-memos", args=[pk]))
    assert stale.status_code == 409 and stale.data["code"] == "not_scored"


def test_a_return_from_approval_requires_a_fresh_memo(api, staff, company, product, config):
    pk = _walk_to_investigation(api, staff, company, product)
    lifecycle.send_to_approval(api, staff, pk)
    # The approvals stage takes this decision through its own queue; the transition itself
    # is what matters here.
    application_transition(
        application_id=pk,
        transition="return_to_investigation",
        actor=None,
        system=True,
        comment="Check the stock",
    )
    response = api(staff["rm"]).post(
        reverse("api-application-send-to-approval", args=[pk]), {}, format="json"
    )
    assert response.status_code == 409
    assert any("credit memo" in m for m in response.data["missing"])
    assert CreditMemo.objects.filter(application_id=pk, status="ready").count() == 1
    lifecycle.complete_investigation(api, staff, pk)
    lifecycle._post(api(staff["rm"]), "send-to-approval", pk)
