"""The risk officer's view of the bank's exposure (issue 28, third part): its figures equal an
independent sum over the raw rows of a small bank (loans, facilities, applications in approval,
two groups, two industries, two branches and a sub-branch), it keeps to the user's branch scope,
it is for risk officers and branch heads only; the approval workbench's table counts the
undrawn facilities; the nightly job flags a customer above a concentration limit once."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from applications.models import LoanApplication
from approvals.models import MatrixVersion
from facilities.models import Drawdown, Facility
from intake.models import Guarantor
from org.roles import Role
from postloan import demo
from postloan.daily import daily_job_run
from postloan.exposure import DIMENSIONS, exposure_overview
from postloan.models import Alert, Loan, WarningRule
from postloan.selectors import customer_exposure
from postloan.services import loan_terms_from
from postloan.snapshot import exposure_snapshot_take
from tests.factories import (
    ApplicationFactory,
    BranchFactory,
    CompanyFactory,
    make_resident_id,
    make_staff,
    make_uscc,
)

pytestmark = pytest.mark.django_db

D = Decimal
OPEN = (Facility.Status.APPROVED, Facility.Status.ACTIVE, Facility.Status.FROZEN)


def _loan(company, rm, *, outstanding, principal=None, status="active", currency="CNY"):
    application = ApplicationFactory(
        company=company, status="disbursed", currency=currency, filed_by=rm
    )
    return Loan.objects.create(
        application=application,
        **loan_terms_from(application),
        branch=application.branch,
        relationship_manager=rm,
        status=status,
        currency=currency,
        principal=D(principal or outstanding),
        outstanding_principal=D(outstanding),
        disbursed_on=date(2026, 1, 5),
    )


def _drawdown_loan(facility, rm, *, outstanding):
    loan = _loan(facility.company, rm, outstanding=outstanding, principal="800000")
    Drawdown.objects.create(
        facility=facility,
        application=loan.application,
        amount=D("800000"),
        currency="CNY",
        term_months=6,
        interest_rate=D("5.000"),
        repayment_method="equal_instalments",
        requested_by=rm,
        status=Drawdown.Status.APPROVED,
    )
    return loan


@pytest.fixture
def limits(db):
    MatrixVersion.objects.update(is_active=False)
    return MatrixVersion.objects.create(
        number=90,
        is_active=True,
        single_customer_limit=D("4500000"),
        group_limit=D("6500000"),
    )


@pytest.fixture
def bank(staff, branch, other_branch, make_facility, limits):
    """Group X (one legal representative): A in Beijing (C13), B in the Beijing sub-branch
    (C20). Group Y: C and D in Shanghai (F51, F52). E alone in Beijing (F51), guaranteed by C.
    """
    sub = BranchFactory(code="BJ01", name="Beijing Haidian", parent=branch)
    x, y = make_resident_id(900001), make_resident_id(900002)
    a = CompanyFactory(
        name="A Co",
        home_branch=branch,
        industry_code="C13",
        legal_representative_id=x,
        legal_representative="Wang",
    )
    b = CompanyFactory(
        name="B Co",
        home_branch=sub,
        industry_code="C20",
        legal_representative_id=x,
        legal_representative="Wang",
    )
    c = CompanyFactory(
        name="C Co",
        home_branch=other_branch,
        industry_code="F51",
        legal_representative_id=y,
        legal_representative="Li",
    )
    d = CompanyFactory(
        name="D Co",
        home_branch=other_branch,
        industry_code="F52",
        legal_representative_id=y,
        legal_representative="Li",
    )
    e = CompanyFactory(name="E Co", home_branch=branch, industry_code="F51")
    rm = staff["rm"]
    _loan(a, rm, outstanding="3000000")
    _loan(a, rm, outstanding="0", status="closed")
    _loan(b, rm, outstanding="1200000")
    _loan(c, rm, outstanding="2000000")
    _loan(d, rm, outstanding="700000")
    _loan(d, rm, outstanding="50000", currency="USD")
    _loan(e, rm, outstanding="400000")
    revolving = make_facility(amount="2000000.00", of_company=a)
    _drawdown_loan(revolving, rm, outstanding="600000")
    make_facility(amount="1000000.00", revolving=False, of_company=c, status=Facility.Status.FROZEN)
    make_facility(amount="5000000.00", of_company=d, status=Facility.Status.CLOSED)
    ApplicationFactory(company=b, status="in_approval", amount=D("800000"))
    ApplicationFactory(company=e, status="in_approval", amount=D("300000"))
    ApplicationFactory(company=c, status="investigation", amount=D("900000"))
    guaranteed = ApplicationFactory(company=e, status="declined", amount=D("100000"))
    Guarantor.objects.create(
        application=guaranteed, kind=Guarantor.Kind.COMPANY, name=c.name, id_number=c.credit_code
    )
    exposure_snapshot_take(trigger="nightly")  # the view reads the latest snapshot
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "sub": sub}


def _independent(branch_ids=None) -> dict:
    """Each (company, currency)'s exposure from the raw rows, one at a time in Python."""
    totals: dict = {}

    def add(company_id, currency, amount, branch_id):
        if branch_ids is None or branch_id in branch_ids:
            key = (company_id, currency)
            totals[key] = totals.get(key, D("0")) + amount

    loans = list(Loan.objects.select_related("application"))
    for loan in loans:
        if loan.status == "active":
            add(
                loan.application.company_id,
                loan.currency,
                loan.outstanding_principal,
                loan.branch_id,
            )
    for application in LoanApplication.objects.all():
        if application.status == "in_approval":
            add(
                application.company_id,
                application.currency,
                application.amount,
                application.branch_id,
            )
    for facility in Facility.objects.all():
        if facility.status not in OPEN:
            continue
        under = [
            loan
            for loan in loans
            if Drawdown.objects.filter(
                application_id=loan.application_id, facility=facility
            ).exists()
        ]
        drawn = sum(
            (loan.outstanding_principal if facility.revolving else loan.principal)
            for loan in under
            if loan.status == "active" or not facility.revolving
        )
        add(
            facility.company_id,
            facility.currency,
            max(facility.amount - drawn, D("0")),
            facility.branch_id,
        )
    return totals


def _tables(user, q: str = "") -> dict:
    """Every table of the overview, whole (all its pages), and the totals."""
    tables = {}
    for dimension in DIMENSIONS:
        overview = exposure_overview(user=user, dimension=dimension, q=q)
        tables[dimension] = overview.figures(overview.rows)
        tables["totals"] = overview.totals
    return tables


def test_the_figures_equal_an_independent_sum_over_the_raw_rows(
    staff, bank, django_assert_max_num_queries
):
    expected = _independent()
    with django_assert_max_num_queries(17):
        first = exposure_overview(user=staff["risk"])
        first.figures(first.rows[:50])
    overview = _tables(staff["risk"])

    customers = {(row["company_id"], row["currency"]): row for row in overview["customer"]}
    assert {k: row["total"] for k, row in customers.items()} == expected
    a, b, c, d, e = (bank[k].pk for k in "ABCDE")
    # A: 3,000,000 + the drawdown's 600,000 outstanding; 2,000,000 - 600,000 undrawn.
    assert customers[(a, "CNY")]["loans"] == D("3600000")
    assert customers[(a, "CNY")]["loan_count"] == 2
    assert customers[(a, "CNY")]["undrawn"] == D("1400000")
    assert customers[(a, "CNY")]["facility_count"] == 1
    assert customers[(c, "CNY")]["undrawn"] == D("1000000")
    assert customers[(b, "CNY")]["in_approval"] == D("800000")
    assert customers[(d, "USD")]["total"] == D("50000")

    groups = {(tuple(row["companies"]), row["currency"]): row for row in overview["group"]}
    assert groups[(("A Co", "B Co"), "CNY")]["total"] == expected[(a, "CNY")] + expected[(b, "CNY")]
    assert groups[(("C Co", "D Co"), "CNY")]["total"] == expected[(c, "CNY")] + expected[(d, "CNY")]
    assert groups[(("C Co", "D Co"), "USD")]["total"] == D("50000")
    assert len(overview["group"]) == 3  # E is a group of its own: not listed

    industries = {(row["section"], row["currency"]): row for row in overview["industry"]}
    assert industries[("C", "CNY")]["total"] == expected[(a, "CNY")] + expected[(b, "CNY")]
    assert industries[("C", "CNY")]["customer_count"] == 2
    assert industries[("F", "CNY")]["total"] == sum(expected[(k, "CNY")] for k in (c, d, e))
    assert industries[("F", "CNY")]["customer_count"] == 3

    branches = {(row["branch"], row["currency"]): row["total"] for row in overview["branch"]}
    assert branches == {
        ("Beijing branch", "CNY"): expected[(a, "CNY")] + expected[(e, "CNY")],
        ("Beijing Haidian", "CNY"): expected[(b, "CNY")],
        ("Shanghai branch", "CNY"): expected[(c, "CNY")] + expected[(d, "CNY")],
        ("Shanghai branch", "USD"): D("50000"),
    }
    totals = {row["currency"]: row for row in overview["totals"]}
    assert totals["CNY"]["total"] == sum(v for (_c, cur), v in expected.items() if cur == "CNY")
    assert totals["CNY"]["customer_count"] == 5

    # Above the limits: A alone (5,000,000 > 4,500,000) and group X (7,000,000 > 6,500,000).
    assert [row["name"] for row in overview["customer"] if row["limit"] is not None] == ["A Co"]
    assert customers[(a, "CNY")]["limit"] == D("4500000")
    assert [row["companies"] for row in overview["group"] if row["limit"] is not None] == [
        ["A Co", "B Co"]
    ]
    # The links that put a customer in a group.
    last4 = bank["B"].legal_representative_id[-4:]
    assert customers[(b, "CNY")]["group"] == customers[(a, "CNY")]["group"] == f"Wang (…{last4})"
    assert customers[(e, "CNY")]["group"] == ""
    assert customers[(e, "CNY")]["guaranteed_by"] == ["C Co"]
    assert customers[(c, "CNY")]["guarantees"] == ["E Co"]


def test_a_branch_head_sees_their_subtree_only(staff, bank, branch):
    overview = _tables(staff["head"])

    expected = _independent(branch_ids={branch.pk, bank["sub"].pk})
    assert {
        (row["company_id"], row["currency"]): row["total"] for row in overview["customer"]
    } == expected
    assert {row["name"] for row in overview["customer"]} == {"A Co", "B Co", "E Co"}
    assert {row["branch"] for row in overview["branch"]} == {"Beijing branch", "Beijing Haidian"}


def test_the_page_and_the_api_are_for_risk_officers_and_branch_heads(client, api, staff, bank):
    url, api_url = reverse("postloan-exposure"), reverse("api-postloan-exposure")
    for user in (staff["rm"], staff["approver"]):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert api(user).get(api_url).status_code == 403
    other_head = make_staff(Role.BRANCH_HEAD, bank["C"].home_branch, username="sh_head")
    response = api(other_head).get(api_url)
    assert response.status_code == 200
    assert {row["name"] for row in response.data["results"]} == {"C Co", "D Co"}

    client.force_login(staff["risk"])
    with translation.override("en"):
        page = client.get(url)
    assert page.status_code == 200
    assert b'id="exposure-customers"' in page.content
    assert page.content.count(b'data-above-limit="1"') == 1  # A
    assert b"above the single-customer limit of" in page.content
    with translation.override("en"):
        groups = client.get(url, {"dimension": "group"})
    assert groups.content.count(b'data-above-limit="1"') == 1  # group X
    assert b"above the group limit of" in groups.content
    assert f'href="{url}"'.encode() in page.content  # the menu's link

    response = api(staff["risk"]).get(api_url)
    assert response.status_code == 200
    a = next(row for row in response.data["results"] if row["name"] == "A Co")
    assert D(a["total"]) == D("5000000") and D(a["limit"]) == D("4500000")
    assert D(response.data["limits"]["group"]) == D("6500000")


def test_the_csv_export_has_one_row_per_customer_and_currency(client, staff, bank):
    client.force_login(staff["risk"])
    response = client.get(reverse("postloan-exposure"), {"export": "customer"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:2] == ["name", "credit_code"]
    assert len(rows) == 1 + 6  # five customers, D in two currencies
    a = next(row for row in rows if row[0] == "A Co")
    assert D(a[rows[0].index("total")]) == D("5000000.00")
    assert client.get(reverse("postloan-exposure"), {"export": "nope"}).status_code == 400


def test_customer_exposure_counts_the_undrawn_facilities(staff, company, make_facility):
    facility = make_facility(amount="1000000.00")
    _drawdown_loan(facility, staff["rm"], outstanding="250000")
    make_facility(amount="300000.00", status=Facility.Status.EXPIRED)

    rows = customer_exposure(company=company)

    assert len(rows) == 1
    assert rows[0]["loans"] == D("250000")
    assert rows[0]["undrawn"] == D("750000")
    assert rows[0]["facility_count"] == 1
    assert rows[0]["total"] == D("1000000")


def test_the_nightly_job_flags_a_customer_above_a_limit_once(staff, bank):
    demo.seed()
    rule = WarningRule.objects.get(kind=WarningRule.Kind.EXPOSURE_ABOVE_LIMIT)

    counts = daily_job_run()
    assert counts["exposure_alerts_raised"] == 2

    alerts = Alert.objects.filter(rule=rule).select_related("loan__application")
    flagged = {alert.loan.application.company_id: alert for alert in alerts}
    # A above the single-customer limit, B because its group is above the group limit; C, D
    # and E are below both.
    assert set(flagged) == {bank["A"].pk, bank["B"].pk}
    a = flagged[bank["A"].pk]
    assert a.loan.outstanding_principal == D("3000000")  # its largest active loan
    assert a.evidence["customer_total"] == "5000000.00"
    assert a.evidence["customer_undrawn"] == "1400000.00"
    assert a.evidence["single_customer_limit"] == "4500000.00"
    assert a.evidence["group_limit"] == "6500000.00"
    b = flagged[bank["B"].pk]
    assert "single_customer_limit" not in b.evidence
    assert b.evidence["group_total"] == "7000000.00"
    assert b.evidence["group_companies"] == "A Co, B Co"
    # The risk officer sees them with their alerts.
    from postloan.selectors import alert_list

    assert {alert.pk for alert in alert_list(user=staff["risk"])} >= {a.pk, b.pk}

    # Raised once while it stays above.
    assert daily_job_run()["exposure_alerts_raised"] == 0
    assert Alert.objects.filter(rule=rule).count() == 2


def test_the_customers_come_largest_first_a_page_at_a_time(api, staff, bank):
    client = api(staff["risk"])
    url = reverse("api-postloan-exposure")

    first = client.get(url, {"page_size": 2})
    assert first.status_code == 200
    assert first.data["count"] == 6  # five customers, D in two currencies
    assert first.data["previous"] is None and "page=2" in first.data["next"]
    names = [row["name"] for row in first.data["results"]]
    assert names == ["A Co", "C Co"]  # 5,000,000 and 3,000,000 CNY
    last = client.get(url, {"page_size": 2, "page": 3})
    assert [(row["name"], row["currency"]) for row in last.data["results"]] == [
        ("E Co", "CNY"),
        ("D Co", "USD"),  # other currencies after CNY
    ]
    assert last.data["next"] is None
    everything = [
        row["total"]
        for page in (1, 2, 3)
        for row in client.get(url, {"page_size": 2, "page": page}).data["results"]
        if row["currency"] == "CNY"
    ]
    assert everything == sorted(everything, key=D, reverse=True)
    groups = client.get(url, {"dimension": "group"})
    assert [row["companies"] for row in groups.data["results"]] == [
        ["A Co", "B Co"],
        ["C Co", "D Co"],
        ["C Co", "D Co"],
    ]
    assert client.get(url, {"dimension": "nope"}).status_code == 400


def test_the_page_pages_and_finds_a_customer_by_name_or_credit_code(
    client, staff, bank, monkeypatch
):
    from postloan import exposure

    monkeypatch.setattr(exposure, "PAGE_SIZE", 2)
    client.force_login(staff["risk"])
    url = reverse("postloan-exposure")
    with translation.override("en"):
        second = client.get(url, {"page": 2})
    assert second.status_code == 200
    assert second.content.count(b"data-company=") == 2
    assert b"Page 2 of 3 (6 rows)" in second.content

    found = client.get(url, {"q": "b co"})
    assert found.content.count(b"data-company=") == 1
    assert f'data-company="{bank["B"].pk}"'.encode() in found.content
    code = bank["E"].credit_code
    by_code = exposure.exposure_overview(user=staff["risk"], q=code.lower())
    api_rows = by_code.figures(by_code.rows)
    assert [row["name"] for row in api_rows] == ["E Co"]
    groups = exposure.exposure_overview(user=staff["risk"], dimension="group", q="D Co")
    assert [row["companies"] for row in groups.figures(groups.rows)] == [["C Co", "D Co"]] * 2


def test_the_csv_streams_every_row_of_the_dimension_past_the_page_size(
    client, staff, bank, monkeypatch
):
    from django.http import StreamingHttpResponse

    from postloan import exposure

    monkeypatch.setattr(exposure, "PAGE_SIZE", 2)
    monkeypatch.setattr(exposure, "CSV_CHUNK", 4)
    client.force_login(staff["risk"])
    for dimension, expected in (("customer", 6), ("group", 3), ("branch", 4), ("industry", 3)):
        response = client.get(reverse("postloan-exposure"), {"export": dimension})
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        content = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        assert len(rows) == 1 + expected, dimension
    customers = exposure_overview(user=staff["risk"])
    expected = _independent()
    assert {
        (row["company_id"], row["currency"]): row["total"]
        for row in customers.figures(customers.rows)
    } == expected


def test_a_branch_risk_officer_sees_only_their_branch(api, staff, bank, other_branch):
    officer = make_staff(Role.RISK_OFFICER, other_branch, username="sh_risk")
    response = api(officer).get(reverse("api-postloan-exposure"))
    assert response.status_code == 200
    assert {row["name"] for row in response.data["results"]} == {"C Co", "D Co"}
    expected = _independent(branch_ids={other_branch.pk})
    assert {
        (row["company_id"], row["currency"]): D(row["total"]) for row in response.data["results"]
    } == expected
    assert {row["currency"]: D(row["total"]) for row in response.data["totals"]} == {
        "CNY": expected[(bank["C"].pk, "CNY")] + expected[(bank["D"].pk, "CNY")],
        "USD": D("50000"),
    }
    assert response.data["totals"][0]["customer_count"] == 2
    branches = api(officer).get(reverse("api-postloan-exposure"), {"dimension": "branch"})
    assert {row["branch"] for row in branches.data["results"]} == {"Shanghai branch"}


def test_a_controlling_shareholder_groups_companies_before_their_legal_representatives(staff, bank):
    from postloan.selectors import related_companies

    holder = make_uscc()
    for key in ("C", "E"):
        bank[key].controlling_shareholder = "Hengda Holdings"
        bank[key].controlling_shareholder_id = holder
        bank[key].full_clean()
        bank[key].save()
    exposure_snapshot_take(trigger="requested", requested_by=staff["risk"])

    groups = exposure_overview(user=staff["risk"], dimension="group")
    rows = groups.figures(groups.rows)
    expected = _independent()
    by_companies = {(tuple(row["companies"]), row["currency"]): row for row in rows}
    # C and E now one group (the shareholder); D, alone under Li, is in none.
    assert set(by_companies) == {(("A Co", "B Co"), "CNY"), (("C Co", "E Co"), "CNY")}
    ce = by_companies[(("C Co", "E Co"), "CNY")]
    assert ce["total"] == expected[(bank["C"].pk, "CNY")] + expected[(bank["E"].pk, "CNY")]
    assert ce["group_link"] == "controlling_shareholder"
    assert ce["group"] == f"Hengda Holdings (…{holder[-4:]})"
    customers = exposure_overview(user=staff["risk"])
    e = next(row for row in customers.figures(customers.rows) if row["name"] == "E Co")
    assert e["group"] == ce["group"] and e["group_link"] == "controlling_shareholder"

    related = related_companies(company=bank["C"])
    by_name = {row["name"]: row for row in related}
    assert by_name["E Co"]["links"] == ["controlling_shareholder", "guaranteed_by_it"]
    assert by_name["E Co"]["sources"] == {
        "controlling_shareholder": f"Hengda Holdings (…{holder[-4:]})"
    }
    assert by_name["D Co"]["links"] == ["legal_representative"]


def test_the_controlling_shareholder_is_entered_at_intake_and_on_the_portal_with_field_errors(
    api, staff, owner, company, product
):
    from customers.models import Company

    url = reverse("api-company-find-or-create")
    base = {
        "name": "Holding Trading",
        "industry_code": "F51",
        "registration_date": "2018-01-01",
        "legal_representative": "Zhao Liu",
    }
    client = api(staff["rm"])
    wrong = make_resident_id(900100)[:17] + "0"
    if wrong == make_resident_id(900100):
        wrong = wrong[:17] + "1"
    response = client.post(
        url,
        {
            **base,
            "credit_code": make_uscc(),
            "controlling_shareholder": "Zhao",
            "controlling_shareholder_id": wrong,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "check" in response.data["controlling_shareholder_id"][0]
    response = client.post(
        url,
        {**base, "credit_code": make_uscc(), "controlling_shareholder": "Zhao"},
        format="json",
    )
    assert response.status_code == 400
    assert response.data["controlling_shareholder_id"] == [
        "Give the controlling shareholder's resident ID number or credit code."
    ]
    person = make_resident_id(900101)
    response = client.post(
        url,
        {
            **base,
            "credit_code": make_uscc(),
            "controlling_shareholder": "Zhao Liu",
            "controlling_shareholder_id": person,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["company"]["controlling_shareholder_id"] == person

    apply = {
        "product": product.code,
        "amount": "200000.00",
        "term_months": 12,
        "repayment_method": "equal_instalments",
        "guarantee_type": "credit",
    }
    response = api(owner).post(
        reverse("api-online-application"),
        {**apply, "controlling_shareholder": "Parent Co", "controlling_shareholder_id": "123"},
        format="json",
    )
    assert response.status_code == 400
    assert response.data["controlling_shareholder_id"]
    holder = make_uscc()
    response = api(owner).post(
        reverse("api-online-application"),
        {**apply, "controlling_shareholder": "Parent Co", "controlling_shareholder_id": holder},
        format="json",
    )
    assert response.status_code == 201, response.data
    company = Company.objects.get(pk=company.pk)
    assert (company.controlling_shareholder, company.controlling_shareholder_id) == (
        "Parent Co",
        holder,
    )


def test_the_industry_and_branch_tables_are_shown_whole(client, staff, bank):
    client.force_login(staff["risk"])
    url = reverse("postloan-exposure")
    with translation.override("en"):
        industries = client.get(url, {"dimension": "industry"})
        branches = client.get(url, {"dimension": "branch"})
        wrong = client.get(url, {"dimension": "nope"})
    assert industries.status_code == 200 and b'id="exposure-industries"' in industries.content
    assert b'id="exposure-customers"' not in industries.content
    assert branches.status_code == 200 and b"Beijing Haidian" in branches.content
    assert wrong.status_code == 400
