"""Cross-check and concentration flags at, just below and just above their thresholds."""

from decimal import Decimal

import pytest

from intake.models import Guarantor
from investigation import services
from investigation.models import Flag
from investigation.selectors import investigation_for, policy_current
from tests.factories import ApplicationFactory, CompanyFactory, make_loan
from tests.investigation.conftest import FIGURES

D = Decimal


def _codes(flags) -> set[str]:
    return {f["code"] for f in flags}


@pytest.mark.parametrize(
    ("inflows", "flagged"),
    [
        (D("700000.00"), False),  # gap exactly 30% = the threshold
        (D("700000.01"), False),  # just below
        (D("699999.99"), True),  # just above
        (D("1300000.00"), False),  # 30% the other way
        (D("1300000.01"), True),
    ],
)
def test_revenue_against_bank_inflows(investigating, staff, inflows, flagged):
    figures = {
        **FIGURES,
        "revenue": D("1000000"),
        "bank_inflows_12m": inflows,
        "tax_paid": D("30000"),
    }
    services.financials_save(
        application_id=investigating.pk, actor=staff["rm"], period="last_year", figures=figures
    )
    figures_out, flags = services.cross_check_flags(
        investigation=investigation_for(application=investigating), policy=policy_current()
    )
    assert ("revenue_bank_gap" in _codes(flags)) is flagged
    assert "revenue_tax_gap" not in _codes(flags)


@pytest.mark.parametrize(
    ("tax_paid", "flagged"),
    [
        (D("21000.00"), False),  # implied revenue 700,000: gap exactly 30%
        (D("21000.30"), False),  # just below
        (D("20999.70"), True),  # just above
    ],
)
def test_revenue_against_revenue_implied_by_tax(investigating, staff, tax_paid, flagged):
    figures = {
        **FIGURES,
        "revenue": D("1000000"),
        "bank_inflows_12m": D("1000000"),
        "tax_paid": tax_paid,
    }
    services.financials_save(
        application_id=investigating.pk, actor=staff["rm"], period="last_year", figures=figures
    )
    _figures, flags = services.cross_check_flags(
        investigation=investigation_for(application=investigating), policy=policy_current()
    )
    assert ("revenue_tax_gap" in _codes(flags)) is flagged
    if flagged:
        flag = next(f for f in flags if f["code"] == "revenue_tax_gap")
        assert flag["severity"] == "high"
        assert flag["evidence"]["tax_paid"] == str(tax_paid)


def test_a_raised_flag_is_stored_and_counted_on_the_application(investigating, staff):
    services.financials_save(
        application_id=investigating.pk,
        actor=staff["rm"],
        period="last_year",
        figures={**FIGURES, "bank_inflows_12m": D("1000000")},
    )
    services.investigation_score(application_id=investigating.pk, actor=staff["rm"])
    investigating.refresh_from_db()
    flag = Flag.objects.get(application=investigating, code="revenue_bank_gap")
    assert flag.evidence["bank_inflows_12m"] == "1000000.00"
    assert investigating.flag_count == Flag.objects.filter(application=investigating).count()
    assert investigating.route_recommendation == "enhanced"


@pytest.mark.parametrize(
    ("amount", "flagged"),
    [
        (D("800000.00"), False),  # industry 1,000,000 of 4,000,000: exactly 25%
        (D("799999.99"), False),
        (D("800000.01"), True),
    ],
)
def test_industry_share_of_the_book(
    investigating, company, amount, flagged, django_assert_max_num_queries
):
    other = CompanyFactory(industry_code="F51", home_branch=company.home_branch)
    same = CompanyFactory(industry_code=company.industry_code, home_branch=company.home_branch)
    # The bank's exposure, not amounts applied for: what the loans still owe...
    make_loan(other, outstanding="2500000", principal="3000000")
    make_loan(other, outstanding="0", status="closed")
    # ...an approval not yet paid out, and an application in approval.
    ApplicationFactory(company=same, status="approved", amount=D("200000"))
    ApplicationFactory(company=other, status="in_approval", amount=D("500000"))
    ApplicationFactory(company=other, status="declined", amount=D("9000000"))  # not exposure
    type(investigating).objects.filter(pk=investigating.pk).update(amount=amount)
    investigating.refresh_from_db()
    investigation = investigation_for(application=investigating)
    # the exposure (its parts), the industry's and the group's companies, the guarantors:
    # constant whatever the size of the book
    with django_assert_max_num_queries(9):
        figures, flags = services.concentration_flags(
            application=investigating, investigation=investigation, policy=policy_current()
        )
    assert ("industry_concentration" in _codes(flags)) is flagged
    assert figures["book_total"] == D("3200000") + amount
    assert figures["industry_exposure"] == D("200000") + amount


@pytest.mark.parametrize(
    ("elsewhere", "flagged"),
    [
        (D("2000000.00"), False),  # 1,000,000 here + 2,000,000 elsewhere = the 3,000,000 limit
        (D("1999999.99"), False),
        (D("2000000.01"), True),
    ],
)
def test_a_guarantors_total_guaranteed_exposure(investigating, staff, elsewhere, flagged):
    services.guarantor_add(
        application_id=investigating.pk,
        actor=staff["rm"],
        name="Zhang San",
        id_number="110101198001010010",
        guaranteed_amount=D("1000000"),
    )
    other = ApplicationFactory(status="in_approval")
    declined = ApplicationFactory(status="declined")
    for app, amount in ((other, elsewhere), (declined, D("5000000"))):
        Guarantor.objects.create(
            application=app,
            name="Zhang San",
            id_number="110101198001010010",
            guaranteed_amount=amount,
        )
    _figures, flags = services.concentration_flags(
        application=investigating,
        investigation=investigation_for(application=investigating),
        policy=policy_current(),
    )
    assert ("guarantor_exposure" in _codes(flags)) is flagged


@pytest.mark.parametrize(
    ("related_amount", "flagged"),
    [
        (D("4200000.00"), False),  # 4,200,000 + this 800,000 = the 5,000,000 limit
        (D("4199999.99"), False),
        (D("4200000.01"), True),
    ],
)
def test_exposure_to_companies_sharing_the_legal_representative(
    investigating, company, related_amount, flagged
):
    sister = CompanyFactory(
        legal_representative_id=company.legal_representative_id, home_branch=company.home_branch
    )
    # What the sister company's loan still owes, not what it asked for.
    make_loan(sister, outstanding=str(related_amount), principal="9000000")
    make_loan(sister, outstanding="3000000", currency="USD")  # another currency
    _figures, flags = services.concentration_flags(
        application=investigating,
        investigation=investigation_for(application=investigating),
        policy=policy_current(),
    )
    assert ("related_party_exposure" in _codes(flags)) is flagged


def test_the_instalment_follows_the_repayment_method():
    from investigation.calc import monthly_instalment

    args = {"amount": D("120000"), "annual_rate_pct": D("6"), "term_months": 12}
    assert monthly_instalment(**args, method="equal_instalments") == D("10327.97")
    assert monthly_instalment(**args, method="equal_principal") == D("10600.00")
    assert monthly_instalment(**args, method="interest_only_bullet") == D("600.00")
