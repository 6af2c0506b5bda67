"""The data-driven fast track's figure: its share of the decided applications and its outcomes
(approved by the system, decided by people, fallen back with each reason, taken over,
waiting), the post-reviewers' concerns, and the overdue and non-performing rates of the loans
it approved against the others, each checked against an independent count over the raw rows
of a bank drawn with a fixed seed; on the dashboard's section and in the API."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from applications.models import LoanApplication
from approvals.models import ApprovalRecord, ApprovalTask
from datasources.models import DataRoute
from postloan.models import NON_PERFORMING, Loan
from postloan.services import loan_terms_from
from tests.analytics.conftest import PERIOD, at
from tests.analytics.test_figures import figure
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db

REASONS = ["high_source_flag", "flags", "grade", "no_consent", "source_failed", "documents"]


def _bank(branch, other_branch, product, *, n: int = 40, seed: int = 30):
    rng = random.Random(seed)
    companies = [CompanyFactory(home_branch=rng.choice([branch, other_branch])) for _ in range(8)]
    for _ in range(n):
        status = rng.choice(["submitted", "investigation", "approved", "declined", "disbursed"])
        # Most in November (the period), some in October (outside it).
        submitted = at(rng.randint(1, 28)) - timedelta(days=30 * rng.choice([0, 0, 0, 1]))
        app = ApplicationFactory(
            company=rng.choice(companies),
            product=product,
            status=status,
            channel="online",
            submitted_at=submitted,
            decided_at=(
                submitted + timedelta(hours=1)
                if status in ("approved", "declined", "disbursed")
                else None
            ),
        )
        route = rng.choice([None, "sent", "sent", "sent", "fallen_back", "taken_over", "waiting"])
        if route == "sent" and status == "declined":
            route = "fallen_back"
        if route is not None:
            DataRoute.objects.create(
                application=app,
                status=route,
                reasons=rng.sample(REASONS, rng.choice([1, 2])) if route == "fallen_back" else [],
            )
        if status in ("approved", "disbursed"):
            by_system = route == "sent" and rng.random() < 0.7
            record = ApprovalRecord.objects.create(
                application=app, status="approved", decided_by_system=by_system, fast_track=True
            )
            review = rng.choice([None, "confirm", "concern", "concern", "open"])
            if by_system and review is not None:
                ApprovalTask.objects.create(
                    application=app,
                    record=record,
                    kind="post_review",
                    step="post_review",
                    role="credit_reviewer",
                    branch=app.branch,
                    due_at=timezone.now() + timedelta(days=5),
                    status="open" if review == "open" else "done",
                    decision="" if review == "open" else review,
                )
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
                outstanding_principal=app.amount if loan_status == "active" else Decimal(0),
                days_past_due=rng.choice([0, 0, 0, 15, 95]),
                classification=rng.choice(
                    ["normal", "normal", "special_mention", "substandard", "doubtful", "loss"]
                ),
            )


@pytest.fixture
def bank(branch, other_branch, product):
    _bank(branch, other_branch, product)


def independent(*, branches=None) -> dict:
    """The figure's numbers, counted row by row in Python."""
    start, end = at(1, 0), at(30, 0) + timedelta(days=1)
    cohort = [
        a
        for a in LoanApplication.objects.all()
        if start <= a.submitted_at < end and (branches is None or a.branch_id in branches)
    ]
    routes = {r.application_id: r for r in DataRoute.objects.all()}
    by_system = {
        r.application_id
        for r in ApprovalRecord.objects.all()
        if r.decided_by_system and r.status == "approved"
    }
    auto = [
        a for a in cohort if a.pk in routes and routes[a.pk].status == "sent" and a.pk in by_system
    ]
    decided = [a for a in cohort if a.decided_at is not None]
    tasks = [
        t for t in ApprovalTask.objects.all() if t.kind == "post_review" and t.status == "done"
    ]
    auto_ids = {a.pk for a in auto}
    reviewed = {t.application_id for t in tasks if t.application_id in auto_ids}
    concerns = {
        t.application_id for t in tasks if t.application_id in auto_ids and t.decision == "concern"
    }
    reasons: dict[str, int] = {}
    for a in cohort:
        route = routes.get(a.pk)
        if route is not None and route.status == "fallen_back":
            for code in route.reasons:
                reasons[code] = reasons.get(code, 0) + 1
    status_counts = {
        status: sum(1 for a in cohort if a.pk in routes and routes[a.pk].status == status)
        for status in ("sent", "fallen_back", "taken_over", "waiting")
    }
    cohort_ids = {a.pk for a in cohort}
    loans = {"route": [], "others": []}
    for loan in Loan.objects.all():
        if loan.application_id in cohort_ids:
            loans["route" if loan.application_id in auto_ids else "others"].append(loan)

    def rate(part, whole):
        return round(part / whole, 4) if whole else None

    loan_rows = {}
    for group, rows in loans.items():
        overdue = sum(1 for x in rows if x.status == "active" and x.days_past_due > 0)
        npl = sum(
            1 for x in rows if x.classification in NON_PERFORMING or x.status == "written_off"
        )
        loan_rows[group] = {
            "loans": len(rows),
            "overdue": overdue,
            "overdue_rate": rate(overdue, len(rows)),
            "npl": npl,
            "npl_rate": rate(npl, len(rows)),
        }
    return {
        "summary": {
            "submitted": len(cohort),
            "decided": len(decided),
            "took_route": sum(1 for a in cohort if a.pk in routes),
            "sent": status_counts["sent"],
            "approved_automatically": len(auto),
            "share_of_decided": rate(len(auto), len(decided)),
            "fallen_back": status_counts["fallen_back"],
            "post_reviewed": len(reviewed),
            "concerns": len(concerns),
            "concern_rate": rate(len(concerns), len(reviewed)),
        },
        "decided_by_people": sum(
            1
            for a in cohort
            if a.pk in routes
            and routes[a.pk].status == "sent"
            and a.decided_at
            and a.pk not in auto_ids
        ),
        "taken_over": status_counts["taken_over"],
        "waiting": status_counts["waiting"],
        "reasons": reasons,
        "loans": loan_rows,
    }


def _check(result: dict, expected: dict) -> None:
    assert result["summary"] == expected["summary"]
    rows = {r["outcome"]: r for r in result["rows"]}
    summary = expected["summary"]
    assert rows["approved_automatically"]["count"] == summary["approved_automatically"]
    assert rows["fallen_back"]["count"] == summary["fallen_back"]
    assert rows["decided_by_people"]["count"] == expected["decided_by_people"]
    assert rows["taken_over"]["count"] == expected["taken_over"]
    assert rows["waiting"]["count"] == expected["waiting"]
    assert result["reasons"] == expected["reasons"]
    for code, n in expected["reasons"].items():
        assert rows[f"fallen_back:{code}"]["count"] == n
    for row in result["loans"]:
        assert {k: row[k] for k in expected["loans"][row["group"]]} == expected["loans"][
            row["group"]
        ]


def test_the_figure_equals_an_independent_count_over_the_raw_rows(bank, staff):
    expected = independent()
    # The drawn bank has every case the figure tells apart.
    summary = expected["summary"]
    assert 0 < summary["approved_automatically"] < summary["decided"]
    assert summary["concerns"] > 0 and summary["fallen_back"] > 0 and len(expected["reasons"]) > 2
    assert expected["loans"]["route"]["loans"] > 0 and expected["loans"]["others"]["loans"] > 0
    _check(figure(staff["risk"], "data-route"), expected)
    # A branch head sees their branch only.
    head_branch = staff["head"].staff_profile.branch_id
    _check(figure(staff["head"], "data-route"), independent(branches={head_branch}))


def test_the_api_and_the_dashboard_section_show_it(bank, staff, api, client):
    expected = independent()["summary"]
    response = api(staff["risk"]).get(reverse("api-analytics-figure", args=["data-route"]), PERIOD)
    assert response.status_code == 200
    assert response.data["summary"] == expected
    client.force_login(staff["risk"])
    with translation.override("en"):
        section = client.get(
            reverse("analytics-figure-section", args=["data-route"]),
            PERIOD,
            HTTP_X_REQUESTED_WITH="fetch",
        ).content.decode()
    share = round(expected["share_of_decided"] * 100)
    assert f'<strong id="data-route-share">{share}%</strong>' in section
    assert "Approved by the system on external data" in section
    assert f"{expected['approved_automatically']} of {expected['decided']} decided" in section
    dashboard = client.get(reverse("analytics-dashboard"), PERIOD).content.decode()
    assert 'id="slot-data-route"' in dashboard


def test_the_scorecard_can_follow_the_share_and_the_concern_rate(bank, staff):
    from tests.analytics.conftest import make_metric

    make_metric("data_route_share", order=1)
    make_metric("data_route_concern_rate", order=2)
    values = {r["metric"]: r["value"] for r in figure(staff["risk"], "scorecard")["rows"]}
    expected = independent()["summary"]
    assert values["data_route_share"] == pytest.approx(expected["share_of_decided"])
    assert values["data_route_concern_rate"] == pytest.approx(expected["concern_rate"])


def test_the_figure_costs_a_bounded_number_of_queries_whatever_the_size_of_the_bank(
    bank, staff, django_assert_max_num_queries
):
    # The user's scope, then the outcomes, the fallback reasons, the loans and the concerns
    # by the rule that approved: one each.
    with django_assert_max_num_queries(5):
        figure(staff["risk"], "data-route")
