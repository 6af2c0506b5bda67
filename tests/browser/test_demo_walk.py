"""The demo bank walks in a browser: its own staff, as `seed_demo` loads them (password,
authenticator, branch, limits), take a committee case and a grade-E case above 500K to a
decision, and every page they see passes the accessibility check."""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from applications.management.commands.seed_demo import DEMO_PASSWORD
from applications.models import LoanApplication, Product
from applications.services import application_transition
from approvals.models import ApprovalTask
from approvals.services import committee_vote, task_claim, task_decide
from org.models import Branch
from tests.browser.accessibility import assert_accessible
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(monkeypatch):
    """The demo bank's staff by username; sending to approval skips the investigation's
    gates (what the case holds is not what these tests are about)."""
    from applications import effects

    call_command("seed_demo", applications=12, stdout=StringIO(), stderr=StringIO())
    monkeypatch.setitem(effects.GATES, "send_to_approval", ())
    return {user.username: user for user in User.objects.filter(staff_profile__isnull=False)}


@pytest.fixture
def sign_in(new_context, login):
    """A browser of its own for each demo user, signed in with the demo password (and code)."""

    def open_as(user) -> object:
        page = new_context().new_page()
        return login(page, user, password=DEMO_PASSWORD)

    return open_as


def in_approval(demo, *, rm: str, branch: str, amount: str, grade: str) -> LoanApplication:
    """An equipment loan of a new company at `branch`, investigated by `rm`, sent to approval."""
    application = ApplicationFactory(
        company=CompanyFactory(home_branch=Branch.objects.get(code=branch)),
        product=Product.objects.get(code="SME-EQP"),
        status="investigation",
        filed_by=demo[rm],
        relationship_manager=demo[rm],
        investigator=demo[rm],
        amount=Decimal(amount),
        risk_grade=grade,
        route_recommendation="enhanced",
    )
    application_transition(
        application_id=application.pk, transition="send_to_approval", actor=demo[rm]
    )
    return application


def open_step(application: LoanApplication, step: str) -> ApprovalTask:
    return ApprovalTask.objects.get(application=application, step=step, status="open")


def decide_in_service(application, step: str, user) -> None:
    """A step taken outside the browser (the walk is about the later ones)."""
    task = open_step(application, step)
    task_claim(task_id=task.pk, actor=user)
    task_decide(task_id=task.pk, actor=user, decision="approve", comment="Reviewed.")


TASK_PAGE = re.compile(r"/approvals/tasks/\d+/$")
QUEUE_PAGE = re.compile(r"/approvals/queue/$")


def open_queue(page) -> None:
    page.locator("nav").get_by_role("link", name="Approval queue").click()
    page.wait_for_url(QUEUE_PAGE)
    assert_accessible(page)


def claim_and_approve(page, application, comment: str) -> None:
    """From the queue: claim the application's task, which opens its page, and approve."""
    open_queue(page)
    row = page.locator("#queue tbody tr", has_text=application.reference)
    row.get_by_role("button", name="Claim").click()
    page.wait_for_url(TASK_PAGE)
    task_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert_accessible(page)
    page.check("#decide-form input[name=decision][value=approve]")
    page.fill("#decide-form textarea[name=comment]", comment)
    page.click("#decide-form button[type=submit]")
    page.wait_for_url(QUEUE_PAGE)
    assert page.get_by_text("Decision recorded.").is_visible()
    assert_accessible(page)
    # The step is done; the next one may show in the same queue, under its own task.
    assert page.locator(f"#task-{task_id}").count() == 0


def vote(page, vote_value: str, comment: str) -> None:
    """On the committee task's page: cast a vote, which returns to the page."""
    form = page.locator("#vote-form")
    form.locator(f"input[name=vote][value={vote_value}]").check()
    form.locator("textarea[name=comment]").fill(comment)
    with page.expect_navigation():
        form.get_by_role("button", name="Vote").click()
    assert TASK_PAGE.search(page.url)
    assert page.get_by_text("Your vote is recorded.").is_visible()
    assert_accessible(page)


def open_task_from_queue(page, application) -> None:
    open_queue(page)
    page.locator("#queue tbody tr", has_text=application.reference).get_by_role(
        "link", name=application.reference
    ).click()
    page.wait_for_url(TASK_PAGE)
    assert_accessible(page)


def close_the_vote(page, comment: str) -> None:
    page.get_by_label("Chair's comment").fill(comment)
    page.get_by_role("button", name="Close the vote").click()
    page.wait_for_url(QUEUE_PAGE)
    assert page.get_by_text("The vote is closed.").is_visible()
    assert_accessible(page)


def see_the_decision(page, live_server, application, status: str) -> None:
    page.goto(f"{live_server.url}/applications/{application.pk}/")
    assert page.locator("#status").inner_text() == status
    assert_accessible(page)


def test_three_committee_members_vote_and_the_chair_closes_a_grade_d_case(
    demo, sign_in, live_server
):
    application = in_approval(demo, rm="rm", branch="BJ01", amount="1500000", grade="D")
    route = [step["code"] for step in application.approval_records.get().route]
    assert route == ["credit_review", "tier1", "tier2", "committee"]
    for step, username in (
        ("credit_review", "reviewer"),
        ("tier1", "approver"),
        ("tier2", "approver2"),
    ):
        decide_in_service(application, step, demo[username])
    assert open_step(application, "committee").role == "committee_member"

    # The first member to claim the committee's task chairs it.
    chair = sign_in(demo["committee1"])
    open_queue(chair)
    chair.locator("#queue tbody tr", has_text=application.reference).get_by_role(
        "button", name="Claim"
    ).click()
    chair.wait_for_url(TASK_PAGE)
    assert_accessible(chair)
    vote(chair, "approve", "Collateral covers the exposure.")
    for username, choice in (("committee2", "approve"), ("committee3", "decline")):
        member = sign_in(demo[username])
        open_task_from_queue(member, application)
        vote(member, choice, f"{username}: {choice}")
    chair.reload()
    assert "2 approve, 1 decline, 0 abstain (quorum 3)" in chair.content()
    close_the_vote(chair, "Approved by majority.")

    application.refresh_from_db()
    assert application.status == "approved"
    task = ApprovalTask.objects.get(application=application, step="committee")
    assert (task.status, task.decision, task.decided_by) == ("done", "approve", demo["committee1"])
    assert task.votes.count() == 3
    see_the_decision(chair, live_server, application, "Approved")


def test_a_grade_e_case_above_500k_at_guangzhou_is_taken_by_head_office_approvers_and_decided(
    demo, sign_in, live_server
):
    application = in_approval(demo, rm="rm_gz", branch="GZ01", amount="900000", grade="E")
    decide_in_service(application, "credit_review", demo["reviewer"])

    # Guangzhou has no approver of its own: the two at head office take tier 1 and tier 2,
    # though their grade-E limit is below the amount (the committee decides).
    claim_and_approve(sign_in(demo["approver3"]), application, "Tier 1: recommend.")
    claim_and_approve(sign_in(demo["approver2"]), application, "Tier 2: recommend.")

    task = open_step(application, "committee")
    for username in ("committee2", "committee3"):
        committee_vote(task_id=task.pk, actor=demo[username], vote="decline", comment="Too risky")
    chair = sign_in(demo["committee1"])
    open_queue(chair)
    chair.locator("#queue tbody tr", has_text=application.reference).get_by_role(
        "button", name="Claim"
    ).click()
    chair.wait_for_url(TASK_PAGE)
    assert_accessible(chair)
    vote(chair, "decline", "Grade E: the cash flow does not carry it.")
    close_the_vote(chair, "Declined unanimously.")

    application.refresh_from_db()
    assert application.status == "declined"
    assert application.decline_reasons == ["committee_decline"]
    done = ApprovalTask.objects.filter(application=application, status="done")
    assert {(t.step, t.decided_by.username) for t in done} == {
        ("credit_review", "reviewer"),
        ("tier1", "approver3"),
        ("tier2", "approver2"),
        ("committee", "committee1"),
    }
    see_the_decision(chair, live_server, application, "Declined")
