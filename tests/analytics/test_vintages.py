"""Vintage curves: the figure equals a pandas computation from the loan, instalment and
repayment tables; the month-end positions are recorded by the monthly job and its backfill."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import LoanMonthEnd
from analytics.selectors import analytics_figure
from analytics.services import loan_month_ends_backfill, loan_month_ends_record
from disbursement.models import Instalment
from postloan.models import Loan, Repayment
from postloan.services import loan_terms_from
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db

PERIOD = {"date_from": "2025-07-01", "date_to": "2026-06-30"}
TODAY = date(2026, 12, 6)


def add_months(day: date, n: int) -> date:
    y, m = divmod(day.month - 1 + n, 12)
    return date(day.year + y, m + 1, min(day.day, 28))


def make_book(branch, product, staff, *, n: int, seed: int) -> list[Loan]:
    """`n` loans disbursed from July 2025 to June 2026 with monthly equal-principal schedules;
    each instalment paid on time, 40 days late, in part, or never."""
    rng = random.Random(seed)
    loans = []
    for _i in range(n):
        term = rng.choice([6, 9, 12])
        amount = Decimal(rng.randrange(12, 90) * 10000)
        disbursed = date(2025, 7, 1) + timedelta(days=rng.randrange(0, 365))
        app = ApplicationFactory(
            company=CompanyFactory(home_branch=branch, industry_code=rng.choice(["C13", "F51"])),
            product=product,
            status="disbursed",
            filed_by=staff["rm"],
            amount=amount,
            term_months=term,
        )
        closed = rng.random() < 0.1
        loan = Loan.objects.create(
            application=app,
            **loan_terms_from(app),
            branch=branch,
            relationship_manager=staff["rm"],
            status="closed" if closed else "active",
            closed_at=(
                timezone.make_aware(datetime.combine(add_months(disbursed, 5), datetime.min.time()))
                if closed
                else None
            ),
            principal=amount,
            disbursed_on=disbursed,
        )
        per = amount / term
        behaviour = rng.choice(["good", "good", "late", "partial", "stops"])
        stop_at = rng.randint(1, term)
        for k in range(1, term + 1):
            due = add_months(disbursed, k)
            interest = Decimal(rng.choice([1200, 2500]))
            Instalment.objects.create(
                application=app,
                number=k,
                due_date=due,
                principal=per,
                interest=interest,
                total=per + interest,
                currency="CNY",
            )
            if behaviour == "stops" and k >= stop_at:
                continue
            paid_on = due + timedelta(days=40 if behaviour == "late" else 0)
            amount_paid = (per + interest) / 2 if behaviour == "partial" else per + interest
            if paid_on <= TODAY:
                Repayment.objects.create(
                    loan=loan,
                    amount=amount_paid,
                    currency="CNY",
                    value_date=paid_on,
                    recorded_by=staff["rm"],
                )
        loans.append(loan)
    return loans


@pytest.fixture
def book(branch, product, staff):
    loans = make_book(branch, product, staff, n=40, seed=7)
    loan_month_ends_backfill(since=date(2025, 7, 1), until=TODAY)
    return loans


def pandas_curves(*, industry: str = "") -> dict[tuple[str, int], tuple[float, float]]:
    """{(vintage, month on book): (30+ share, 90+ share)} computed here with pandas from the
    loan, instalment and repayment tables: repayments allocated to instalments oldest first,
    interest before principal, as the bank's position rule says."""
    loans = pd.DataFrame(
        Loan.objects.filter(application__company__industry_code__startswith=industry).values(
            "id", "application_id", "principal", "disbursed_on", "status", "closed_at"
        )
    )
    instalments = pd.DataFrame(
        Instalment.objects.values(
            "application_id", "number", "due_date", "principal", "interest", "total"
        )
    )
    repayments = pd.DataFrame(Repayment.objects.values("loan_id", "amount", "value_date"))
    for frame, columns in (
        (loans, ["principal"]),
        (instalments, ["principal", "interest", "total"]),
        (repayments, ["amount"]),
    ):
        frame[columns] = frame[columns].astype(float)
    loans["disbursed_on"] = pd.to_datetime(loans["disbursed_on"])
    loans["closed_on"] = pd.to_datetime(
        loans["closed_at"].map(lambda t: timezone.localtime(t).date() if pd.notna(t) else None)
    )
    instalments["due_date"] = pd.to_datetime(instalments["due_date"])
    repayments["value_date"] = pd.to_datetime(repayments["value_date"])
    month_ends = pd.DataFrame({"month_end": pd.date_range("2025-07-31", "2026-11-30", freq="ME")})
    last = month_ends["month_end"].max()

    grid = loans.merge(month_ends, how="cross")
    grid = grid[
        (grid["disbursed_on"] <= grid["month_end"])
        & ((grid["status"] == "active") | (grid["closed_on"] > grid["month_end"]))
    ]
    paid = grid[["id", "month_end"]].merge(repayments, left_on="id", right_on="loan_id")
    paid = (
        paid[paid["value_date"] <= paid["month_end"]]
        .groupby(["id", "month_end"], as_index=False)["amount"]
        .sum()
        .rename(columns={"amount": "repaid"})
    )
    grid = grid.merge(paid, on=["id", "month_end"], how="left").fillna({"repaid": 0.0})
    rows = grid.merge(instalments, on="application_id", suffixes=("", "_i")).sort_values(
        ["id", "month_end", "number"]
    )
    rows["before"] = rows.groupby(["id", "month_end"])["total"].cumsum() - rows["total"]
    rows["paid"] = (rows["repaid"] - rows["before"]).clip(lower=0).clip(upper=rows["total"])
    rows["principal_paid"] = (rows["paid"] - rows["interest"]).clip(lower=0)
    rows["unpaid_due"] = rows["due_date"].where(rows["paid"] < rows["total"] - 1e-9)
    position = rows.groupby(["id", "month_end"], as_index=False).agg(
        owed=("principal_i", "sum"),
        repaid_principal=("principal_paid", "sum"),
        oldest=("unpaid_due", "min"),
    )
    position["outstanding"] = position["owed"] - position["repaid_principal"]
    position["dpd"] = (position["month_end"] - position["oldest"]).dt.days.clip(lower=0).fillna(0)
    position = position.merge(loans[["id", "disbursed_on"]], on="id")

    def months(start, end):
        return (end.dt.year - start.dt.year) * 12 + end.dt.month - start.dt.month

    position["vintage"] = position["disbursed_on"].dt.to_period("Q").astype(str)
    position["mob"] = months(position["disbursed_on"], position["month_end"])
    position["dpd30"] = position["outstanding"].where(position["dpd"] >= 30, 0.0)
    position["dpd90"] = position["outstanding"].where(position["dpd"] >= 90, 0.0)
    overdue = position.groupby(["vintage", "mob"])[["dpd30", "dpd90"]].sum()

    loans["vintage"] = loans["disbursed_on"].dt.to_period("Q").astype(str)
    loans["reach"] = months(loans["disbursed_on"], pd.Series(last, index=loans.index))
    out = {}
    for vintage, cohort in loans.groupby("vintage"):
        for mob in range(int(cohort["reach"].max()) + 1):
            base = cohort.loc[cohort["reach"] >= mob, "principal"].sum()
            d30, d90 = overdue.loc[(vintage, mob)] if (vintage, mob) in overdue.index else (0, 0)
            out[(vintage, mob)] = (round(d30 / base, 4), round(d90 / base, 4))
    return out


def curves(user, **params) -> dict[tuple[str, int], tuple[float, float]]:
    rows = analytics_figure(user=user, name="vintages", params={**PERIOD, **params})["rows"]
    return {(r["vintage"], r["months_on_book"]): (r["dpd30_rate"], r["dpd90_rate"]) for r in rows}


def test_the_vintage_curves_match_a_pandas_computation_from_the_raw_tables(book, staff):
    figure = curves(staff["head"])
    expected = pandas_curves()

    assert set(figure) == set(expected)
    for key, (d30, d90) in expected.items():
        assert figure[key] == (pytest.approx(d30, abs=1e-4), pytest.approx(d90, abs=1e-4)), key
    # The book exercises the curves: some balance is 30+ and some 90+ days past due.
    assert any(v[0] > 0 for v in figure.values()) and any(v[1] > 0 for v in figure.values())
    assert {v for v, _m in figure} == {"2025Q3", "2025Q4", "2026Q1", "2026Q2"}


def test_the_industry_filter_narrows_the_vintage_curves(book, staff):
    figure = curves(staff["head"], industry="F51")
    expected = pandas_curves(industry="F51")

    assert figure.keys() == expected.keys()
    for key, (d30, d90) in expected.items():
        assert figure[key] == (pytest.approx(d30, abs=1e-4), pytest.approx(d90, abs=1e-4)), key
    assert figure != curves(staff["head"])


def test_a_second_run_of_a_month_end_replaces_its_rows_after_a_late_repayment(book, staff):
    loan = next(
        loan
        for loan in book
        if LoanMonthEnd.objects.filter(loan=loan, month_end=date(2026, 10, 31), days_past_due__gt=0)
    )
    before = LoanMonthEnd.objects.count()
    Repayment.objects.create(
        loan=loan,
        amount=loan.principal * 2,
        currency="CNY",
        value_date=date(2026, 10, 30),
        recorded_by=staff["rm"],
    )
    loan_month_ends_record(month_end=date(2026, 10, 31))

    row = LoanMonthEnd.objects.get(loan=loan, month_end=date(2026, 10, 31))
    assert (row.days_past_due, row.outstanding_principal) == (0, Decimal("0.00"))
    assert LoanMonthEnd.objects.count() == before


def test_the_monthly_job_records_the_month_just_ended(book, staff, monkeypatch):
    from analytics import tasks

    LoanMonthEnd.objects.filter(month_end=date(2026, 11, 30)).delete()
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2026, 12, 1))
    written = tasks.record_loan_month_ends()

    assert written == LoanMonthEnd.objects.filter(month_end=date(2026, 11, 30)).count() > 0


def test_the_number_of_queries_does_not_grow_with_the_loans(book, branch, product, staff):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            analytics_figure(user=staff["head"], name="vintages", params=PERIOD)
        return len(ctx.captured_queries)

    queries()
    before = queries()
    make_book(branch, product, staff, n=10, seed=8)
    loan_month_ends_backfill(since=date(2025, 7, 1), until=TODAY)
    assert queries() == before <= 8


def test_the_page_draws_the_curves_and_exports_them_as_csv(book, staff, client):
    client.force_login(staff["head"])
    page = client.get(reverse("analytics-vintages"), PERIOD)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="chart-vintage-30"' in body and 'id="chart-vintage-90"' in body
    assert page.context["chart_data"]["curves"][0]["label"] == "2025Q3"

    export = client.get(reverse("analytics-export"), {**PERIOD, "figure": "vintages"})
    header = export.content.decode("utf-8-sig").splitlines()[0]
    assert header == (
        "vintage,months_on_book,loans,disbursed_amount,base_amount,balance,"
        "dpd30_balance,dpd90_balance,dpd30_rate,dpd90_rate"
    )


def test_relationship_managers_cannot_read_the_vintage_curves(book, staff, client):
    client.force_login(staff["rm"])
    assert client.get(reverse("analytics-vintages")).status_code == 403


def test_the_page_reads_in_chinese(book, staff, client):
    client.force_login(staff["head"])
    response = client.get(reverse("analytics-vintages"), PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "逾期 30 天以上" in response.content.decode()
