"""The memo is rendered after commit by a real Celery worker on Redis (which keeps no task
result); a broker outage leaves a visible pending memo that the retry endpoint picks up."""

import time

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from kombu.exceptions import OperationalError

from investigation.models import CreditMemo
from investigation.tasks import render_credit_memo
from tests.investigation.test_memo import scored


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_the_memo_after_commit(investigating, staff, api, live_celery_worker):
    results = redis.Redis.from_url(settings.REDIS_URL)
    for key in results.scan_iter("celery-task-meta-*"):  # left by older code, if any
        results.delete(key)
    scored(investigating, staff["rm"])
    response = api(staff["rm"]).post(reverse("api-investigation-memos", args=[investigating.pk]))
    assert response.status_code == 202 and response.data["status"] == "pending"
    deadline = time.monotonic() + 60
    memo = CreditMemo.objects.get(pk=response.data["id"])
    while memo.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.25)
        memo.refresh_from_db()
    assert memo.status == "ready", memo.error
    assert memo.file.read(5) == b"%PDF-"
    # The outcome lives in the database; Redis keeps no task result (nothing reads one).
    assert list(results.scan_iter("celery-task-meta-*")) == []


def test_a_broker_outage_leaves_a_pending_memo_that_a_retry_picks_up(
    investigating, staff, api, monkeypatch, django_capture_on_commit_callbacks
):
    scored(investigating, staff["rm"])
    sent = []

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis. Connection refused.")

    monkeypatch.setattr(render_credit_memo, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff["rm"]).post(
            reverse("api-investigation-memos", args=[investigating.pk])
        )
    assert response.status_code == 202
    memo = CreditMemo.objects.get(pk=response.data["id"])
    assert memo.status == "pending"

    monkeypatch.setattr(
        render_credit_memo, "apply_async", lambda args=(), kwargs=None, **options: sent.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        retry = api(staff["rm"]).post(
            reverse("api-investigation-memo-retry", args=[investigating.pk, memo.pk])
        )
    assert retry.status_code == 202
    assert sent == [(memo.pk,)]


def test_the_sweep_requeues_only_memos_pending_for_a_while(investigating, staff, monkeypatch):
    import datetime

    from django.utils import timezone

    from investigation.services import memo_request, memo_requeue_pending

    scored(investigating, staff["rm"])
    old = memo_request(application_id=investigating.pk, actor=staff["rm"])
    new = memo_request(application_id=investigating.pk, actor=staff["rm"])
    CreditMemo.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    sent = []
    monkeypatch.setattr(
        render_credit_memo, "apply_async", lambda args=(), kwargs=None, **options: sent.append(args)
    )
    assert memo_requeue_pending() == 1
    assert sent == [(old.pk,)] and new.pk not in sent[0]
