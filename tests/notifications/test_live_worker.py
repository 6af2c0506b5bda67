import pytest
from django.core import mail
from django.db import transaction

from notifications.models import EmailDelivery
from notifications.services import notify
from tests.sla.services_fixtures import wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_live_worker_sends_the_email_after_commit(live_celery_worker, staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with transaction.atomic():
        notify(user=staff["approver"], kind="assignment", title="Approve LF42")
    assert wait_for(lambda: EmailDelivery.objects.filter(status="sent").exists(), timeout=20)
    assert [m.to for m in mail.outbox] == [[staff["approver"].email]]
    assert "Approve LF42" in mail.outbox[0].subject
