"""The dashboard in a real browser: open it, filter by branch, export a figure as CSV."""

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
    rows = page.locator("#branches-table tbody tr")
    assert rows.count() == 2  # Beijing and Shanghai
    page.wait_for_function("document.querySelector('#chart-stages').width > 0")
    assert_accessible(page)

    page.select_option("#filter-branch", str(branch.pk))
    page.click("#analytics-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"branch={branch.pk}" in page.url
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
