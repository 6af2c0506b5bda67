"""A drawdown approver decides a drawdown from their queue in the browser: the menu leads to
the page, which shows what the decision rests on, and the approval lands on the drawdown,
under the enforced Content-Security-Policy with no violation."""

from decimal import Decimal

import pytest

from facilities.models import Drawdown, DrawdownApproval
from facilities.services import drawdown_request
from tests.browser.accessibility import assert_accessible
from tests.browser.test_content_security_policy import violations  # noqa: F401
from tests.facilities.conftest import facility_product, make_facility  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_approver_approves_a_drawdown_from_the_queue(
    page,
    live_server,
    login,
    staff,
    make_facility,  # noqa: F811
    violations,  # noqa: F811
):
    facility = make_facility(approval=DrawdownApproval.APPROVER)
    drawdown = drawdown_request(
        facility_id=facility.pk,
        actor=staff["rm"],
        amount="250000.00",
        term_months=6,
        purpose="Raw materials for the spring orders",
    )
    assert drawdown.status == Drawdown.Status.REQUESTED

    login(page, staff["approver"])
    page.get_by_role("link", name="Drawdowns to approve").click()
    page.wait_for_load_state("networkidle")
    card = page.locator(f"[data-drawdown='{drawdown.pk}']")
    assert card.is_visible()
    assert facility.company.name in card.inner_text()
    assert "750,000.00 CNY" in card.locator(".drawdown-available").inner_text()
    assert_accessible(page)

    card.get_by_label("Approve").check()
    card.get_by_label("Comment (the reason, to decline)").fill("Orders seen, within plan.")
    card.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_text("The drawdown of 250,000.00 CNY is approved.").is_visible()
    assert page.locator(f"[data-drawdown='{drawdown.pk}']").count() == 0
    assert page.locator("#drawdown-queue-empty").is_visible()
    assert_accessible(page)
    drawdown.refresh_from_db()
    assert drawdown.status == Drawdown.Status.APPROVED
    assert drawdown.decided_by == staff["approver"]
    assert drawdown.decision_comment == "Orders seen, within plan."
    assert drawdown.application.amount == Decimal("250000.00")
    assert violations() == []
