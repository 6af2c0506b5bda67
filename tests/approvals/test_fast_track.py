"""Fast track (秒贷): the system approves eligible applications only, recorded as decided by
the matrix rule version; a share of them is queued for an after-the-fact review."""

from decimal import Decimal

import pytest

from applications.models import LoanApplication
from approvals.models import ApprovalRecord, ApprovalTask, MatrixVersion
from approvals.services import approval_fast_track_decide, approval_fast_track_sweep
from audit.models import AuditEvent
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_an_eligible_application_is_approved_by_the_system_after_commit(
    matrix, in_approval, django_capture_on_commit_callbacks, monkeypatch
):
    from approvals import tasks

    ran = []

    def run_now(args=(), kwargs=None, **options):
        ran.append(args[0])
        return tasks.fast_track_decide(*args)

    monkeypatch.setattr(tasks.fast_track_decide, "apply_async", run_now)
    with django_capture_on_commit_callbacks(execute=True):
        application = in_approval(amount="300000", grade="A", route="fast_track")
    assert ran == [application.pk]
    application.refresh_from_db()
    assert application.status == "approved"
    record = ApprovalRecord.objects.get(application=application)
    assert record.decided_by_system and record.status == "approved"
    assert not ApprovalTask.objects.filter(application=application, kind="step").exists()
    event = AuditEvent.objects.get(application=application, action="approve")
    assert event.actor is None and event.actor_role == "system"
    assert event.data["matrix_version"] == 1 and "Fast track" in event.data["rule"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": "300000.01", "grade": "A", "route": "fast_track"},
        {"amount": "100000", "grade": "C", "route": "fast_track"},
        {"amount": "100000", "grade": "A", "route": "standard"},
        {"amount": "100000", "grade": "A", "route": "fast_track", "flags": 1},
    ],
)
def test_an_ineligible_application_goes_to_people(matrix, in_approval, overrides):
    application = in_approval(**overrides)
    assert approval_fast_track_sweep() == 0
    application.refresh_from_db()
    assert application.status == "in_approval"
    assert ApprovalTask.objects.get(application=application).step == "credit_review"


def test_a_product_not_eligible_for_fast_track_goes_to_people(matrix, in_approval):
    product = ProductFactory(code="NOFT", fast_track_eligible=False)
    application = in_approval(amount="100000", grade="A", route="fast_track", product=product)
    assert approval_fast_track_sweep() == 0
    application.refresh_from_db()
    assert application.status == "in_approval"


def test_the_sweep_decides_when_the_broker_was_down_and_only_once(
    matrix, in_approval, monkeypatch, django_capture_on_commit_callbacks
):
    from approvals import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(tasks.fast_track_decide, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        application = in_approval(amount="200000", grade="B", route="fast_track")
    assert LoanApplication.objects.get(pk=application.pk).status == "in_approval"
    assert approval_fast_track_sweep() == 1
    assert approval_fast_track_sweep() == 0
    assert approval_fast_track_decide(application_id=application.pk) is False
    assert AuditEvent.objects.filter(application=application, action="approve").count() == 1


def test_the_configured_share_of_automatic_approvals_is_queued_for_review(matrix, in_approval):
    MatrixVersion.objects.filter(pk=matrix.pk).update(fast_track_review_percent=50)
    apps = [in_approval(amount="100000", grade="A", route="fast_track") for _ in range(4)]
    assert approval_fast_track_sweep() == 4
    reviews = ApprovalTask.objects.filter(kind="post_review", status="open")
    assert reviews.count() == 2
    assert {t.application_id for t in reviews} <= {a.pk for a in apps}
    assert all(t.role == "approver" for t in reviews)


def test_an_approver_confirms_an_automatic_approval(matrix, in_approval, staff, api):
    MatrixVersion.objects.filter(pk=matrix.pk).update(fast_track_review_percent=100)
    application = in_approval(amount=str(Decimal("150000")), grade="A", route="fast_track")
    approval_fast_track_sweep()
    task = ApprovalTask.objects.get(application=application, kind="post_review")
    url = f"/api/v1/approvals/tasks/{task.pk}/decide/"
    assert (
        api(staff["approver"]).post(url, {"decision": "approve"}, format="json").status_code == 400
    )
    response = api(staff["approver"]).post(
        url, {"decision": "confirm", "comment": "Fine"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "done"
