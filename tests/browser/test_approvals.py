"""An approver clears their queue in the browser: claim, decide, next."""

from decimal import Decimal

import pytest

from applications.services import application_transition
from approvals import demo
from approvals.models import ApprovalTask
from tests.browser.accessibility import assert_accessible
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_an_approver_clears_their_queue(
    page, live_server, login, staff, branch, product, monkeypatch
):
    from applications import effects

    monkeypatch.setitem(effects.GATES, "send_to_approval", ())
    demo.seed()
    apps = []
    for amount in ("600000", "900000"):
        application = ApplicationFactory(
            company=CompanyFactory(home_branch=branch),
            product=product,
            status="investigation",
            filed_by=staff["rm"],
            relationship_manager=staff["rm"],
            investigator=staff["rm"],
            amount=Decimal(amount),
            risk_grade="B",
            route_recommendation="standard",
        )
        application_transition(
            application_id=application.pk, transition="send_to_approval", actor=staff["rm"]
        )
        apps.append(application)

    login(page, staff["reviewer"])
    page.goto(f"{live_server.url}/approvals/queue/")
    assert page.locator("#queue tbody tr[data-task]").count() == 2
    assert_accessible(page)
    for _ in apps:
        row = page.locator("#queue tbody tr[data-task]").first
        row.get_by_role("button", name="Claim").click()
        page.wait_for_load_state("networkidle")
        # Claiming opens the decision page, where no decision is chosen for the approver.
        assert page.locator("#decide-form input[name=decision]:checked").count() == 0
        assert_accessible(page)
        page.fill("#decide-form textarea[name=comment]", "Figures verified")
        page.check("#decide-form input[value=approve]")
        page.click("#decide-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/approvals/queue/" in page.url
    assert page.locator("#queue tbody tr[data-task]").count() == 0
    assert page.get_by_text("Nothing to do here.").is_visible()
    assert_accessible(page)
    done = ApprovalTask.objects.filter(
        application__in=apps, step="credit_review", status="done", decided_by=staff["reviewer"]
    )
    assert done.count() == 2
    # The next step is waiting in the approvers' queue.
    assert (
        ApprovalTask.objects.filter(application__in=apps, step="tier1", status="open").count() == 2
    )
