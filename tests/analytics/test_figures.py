"""Every figure against numbers worked out by hand on a small fixture."""

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors import analytics_figure
from postloan.services import loan_terms_from
from tests.analytics.conftest import PERIOD, at, make_visit

pytestmark = pytest.mark.django_db


def figure(user, name, **params):
    return analytics_figure(user=user, name=name, params={**PERIOD, **params})


def by(rows, key):
    return {row[key]: row for row in rows}


def test_stage_times_match_the_hand_computed_numbers(history, staff):
    rows = by(figure(staff["head"], "stages")["rows"], "stage")
    inv = rows["investigation"]
    assert inv["count"] == 5
    assert inv["business_mean_h"] == pytest.approx(4.0)
    assert inv["business_sd_h"] == pytest.approx(math.sqrt(12.5), abs=1e-4)
    assert inv["business_median_h"] == pytest.approx(3.0)
    assert inv["business_p90_h"] == pytest.approx(7.6)
    assert inv["calendar_mean_h"] == pytest.approx(8.0)
    assert inv["calendar_sd_h"] == pytest.approx(math.sqrt(50), abs=1e-4)
    assert inv["calendar_median_h"] == pytest.approx(6.0)
    assert inv["calendar_p90_h"] == pytest.approx(15.2)
    appr = rows["in_approval"]
    assert (appr["count"], appr["business_mean_h"]) == (2, pytest.approx(6.0))
    assert appr["business_sd_h"] == pytest.approx(math.sqrt(2), abs=1e-4)
    assert appr["business_p90_h"] == pytest.approx(6.8)


def test_rework_and_first_time_right_rates(history, staff):
    inv = by(figure(staff["head"], "stages")["rows"], "stage")["investigation"]
    assert (inv["rework_count"], inv["rework_rate"]) == (2, 0.4)
    # Four applications passed investigation; A and D needed rework.
    assert (inv["applications"], inv["first_time_right"]) == (4, 0.5)
    appr = by(figure(staff["head"], "stages")["rows"], "stage")["in_approval"]
    assert (appr["rework_rate"], appr["first_time_right"]) == (0.0, 1.0)


def test_stage_order_follows_the_process(history, staff):
    stages = [r["stage"] for r in figure(staff["head"], "stages")["rows"]]
    assert stages == ["investigation", "in_approval"]


def test_a_branch_head_sees_only_their_branch_and_head_office_sees_all(
    history, staff, other_branch
):
    head_office = figure(staff["admin"], "stages")
    assert by(head_office["rows"], "stage")["investigation"]["count"] == 6
    only_sh = figure(staff["admin"], "stages", branch=str(other_branch.pk))
    assert [(r["stage"], r["count"]) for r in only_sh["rows"]] == [("investigation", 1)]
    from common.errors import NotFound

    with pytest.raises(NotFound):
        figure(staff["head"], "stages", branch=str(other_branch.pk))


def test_the_period_filter_excludes_other_months(history, staff):
    october = figure(staff["head"], "stages", date_from="2026-10-01", date_to="2026-10-31")
    assert [(r["stage"], r["count"]) for r in october["rows"]] == [("investigation", 1)]
    assert october["rows"][0]["business_mean_h"] == pytest.approx(100.0)


def test_the_route_and_product_filters_apply(history, staff, product):
    from applications.models import LoanApplication

    LoanApplication.objects.filter(pk=history["b"].pk).update(route_recommendation="fast_track")
    history["b"].stage_visits.update(route="fast_track")
    rows = figure(staff["head"], "stages", route="fast_track")["rows"]
    assert [(r["stage"], r["count"]) for r in rows] == [("investigation", 1), ("in_approval", 1)]
    assert figure(staff["head"], "stages", product=str(product.pk + 999))["rows"] == []


def test_sla_breach_rate_per_stage(history, staff):
    from sla.models import Deadline

    def deadline(app, step, late: bool):
        due = at(5)
        Deadline.objects.create(
            subject_type="applications.loanapplication",
            subject_id=app.pk,
            application=app,
            step=step,
            target_business_seconds=3600,
            started_at=at(4),
            due_at=due,
            status="stopped",
            stopped_at=due + timedelta(hours=1 if late else -1),
        )

    deadline(history["a"], "investigation", True)
    deadline(history["b"], "investigation", False)
    deadline(history["a"], "tier1", True)
    deadline(history["b"], "credit_review", False)
    deadline(history["c"], "credit_review", False)
    rows = by(figure(staff["head"], "stages")["rows"], "stage")
    assert (rows["investigation"]["sla_deadlines"], rows["investigation"]["sla_breached"]) == (2, 1)
    assert rows["investigation"]["sla_breach_rate"] == 0.5
    assert rows["in_approval"]["sla_breach_rate"] == pytest.approx(0.3333)
    sla = by(figure(staff["head"], "sla")["rows"], "step")
    assert sla["credit_review"] == {
        "step": "credit_review",
        "deadlines": 2,
        "breached": 0,
        "breach_rate": 0.0,
    }


def test_funnel_conversions_approval_rate_and_fast_track_share(history, staff):
    result = figure(staff["head"], "funnel")
    counts = {r["step"]: (r["count"], r["conversion"]) for r in result["rows"]}
    assert counts == {
        "submitted": (7, None),
        "approved": (3, 0.4286),
        "contracted": (2, 0.6667),
        "disbursed": (1, 0.5),
    }
    summary = result["summary"]
    assert summary["approval_rate"] == 0.6  # 3 approved of 5 decided
    assert summary["fast_track_share"] == pytest.approx(0.3333)  # B of A, B, F
    assert (summary["declined"], summary["withdrawn"], summary["in_progress"]) == (2, 1, 1)


def test_decline_reasons_are_counted(history, staff):
    result = figure(staff["head"], "decline-reasons")
    assert [(r["reason"], r["count"]) for r in result["rows"]] == [
        ("low_cash_flow", 2),
        ("incomplete_materials", 1),
    ]
    assert result["declined"] == 2


def test_end_to_end_times(history, staff):
    rows = by(figure(staff["head"], "end-to-end")["rows"], "measure")
    decision = rows["decision"]
    assert decision["count"] == 4
    assert decision["mean_h"] == pytest.approx(25.0)
    assert decision["sd_h"] == pytest.approx(math.sqrt(500 / 3), abs=1e-3)
    assert decision["median_h"] == pytest.approx(25.0)
    assert decision["p90_h"] == pytest.approx(37.0)
    assert (rows["disbursement"]["count"], rows["disbursement"]["mean_h"]) == (1, 100.0)
    assert rows["disbursement"]["sd_h"] is None


def test_workload_and_time_per_staff_member_and_branch(history, staff):
    staff_rows = figure(staff["head"], "staff")["rows"]
    mine = {
        (r["username"], r["stage"]): (r["count"], r["business_mean_h"], r["business_median_h"])
        for r in staff_rows
    }
    assert mine[("alice_rm", "investigation")] == (3, pytest.approx(2.0), pytest.approx(2.0))
    assert mine[("bob_rm", "investigation")] == (2, pytest.approx(7.0), pytest.approx(7.0))
    assert mine[("dave_approver", "in_approval")] == (2, pytest.approx(6.0), pytest.approx(6.0))
    alice = next(r for r in staff_rows if r["username"] == "alice_rm")
    assert alice["name"] == staff["rm"].get_full_name()
    branches = figure(staff["admin"], "branches")["rows"]
    counts = {(r["branch"], r["stage"]): r["completed"] for r in branches}
    assert counts[("Beijing branch", "investigation")] == 5
    assert counts[("Shanghai branch", "investigation")] == 1


def test_open_workload_counts_the_open_visits(history, staff):
    from analytics.models import StageVisit

    StageVisit.objects.create(
        application=history["h"],
        stage="in_approval",
        entered_at=at(20),
        branch_id=history["h"].branch_id,
        product_id=history["h"].product_id,
    )
    rows = figure(staff["head"], "branches")["rows"]
    assert {(r["stage"], r["open_now"]) for r in rows} >= {("in_approval", 1)}


def test_portfolio_by_five_category_class(history, staff):
    from postloan.models import Alert, InspectionTask, Loan, WarningRule

    def loan(app, cls, balance):
        return Loan.objects.create(
            application=app,
            **loan_terms_from(app),
            branch=app.branch,
            relationship_manager=staff["rm"],
            principal=Decimal(balance),
            outstanding_principal=Decimal(balance),
            disbursed_on=date(2026, 11, 5),
            classification=cls,
        )

    first = loan(history["a"], "normal", "600000.00")
    second = loan(history["old"], "substandard", "400000.00")
    InspectionTask.objects.create(
        loan=first, kind="periodic", owner=staff["rm"], due_date=date(2020, 1, 1)
    )
    InspectionTask.objects.create(
        loan=second, kind="periodic", owner=staff["rm"], due_date=date(2999, 1, 1)
    )
    rule = WarningRule.objects.create(code="dpd30", name="30 days", kind="dpd_threshold")
    Alert.objects.create(loan=second, rule=rule, severity="high")
    result = figure(staff["head"], "portfolio")
    rows = by(result["rows"], "classification")
    assert (rows["normal"]["count"], rows["normal"]["balance"]) == (1, "600000.00")
    assert (rows["substandard"]["count"], rows["substandard"]["balance"]) == (1, "400000.00")
    assert rows["loss"]["count"] == 0
    summary = result["summary"]
    assert summary["npl_ratio"] == 0.4
    assert (summary["overdue_tasks"], summary["open_warnings"]) == (1, 1)


def test_scorecard_compares_figures_with_their_targets(history, staff):
    from tests.analytics.conftest import make_metric

    make_metric("approval_rate", "customer", "0.5", "higher")
    make_metric("rework_rate", "internal_process", "0.1", "lower")
    make_metric("npl_ratio", "financial", "0.02", "lower")
    rows = by(figure(staff["head"], "scorecard")["rows"], "metric")
    assert (rows["approval_rate"]["value"], rows["approval_rate"]["status"]) == (0.6, "met")
    # 2 rework visits of 7 completed visits in the period.
    assert rows["rework_rate"]["value"] == pytest.approx(0.2857)
    assert rows["rework_rate"]["status"] == "missed"
    assert rows["npl_ratio"]["status"] == "no_data"
    assert [r["perspective"] for r in figure(staff["head"], "scorecard")["rows"]] == [
        "financial",
        "customer",
        "internal_process",
    ]


def test_figures_cost_a_bounded_number_of_queries(history, staff, django_assert_max_num_queries):
    for name, limit in [
        ("stages", 6),
        ("funnel", 4),
        ("end-to-end", 4),
        ("staff", 5),
        ("branches", 6),
        ("portfolio", 6),
        ("decline-reasons", 5),
    ]:
        with django_assert_max_num_queries(limit):
            figure(staff["head"], name)


DURATION_FIGURES = [
    ("stages", {}),
    ("staff", {}),
    ("branches", {}),
    ("scorecard", {}),
    ("control-chart", {"stage": "investigation"}),
    (
        "before-after",
        {
            "before_from": "2026-11-01",
            "before_to": "2026-11-10",
            "after_from": "2026-11-11",
            "after_to": "2026-11-30",
        },
    ),
]


def test_the_duration_figures_cost_the_same_queries_with_many_more_visits(
    history, staff, make_app, django_assert_max_num_queries, django_assert_num_queries
):
    def run():
        for name, params in DURATION_FIGURES:
            figure(staff["admin"], name, **params)

    run()  # warm the per-process caches (tables seen, branch of the user)
    with django_assert_max_num_queries(1000) as few:
        run()
    people = [staff["rm"], staff["rm2"], staff["approver"], staff["head"]]
    for i in range(60):
        app = make_app("in_approval")
        for k, stage in enumerate(("submitted", "investigation", "in_approval")):
            make_visit(
                app,
                stage,
                1 + (i * 7 + k * 13) % 90,
                left=at(3 + i % 25, 9 + k),
                actor=people[(i + k) % 4],
                rework=(i + k) % 5 == 0,
            )
    with django_assert_num_queries(len(few.captured_queries)):
        run()


def test_the_figures_say_how_close_their_percentiles_are(history, staff):
    for name in ("stages", "staff"):
        assert figure(staff["head"], name)["percentile_max_error"] == 0.0219


def test_a_median_over_many_close_visits_is_within_the_documented_error(make_app, staff):
    from analytics import stats
    from analytics.models import StageVisit

    app = make_app("investigation")
    # 200 visits between 3 and 4 hours: a dozen or so to each bucket.
    for i in range(200):
        make_visit(app, "investigation", 3 + ((i * 37) % 200) / 200, left=at(2 + i % 25, 10))
    row = figure(staff["head"], "stages")["rows"][0]
    seconds = list(StageVisit.objects.values_list("business_seconds", flat=True))
    assert row["count"] == 200
    for key, q in (("business_median_h", 0.5), ("business_p90_h", 0.9)):
        exact = stats.percentile(seconds, q) / 3600
        assert row[key] == pytest.approx(exact, rel=stats.PERCENTILE_MAX_ERROR)


def test_the_figures_over_grouped_visits_run_with_the_garbage_collector_paused(
    history, staff, monkeypatch
):
    import gc

    from analytics import selectors, stats

    user = staff["head"]
    f = selectors.analytics_filters(user=user, params=PERIOD)
    calls = {
        "stages": lambda: selectors.analytics_stages(user=user, f=f),
        "staff": lambda: selectors.analytics_staff(user=user, f=f),
    }
    seen = []

    def watched(original):
        def call(*args, **kwargs):
            seen.append(gc.isenabled())
            return original(*args, **kwargs)

        return call

    # Where the rows are read and where the histograms are built from them.
    monkeypatch.setattr(selectors, "_grouped", watched(selectors._grouped))
    monkeypatch.setattr(stats.Histogram, "extend", watched(stats.Histogram.extend))
    for name, call in calls.items():
        seen.clear()
        assert call()["rows"], name
        assert seen and not any(seen), name
        assert gc.isenabled()
    # Left paused by someone else, it stays paused.
    gc.disable()
    try:
        calls["staff"]()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_application_back_in_a_stage_counts_once_in_each_period(make_app, staff):
    app = make_app("in_approval")
    other = make_app("in_approval")
    # October: a rework visit. November: sent back to investigation twice more, once more
    # as rework.
    make_visit(app, "investigation", 2, left=at(2) - timedelta(days=20), rework=True)
    make_visit(app, "investigation", 3, left=at(4), rework=True)
    make_visit(app, "investigation", 4, left=at(9))
    make_visit(app, "investigation", 5, left=at(12))
    make_visit(other, "investigation", 6, left=at(5))
    november = by(figure(staff["head"], "stages")["rows"], "stage")["investigation"]
    assert (november["count"], november["applications"]) == (4, 2)
    assert (november["rework_count"], november["first_time_right"]) == (1, 0.5)
    october = figure(staff["head"], "stages", date_from="2026-10-01", date_to="2026-10-31")
    assert (october["rows"][0]["applications"], october["rows"][0]["first_time_right"]) == (1, 0.0)
    both = figure(staff["head"], "stages", date_from="2026-10-01", date_to="2026-11-30")
    inv = by(both["rows"], "stage")["investigation"]
    assert (inv["count"], inv["applications"], inv["rework_count"]) == (5, 2, 2)
    assert inv["first_time_right"] == 0.5


def test_the_api_serves_every_figure(history, staff, api):
    client = api(staff["head"])
    for name in [
        "stages",
        "sla",
        "steps",
        "end-to-end",
        "funnel",
        "decline-reasons",
        "staff",
        "branches",
        "portfolio",
        "scorecard",
        "control-chart",
    ]:
        response = client.get(reverse("api-analytics-figure", args=[name]), PERIOD)
        assert response.status_code == 200, (name, response.data)
        assert response.data["figure"] in (name, name.replace("-", "_"))
    listing = client.get(reverse("api-analytics"))
    assert "before-after" in listing.data["figures"]


def test_the_api_answers_bad_filters_with_400_and_unknown_figures_with_404(staff, api):
    client = api(staff["head"])
    bad = client.get(reverse("api-analytics-figure", args=["stages"]), {"date_from": "soon"})
    assert bad.status_code == 400 and "date_from" in bad.data
    assert client.get(reverse("api-analytics-figure", args=["nope"])).status_code == 404
    late = client.get(
        reverse("api-analytics-figure", args=["stages"]),
        {"date_from": "2026-12-01", "date_to": "2026-11-01"},
    )
    assert late.status_code == 400


@pytest.mark.parametrize(
    "field,value",
    [
        ("branch", "x"),
        ("branch", "-3"),
        ("product", "1.5"),
        ("route", "zz"),
        ("basis", "wall"),
        ("date_to", "2026-02-30"),
        ("date_from", "20261101"),
    ],
)
def test_each_bad_filter_is_a_field_error(staff, api, field, value):
    response = api(staff["head"]).get(
        reverse("api-analytics-figure", args=["stages"]), {field: value}
    )
    assert response.status_code == 400
    assert set(response.data) - {"detail", "code"} == {field}


def test_an_id_beyond_any_row_finds_nothing_rather_than_failing(history, staff, api):
    response = api(staff["head"]).get(
        reverse("api-analytics-figure", args=["stages"]),
        {**PERIOD, "product": "99999999999999999999"},
    )
    assert response.status_code == 200 and response.data["rows"] == []
    response = api(staff["head"]).get(
        reverse("api-analytics-figure", args=["stages"]), {"branch": "99999999999999999999"}
    )
    assert response.status_code == 404


def test_only_branch_heads_and_head_office_may_see_the_figures(staff, api, client):
    assert api(staff["rm"]).get(reverse("api-analytics-figure", args=["stages"])).status_code == 403
    assert (
        api(staff["risk"]).get(reverse("api-analytics-figure", args=["stages"])).status_code == 200
    )
    client.force_login(staff["approver"])
    assert client.get(reverse("analytics-dashboard")).status_code == 403
    client.force_login(staff["head"])
    assert client.get(reverse("analytics-dashboard")).status_code == 200


def test_csv_export_writes_the_figure_rows(history, staff, client):
    client.force_login(staff["head"])
    response = client.get(reverse("analytics-export"), {"figure": "stages", **PERIOD})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("stage,label,count,business_mean_h")
    assert lines[1].startswith("investigation,")
    assert ",5,4.0," in lines[1]
    assert client.get(reverse("analytics-export"), {"figure": "nope"}).status_code == 400
