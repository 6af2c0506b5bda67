"""Notifications: in-app rows plus emails sent after commit with delivery records."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from loanflow.errors import InvalidInput
from loanflow.queue import enqueue_now, enqueue_on_commit
from notifications.models import (
    UNMUTABLE_KINDS,
    EmailDelivery,
    Kind,
    Notification,
    NotificationMute,
)

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 6
# Deliveries still queued after this long were lost by the broker: the sweep re-queues them.
REQUEUE_AFTER = timedelta(minutes=2)


def user_language(user) -> str:
    for attr in ("staff_profile", "applicant_profile"):
        try:
            profile = getattr(user, attr)
        except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist
            profile = None
        if profile is not None and getattr(profile, "preferred_language", ""):
            return profile.preferred_language
    return settings.LANGUAGE_CODE


def notify(*, user, kind: str, title, body="", url: str = "", application=None,
           email: bool = True) -> Notification | None:
    """Record an in-app notification for `user` in the current transaction and queue an
    email after commit. Lazy (gettext_lazy) title/body are rendered in the user's language.
    Returns None when the user muted this kind (escalations cannot be muted)."""
    if user is None or not user.is_active:
        return None
    if kind not in UNMUTABLE_KINDS and NotificationMute.objects.filter(
            user=user, kind=kind).exists():
        return None
    language = user_language(user)
    with translation.override(language):
        title_text, body_text = str(title)[:300], str(body)
        notification = Notification.objects.create(
            user=user, kind=kind, title=title_text, body=body_text, url=url,
            application=application,
        )
        if email and user.email:
            context = {"user": user, "notification": notification,
                       "link": (settings.LOANFLOW_SITE_URL + url) if url else "",
                       "application": application}
            subject = render_to_string("notifications/email/subject.txt", context).strip()
            text = render_to_string("notifications/email/body.txt", context)
            delivery = EmailDelivery.objects.create(
                notification=notification, user=user, to=user.email,
                subject=" ".join(subject.split())[:300], body=text, language=language,
            )
            from notifications.tasks import send_email

            enqueue_on_commit(send_email, delivery.id)
    return notification


def notification_mark_read(*, user, notification_id: int) -> int:
    return Notification.objects.filter(user=user, pk=notification_id,
                                       read_at__isnull=True).update(read_at=timezone.now())


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now())


def notification_mute(*, user, kind: str) -> NotificationMute:
    if kind not in Kind.values:
        raise InvalidInput(details={"kind": [_("Unknown notification kind.")]})
    if kind in UNMUTABLE_KINDS:
        raise InvalidInput(_("Escalations cannot be muted."),
                           details={"kind": [_("Escalations cannot be muted.")]})
    mute, _created = NotificationMute.objects.get_or_create(user=user, kind=kind)
    return mute


def notification_unmute(*, user, kind: str) -> int:
    deleted, _detail = NotificationMute.objects.filter(user=user, kind=kind).delete()
    return deleted


def email_delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is still unsent. The row lock (skip_locked) stops two workers
    sending the same email at once. Returns the resulting status ("" if not ours)."""
    with transaction.atomic():
        delivery = (EmailDelivery.objects.select_for_update(skip_locked=True)
                    .filter(pk=delivery_id,
                            status__in=[EmailDelivery.Status.QUEUED, EmailDelivery.Status.FAILED])
                    .first())
        if delivery is None:
            return ""
        delivery.attempts += 1
        try:
            EmailMessage(subject=delivery.subject, body=delivery.body,
                         from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.to]).send()
        except Exception as exc:  # noqa: BLE001 - any SMTP/network error is retried
            logger.warning("Email %s to %s failed: %s", delivery.pk, delivery.to, exc)
            delivery.last_error = str(exc)[:2000]
            if delivery.attempts >= MAX_EMAIL_ATTEMPTS:
                delivery.status = EmailDelivery.Status.GAVE_UP
            else:
                delivery.status = EmailDelivery.Status.FAILED
                delivery.next_attempt_at = timezone.now() + email_backoff(delivery.attempts)
        else:
            delivery.status = EmailDelivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "last_error", "next_attempt_at",
                                     "sent_at"])
        return delivery.status


def email_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def email_requeue_undelivered(*, now=None, limit: int = 500) -> int:
    """Re-queue deliveries the broker lost (queued too long) or due for a retry."""
    from notifications.tasks import send_email

    now = now or timezone.now()
    ids = list(
        EmailDelivery.objects.filter(
            status__in=[EmailDelivery.Status.QUEUED, EmailDelivery.Status.FAILED],
            next_attempt_at__lte=now,
        ).exclude(
            # A fresh "queued" row is still on its way through the broker.
            status=EmailDelivery.Status.QUEUED, created_at__gt=now - REQUEUE_AFTER,
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for pk in ids:
        if not enqueue_now(send_email, pk):
            break  # broker still down: stop, the next sweep tries again
        queued += 1
    return queued

