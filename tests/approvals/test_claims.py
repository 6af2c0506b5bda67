"""Claiming is race-free; releases, stale claims and reassignment by a branch head."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from approvals.models import ApprovalTask
from approvals.services import claims_release_stale
from audit.models import AuditEvent
from org.roles import Role
from tests.factories import make_staff


def _claim_url(task):
    return f"/api/v1/approvals/tasks/{task.pk}/claim/"


@pytest.mark.django_db(transaction=True)
def test_two_approvers_claiming_one_task_at_once_exactly_one_holds_it(
    matrix, in_approval, staff, branch, api
):
    application = in_approval(amount="800000")
    task = ApprovalTask.objects.get(application=application)
    second = make_staff(Role.CREDIT_REVIEWER, branch, username="carl_reviewer")
    barrier = threading.Barrier(2)
    results = {}

    def claim(user):
        try:
            client = api(user)
            barrier.wait(timeout=10)
            results[user.username] = client.post(_claim_url(task), format="json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (staff["reviewer"], second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [200, 409], results
    task.refresh_from_db()
    winner = next(name for name, code in results.items() if code == 200)
    assert task.status == "claimed" and task.claimed_by.username == winner
    assert (
        AuditEvent.objects.filter(
            subject_type="approvals.task", subject_id=task.pk, action="claim"
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_a_second_claim_is_told_at_once_who_holds_it(matrix, in_approval, staff, branch, api):
    task = ApprovalTask.objects.get(application=in_approval())
    other = make_staff(Role.CREDIT_REVIEWER, branch, username="carl_reviewer")
    assert api(staff["reviewer"]).post(_claim_url(task)).status_code == 200
    response = api(other).post(_claim_url(task))
    assert response.status_code == 409
    assert response.data["code"] == "already_claimed"
    assert "carol_reviewer" in response.data["detail"]


@pytest.mark.django_db
def test_a_claimer_releases_and_someone_else_cannot(matrix, in_approval, staff, branch, api):
    task = ApprovalTask.objects.get(application=in_approval())
    other = make_staff(Role.CREDIT_REVIEWER, branch, username="carl_reviewer")
    api(staff["reviewer"]).post(_claim_url(task))
    url = f"/api/v1/approvals/tasks/{task.pk}/release/"
    assert api(other).post(url, {}, format="json").status_code == 403
    response = api(staff["reviewer"]).post(url, {"comment": "Out today"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "open"
    assert response.data["claimed_by"] is None


@pytest.mark.django_db
def test_a_claim_left_untouched_returns_to_the_queue(matrix, in_approval, staff, api, settings):
    settings.APPROVALS_CLAIM_TIMEOUT_MINUTES = 30
    fresh = ApprovalTask.objects.get(application=in_approval())
    stale = ApprovalTask.objects.get(application=in_approval())
    for task in (fresh, stale):
        api(staff["reviewer"]).post(_claim_url(task))
    ApprovalTask.objects.filter(pk=stale.pk).update(
        last_activity_at=timezone.now() - timedelta(minutes=31)
    )
    assert claims_release_stale() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "open" and stale.claimed_by is None
    assert fresh.status == "claimed"
    assert AuditEvent.objects.filter(action="claim_expired", subject_id=stale.pk).exists()
    # The management command runs the same sweep (nothing left to release).
    call_command("release_stale_claims")
    fresh.refresh_from_db()
    assert fresh.status == "claimed"


@pytest.mark.django_db
def test_a_branch_head_reassigns_and_an_approver_cannot(matrix, in_approval, staff, branch, api):
    task = ApprovalTask.objects.get(application=in_approval())
    other = make_staff(Role.CREDIT_REVIEWER, branch, username="carl_reviewer")
    api(staff["reviewer"]).post(_claim_url(task))
    url = f"/api/v1/approvals/tasks/{task.pk}/reassign/"
    assert api(other).post(url, {"assignee": other.pk}, format="json").status_code == 403
    response = api(staff["head"]).post(
        url, {"assignee": other.pk, "comment": "Balance"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["claimed_by"] == other.pk
    # ...but never to someone segregation of duties excludes.
    response = api(staff["head"]).post(url, {"assignee": staff["rm"].pk}, format="json")
    assert response.status_code == 403
