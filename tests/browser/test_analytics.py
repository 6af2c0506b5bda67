"""The dashboard in a real browser: open it, its figures load one request each, filter by
branch, export a figure as CSV, open a figure on a page of its own."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.analytics.conftest import make_visit
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import PASSWORD, enter_code, give_authenticator
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_head_office_user_filters_the_dashboard_by_branch_and_exports_csv(
    page, live_server, staff, branch, other_branch, product
):
    yesterday = timezone.now() - timedelta(days=1)
    beijing = ApplicationFactory(
        company=CompanyFactory(home_branch=branch),
        product=product,
        status="in_approval",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
    )
    shanghai = ApplicationFactory(
        company=CompanyFactory(home_branch=other_branch),
        product=product,
        status="in_approval",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
    )
    for hours in (2, 4):
        make_visit(beijing, "investigation", hours, left=yesterday, actor=staff["rm"])
    make_visit(shanghai, "investigation", 30, left=yesterday, actor=staff["rm"])

    # Log in through the real form (its own submit button: the top bar has language buttons).
    give_authenticator(staff["admin"])
    page.goto(f"{live_server.url}/login/?next=/analytics/")
    page.fill("input[name=username]", staff["admin"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    # An administrator enters their authenticator's code, then lands where they were headed.
    enter_code(page, staff["admin"])
    assert page.locator("h1").inner_text() == "Process analytics"
    wait_for_sections(page)
    rows = page.locator("#branches-table tbody tr")
    assert rows.count() == 2  # Beijing and Shanghai
    page.wait_for_function("() => document.querySelector('#chart-stages').width > 0")
    assert_accessible(page)

    page.select_option("#filter-branch", str(branch.pk))
    page.click("#analytics-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"branch={branch.pk}" in page.url
    wait_for_sections(page)
    assert page.locator("#branches-table tbody tr").count() == 1
    assert_accessible(page)
    assert "Beijing branch" in page.locator("#branches-table").inner_text()
    stages = page.locator("#stages-table tbody tr").first.inner_text()
    assert "Under investigation" in stages and "3.0" in stages  # mean of 2 h and 4 h

    with page.expect_download() as download_info:
        page.click("a.export-link[data-figure=stages]")
    download = download_info.value
    assert download.suggested_filename.startswith("loanflow-stages-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("stage,label,count")
    assert len(lines) == 2 and lines[1].startswith("investigation,Under investigation,2,3.0,")


def wait_for_sections(page) -> None:
    """Every placeholder of the dashboard answered by its section (or emptied: a figure with
    nothing to show), none failed, and the charts of the loaded sections drawn."""
    page.wait_for_function(
        "() => document.querySelectorAll('.figure-slot:not([data-state])').length === 0"
    )
    assert page.locator(".figure-slot[data-state=failed]").count() == 0
    assert page.locator(".figure-placeholder").count() == 0
    for canvas in ("chart-stages", "chart-funnel", "chart-control", "chart-portfolio"):
        page.wait_for_function(
            "id => window.Chart.getChart(id) !== undefined"
            " && document.getElementById(id).width > 0",
            arg=canvas,
        )


@pytest.mark.django_db(transaction=True)
def test_each_figure_loads_by_itself_and_opens_on_a_page_of_its_own(
    page, live_server, login, staff, branch, product
):
    application = ApplicationFactory(
        company=CompanyFactory(home_branch=branch),
        product=product,
        status="in_approval",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
    )
    make_visit(
        application,
        "investigation",
        5,
        left=timezone.now() - timedelta(days=1),
        actor=staff["rm"],
    )
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sections: list[str] = []
    page.on(
        "request",
        lambda r: (
            sections.append(r.url.split("/analytics/figures/")[1].split("/")[0])
            if "/analytics/figures/" in r.url and r.headers.get("x-requested-with") == "fetch"
            else None
        ),
    )
    login(page, staff["head"])
    page.goto(f"{live_server.url}/analytics/")
    wait_for_sections(page)
    # One request per figure; no before/after without its periods.
    dashboard = [
        "scorecard",
        "satisfaction",
        "stages",
        "steps",
        "funnel",
        "end-to-end",
        "decline-reasons",
        "control-chart",
        "staff",
        "branches",
        "portfolio",
        "sla",
        "data-route",
    ]
    assert sorted(sections) == sorted(dashboard)
    stages = page.locator("#stages-table tbody tr").first.inner_text()
    assert "Under investigation" in stages and "5.0" in stages
    # Nothing to show (no SLA deadline): the placeholder goes away.
    assert page.locator("#slot-sla").is_hidden()
    assert_accessible(page)
    assert violations == []

    # Without script, the placeholder's link opens the figure on a page of its own.
    href = page.locator("#slot-stages").get_attribute("data-figure-url")
    page.goto(f"{live_server.url}{href}")
    assert page.locator("h1").inner_text() == "Time per stage"
    assert page.locator("#analytics-filters").count() == 1
    page.wait_for_function(
        "() => window.Chart.getChart('chart-stages') !== undefined"
        " && document.getElementById('chart-stages').width > 0"
    )
    assert_accessible(page)
    assert violations == []

    # A section that cannot be fetched says so and keeps its link to the figure's page.
    page.route("**/analytics/figures/**", lambda route: route.abort())
    page.goto(f"{live_server.url}/analytics/")
    page.wait_for_function(
        "() => document.querySelectorAll('.figure-slot:not([data-state])').length === 0"
    )
    assert page.locator(".figure-slot[data-state=failed]").count() == len(dashboard)
    failed = page.locator("#slot-stages")
    assert "This figure could not be loaded." in failed.inner_text()
    assert failed.locator("a", has_text="Open this figure").get_attribute("href") == href
    assert violations == []
