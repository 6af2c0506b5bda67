"""The balanced scorecard on real data: metrics are records an administrator configures; each
figure equals a sum worked out here from the raw rows of a bank of known numbers; direction and
weight make the score as documented (analytics.scorecard); two periods compare."""

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import ProvisionRate, ScorecardMetric, StageVisit, TrainingRecord
from analytics.scorecard import DEFAULT_PROVISION_RATES_PCT, METRIC_FIGURES, metric_attainment
from applications.models import LoanApplication, Product
from complaints.models import Complaint, ComplaintCategory
from datasources.models import Consent, SourceQuery
from org.models import StaffProfile
from postloan.models import NON_PERFORMING, Loan
from postloan.services import loan_terms_from
from tests.analytics.conftest import PERIOD, at, make_metric, make_visit
from tests.analytics.test_figures import figure
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def _bank(branch, other_branch, product, staff, *, n: int, seed: int = 32):
    """`n` applications in Beijing and Shanghai drawn with a fixed seed: channels, industries,
    statuses; active, closed and written-off loans of every class at several rates; stage
    visits with actors; training records; a product changed in November."""
    rng = random.Random(seed)
    companies = [
        CompanyFactory(
            home_branch=rng.choice([branch, other_branch]),
            industry_code=rng.choice(["C13", "C18", "F51"]),
        )
        for _ in range(max(2, n // 2))
    ]
    for _ in range(n):
        company = rng.choice(companies)
        status = rng.choice(["submitted", "approved", "declined", "disbursed", "disbursed"])
        submitted = at(rng.randint(1, 28)) - timedelta(days=30 * rng.choice([0, 0, 1]))
        app = ApplicationFactory(
            company=company,
            product=product,
            status=status,
            channel=rng.choice(["online", "branch"]),
            amount=Decimal(rng.choice(["300000", "800000", "1500000"])),
            interest_rate=Decimal(rng.choice(["3.850", "4.350", "5.200"])),
            submitted_at=submitted,
        )
        if status != "submitted":
            app.decided_at = submitted + timedelta(days=2)
            app.save(update_fields=["decided_at"])
            # An external source answered before the decision, after it, or never.
            answered = rng.choice([-1, 1, None])
            if answered is not None:
                _source_answer(app, at=app.decided_at + timedelta(hours=answered))
        if status == "disbursed":
            loan_status = rng.choice(["active", "active", "active", "closed", "written_off"])
            Loan.objects.create(
                application=app,
                **loan_terms_from(app),
                branch=app.branch,
                relationship_manager=app.relationship_manager,
                status=loan_status,
                principal=app.amount,
                disbursed_on=submitted.date() + timedelta(days=3),
                outstanding_principal=(
                    app.amount * Decimal(rng.choice(["0.2", "0.5", "0.9"]))
                    if loan_status == "active"
                    else Decimal(0)
                ),
                classification=rng.choice(
                    ["normal", "normal", "special_mention", "substandard", "doubtful", "loss"]
                ),
            )
        actor = rng.choice([staff["rm"], staff["reviewer"], staff["approver"]])
        make_visit(app, rng.choice(["submitted", "investigation"]), 3, left=at(25), actor=actor)
    for person in (staff["rm"], staff["reviewer"], staff["risk"]):
        TrainingRecord.objects.create(
            user=person, date=date(2026, 11, 10), hours=Decimal("3.5"), topic="Credit policy"
        )
        TrainingRecord.objects.create(
            user=person, date=date(2026, 10, 10), hours=Decimal("2"), topic="AML"
        )
    product.max_rate = product.max_rate + 1
    product.save()
    Product.objects.filter(pk=product.pk).update(updated_at=at(15))
    # Complaints in October and November, about an application or about the company.
    category = ComplaintCategory.objects.get_or_create(code="service", defaults={"name": "x"})[0]
    apps = list(LoanApplication.objects.select_related("company").order_by("pk"))
    for _ in range(max(3, n // 3)):
        app = rng.choice(apps)
        Complaint.objects.create(
            company=app.company,
            branch=app.company.home_branch,
            application=rng.choice([app, None]),
            category=category,
            channel="portal",
            text="Slow.",
            filed_by=staff["rm"],
            received_at=at(rng.randint(1, 28)) - timedelta(days=30 * rng.choice([0, 1])),
        )


@pytest.fixture
def bank(branch, other_branch, product, staff):
    _bank(branch, other_branch, product, staff, n=30)


def _source_answer(application, *, at):
    consent = Consent.objects.create(
        application=application,
        scope=["tax"],
        status="granted",
        channel="portal",
        valid_until=at + timedelta(days=90),
    )
    SourceQuery.objects.create(
        application=application,
        credit_code=application.company.credit_code,
        source="tax",
        adapter="simulated",
        consent=consent,
        purpose="pre_loan",
        status="arrived",
        requested_at=at - timedelta(minutes=1),
        answered_at=at,
        answer={"grade": "A"},
    )


def every_metric():
    for order, key in enumerate(METRIC_FIGURES):
        make_metric(key, order=order)


# The active pricing version's cost of funds by term (pricing.defaults), written out here.
CURVE = [(6, "1.80"), (12, "1.95"), (36, "2.25"), (60, "2.45"), (120, "2.60")]


def cost_of_funds(term: int) -> Decimal:
    return next((Decimal(pct) for months, pct in CURVE if term <= months), Decimal("2.60"))


@pytest.fixture(autouse=True)
def pricing_version(db):
    """The margin reads the active pricing version's curve (a transactional test elsewhere
    may have flushed the version the migration seeded)."""
    from pricing.services import pricing_version_default_ensure

    return pricing_version_default_ensure()


def independent(*, branches=None, date_from=NOVEMBER[0], date_to=NOVEMBER[1]) -> dict:
    """The figures from the raw rows, summed here in Python."""

    def in_scope(branch_id):
        return branches is None or branch_id in branches

    loans = [
        loan
        for loan in Loan.objects.select_related("application")
        if loan.status == "active" and in_scope(loan.branch_id)
    ]
    balance = sum((loan.outstanding_principal for loan in loans), Decimal(0))
    npl = sum(
        (loan.outstanding_principal for loan in loans if loan.classification in NON_PERFORMING),
        Decimal(0),
    )
    rates = {
        **DEFAULT_PROVISION_RATES_PCT,
        **dict(ProvisionRate.objects.values_list("classification", "rate_pct")),
    }
    provisions = sum(
        (loan.outstanding_principal * rates[loan.classification] / 100 for loan in loans),
        Decimal(0),
    )
    rated = sum(
        (loan.outstanding_principal * loan.application.interest_rate for loan in loans),
        Decimal(0),
    )
    customers = {loan.application.company_id for loan in loans}
    complaints = [
        c
        for c in Complaint.objects.all()
        if date_from <= c.received_at.astimezone().date() <= date_to and in_scope(c.branch_id)
    ]
    apps = [
        a
        for a in LoanApplication.objects.all()
        if a.submitted_at
        and date_from <= a.submitted_at.astimezone().date() <= date_to
        and in_scope(a.branch_id)
    ]
    online = [a for a in apps if a.channel == "online"]
    decided = [a for a in apps if a.decided_at]
    on_data = [
        a
        for a in decided
        if any(
            q.status == "arrived" and q.answered_at <= a.decided_at
            for q in SourceQuery.objects.filter(application=a)
        )
    ]
    staff = [p.user_id for p in StaffProfile.objects.all() if in_scope(p.branch_id)]
    hours = sum(
        (
            t.hours
            for t in TrainingRecord.objects.all()
            if t.user_id in staff and date_from <= t.date <= date_to
        ),
        Decimal(0),
    )
    visits = [
        v
        for v in StageVisit.objects.all()
        if v.actor_id
        and in_scope(v.branch_id)
        and date_from <= v.left_at.astimezone().date() <= date_to
    ]
    per_stage = {(v.stage, v.actor_id) for v in visits}
    stages = {v.stage for v in visits}
    funded = sum(
        (
            loan.outstanding_principal * cost_of_funds(loan.application.term_months)
            for loan in loans
        ),
        Decimal(0),
    )
    yield_pct = rated / balance
    return {
        "portfolio_balance": float(balance),
        "npl_ratio": round(float(npl / balance), 4),
        "provisions": float(provisions.quantize(Decimal("0.01"))),
        "yield_pct": round(float(yield_pct), 4),
        "margin_pct": round(float(yield_pct - funded / balance), 4),
        "sme_customers": float(len(customers)),
        "financing_per_customer": round(float(balance / len(customers)), 2),
        "online_share": round(len(online) / len(apps), 4),
        "training_hours_per_person": round(float(hours / len(staff)), 2),
        "staff_per_stage": round(len(per_stage) / len(stages), 2) if stages else None,
        "product_changes": 1.0,
        "complaints": float(len(complaints)),
        "complaints_per_100_customers": round(len(complaints) * 100 / len(customers), 2),
        "external_data_share": round(len(on_data) / len(decided), 4) if decided else None,
    }


def test_each_figure_equals_an_independent_sum_over_the_raw_rows(bank, staff):
    every_metric()
    ProvisionRate.objects.filter(classification="special_mention").update(rate_pct=Decimal("5"))

    for user, branches in [
        (staff["risk"], None),
        (staff["head"], {staff["head"].staff_profile.branch_id}),
    ]:
        values = {r["metric"]: r["value"] for r in figure(user, "scorecard")["rows"]}
        expected = independent(branches=branches)
        assert 0 < expected["external_data_share"] < 1  # some decided on external data
        for key, value in expected.items():
            assert values[key] == pytest.approx(value, abs=1e-4), key


def test_a_metric_configured_in_the_admin_changes_the_scorecard_without_code(bank, staff, client):
    assert figure(staff["risk"], "scorecard")["rows"] == []
    client.force_login(staff["admin"])
    response = client.post(
        reverse("admin:analytics_scorecardmetric_add"),
        {
            "code": "book-yield",
            "name": "Yield of the book",
            "name_zh": "贷款收益率",
            "perspective": "financial",
            "figure": "yield_pct",
            "direction": "higher",
            "target": "4.0000",
            "weight": "3",
            "unit": "%",
            "order": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rows = figure(staff["risk"], "scorecard")["rows"]
    assert [(r["metric"], r["label"], r["weight"], r["unit"]) for r in rows] == [
        ("book-yield", "Yield of the book", 3.0, "%")
    ]
    assert rows[0]["value"] == pytest.approx(independent()["yield_pct"], abs=1e-4)
    # A figure that is not in the registry is refused with a field message.
    bad = client.post(
        reverse("admin:analytics_scorecardmetric_add"),
        {
            "code": "x",
            "name": "x",
            "perspective": "financial",
            "figure": "nope",
            "target": "1",
            "weight": "1",
            "direction": "higher",
            "order": "0",
        },
    )
    assert bad.status_code == 200 and "figure" in bad.context["adminform"].form.errors


@pytest.mark.parametrize(
    "value, target, direction, attained",
    [
        (0.5, 1.0, "higher", 0.5),
        (2.0, 1.0, "higher", 1.0),
        (0.1, 0.05, "lower", 0.5),
        (0.04, 0.05, "lower", 1.0),
        (0.0, 0.0, "lower", 1.0),
        (3.0, 0.0, "higher", 1.0),
        (None, 1.0, "higher", None),
    ],
)
def test_direction_decides_how_far_a_value_reaches_its_target(value, target, direction, attained):
    assert metric_attainment(value=value, target=target, direction=direction) == attained


def test_weights_make_the_perspective_score_and_a_metric_without_data_does_not_count(bank, staff):
    expected = independent()
    # Yield reached in full (target below it), online share to half its target.
    make_metric("yield_pct", "financial", Decimal(str(expected["yield_pct"])) - 1, weight=3)
    make_metric("online_share", "financial", Decimal(str(expected["online_share"])) * 2, weight=1)
    make_metric("complaint_hours_median", "financial", 0, "lower", weight=5)
    result = figure(staff["risk"], "scorecard")
    rows = {r["metric"]: r for r in result["rows"]}
    assert rows["yield_pct"]["score"] == 3.0
    assert rows["online_share"]["score"] == pytest.approx(0.5, abs=1e-3)
    assert (rows["complaint_hours_median"]["score"], rows["complaint_hours_median"]["status"]) == (
        None,
        "no_data",
    )
    financial = next(p for p in result["perspectives"] if p["perspective"] == "financial")
    assert financial["score"] == pytest.approx(3.5 / 4, abs=1e-3)
    assert result["summary"]["score"] == financial["score"]


def test_the_scorecard_compares_two_periods(bank, staff, api):
    make_metric("online_share", "customer", "0.5")
    make_metric("training_hours_per_person", "learning_growth", "1")
    make_metric("complaints", "customer", "0", "lower")
    result = figure(staff["risk"], "scorecard", date_from2="2026-10-01", date_to2="2026-10-31")
    rows = {r["metric"]: r for r in result["rows"]}
    october = independent(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    november = independent()
    assert november["complaints"] and october["complaints"]
    for key in ("online_share", "training_hours_per_person", "complaints"):
        assert rows[key]["value"] == pytest.approx(november[key], abs=1e-4)
        assert rows[key]["value_compare"] == pytest.approx(october[key], abs=1e-4)
        assert rows[key]["change"] == pytest.approx(november[key] - october[key], abs=1e-3)
    assert (result["summary"]["compare_from"], result["summary"]["compare_to"]) == (
        "2026-10-01",
        "2026-10-31",
    )
    # Without a comparison period, the period just before (30 days before 1 November).
    default = figure(staff["risk"], "scorecard")["summary"]
    assert (default["compare_from"], default["compare_to"]) == ("2026-10-02", "2026-10-31")
    bad = api(staff["risk"]).get(
        reverse("api-analytics-figure", args=["scorecard"]), {**PERIOD, "date_from2": "2026-10-01"}
    )
    assert bad.status_code == 400 and "date_to2" in bad.data


def test_each_figure_drills_down_by_branch_product_and_industry(bank, staff, branch, api):
    make_metric("portfolio_balance", "financial", "1")
    client = api(staff["risk"])
    url = reverse("api-analytics-figure", args=["scorecard-drilldown"])
    by_branch = client.get(url, {**PERIOD, "metric": "portfolio_balance", "by": "branch"})
    assert by_branch.status_code == 200
    values = {r["label"]: r["value"] for r in by_branch.data["rows"]}
    assert values["Beijing branch"] == independent(branches={branch.pk})["portfolio_balance"]
    by_industry = client.get(url, {**PERIOD, "metric": "portfolio_balance", "by": "industry"})
    sections = {r["key"]: r["value"] for r in by_industry.data["rows"]}
    loans = Loan.objects.filter(status="active")
    for section, value in sections.items():
        assert value == float(
            sum(
                (
                    loan.outstanding_principal
                    for loan in loans
                    if loan.application.company.industry_code.startswith(section)
                ),
                Decimal(0),
            )
        )
    assert client.get(url, {**PERIOD, "metric": "nope"}).status_code == 404
    assert client.get(url, {**PERIOD, "metric": "portfolio_balance", "by": "x"}).status_code == 400


def test_the_scorecard_page_and_csv_show_scores_and_the_comparison(bank, staff, client):
    every_metric()
    client.force_login(staff["risk"])
    url = reverse("analytics-figure-section", args=["scorecard"])
    page = client.get(url, PERIOD, HTTP_X_REQUESTED_WITH="fetch")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="scorecard-perspectives"' in body and "scorecard-drilldown" in body
    response = client.get(reverse("analytics-export"), {**PERIOD, "figure": "scorecard"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert {r["metric"] for r in rows} == set(METRIC_FIGURES)
    assert {"score", "value_compare", "weight"} <= set(rows[0])


def test_the_scorecard_costs_a_bounded_number_of_queries_whatever_the_data_size(
    branch, other_branch, product, staff
):
    every_metric()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            figure(staff["risk"], "scorecard")
        return len(captured)

    _bank(branch, other_branch, product, staff, n=12, seed=1)
    queries()  # the first reading caches what does not depend on the data
    small = queries()
    _bank(branch, other_branch, product, staff, n=40, seed=2)
    assert queries() == small


def test_todays_position_is_read_once_for_both_periods(branch, other_branch, product, staff):
    every_metric()
    _bank(branch, other_branch, product, staff, n=12, seed=1)
    with CaptureQueriesContext(connection) as captured:
        result = figure(staff["risk"], "scorecard")
    loan_reads = [q["sql"] for q in captured if 'FROM "postloan_loan"' in q["sql"]]
    assert loan_reads, "the stock figures read the loans"
    assert len(loan_reads) == len(set(loan_reads))
    # ... and the comparison period still has the stock figures' values.
    rows = {r["metric"]: r for r in result["rows"]}
    assert rows["portfolio_balance"]["value_compare"] == rows["portfolio_balance"]["value"]
    assert rows["sme_customers"]["value_compare"] == rows["sme_customers"]["value"]
    assert rows["yield_pct"]["value_compare"] == rows["yield_pct"]["value"]


def test_the_enum_migration_keeps_existing_targets(transactional_db):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("analytics", "0005_loan_month_end")]
    after = [("analytics", "0006_scorecard_metric_records")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        Target = old.get_model("analytics", "ScorecardTarget")
        Target.objects.create(
            perspective="internal_process",
            metric="rework_rate",
            target=Decimal("0.15"),
            direction="at_most",
            order=3,
        )
        Target.objects.create(
            perspective="customer", metric="satisfaction_score", target=4, is_active=False
        )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        metrics = {
            m.code: (m.perspective, m.figure, m.target, m.direction, m.weight, m.order, m.is_active)
            for m in ScorecardMetric.objects.all()
        }
        assert metrics == {
            "rework_rate": (
                "internal_process",
                "rework_rate",
                Decimal("0.15"),
                "lower",
                Decimal("1"),
                3,
                True,
            ),
            "satisfaction_score": (
                "customer",
                "satisfaction_score",
                Decimal("4"),
                "higher",
                Decimal("1"),
                0,
                False,
            ),
        }
        assert ScorecardMetric.objects.get(code="rework_rate").name_zh == "返工率"
        assert dict(ProvisionRate.objects.values_list("classification", "rate_pct")) == {
            str(k): v for k, v in DEFAULT_PROVISION_RATES_PCT.items()
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
