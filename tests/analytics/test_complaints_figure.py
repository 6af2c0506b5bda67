"""The scorecard's complaints figures on a bank of known complaints: received in the period,
counted for the branch of the company, narrowed by branch, product and industry, compared
between two periods and drilled down; per 100 SME customers; median hours to answer."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, ComplaintCategory
from postloan.models import Loan
from postloan.services import loan_terms_from
from tests.analytics.conftest import PERIOD, make_metric
from tests.analytics.test_figures import figure
from tests.factories import ApplicationFactory, CompanyFactory, ProductFactory

pytestmark = pytest.mark.django_db

OCTOBER = {"date_from2": "2026-10-01", "date_to2": "2026-10-31"}


def moment(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment of 2026 (bank time)."""
    return timezone.make_aware(datetime(2026, month, day, hour, minute))


@pytest.fixture
def bank(branch, other_branch, product, staff):
    """Beijing: Acme (C13, a loan of product 1) and Bolt (F51, product 2); Shanghai: Chen
    (C13, a loan of product 1). Their complaints:

    | # | company | about      | received          | answered        |
    | 1 | Acme    | product 1  | 3 Nov             |                 |
    | 2 | Acme    | general    | 10 Nov            |                 |
    | 3 | Bolt    | product 2  | 20 Nov 12:00      | 22 Nov 12:00    |
    | 4 | Chen    | product 1  | 5 Nov 12:00       | 6 Nov 12:00     |
    | 5 | Acme    | product 1  | 30 Nov 23:00      |                 |
    | 6 | Acme    | product 1  | 15 Oct 12:00      | 1 Nov 12:00     |
    | 7 | Chen    | general    | 31 Oct 23:30      |                 |
    | 8 | Bolt    | product 2  | 1 Dec 00:00       |                 |
    """
    delay, _ = ComplaintCategory.objects.get_or_create(
        code="delay", defaults={"name": "Processing time"}
    )
    product2 = ProductFactory(code="SME-EQP")
    acme = CompanyFactory(home_branch=branch, industry_code="C13", name="Acme")
    bolt = CompanyFactory(home_branch=branch, industry_code="F51", name="Bolt")
    chen = CompanyFactory(home_branch=other_branch, industry_code="C13", name="Chen")
    apps = {}
    for name, company, prod in (("acme", acme, product), ("bolt", bolt, product2)):
        apps[name] = ApplicationFactory(
            company=company,
            product=prod,
            status="disbursed",
            filed_by=staff["rm"],
            relationship_manager=staff["rm"],
            submitted_at=moment(11, 2),
        )
    apps["chen"] = ApplicationFactory(
        company=chen, product=product, status="disbursed", submitted_at=moment(11, 2)
    )
    for name in ("acme", "chen"):  # Bolt's loan is repaid: Acme and Chen are the customers
        app = apps[name]
        Loan.objects.create(
            application=app,
            **loan_terms_from(app),
            branch=app.branch,
            relationship_manager=app.relationship_manager,
            principal=app.amount,
            disbursed_on=moment(11, 3).date(),
            outstanding_principal=Decimal("500000"),
        )
    rows = [
        (acme, apps["acme"], moment(11, 3), None),
        (acme, None, moment(11, 10), None),
        (bolt, apps["bolt"], moment(11, 20), moment(11, 22)),
        (chen, apps["chen"], moment(11, 5), moment(11, 6)),
        (acme, apps["acme"], moment(11, 30, 23), None),
        (acme, apps["acme"], moment(10, 15), moment(11, 1)),
        (chen, None, moment(10, 31, 23, 30), None),
        (bolt, apps["bolt"], moment(12, 1, 0), None),
    ]
    for company, application, received, answered in rows:
        Complaint.objects.create(
            company=company,
            branch=company.home_branch,
            application=application,
            category=delay,
            channel="portal",
            text="Too slow.",
            filed_by=staff["rm"],
            received_at=received,
            status="resolved" if answered else "received",
            answered_at=answered,
            response="Sorry." if answered else "",
        )
    return {"product2": product2}


def values(user, **params) -> dict:
    rows = figure(user, "scorecard", **params)["rows"]
    return {r["metric"]: (r["value"], r["value_compare"]) for r in rows}


@pytest.fixture
def metrics(db):
    make_metric("complaints", "customer", 0, "lower")
    make_metric("complaints_per_100_customers", "customer", 2, "lower")
    make_metric("complaint_hours_median", "customer", 120, "lower")


def test_complaints_are_counted_in_the_period_they_were_received_for_the_companys_branch(
    bank, metrics, staff
):
    everything = values(staff["risk"], **OCTOBER)
    beijing_head = values(staff["head"], **OCTOBER)

    # Complaints 1 to 5 in November, 6 and 7 in October; 8 is December's.
    assert everything["complaints"] == (5.0, 2.0)
    # The Beijing head sees Beijing's companies only: 1, 2, 3, 5 and, in October, 6.
    assert beijing_head["complaints"] == (4.0, 1.0)
    # Per 100 SME customers with a loan (Acme and Chen; Beijing: Acme).
    assert everything["complaints_per_100_customers"][0] == 250.0
    assert beijing_head["complaints_per_100_customers"][0] == 400.0
    # Hours to answer, of those answered in November: 3 (48 h), 4 (24 h), 6 (17 days).
    assert everything["complaint_hours_median"][0] == 48.0
    assert beijing_head["complaint_hours_median"][0] == (48 + 408) / 2
    # Nothing was answered in October.
    assert everything["complaint_hours_median"][1] is None


def test_the_filters_narrow_the_complaints_by_branch_product_and_industry(
    bank, metrics, staff, branch, other_branch, product
):
    def count(**params) -> float:
        return values(staff["risk"], **params)["complaints"][0]

    assert count(branch=branch.pk) == 4.0
    assert count(branch=other_branch.pk) == 1.0
    # A product: the complaints about its applications (a general one is about none).
    assert count(product=product.pk) == 3.0
    assert count(product=bank["product2"].pk) == 1.0
    # An industry: the company's, general complaints included.
    assert count(industry="C") == 4.0
    assert count(industry="F51") == 1.0
    assert count(industry="C", branch=branch.pk) == 3.0
    # The period, inclusive of its last day.
    assert count(date_from="2026-11-30", date_to="2026-11-30") == 1.0
    assert count(date_from="2026-12-01", date_to="2026-12-01") == 1.0


def test_the_scorecard_compares_the_complaints_with_the_period_before_by_default(
    bank, metrics, staff
):
    result = figure(staff["risk"], "scorecard")
    row = next(r for r in result["rows"] if r["metric"] == "complaints")

    # 2 to 31 October holds complaints 6 and 7.
    assert (row["value"], row["value_compare"], row["change"]) == (5.0, 2.0, 3.0)
    assert row["label"] == "complaints"
    # Lower is better and the target is 0: five complaints score nothing.
    assert (row["attainment"], row["status"]) == (0.0, "missed")


def test_the_complaints_drill_down_by_branch_product_and_industry(
    bank, metrics, staff, api, branch, other_branch, product
):
    client = api(staff["risk"])
    url = reverse("api-analytics-figure", args=["scorecard-drilldown"])

    def drill(by: str) -> dict:
        response = client.get(url, {**PERIOD, "metric": "complaints", "by": by})
        assert response.status_code == 200, response.data
        return {r["key"]: r["value"] for r in response.data["rows"]}

    by_branch = drill("branch")
    assert (by_branch[str(branch.pk)], by_branch[str(other_branch.pk)]) == (4.0, 1.0)
    by_product = drill("product")
    assert (by_product[str(product.pk)], by_product[str(bank["product2"].pk)]) == (3.0, 1.0)
    assert drill("industry") == {"C": 4.0, "F": 1.0}


def test_the_figures_have_names_without_no_data_source(db):
    from analytics.scorecard import METRIC_FIGURES

    for key in ("complaints", "complaints_per_100_customers", "complaint_hours_median"):
        assert "no data source" not in str(METRIC_FIGURES[key][0])
    assert str(METRIC_FIGURES["complaints"][0]) == "Complaints received in the period"
