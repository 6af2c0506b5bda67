"""The dashboard page renders at once with a placeholder per figure; each figure is computed
and rendered by its own request (/analytics/figures/<name>/), fetched by dashboard.js or
opened as a page of its own (issue 32: no request computes more than one figure)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from analytics import selectors
from analytics.models import StageVisit
from analytics.views import FIGURE_SECTIONS
from applications.models import LoanApplication
from tests.analytics.conftest import PERIOD

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
PERIODS = {
    "before_from": "2026-11-01",
    "before_to": "2026-11-06",
    "after_from": "2026-11-07",
    "after_to": "2026-11-30",
}


def section_url(name: str) -> str:
    return reverse("analytics-figure-section", args=[name])


def fetch(client, name: str, params=None, **headers):
    return client.get(section_url(name), {**PERIOD, **(params or {})}, **FETCH, **headers)


def test_the_dashboard_page_reads_no_figure(history, staff, client):
    client.force_login(staff["head"])
    client.get(reverse("analytics-dashboard"), PERIOD)  # the first request writes the session
    with translation.override("en"), CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("analytics-dashboard"), {**PERIOD, **PERIODS})
    assert response.status_code == 200
    tables = (StageVisit._meta.db_table, LoanApplication._meta.db_table)
    figure_queries = [q["sql"] for q in captured if any(t in q["sql"] for t in tables)]
    assert figure_queries == []
    assert "figures" not in response.context
    body = response.content.decode()
    for name in FIGURE_SECTIONS:
        url = f"{section_url(name)}?"
        assert f'id="slot-{name}" data-figure-url="{url}' in body
        assert f'id="{name}"' not in body  # the section itself comes with its own request
    assert body.count("Open this figure") == len(FIGURE_SECTIONS)
    assert body.count('aria-busy="true"') == len(FIGURE_SECTIONS)
    assert "analytics/vendor/chart.umd.min.js" in body and "analytics/dashboard.js" in body
    # The filters travel with each placeholder's URL, the periods included.
    assert "date_from=2026-11-01&amp;date_to=2026-11-30&amp;before_from=2026-11-01" in body


def test_before_and_after_has_a_placeholder_only_when_two_periods_are_given(history, staff, client):
    client.force_login(staff["head"])
    body = client.get(reverse("analytics-dashboard"), PERIOD).content.decode()
    assert 'id="slot-before-after"' not in body
    assert 'data-figure="before-after"' not in body
    body = client.get(reverse("analytics-dashboard"), {**PERIOD, **PERIODS}).content.decode()
    assert 'id="slot-before-after"' in body and 'data-figure="before-after"' in body


def test_each_section_renders_its_figure(history, staff, client):
    client.force_login(staff["admin"])
    shown = {
        "scorecard": 'id="scorecard"',
        "satisfaction": 'id="satisfaction-table"',
        "stages": 'id="stages-table"',
        "steps": "",  # no approval task in the fixture: nothing to show
        "funnel": 'id="funnel"',
        "end-to-end": 'id="end-to-end"',
        "decline-reasons": 'id="decline-reasons"',
        "data-route": 'id="data-route"',
        "control-chart": 'id="control-chart"',
        "before-after": 'id="before-after"',
        "staff": 'id="staff"',
        "branches": 'id="branches-table"',
        "portfolio": 'id="portfolio"',
        "sla": "",  # no SLA deadline in the fixture
    }
    assert set(shown) == set(FIGURE_SECTIONS)
    with translation.override("en"):
        for name, marker in shown.items():
            response = fetch(client, name, PERIODS)
            assert response.status_code == 200, name
            body = response.content.decode()
            assert "<html" not in body and 'id="analytics-filters"' not in body
            if marker:
                assert body.lstrip().startswith('<section class="card"') and marker in body
            else:
                assert body.strip() == ""
    stages = fetch(client, "stages").content.decode()
    assert "<td>Under investigation</td><td>6</td>" in stages
    # Codes are shown in words.
    for code in ("credit_review", "tier1", "intake_check"):
        assert f"<td>{code}</td>" not in stages


def test_a_section_with_a_chart_carries_its_own_chart_data(history, staff, client):
    client.force_login(staff["head"])
    charts = {"stages": "stages", "funnel": "funnel", "control-chart": "control"}
    charts["portfolio"] = "portfolio"
    for name, kind in charts.items():
        body = fetch(client, name).content.decode()
        assert f'data-chart="{kind}" data-chart-data="chart-data-{kind}"' in body
        assert f'<script id="chart-data-{kind}" type="application/json">' in body
    chart = fetch(client, "stages").context["chart"]
    assert chart["categories"][0] == "Under investigation"
    assert chart["mean"][0] == pytest.approx(4.0)
    funnel = fetch(client, "funnel").context["chart"]
    assert funnel["counts"][0] == 7  # A-D and F-H submitted in November in Beijing


@pytest.mark.parametrize("name", [n for n in FIGURE_SECTIONS if n != "scorecard"])
def test_each_section_computes_only_its_figure(name, history, staff, client, monkeypatch):
    calls = []

    def counted(figure_name, compute):
        def call(**kwargs):
            calls.append(figure_name)
            return compute(**kwargs)

        return call

    for figure_name, compute in list(selectors.FIGURES.items()):
        monkeypatch.setitem(selectors.FIGURES, figure_name, counted(figure_name, compute))
    client.force_login(staff["head"])
    assert fetch(client, name, PERIODS).status_code == 200
    assert calls == ([name] if name in selectors.FIGURES else [])


def test_the_portfolio_section_reads_no_stage_visit(history, staff, client):
    client.force_login(staff["head"])
    fetch(client, "portfolio")
    with CaptureQueriesContext(connection) as captured:
        assert fetch(client, "portfolio").status_code == 200
    assert not any(StageVisit._meta.db_table in q["sql"] for q in captured)


def test_the_scorecard_section_computes_the_scorecard_on_its_own(history, staff, client):
    from analytics.scorecard import METRIC_FIGURES
    from tests.analytics.conftest import make_metric

    for order, figure_key in enumerate(METRIC_FIGURES):
        make_metric(figure_key, order=order)
    alone = selectors.analytics_figure(user=staff["head"], name="scorecard", params=PERIOD)
    client.force_login(staff["head"])
    section = fetch(client, "scorecard")
    assert section.context["figure"]["rows"] == alone["rows"]
    values = {r["metric"]: r["value"] for r in alone["rows"]}
    # 7 visits in November by alice, bob and dave; A and D of the four applications reworked.
    assert values["decisions_per_staff"] == pytest.approx(7 / 3, abs=0.01)
    assert values["first_time_right"] == 0.5
    assert 'id="scorecard-perspectives"' in section.content.decode()


def test_the_control_chart_section_keeps_its_stage(history, staff, client):
    client.force_login(staff["head"])
    with translation.override("en"):
        body = fetch(client, "control-chart", {"stage": "in_approval"}).content.decode()
        assert "weekly mean time in In approval" in body
        # Not a measured stage: the investigation's chart, as on the dashboard.
        body = fetch(client, "control-chart", {"stage": "nope"}).content.decode()
        assert "weekly mean time in Under investigation" in body


def test_before_and_after_needs_its_two_periods(history, staff, client):
    client.force_login(staff["head"])
    assert fetch(client, "before-after").content.decode().strip() == ""
    with translation.override("en"):
        page = client.get(section_url("before-after"), PERIOD)
        body = page.content.decode()
    assert page.status_code == 200 and 'id="figure-empty"' in body
    assert "Choose the two periods to compare" in body
    section = fetch(client, "before-after", PERIODS)
    assert [r["stage"] for r in section.context["figure"]["rows"]][0] == "investigation"


def test_an_unknown_figure_is_a_404(staff, client):
    client.force_login(staff["head"])
    assert client.get(section_url("nope"), **FETCH).status_code == 404
    assert client.get(section_url("vintages")).status_code == 404


def test_a_branch_outside_the_users_scope_is_a_404_as_on_the_dashboard(
    history, staff, client, other_branch
):
    client.force_login(staff["head"])  # Beijing's branch head
    outside = {**PERIOD, "branch": str(other_branch.pk)}
    assert client.get(reverse("analytics-dashboard"), outside).status_code == 404
    assert client.get(section_url("stages"), outside, **FETCH).status_code == 404
    assert client.get(section_url("stages"), outside).status_code == 404


def test_who_may_not_see_the_dashboard_may_not_see_its_sections(staff, client):
    anonymous = client.get(section_url("stages"), **FETCH)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    dashboard = client.get(reverse("analytics-dashboard"))
    assert dashboard.status_code == 302 and dashboard["Location"].startswith(reverse("login"))
    for who in ("approver", "rm"):
        client.force_login(staff[who])
        assert client.get(reverse("analytics-dashboard")).status_code == 403
        assert client.get(section_url("stages"), **FETCH).status_code == 403
        assert client.get(section_url("scorecard")).status_code == 403


def test_bad_filters_show_the_forms_errors_and_the_default_period_not_a_400(history, staff, client):
    client.force_login(staff["head"])
    with translation.override("en"):
        page = client.get(section_url("stages"), {"date_from": "yesterday"})
        section = client.get(section_url("stages"), {"date_from": "yesterday"}, **FETCH)
    assert page.status_code == 200 and section.status_code == 200
    assert "<li>date_from: Enter a date as YYYY-MM-DD.</li>" in page.content.decode()
    assert 'id="stages-table"' in section.content.decode()


def test_opened_in_the_browser_a_section_is_a_page_with_the_filter_form(history, staff, client):
    client.force_login(staff["head"])
    with translation.override("en"):
        response = client.get(section_url("stages"), {**PERIOD, "industry": "C"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("<!doctype html>") and "<h1>Time per stage</h1>" in body
    assert 'id="analytics-filters"' in body
    assert 'name="industry" id="filter-industry" value="C"' in body
    assert 'value="2026-11-01"' in body
    assert 'id="stages-table"' in body and 'data-chart="stages"' in body
    assert "analytics/dashboard.js" in body
    assert reverse("analytics-dashboard") + "?date_from=2026-11-01" in body
    # One URL, two answers: caches keep them apart.
    assert "X-Requested-With" in response["Vary"]
    assert "X-Requested-With" in fetch(client, "stages")["Vary"]


def test_the_sections_read_in_chinese(staff, client):
    client.force_login(staff["head"])
    with translation.override(None):
        dashboard = client.get(reverse("analytics-dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
        page = client.get(section_url("stages"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "单独打开此图表" in dashboard.content.decode()
    assert "加载中…" in dashboard.content.decode()
    assert "此图表未能加载" in dashboard.content.decode()
    assert "<h1>各阶段用时</h1>" in page.content.decode()
