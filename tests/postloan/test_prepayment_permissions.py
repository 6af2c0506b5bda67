"""Who may file and confirm a prepayment, and when it is not the time (409)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from org.roles import Role
from postloan.models import Prepayment, Repayment
from tests.factories import make_staff
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import product_with, scheduled_loan

pytestmark = pytest.mark.django_db
D = Decimal


def _loan(staff, company, product=None, days=10):
    return scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product or product_with(),
        start=TODAY - timedelta(days=days),
    )


def _file(api, user, loan, kind="full", value_date=TODAY, **extra):
    return api(user).post(
        reverse("api-postloan-prepayments", args=[loan.application_id]),
        {"kind": kind, "value_date": value_date.isoformat(), **extra},
        format="json",
    )


def _decide(api, user, pk, decision="confirm"):
    return api(user).post(
        reverse(f"api-postloan-prepayment-{decision}", args=[pk]), {}, format="json"
    )


def test_only_the_roles_that_handle_repayments_file_and_only_a_checker_confirms(
    api, staff, company, rules, owner
):
    loan = _loan(staff, company)
    for user in (staff["approver"], staff["checker"], staff["risk"]):
        response = _file(api, user, loan)
        assert response.status_code == 403, user
    assert _file(api, owner, loan).status_code == 403
    filed = _file(api, staff["disburser"], loan)
    assert filed.status_code == 201
    for user in (staff["rm"], staff["disburser"], staff["risk"], owner):
        assert _decide(api, user, filed.data["id"]).status_code == 403
    assert Prepayment.objects.get(pk=filed.data["id"]).status == "requested"
    assert not Repayment.objects.filter(loan=loan).exists()


def test_whoever_filed_a_prepayment_does_not_confirm_it(api, staff, company, rules, branch):
    both = make_staff(
        [Role.RELATIONSHIP_MANAGER, Role.DISBURSEMENT_CHECKER], branch, username="mike_both"
    )
    loan = _loan(staff, company)
    filed = _file(api, both, loan)
    assert filed.status_code == 201
    refused = _decide(api, both, filed.data["id"])
    assert refused.status_code == 403
    assert refused.data["code"] == "segregation_of_duties"
    assert AuditEvent.objects.filter(action="prepayment_confirm", kind="refusal").exists()
    assert _decide(api, staff["checker"], filed.data["id"]).status_code == 200


def test_another_branch_sees_no_such_loan(api, staff, company, rules, other_branch):
    loan = _loan(staff, company)
    stranger = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="mallory_rm")
    assert _file(api, stranger, loan).status_code == 404
    filed = _file(api, staff["rm"], loan)
    checker = make_staff(Role.DISBURSEMENT_CHECKER, other_branch, username="nina_checker")
    assert _decide(api, checker, filed.data["id"]).status_code == 404


def test_one_prepayment_at_a_time_and_a_decided_one_stays_decided(api, staff, company, rules):
    loan = _loan(staff, company)
    filed = _file(api, staff["rm"], loan)
    second = _file(api, staff["rm"], loan, kind="lower_instalment", principal="1000.00")
    assert second.status_code == 409 and second.data["code"] == "pending_prepayment"
    assert _decide(api, staff["rm"], filed.data["id"], "cancel").status_code == 200
    assert _decide(api, staff["checker"], filed.data["id"]).status_code == 409
    assert _decide(api, staff["rm"], filed.data["id"], "cancel").status_code == 409
    assert (
        _file(api, staff["rm"], loan, kind="lower_instalment", principal="1000.00").status_code
        == 201
    )


def test_not_now_cases_answer_409(api, staff, company, rules):
    # Two instalments due and unpaid: no partial prepayment until they are paid.
    overdue = _loan(staff, company, days=70)
    response = _file(api, staff["rm"], overdue, kind="shorten_term", principal="1000.00")
    assert response.status_code == 409 and response.data["code"] == "arrears"
    # A product that allows only full prepayment.
    strict = _loan(
        staff,
        company,
        product=product_with(allow_shorten_term=False, allow_lower_instalment=False),
    )
    response = _file(api, staff["rm"], strict, kind="lower_instalment", principal="1000.00")
    assert response.status_code == 409 and response.data["code"] == "kind_not_allowed"
    # Filed for a later date: confirmed when the money is there, not before.
    loan = _loan(staff, company)
    filed = _file(api, staff["rm"], loan, value_date=TODAY + timedelta(days=3))
    assert filed.status_code == 201
    response = _decide(api, staff["checker"], filed.data["id"])
    assert response.status_code == 409 and response.data["code"] == "value_date_future"


def test_a_repayment_after_filing_makes_the_quote_stale(api, staff, company, rules):
    loan = _loan(staff, company, days=10)
    filed = _file(api, staff["rm"], loan, kind="lower_instalment", principal="1000.00")
    assert filed.status_code == 201, filed.data
    paid = api(staff["rm"]).post(
        reverse("api-postloan-repayments", args=[loan.application_id]),
        {"amount": "500.00", "value_date": TODAY.isoformat()},
        format="json",
    )
    assert paid.status_code == 201
    response = _decide(api, staff["checker"], filed.data["id"])
    assert response.status_code == 409 and response.data["code"] == "quote_changed"
    assert Prepayment.objects.get(pk=filed.data["id"]).status == "requested"


def test_bad_input_answers_400_with_field_messages(api, staff, company, rules):
    loan = _loan(staff, company)
    assert "kind" in _file(api, staff["rm"], loan, kind="someday").data
    response = _file(api, staff["rm"], loan, kind="shorten_term")
    assert response.status_code == 400 and "principal" in response.data
    response = _file(api, staff["rm"], loan, kind="shorten_term", principal="999999.00")
    assert response.status_code == 400 and "principal" in response.data
    response = _file(api, staff["rm"], loan, value_date=TODAY - timedelta(days=30))
    assert response.status_code == 400 and "value_date" in response.data


def test_confirming_needs_a_fresh_second_factor(api, staff, company, rules):
    loan = _loan(staff, company)
    filed = _file(api, staff["rm"], loan)
    url = reverse("api-postloan-prepayment-confirm", args=[filed.data["id"]])
    stale = api(staff["checker"], second_factor=False).post(url, {}, format="json")
    assert stale.status_code == 403 and stale.data["code"] == "step_up_required"
    assert Prepayment.objects.get(pk=filed.data["id"]).status == "requested"
    assert api(staff["checker"]).post(url, {}, format="json").status_code == 200
