"""The authority matrix and the approvers' limits apply to what the bank would be owed after
the decision, not to the amount asked alone: the customer's other loans and applications in
approval count, and so do those of its group (companies with the same legal representative),
each with its link on the record (issue 28)."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from approvals.models import ApprovalRecord, ApprovalTask, ApproverLimit
from postloan.models import Loan
from postloan.services import loan_terms_from
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db


def _loan(company, staff, outstanding: str) -> Loan:
    application = ApplicationFactory(company=company, status="disbursed")
    return Loan.objects.create(
        application=application,
        **loan_terms_from(application),
        branch=application.branch,
        relationship_manager=staff["rm"],
        status="active",
        currency="CNY",
        principal=Decimal(outstanding),
        outstanding_principal=Decimal(outstanding),
        disbursed_on=date(2026, 1, 5),
    )


def _route(application) -> list[str]:
    return [step["code"] for step in ApprovalRecord.objects.get(application=application).route]


def test_a_customer_with_loans_on_the_book_routes_by_its_exposure_after_the_loan(
    matrix, in_approval, staff, company
):
    alone = in_approval(amount="800000")
    assert "tier2" not in _route(alone)

    _loan(company, staff, "2600000")
    ApplicationFactory(company=company, status="in_approval", amount=Decimal("100000"))
    stacked = in_approval(company=company, amount="800000")

    record = ApprovalRecord.objects.get(application=stacked)
    assert record.exposure_after == Decimal("3500000")
    assert "tier2" in _route(stacked)
    with translation.override("en"):
        assert "exposure 3.5M after this application (its amount 800K)" in record.reason_display
    assert record.exposure["customer"] == record.exposure["group"] == "3500000.00"


def test_a_related_company_with_the_same_legal_representative_counts_in_the_group(
    matrix, in_approval, staff, company, branch
):
    sister = CompanyFactory(
        home_branch=branch,
        legal_representative=company.legal_representative,
        legal_representative_id=company.legal_representative_id,
    )
    _loan(sister, staff, "2600000")
    CompanyFactory(home_branch=branch)  # unrelated: not counted
    application = in_approval(company=company, amount="800000")

    record = ApprovalRecord.objects.get(application=application)
    assert record.exposure["customer"] == "800000.00"
    assert record.exposure_after == Decimal("3400000")
    assert record.exposure["related"] == [
        {
            "id": sister.pk,
            "name": sister.name,
            "credit_code": sister.credit_code,
            "links": ["legal_representative"],
            "sources": {
                "legal_representative": (
                    f"{sister.legal_representative} (…{sister.legal_representative_id[-4:]})"
                )
            },
            "exposure": "2600000.00",
        }
    ]
    assert "tier2" in _route(application)


def test_an_approver_whose_limit_covers_the_amount_but_not_the_exposure_is_refused(
    matrix, in_approval, staff, company, api, client
):
    _loan(company, staff, "1500000")
    application = in_approval(company=company, amount="800000", grade="B")
    ApproverLimit.objects.update_or_create(
        user=staff["approver"], grade="B", currency="CNY", defaults={"max_amount": 2_000_000}
    )
    review = ApprovalTask.objects.get(application=application, step="credit_review")
    decided = api(staff["reviewer"]).post(
        f"/api/v1/approvals/tasks/{review.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200, decided.data
    tier1 = ApprovalTask.objects.get(application=application, step="tier1")
    refused = api(staff["approver"]).post(
        f"/api/v1/approvals/tasks/{tier1.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code == 403
    assert refused.data["code"] == "authority_limit"
    assert "exposure of 2.3M after this application (its amount 800K)" in refused.data["detail"]

    client.force_login(staff["approver"])
    page = client.get(f"/approvals/tasks/{tier1.pk}/").content.decode()
    assert 'id="exposure-after"' in page and "2,300,000.00 CNY" in page

    shown = api(staff["reviewer"]).get(f"/api/v1/approvals/applications/{application.pk}/")
    assert shown.data["exposure_after"] == Decimal("2300000.00")
    assert shown.data["exposure"]["amount"] == "800000.00"


def test_guarantees_between_companies_put_them_in_one_group(
    matrix, in_approval, staff, company, branch
):
    from intake.models import Guarantor

    guarantor = CompanyFactory(home_branch=branch)
    _loan(guarantor, staff, "1000000")
    guaranteed = CompanyFactory(home_branch=branch)
    _loan(guaranteed, staff, "2000000")
    # `guarantor` guarantees the new application; the customer guarantees `guaranteed`'s loan.
    application = in_approval(company=company, amount="800000")
    Guarantor.objects.create(
        application=application,
        kind="company",
        name=guarantor.name,
        id_number=guarantor.credit_code,
    )
    Guarantor.objects.create(
        application=Loan.objects.get(application__company=guaranteed).application,
        kind="company",
        name=company.name,
        id_number=company.credit_code,
    )
    from postloan.selectors import exposure_after

    exposure = exposure_after(application=application)
    assert exposure.group == Decimal("3800000")
    assert [(row["id"], row["links"]) for row in exposure.related] == [
        (guarantor.pk, ["guarantees_it"]),
        (guaranteed.pk, ["guaranteed_by_it"]),
    ]


def test_above_a_concentration_limit_the_route_ends_at_the_committee_with_the_reason(
    matrix, in_approval, staff, company
):
    matrix.single_customer_limit = Decimal("2000000")
    matrix.group_limit = Decimal("9000000")
    matrix.save()
    _loan(company, staff, "1500000")
    application = in_approval(company=company, amount="800000", grade="B")

    record = ApprovalRecord.objects.get(application=application)
    assert _route(application)[-1] == "committee"
    assert record.route[-1]["is_committee"]
    assert not any(step["checks_limit"] for step in record.route[:-1])
    assert record.exposure["above_limits"] == ["above_single_customer_limit"]
    with translation.override("en"):
        assert (
            "the customer's exposure 2.3M after this application is above the single-customer "
            "limit of 2M: the credit committee decides" in record.reason_display
        )


def test_without_a_committee_step_nobody_but_a_committee_may_approve_above_a_limit(
    matrix, in_approval, staff, company, api
):
    matrix.group_limit = Decimal("1000000")
    matrix.save()
    matrix.steps.filter(is_committee=True).update(is_committee=False)
    _loan(company, staff, "1500000")
    application = in_approval(company=company, amount="800000", grade="B")
    assert ApprovalRecord.objects.get(application=application).exposure["above_limits"] == [
        "above_group_limit"
    ]
    for step, user in (("credit_review", staff["reviewer"]), ("tier1", staff["approver"])):
        task = ApprovalTask.objects.get(application=application, step=step)
        response = api(user).post(
            f"/api/v1/approvals/tasks/{task.pk}/decide/", {"decision": "approve"}, format="json"
        )
        if step == "credit_review":
            assert response.status_code == 200, response.data
    assert response.status_code == 403 and response.data["code"] == "concentration_limit"
    declined = api(staff["approver"]).post(
        f"/api/v1/approvals/tasks/{task.pk}/decide/",
        {
            "decision": "decline",
            "comment": "Too concentrated",
            "reasons": ["insufficient_cash_flow"],
        },
        format="json",
    )
    # Declining stays open to the approver.
    assert declined.status_code == 200, declined.data


def test_a_limit_given_as_a_share_of_net_capital_binds_where_it_is_lower_than_the_amount(
    matrix, in_approval, staff, company
):
    matrix.single_customer_limit = Decimal("5000000")
    matrix.net_capital = Decimal("20000000")
    matrix.single_customer_limit_percent = Decimal("10")  # 2M, below the 5M amount
    matrix.save()
    _loan(company, staff, "1500000")

    application = in_approval(company=company, amount="800000", grade="B")

    record = ApprovalRecord.objects.get(application=application)
    assert record.exposure["above_limits"] == ["above_single_customer_limit"]
    with translation.override("en"):
        assert "above the single-customer limit of 2M" in record.reason_display


def test_the_amount_binds_where_the_share_of_net_capital_is_higher(
    matrix, in_approval, staff, company
):
    matrix.group_limit = Decimal("2000000")
    matrix.net_capital = Decimal("100000000")
    matrix.group_limit_percent = Decimal("15")  # 15M, above the 2M amount
    matrix.save()
    _loan(company, staff, "1500000")

    application = in_approval(company=company, amount="800000", grade="B")

    assert ApprovalRecord.objects.get(application=application).exposure["above_limits"] == [
        "above_group_limit"
    ]
    # The demo's 10% single-customer share of the 100M: no amount set beside it.
    assert (matrix.group_limit_binding, matrix.single_customer_limit_binding) == (
        Decimal("2000000"),
        Decimal("10000000.00"),
    )


def test_a_share_without_the_net_capital_is_refused_when_the_version_is_checked(matrix):
    from django.core.exceptions import ValidationError

    matrix.net_capital = None
    matrix.single_customer_limit_percent = Decimal("10")

    with pytest.raises(ValidationError) as refused:
        matrix.full_clean()

    assert "net_capital" in refused.value.message_dict
