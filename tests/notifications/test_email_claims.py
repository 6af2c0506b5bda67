"""An e-mail is claimed before the SMTP call and carries one Message-ID for every attempt; a
delivery a dead worker left "sending" is sent again once its claim is stale; the re-queue
hands a whole backlog to the workers in one run."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import EmailDelivery
from notifications.services import SENDING_STALE, email_delivery_send, email_requeue_undelivered

pytestmark = pytest.mark.django_db


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "LoanFlow <noreply@bank.example.cn>"


def _delivery(**fields) -> EmailDelivery:
    return EmailDelivery.objects.create(
        to="alice@bank.example.cn", subject="Task", body="A task waits.", **fields
    )


def test_an_email_carries_the_same_message_id_on_every_attempt(locmem):
    delivery = _delivery()
    assert email_delivery_send(delivery_id=delivery.pk) == "sent"
    expected = f"<loanflow-delivery-{delivery.pk}@bank.example.cn>"
    assert mail.outbox[0].extra_headers["Message-ID"] == expected
    # Sent again (say a worker died after the SMTP call): the same id, which a server drops.
    EmailDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert email_delivery_send(delivery_id=delivery.pk) == "sent"
    assert mail.outbox[1].extra_headers["Message-ID"] == expected


def test_a_delivery_being_sent_is_not_sent_again_until_its_claim_is_stale(locmem):
    delivery = _delivery(status="sending", next_attempt_at=timezone.now() + SENDING_STALE)
    assert email_delivery_send(delivery_id=delivery.pk) == ""
    assert email_requeue_undelivered() == 0
    assert mail.outbox == []
    later = timezone.now() + SENDING_STALE + timedelta(seconds=1)
    assert email_requeue_undelivered(now=later) == 1


def test_a_delivery_is_claimed_before_the_smtp_call(locmem, settings):
    """While the mail server is talking, the row already says "sending" (in its own,
    committed transaction outside a test)."""
    from django.core.mail.backends.locmem import EmailBackend

    delivery = _delivery()
    seen = {}

    class Watching(EmailBackend):
        def send_messages(self, messages):
            seen["status"] = EmailDelivery.objects.get(pk=delivery.pk).status
            return super().send_messages(messages)

    settings.EMAIL_BACKEND = f"{__name__}.WatchingBackend"
    globals()["WatchingBackend"] = Watching
    assert email_delivery_send(delivery_id=delivery.pk) == "sent"
    assert seen["status"] == "sending"
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 1


def test_the_requeue_hands_a_whole_backlog_to_the_workers_in_batches(settings):
    past = timezone.now() - timedelta(hours=1)
    EmailDelivery.objects.bulk_create(
        EmailDelivery(
            to=f"u{i}@bank.example.cn", subject="s", body="b", created_at=past, next_attempt_at=past
        )
        for i in range(1234)
    )
    assert email_requeue_undelivered() == 1234
