"""Renewal (续贷 / 无还本续贷) and top-up: a new loan linked to the one it changes, through
offer, contract and payout, routed on the exposure after the change; a renewal's payout
repays the old loan the same day with nothing paid to the borrower, and its eligibility
rules refuse with the rules failed."""

from decimal import Decimal

from django.urls import reverse

from analytics.models import StageVisit
from applications.models import LoanApplication
from approvals.models import ApprovalRecord
from audit.models import AuditEvent
from postloan.models import Alert, ChangeTerms, Loan, WarningRule
from postloan.selectors import customer_exposure
from tests.changes.conftest import approved_change, file_change, pay_out_today
from tests.conftest import api_for

D = Decimal


def test_a_renewal_repays_the_old_loan_on_payout_and_links_both(staff, loan):
    outstanding = loan.outstanding_principal
    pk = approved_change(staff, loan, kind="renewal_without_repayment", term_months=12)
    # Routed on the exposure after the change: the renewal replaces the loan.
    assert ApprovalRecord.objects.get(application_id=pk).exposure_after == outstanding
    change = LoanApplication.objects.get(pk=pk)
    assert change.amount == outstanding
    # Approved, not paid out: the bank's exposure counts the old loan once, not the renewal
    # on top of it.
    (exposure,) = customer_exposure(company=change.company)
    assert (exposure["loans"], exposure["approved"], exposure["total"]) == (
        outstanding,
        D("0"),
        outstanding,
    )
    pay_out_today(staff, pk)
    old = Loan.objects.get(pk=loan.pk)
    new = Loan.objects.get(application_id=pk)
    assert old.status == "closed" and old.outstanding_total == D("0.00")
    assert LoanApplication.objects.get(pk=loan.application_id).status == "closed"
    assert new.status == "active" and new.principal == outstanding
    repaid = AuditEvent.objects.get(application_id=loan.application_id, action="renewal_repaid")
    # The new principal went to the old loan; the borrower paid only the interest to date.
    assert D(repaid.data["from_new_loan"]) == outstanding
    assert old.repayments.filter(amount__gte=outstanding).count() == 1
    assert old.schedule_revisions.get().change_id == pk
    # Both histories are readable from either loan.
    rm = api_for(staff["rm"])
    from_old = rm.get(reverse("api-postloan-changes", args=[loan.application_id])).data
    assert [c["id"] for c in from_old["changes"]] == [pk]
    from_new = rm.get(reverse("api-postloan-changes", args=[pk])).data
    assert from_new["change_of"] == loan.application_id


def test_renewal_eligibility_refuses_with_the_rules_failed(staff, loan):
    ChangeTerms.objects.create(product=loan.application.product, renewal_clean_months=6)
    Loan.objects.filter(pk=loan.pk).update(classification="special_mention")
    Alert.objects.create(loan=loan, rule=WarningRule.objects.first(), severity="high")
    data = file_change(staff, loan, expect=409, kind="renewal")
    assert data["code"] == "not_eligible"
    assert {r["rule"] for r in data["rules"]} == {"classification", "open_alerts"}
    assert not LoanApplication.objects.filter(change_of_id=loan.application_id).exists()
    # More than what repays the old loan is refused on the amount.
    Loan.objects.filter(pk=loan.pk).update(classification="normal")
    Alert.objects.all().delete()
    data = file_change(
        staff, loan, expect=400, kind="renewal", amount=str(loan.outstanding_principal + 1)
    )
    assert "amount" in data


def test_a_top_up_is_a_new_linked_loan_routed_on_the_exposure_after(staff, loan):
    outstanding = loan.outstanding_principal
    pk = approved_change(staff, loan, kind="top_up", amount="50000.00")
    record = ApprovalRecord.objects.get(application_id=pk)
    assert record.exposure_after == outstanding + D("50000.00")
    # Approved, not paid out: the top-up is on top of the loan in the bank's exposure.
    (exposure,) = customer_exposure(company=loan.application.company)
    assert (exposure["approved"], exposure["total"]) == (D("50000.00"), outstanding + D("50000"))
    # The change's stages are measured like any application's.
    assert StageVisit.objects.filter(
        application_id=pk, stage="investigation", left_at__isnull=False
    ).exists()
    change = LoanApplication.objects.get(pk=pk)
    assert change.interest_rate == loan.application.interest_rate
    pay_out_today(staff, pk)
    assert Loan.objects.get(application_id=pk).principal == D("50000.00")
    assert Loan.objects.get(pk=loan.pk).status == "active"
