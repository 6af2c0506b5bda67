"""The pages work in chromium under the enforced Content-Security-Policy, and the browser reports
no violation: htmx filters the list, the dashboard draws its charts, Swagger UI renders the API,
the admin's scripts run, the portal shows the owner's application."""

import re

import pytest
from playwright.sync_api import expect

from tests.lifecycle import file_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page):
    """What the browser refused under the policy, as reported in the console and by the
    securitypolicyviolation event (recorded per page in window.__cspViolations)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    def collected() -> list[str]:
        return seen + page.evaluate("window.__cspViolations")

    return collected


def test_staff_pages_admin_and_api_docs_run_their_scripts_under_the_policy(
    page, live_server, login, staff, company, product, api, violations
):
    pk = file_draft(api, staff, company, product)
    login(page, staff["admin"])
    assert violations() == []

    # htmx: changing a filter swaps the results in place (the URL is pushed, no full load).
    page.goto(f"{live_server.url}/applications/")
    with page.expect_response(re.compile(r"/applications/\?.*status=submitted")):
        page.select_option("#f-status", "submitted")
    expect(page.locator("#results")).to_contain_text("0 applications")
    expect(page).to_have_url(re.compile(r"status=submitted"))
    assert violations() == []

    page.goto(f"{live_server.url}/applications/{pk}/")
    expect(page.locator("#status")).to_have_text("Draft")
    assert violations() == []

    # The dashboard fetches each figure's section; Chart.js draws from the section's JSON block.
    page.goto(f"{live_server.url}/analytics/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-funnel') !== undefined")
    page.wait_for_function("() => !document.querySelector('.figure-slot:not([data-state])')")
    assert page.locator(".figure-slot[data-state=failed]").count() == 0
    assert violations() == []

    # Swagger UI: bundle, preset and init script from files; the operations render.
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LoanFlow API")
    assert violations() == []

    # The admin: its change form's scripts (calendar widget, related-object links) run.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/sla/calendarday/add/")
    expect(page.locator(".datetimeshortcuts").first).to_be_visible()
    assert violations() == []


def test_the_portal_works_under_the_policy(
    page, live_server, login, staff, company, product, owner, api, violations
):
    pk = file_draft(api, staff, company, product)
    login(page, owner, portal=True)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    page.locator(f"a[href='/portal/applications/{pk}/']").first.click()
    page.wait_for_load_state("networkidle")
    assert violations() == []
