"""A credit decision and a committee close need a fresh second factor (step-up): a code given
within LOANFLOW_STEP_UP_MINUTES, or one sent with the action."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from approvals.models import ApprovalTask
from org.models import TokenSecondFactor
from org.roles import Role
from tests.approvals.test_committee import _to_committee
from tests.factories import make_staff
from tests.second_factor import age_step_up, api_with_old_code, code_of, enrol

pytestmark = pytest.mark.django_db


def _at_tier1(api, staff, in_approval):
    application = in_approval()
    review = ApprovalTask.objects.get(application=application, step="credit_review")
    decided = api(staff["reviewer"]).post(
        f"/api/v1/approvals/tasks/{review.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200  # a credit reviewer signs in without a second factor
    return application, ApprovalTask.objects.get(application=application, step="tier1")


def test_an_approval_decision_through_the_api_needs_a_fresh_code(matrix, in_approval, staff, api):
    application, task = _at_tier1(api, staff, in_approval)
    approver = staff["approver"]
    client = api_with_old_code(approver, minutes=6)
    url = f"/api/v1/approvals/tasks/{task.pk}/decide/"
    refused = client.post(url, {"decision": "approve"}, format="json")
    assert refused.status_code == 403 and refused.data["code"] == "step_up_required"
    wrong = client.post(url, {"decision": "approve", "otp": "000000"}, format="json")
    assert wrong.status_code == 400 and "otp" in wrong.data
    assert LoanApplication.objects.get(pk=application.pk).status == "in_approval"

    device = enrol(approver)
    done = client.post(url, {"decision": "approve", "otp": code_of(device)}, format="json")
    assert done.status_code == 200, done.data
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"
    # The code counts as the token's fresh one from now on.
    verified_at = TokenSecondFactor.objects.get(token__user=approver).verified_at
    assert timezone.now() - verified_at < timedelta(seconds=30)


def test_an_approval_decision_on_its_page_asks_for_a_code_then_goes_through(
    matrix, in_approval, staff, api, client
):
    application, task = _at_tier1(api, staff, in_approval)
    approver = staff["approver"]
    client.force_login(approver)
    age_step_up(client, approver, minutes=6)
    action = reverse("approvals-task-action", args=[task.pk, "decide"])
    asked = client.post(action, {"decision": "approve", "comment": "ok"})
    task_page = reverse("approvals-task", args=[task.pk])
    assert asked.status_code == 302
    assert (
        asked.url == f"{reverse('second-factor-verify')}?next=%2Fapprovals%2Ftasks%2F{task.pk}%2F"
    )
    assert LoanApplication.objects.get(pk=application.pk).status == "in_approval"

    verified = client.post(
        reverse("second-factor-verify"), {"otp": code_of(enrol(approver)), "next": task_page}
    )
    assert verified.status_code == 302 and verified.url == task_page
    done = client.post(action, {"decision": "approve", "comment": "ok"})
    assert done.status_code == 302 and done.url == reverse("approvals-queue")
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"


def test_a_code_on_the_decision_form_itself_is_enough(matrix, in_approval, staff, api, client):
    application, task = _at_tier1(api, staff, in_approval)
    approver = staff["approver"]
    client.force_login(approver)
    age_step_up(client, approver, minutes=60)
    client.post(
        reverse("approvals-task-action", args=[task.pk, "decide"]),
        {"decision": "approve", "comment": "ok", "otp": code_of(enrol(approver))},
    )
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"


def test_the_step_up_window_is_the_configured_number_of_minutes(
    matrix, in_approval, staff, api, client, settings
):
    settings.LOANFLOW_STEP_UP_MINUTES = 15
    application, task = _at_tier1(api, staff, in_approval)
    approver = staff["approver"]
    client.force_login(approver)
    age_step_up(client, approver, minutes=10)
    client.post(
        reverse("approvals-task-action", args=[task.pk, "decide"]),
        {"decision": "approve", "comment": "ok"},
    )
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"


@pytest.fixture
def committee_ready(matrix, in_approval, staff, branch, api):
    """A committee task whose quorum has voted, claimed by its chair (staff["committee"])."""
    from approvals.models import ApproverLimit

    application = in_approval(amount="1000000", grade="D")
    ApproverLimit.objects.create(user=staff["approver"], grade="D", max_amount=2_000_000)
    task = _to_committee(api, staff, branch, application)
    chair = staff["committee"]
    assert api(chair).post(f"/api/v1/approvals/tasks/{task.pk}/claim/").status_code == 200
    vote_url = f"/api/v1/approvals/tasks/{task.pk}/vote/"
    for member in [chair] + [
        make_staff(Role.COMMITTEE_MEMBER, branch, username=f"member{i}") for i in range(2)
    ]:
        voted = api(member).post(vote_url, {"vote": "approve"}, format="json")
        assert voted.status_code == 200
    return application, task


def test_a_committee_close_through_the_api_needs_a_fresh_code(committee_ready, staff):
    application, task = committee_ready
    chair = staff["committee"]
    client = api_with_old_code(chair, minutes=6)
    url = f"/api/v1/approvals/tasks/{task.pk}/close-vote/"
    refused = client.post(url, {}, format="json")
    assert refused.status_code == 403 and refused.data["code"] == "step_up_required"
    assert LoanApplication.objects.get(pk=application.pk).status == "in_approval"
    done = client.post(url, {"otp": code_of(enrol(chair))}, format="json")
    assert done.status_code == 200, done.data
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"


def test_a_committee_close_on_its_page_needs_a_fresh_code(committee_ready, staff, client):
    application, task = committee_ready
    chair = staff["committee"]
    client.force_login(chair)
    age_step_up(client, chair, minutes=6)
    action = reverse("approvals-task-action", args=[task.pk, "close-vote"])
    asked = client.post(action, {})
    assert asked.url.startswith(reverse("second-factor-verify"))
    assert LoanApplication.objects.get(pk=application.pk).status == "in_approval"
    client.post(action, {"otp": code_of(enrol(chair))})
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"


def test_a_vote_and_a_claim_need_no_step_up(matrix, in_approval, staff, api, client):
    _application, task = _at_tier1(api, staff, in_approval)
    approver = staff["approver"]
    client.force_login(approver)
    age_step_up(client, approver, minutes=60)
    claimed = client.post(reverse("approvals-task-action", args=[task.pk, "claim"]))
    assert claimed.url == reverse("approvals-task", args=[task.pk])
    assert ApprovalTask.objects.get(pk=task.pk).claimed_by == approver


def test_the_decision_form_asks_for_a_code_only_when_the_last_one_is_too_old(
    matrix, in_approval, staff, api, client
):
    _application, task = _at_tier1(api, staff, in_approval)
    approver = staff["approver"]
    client.force_login(approver)
    page = reverse("approvals-task", args=[task.pk])
    assert 'name="otp"' not in client.get(page).content.decode()
    age_step_up(client, approver, minutes=6)
    assert 'name="otp"' in client.get(page).content.decode()
