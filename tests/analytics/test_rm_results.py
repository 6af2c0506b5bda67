"""Relationship managers' results: every figure equals a sum worked out here from the raw rows
of a bank of known numbers; an RM sees only themselves, a branch head their branch subtree."""

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import MEASURED_STAGES, StageVisit
from analytics.rm import RESULT_COLUMNS, VINTAGE_COLUMNS, analytics_rm_figure
from applications.models import LoanApplication
from customers.models import CompanyBinding
from messaging.models import SurveyAnswer
from org.roles import Role
from postloan.models import NON_PERFORMING, Loan
from postloan.services import loan_terms_from
from sla.models import Deadline
from tests.analytics.conftest import PERIOD, at, make_visit
from tests.factories import (
    ApplicationFactory,
    CompanyFactory,
    make_applicant,
    make_staff,
)

pytestmark = pytest.mark.django_db

START, END = at(1, 0), at(30, 0) + timedelta(days=1)
APPROVED_OR_LATER = {"approved", "contract_signed", "disbursed", "closed", "written_off"}


def rm_figure(user, name="rm-results", **params):
    return analytics_rm_figure(user=user, name=name, params={**PERIOD, **params})


def make_loan(app, rng, *, disbursed_on: date, status: str | None = None) -> Loan:
    status = status or rng.choice(["active", "active", "active", "closed", "written_off"])
    active = status == "active"
    return Loan.objects.create(
        application=app,
        **loan_terms_from(app),
        branch=app.branch,
        relationship_manager=app.relationship_manager,
        status=status,
        principal=app.amount,
        disbursed_on=disbursed_on,
        outstanding_principal=(
            (app.amount * Decimal(rng.choice(["0.2", "0.5", "0.9"]))) if active else Decimal(0)
        ),
        days_past_due=rng.choice([0, 0, 0, 12, 45, 120]) if active else 0,
        classification=rng.choice(["normal", "normal", "special_mention", "substandard", "loss"]),
    )


@pytest.fixture
def bank(branch, other_branch, product, staff):
    """Three RMs (alice and bob in Beijing, carol in Shanghai) and 36 applications drawn with a
    fixed seed: statuses, industries, stage visits (some rework, some in October), SLA
    deadlines (some late), loans of several vintages and states, survey answers."""
    rng = random.Random(32)
    carol = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="carol_rm")
    rms = [staff["rm"], staff["rm2"], carol]
    statuses = ["submitted", "investigation", "approved", "declined", "withdrawn"] + [
        "disbursed"
    ] * 4
    vintages = [date(2025, 2, 10), date(2025, 8, 3), date(2026, 4, 20), date(2026, 11, 9)]
    for i in range(36):
        rm = rms[i % 3]
        company = CompanyFactory(
            home_branch=rm.staff_profile.branch, industry_code=rng.choice(["C13", "C18", "F51"])
        )
        if rng.random() < 0.6:
            make_applicant(company)
        status = rng.choice(statuses)
        submitted = at(rng.randint(1, 20)) if i % 6 else at(1) - timedelta(days=15)
        decided = (
            submitted + timedelta(days=2) if status in APPROVED_OR_LATER | {"declined"} else None
        )
        disbursed = submitted + timedelta(days=4) if status == "disbursed" else None
        app = ApplicationFactory(
            company=company,
            term_months=rng.choice([6, 12, 24, 48, 84]),
            product=product,
            status=status,
            filed_by=rm,
            relationship_manager=rm,
            submitted_at=submitted,
            decided_at=decided,
            disbursed_at=disbursed,
            amount=Decimal(rng.randrange(100, 900) * 1000),
            interest_rate=Decimal(rng.choice(["4.350", "5.100", "6.000"])),
        )
        make_visit(
            app,
            "investigation",
            rng.randint(1, 40),
            left=submitted + timedelta(hours=20),
            actor=rm,
            rework=rng.random() < 0.3,
        )
        make_visit(
            app,
            "in_approval",
            rng.randint(1, 40),
            left=submitted + timedelta(hours=30),
            actor=staff["approver"],
            rework=rng.random() < 0.2,
        )
        due = submitted + timedelta(hours=24)
        Deadline.objects.create(
            subject_type="applications.loanapplication",
            subject_id=app.pk,
            application=app,
            step="investigation",
            target_business_seconds=3600,
            started_at=submitted,
            due_at=due,
            status="stopped",
            stopped_at=due + timedelta(hours=rng.choice([-3, 5])),
        )
        if status == "disbursed":
            make_loan(app, rng, disbursed_on=rng.choice(vintages))
        for stage, reached in (("decision", decided), ("disbursement", disbursed)):
            binding = CompanyBinding.objects.filter(company=company).first()
            if reached and binding and rng.random() < 0.7:
                SurveyAnswer.objects.create(
                    application=app, stage=stage, score=rng.randint(1, 5), answered_by=binding.user
                )
    return {"carol": carol, "rms": rms}


# The active pricing version's cost of funds by term, written out here: (up to months, %).
CURVE = [(6, "1.80"), (12, "1.95"), (36, "2.25"), (60, "2.45"), (120, "2.60")]


def cost_of_funds(term: int) -> Decimal:
    return next((Decimal(pct) for months, pct in CURVE if term <= months), Decimal("2.60"))


def expected_for(rm, *, industry: str = "") -> dict:
    """The RM's figures summed here, in Python, over every row of the raw tables."""
    apps = [
        a
        for a in LoanApplication.objects.select_related("company")
        if a.relationship_manager_id == rm.pk and a.company.industry_code.startswith(industry)
    ]
    in_period = [a for a in apps if a.submitted_at and START <= a.submitted_at < END]
    ids = {a.pk for a in apps}
    visits = [
        v
        for v in StageVisit.objects.all()
        if v.left_at and START <= v.left_at < END and v.stage in MEASURED_STAGES
    ]
    own = [
        v
        for v in visits
        if v.actor_id == rm.pk and v.application.company.industry_code.startswith(industry)
    ]
    cases = [v for v in visits if v.application_id in ids]
    deadlines = [
        d for d in Deadline.objects.all() if d.application_id in ids and START <= d.stopped_at < END
    ]
    loans = [loan for loan in Loan.objects.all() if loan.application_id in ids]
    book = [loan for loan in loans if loan.status == "active"]
    balance = sum((loan.outstanding_principal for loan in book), Decimal(0))
    rated = sum(
        (loan.outstanding_principal * loan.application.interest_rate for loan in book), Decimal(0)
    )
    funded = sum(
        (loan.outstanding_principal * cost_of_funds(loan.application.term_months) for loan in book),
        Decimal(0),
    )
    overdue = sum((loan.outstanding_principal for loan in book if loan.days_past_due > 0), 0)
    npl = sum(
        (loan.outstanding_principal for loan in book if loan.classification in NON_PERFORMING), 0
    )
    paid_out = [
        loan for loan in loans if date(2026, 11, 1) <= loan.disbursed_on <= date(2026, 11, 30)
    ]
    bound = set(CompanyBinding.objects.filter(status="active").values_list("company_id", flat=True))
    offered = answered = score = 0
    for a in apps:
        for stage, reached in (("decision", a.decided_at), ("disbursement", a.disbursed_at)):
            if reached and START <= reached < END and a.company_id in bound:
                offered += 1
                for answer in SurveyAnswer.objects.filter(application=a, stage=stage):
                    answered += 1
                    score += answer.score
    approved = sum(1 for a in in_period if a.status in APPROVED_OR_LATER)
    declined = sum(1 for a in in_period if a.status == "declined")
    disbursed = sum(1 for a in in_period if a.status in {"disbursed", "closed", "written_off"})
    return {
        "filed": len(in_period),
        "approved": approved,
        "declined": declined,
        "disbursed": disbursed,
        "conversion": round(disbursed / len(in_period), 4) if in_period else None,
        "approval_rate": round(approved / (approved + declined), 4)
        if approved + declined
        else None,
        "stages": len(own),
        "stage_mean_h": (
            round(sum(v.business_seconds for v in own) / len(own) / 3600, 4) if own else None
        ),
        "case_visits": len(cases),
        "rework": sum(1 for v in cases if v.is_rework),
        "sla_deadlines": len(deadlines),
        "sla_breached": sum(1 for d in deadlines if d.stopped_at > d.due_at),
        "disbursed_loans": len(paid_out),
        "disbursed_amount": str(sum((loan.principal for loan in paid_out), Decimal("0.00"))),
        "book_loans": len(book),
        "book_balance": str(balance.quantize(Decimal("0.01"))),
        "yield_pct": round(float(rated / balance), 4) if balance else None,
        "margin_pct": round(float((rated - funded) / balance), 4) if balance else None,
        "overdue_rate": round(float(overdue / balance), 4) if balance else None,
        "npl_rate": round(float(npl / balance), 4) if balance else None,
        "surveys_offered": offered,
        "surveys_answered": answered,
        "satisfaction_score": round(score / answered, 2) if answered else None,
    }


@pytest.fixture(autouse=True)
def pricing_v1(db):
    """The margin reads the active pricing version's curve (CURVE below)."""
    from pricing.services import pricing_version_default_ensure

    return pricing_version_default_ensure()


def test_every_rm_figure_equals_the_sum_over_the_raw_tables(bank, staff):
    rows = {r["rm_id"]: r for r in rm_figure(staff["risk"])["rows"]}

    assert set(rows) >= {rm.pk for rm in bank["rms"]}
    seen = []
    for rm in bank["rms"]:
        expected = expected_for(rm)
        assert {k: rows[rm.pk][k] for k in expected} == expected, rm.username
        seen.append(expected)
    # The bank exercises every figure: none of them is compared only as zero or empty.
    for key in ("filed", "book_loans", "rework", "sla_breached", "disbursed_loans"):
        assert all(e[key] for e in seen), key
    for key in ("overdue_rate", "npl_rate", "satisfaction_score"):
        assert any(e[key] for e in seen), key


def test_the_industry_filter_narrows_the_rm_results(bank, staff):
    alice = staff["rm"]
    everything = rm_figure(alice)["rows"][0]
    narrowed = rm_figure(alice, industry="F51")["rows"][0]
    expected = expected_for(alice, industry="F51")

    assert narrowed["filed"] == expected["filed"] < everything["filed"]
    assert narrowed["book_balance"] == expected["book_balance"]
    assert narrowed["stages"] == expected["stages"] < everything["stages"]


def test_each_row_carries_the_book_size_and_its_vintage_mix(bank, staff):
    alice = staff["rm"]
    row = rm_figure(alice)["rows"][0]
    book = Loan.objects.filter(relationship_manager=alice, status="active")
    by_year: dict[int, Decimal] = {}
    for loan in book:
        by_year[loan.disbursed_on.year] = (
            by_year.get(loan.disbursed_on.year, Decimal(0)) + loan.outstanding_principal
        )
    total = sum(by_year.values())
    assert row["vintage_mix"] == "; ".join(
        f"{year}: {float(amount / total):.2f}" for year, amount in sorted(by_year.items()) if amount
    )
    assert RESULT_COLUMNS.index("book_balance") < RESULT_COLUMNS.index("filed")


def test_the_vintages_of_an_rm_add_up_to_their_loans(bank, staff):
    alice = staff["rm"]
    rows = rm_figure(alice, "rm-vintages")["rows"]
    loans = list(Loan.objects.filter(relationship_manager=alice))

    assert sum(r["loans"] for r in rows) == len(loans)
    assert sum(r["written_off_loans"] for r in rows) == sum(
        1 for loan in loans if loan.status == "written_off"
    )
    vintages = {
        f"{loan.disbursed_on.year}Q{(loan.disbursed_on.month - 1) // 3 + 1}" for loan in loans
    }
    assert {r["vintage"] for r in rows} == vintages
    assert {r["rm_id"] for r in rows} == {alice.pk}


def test_an_rm_sees_only_themselves(bank, staff, api, client):
    alice, bob = staff["rm"], staff["rm2"]

    assert [r["rm_id"] for r in rm_figure(alice)["rows"]] == [alice.pk]
    url = reverse("api-analytics-figure", args=["rm-results"])
    assert api(alice).get(url, {**PERIOD, "rm": bob.pk}).status_code == 404
    assert api(alice).get(url, {**PERIOD, "rm": alice.pk}).status_code == 200
    # The process figures stay closed to them.
    assert api(alice).get(reverse("api-analytics-figure", args=["stages"])).status_code == 403
    client.force_login(alice)
    page = client.get(reverse("analytics-rm"), PERIOD)
    assert page.status_code == 200
    assert [r["rm_id"] for r in page.context["results"]["rows"]] == [alice.pk]
    assert bob.get_full_name() not in page.content.decode()
    assert client.get(reverse("analytics-rm"), {"rm": bob.pk}).status_code == 404
    assert (
        client.get(
            reverse("analytics-rm-export"), {"figure": "rm-results", "rm": bob.pk}
        ).status_code
        == 404
    )


def test_a_branch_head_sees_the_rms_of_their_branch_and_no_one_else(bank, staff, api):
    ids = {r["rm_id"] for r in rm_figure(staff["head"])["rows"]}

    assert ids == {staff["rm"].pk, staff["rm2"].pk}
    url = reverse("api-analytics-figure", args=["rm-results"])
    assert api(staff["head"]).get(url, {"rm": bank["carol"].pk}).status_code == 404
    one = api(staff["head"]).get(url, {**PERIOD, "rm": staff["rm2"].pk}).json()
    assert [r["rm_id"] for r in one["rows"]] == [staff["rm2"].pk]


def test_staff_who_are_neither_rm_nor_management_get_403(bank, staff, api, client):
    url = reverse("api-analytics-figure", args=["rm-results"])
    assert api(staff["reviewer"]).get(url).status_code == 403
    client.force_login(staff["reviewer"])
    assert client.get(reverse("analytics-rm")).status_code == 403


def test_a_bad_rm_is_a_400_naming_the_field(bank, staff, api):
    response = api(staff["head"]).get(
        reverse("api-analytics-figure", args=["rm-results"]), {"rm": "bob"}
    )
    assert response.status_code == 400
    assert "rm" in str(response.json())


def test_the_csv_exports_have_the_figures_columns(bank, staff, client):
    client.force_login(staff["rm"])
    for name, columns in (("rm-results", RESULT_COLUMNS), ("rm-vintages", VINTAGE_COLUMNS)):
        response = client.get(reverse("analytics-rm-export"), {**PERIOD, "figure": name})
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == columns
        assert len(rows) > 1


def test_the_page_shows_the_branch_heads_rms_with_their_books(bank, staff, client):
    client.force_login(staff["head"])
    response = client.get(reverse("analytics-rm"), PERIOD)
    body = response.content.decode()
    assert response.status_code == 200
    for rm in (staff["rm"], staff["rm2"]):
        row = next(r for r in response.context["results"]["rows"] if r["rm_id"] == rm.pk)
        assert row["book_balance"] in body
    assert bank["carol"].get_full_name() not in body


def test_the_number_of_queries_does_not_grow_with_the_loans(bank, staff, product):
    rng = random.Random(5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            rm_figure(staff["head"])
        return len(ctx.captured_queries)

    queries()  # the user's roles and branch subtree, read once per request
    before = queries()
    for _i in range(10):
        app = ApplicationFactory(
            company=CompanyFactory(home_branch=staff["rm"].staff_profile.branch),
            product=product,
            status="disbursed",
            filed_by=staff["rm"],
            submitted_at=at(3),
        )
        make_loan(app, rng, disbursed_on=date(2026, 6, 1), status="active")
    assert queries() == before <= 15


def test_the_page_reads_in_chinese(bank, staff, client):
    client.force_login(staff["head"])
    response = client.get(reverse("analytics-rm"), PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert response.status_code == 200
    assert "客户经理业绩" in body and "放款年份构成" in body
    assert "每笔贷款按其期限取资金成本曲线上的利率（定价参数 v1）" in body


def test_the_book_margin_reads_the_cost_of_funds_of_the_active_pricing_version(bank, staff):
    from pricing.models import PricingVersion
    from pricing.services import pricing_version_activate, pricing_version_copy

    alice = staff["rm"]
    before = rm_figure(alice)["rows"][0]
    v2 = pricing_version_copy(version=PricingVersion.objects.get(is_active=True))
    v2.cost_of_funds_curve = [{"max_term_months": 120, "pct": "3.00"}]
    v2.save()
    pricing_version_activate(version=v2)

    after = rm_figure(alice)
    row = after["rows"][0]
    assert after["pricing_version"] == v2.number
    assert row["yield_pct"] == before["yield_pct"]
    assert row["margin_pct"] == round(row["yield_pct"] - 3.0, 4)
    assert row["margin_pct"] != before["margin_pct"]
