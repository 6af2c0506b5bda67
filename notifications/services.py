"""Notifications: in-app rows plus emails sent after commit with delivery records."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import (
    BooleanField,
    CharField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import Status
from common.errors import InvalidInput
from common.queue import enqueue_now, enqueue_on_commit
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
# A delivery claimed for sending this long ago, and not marked since, was held by a worker that
# died during the SMTP call: it is sent again (same Message-ID).
SENDING_STALE = timedelta(minutes=10)


def _language_column():
    """A user's language as a column: the staff profile's preferred language, else the
    applicant profile's, else the site's (the one rule, for user_languages and
    with_notification_preferences)."""
    return Coalesce(
        NullIf("staff_profile__preferred_language", Value("")),
        NullIf("applicant_profile__preferred_language", Value("")),
        Value(settings.LANGUAGE_CODE),
        output_field=CharField(),
    )


def user_languages(user_ids) -> dict[int, str]:
    """{user id: language} for many users in one query (_language_column)."""
    return dict(
        get_user_model()
        .objects.filter(pk__in=set(user_ids))
        .annotate(notification_language=_language_column())
        .values_list("pk", "notification_language")
    )


def with_notification_preferences(users: QuerySet) -> QuerySet:
    """The users with what notify_many would read about them next (their language and the
    kinds they muted) as two columns of the same query: a caller that reads its recipients
    anyway passes them on and notify_many reads nothing more before its inserts."""
    return users.annotate(
        notification_language=_language_column(),
        muted_notification_kinds=ArraySubquery(
            NotificationMute.objects.filter(user=OuterRef("pk")).values("kind")
        ),
    )


@dataclass(frozen=True)
class Message:
    """One notification to make. `title` and `body` may be lazy (anything whose str() is
    the text): they are rendered in the recipient's language."""

    user: Any
    kind: str
    title: Any
    body: Any = ""
    url: str = ""
    application: Any = None


def notify(
    *, user, kind: str, title, body="", url: str = "", application=None, email: bool = True
) -> Notification | None:
    """Record an in-app notification for `user` in the current transaction and queue an
    email after commit. Lazy (gettext_lazy) title/body are rendered in the user's language.
    Returns None when the user muted this kind (escalations cannot be muted)."""
    made = notify_many(
        [Message(user=user, kind=kind, title=title, body=body, url=url, application=application)],
        email=email,
    )
    return made[0] if made else None


def notify_many(messages: Iterable[Message], *, email: bool = True) -> list[Notification]:
    """`notify` for many messages with a fixed number of queries: one for mutes, one for
    languages, one insert of the notifications, one of the email deliveries, and ONE task
    queued after commit for all the emails. Recipients read through
    with_notification_preferences carry their language and mutes: then only the inserts.
    Returns the notifications made (muted kinds and inactive users are left out)."""
    messages = [m for m in messages if m.user is not None and m.user.is_active]
    known = {
        m.user.pk: m.user
        for m in messages
        if hasattr(m.user, "notification_language") and hasattr(m.user, "muted_notification_kinds")
    }
    mutable = [m for m in messages if m.kind not in UNMUTABLE_KINDS and m.user.pk not in known]
    muted = {
        (pk, kind) for pk, user in known.items() for kind in (user.muted_notification_kinds or ())
    }
    if mutable:
        muted |= set(
            NotificationMute.objects.filter(
                user_id__in={m.user.pk for m in mutable}, kind__in={m.kind for m in mutable}
            ).values_list("user_id", "kind")
        )
    messages = [
        m for m in messages if m.kind in UNMUTABLE_KINDS or (m.user.pk, m.kind) not in muted
    ]
    if not messages:
        return []
    languages = {pk: user.notification_language for pk, user in known.items()}
    unknown = {m.user.pk for m in messages} - set(languages)
    if unknown:
        languages.update(user_languages(unknown))
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, message in enumerate(messages):
        by_language[languages.get(message.user.pk, settings.LANGUAGE_CODE)].append(index)
    made: list = [None] * len(messages)  # (message, notification, language), in given order
    for language, indexes in by_language.items():
        texts: dict[int, str] = {}
        with translation.override(language):  # once per language, not per message
            for index in indexes:
                message = messages[index]
                made[index] = (
                    message,
                    Notification(
                        user=message.user,
                        kind=message.kind,
                        title=_rendered(message.title, texts)[:300],
                        body=_rendered(message.body, texts),
                        url=message.url,
                        application=message.application,
                    ),
                    language,
                )
    Notification.objects.bulk_create([notification for _m, notification, _l in made])
    if email:
        _queue_emails([(m, n, lang) for m, n, lang in made if m.user.email])
    return [notification for _m, notification, _l in made]


def _rendered(value, texts: dict[int, str]) -> str:
    """str(value) in the active language, once per object: a title or body shared by many
    messages (a lazy string, say) is rendered once. The objects outlive the cache."""
    key = id(value)
    if key not in texts:
        texts[key] = str(value)
    return texts[key]


def _queue_emails(made: list) -> None:
    if not made:
        return
    subject_template = get_template("notifications/email/subject.txt")
    body_template = get_template("notifications/email/body.txt")
    deliveries = []
    for language, group in groupby(
        sorted(made, key=lambda item: item[2]), key=lambda item: item[2]
    ):
        with translation.override(language):
            for message, notification, _language in group:
                context = {
                    "user": message.user,
                    "notification": notification,
                    "link": (settings.LOANFLOW_SITE_URL + message.url) if message.url else "",
                    "application": message.application,
                }
                subject = subject_template.render(context).strip()
                deliveries.append(
                    EmailDelivery(
                        notification=notification,
                        user=message.user,
                        to=message.user.email,
                        subject=" ".join(subject.split())[:300],
                        body=body_template.render(context),
                        language=language,
                    )
                )
    EmailDelivery.objects.bulk_create(deliveries)
    from notifications.tasks import send_emails

    enqueue_on_commit(send_emails, [delivery.pk for delivery in deliveries])


def notification_mark_read(*, user, notification_id: int) -> int:
    return Notification.objects.filter(user=user, pk=notification_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_mute(*, user, kind: str) -> NotificationMute:
    if kind not in Kind.values:
        raise InvalidInput(details={"kind": [_("Unknown notification kind.")]})
    if kind in UNMUTABLE_KINDS:
        raise InvalidInput(
            _("Escalations cannot be muted."), details={"kind": [_("Escalations cannot be muted.")]}
        )
    mute, _created = NotificationMute.objects.get_or_create(user=user, kind=kind)
    return mute


def notification_unmute(*, user, kind: str) -> int:
    deleted, _detail = NotificationMute.objects.filter(user=user, kind=kind).delete()
    return deleted


def email_delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is still unsent. It is claimed ("sending", committed) before
    the SMTP call, so another worker, or this task delivered again by the broker, skips it;
    the outcome is recorded right after the call. A delivery left "sending" by a worker that
    died is sent again once its claim is stale (SENDING_STALE), with the same Message-ID.
    Returns the resulting status ("" if not ours)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            EmailDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id)
            .filter(
                Q(status__in=[EmailDelivery.Status.QUEUED, EmailDelivery.Status.FAILED])
                | Q(status=EmailDelivery.Status.SENDING, next_attempt_at__lte=now)
            )
            .first()
        )
        if delivery is None:
            return ""
        delivery.attempts += 1
        delivery.status = EmailDelivery.Status.SENDING
        delivery.next_attempt_at = now + SENDING_STALE
        delivery.save(update_fields=["attempts", "status", "next_attempt_at"])
    try:
        EmailMessage(
            subject=delivery.subject,
            body=delivery.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.to],
            headers={"Message-ID": delivery.message_id},
        ).send()
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
    EmailDelivery.objects.filter(pk=delivery.pk, status=EmailDelivery.Status.SENDING).update(
        status=delivery.status,
        last_error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at,
        sent_at=delivery.sent_at,
    )
    return delivery.status


def email_deliveries_send(*, delivery_ids: list[int]) -> int:
    """Send each delivery still unsent (see email_delivery_send). Returns how many were sent."""
    return sum(
        email_delivery_send(delivery_id=pk) == EmailDelivery.Status.SENT for pk in delivery_ids
    )


def email_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def email_requeue_undelivered(*, now=None, limit: int = 10_000, batch: int = 100) -> int:
    """Re-queue deliveries the broker lost (queued too long), due for a retry, or left
    "sending" by a worker that died: up to `limit` a run, `batch` to a task, so a backlog
    after an outage is handed to the workers at once rather than a few hundred a minute."""
    from notifications.tasks import send_emails

    now = now or timezone.now()
    ids = list(
        EmailDelivery.objects.filter(
            status__in=[
                EmailDelivery.Status.QUEUED,
                EmailDelivery.Status.FAILED,
                EmailDelivery.Status.SENDING,
            ],
            next_attempt_at__lte=now,
        )
        .exclude(
            # A fresh "queued" row is still on its way through the broker.
            status=EmailDelivery.Status.QUEUED,
            created_at__gt=now - REQUEUE_AFTER,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for first in range(0, len(ids), batch):
        chunk = ids[first : first + batch]
        if not enqueue_now(send_emails, chunk):
            break  # broker still down: stop, the next sweep tries again
        queued += len(chunk)
    return queued


# --- The applicants hear of their application's new status ----------------------------------

# What an SME owner is told, per new status (plain language, no internal jargon).
APPLICANT_MESSAGES = {
    Status.SUBMITTED: (
        "status_change",
        gettext_lazy("We have received your application"),
        gettext_lazy(
            "Your application %(ref)s has been received. We will check it and "
            "let you know what happens next."
        ),
    ),
    Status.INVESTIGATION: (
        "status_change",
        gettext_lazy("We are looking at your application"),
        gettext_lazy(
            "A relationship manager is now looking into application %(ref)s. "
            "They may visit you or ask for documents."
        ),
    ),
    Status.IN_APPROVAL: (
        "status_change",
        gettext_lazy("Your application is being decided"),
        gettext_lazy("Application %(ref)s is now with the people who decide on loans."),
    ),
    Status.INFO_REQUESTED: (
        "info_request",
        gettext_lazy("We need something from you"),
        gettext_lazy(
            "To continue with application %(ref)s we need more information "
            "from you. Please sign in to see what is missing."
        ),
    ),
    Status.APPROVED: (
        "decision",
        gettext_lazy("Good news: your loan was approved"),
        gettext_lazy("Application %(ref)s was approved. We will send you the contract to sign."),
    ),
    Status.DECLINED: (
        "decision",
        gettext_lazy("Your application was not approved"),
        gettext_lazy(
            "We are sorry: application %(ref)s was not approved. Sign in to see "
            "the reasons, or talk to your relationship manager."
        ),
    ),
    Status.CONTRACT_SIGNED: (
        "status_change",
        gettext_lazy("Your contract is signed"),
        gettext_lazy(
            "The contract for application %(ref)s is signed. We are preparing the payment."
        ),
    ),
    Status.DISBURSED: (
        "status_change",
        gettext_lazy("Your loan has been paid out"),
        gettext_lazy(
            "The money for application %(ref)s has been paid into your account. "
            "Sign in to see your repayment schedule."
        ),
    ),
    Status.CLOSED: (
        "status_change",
        gettext_lazy("Your loan is fully repaid"),
        gettext_lazy("Loan %(ref)s is fully repaid and closed. Thank you."),
    ),
    Status.WITHDRAWN: (
        "status_change",
        gettext_lazy("Your application was withdrawn"),
        gettext_lazy("Application %(ref)s was withdrawn."),
    ),
}


class Formatted:
    """A lazy message formatted when rendered (so in the recipient's language); a parameter
    that is itself lazy (an amount formatted as the language groups digits) is rendered then
    too."""

    def __init__(self, message, **params):
        self.message, self.params = message, params

    def __str__(self) -> str:
        return str(self.message) % self.params


# What the staff hear of an application's new status: its relationship manager of the
# decision taken on it (the decider excepted), and, once the applicant accepts the offer, the
# disbursement officers serving its branch, who record the payout next. Keyed by
# (from_state or None for any, to_state): (kind, title, body, the roles told besides its RM).
STAFF_MESSAGES = {
    (None, Status.APPROVED): (
        "decision",
        gettext_lazy("Approved: %(ref)s"),
        gettext_lazy("Application %(ref)s was approved. The offer goes to the applicant."),
        (),
    ),
    (None, Status.DECLINED): (
        "decision",
        gettext_lazy("Declined: %(ref)s"),
        gettext_lazy("Application %(ref)s was declined. The reasons are on its page."),
        (),
    ),
    (Status.IN_APPROVAL, Status.INVESTIGATION): (
        "decision",
        gettext_lazy("Returned for more investigation: %(ref)s"),
        gettext_lazy(
            "An approver returned application %(ref)s to the investigation. "
            "The comment is on its page."
        ),
        (),
    ),
    (None, Status.CONTRACT_SIGNED): (
        "status_change",
        gettext_lazy("Offer accepted: %(ref)s"),
        gettext_lazy(
            "The contract for application %(ref)s is signed. The payout can "
            "be recorded once the conditions precedent are met."
        ),
        ("disbursement_officer",),
    ),
}


# A facility application's signed contract (it activates the facility), to the applicant.
FACILITY_ACTIVE_MESSAGE = (
    "status_change",
    gettext_lazy("Your credit facility is active"),
    gettext_lazy(
        "The contract for application %(ref)s is signed and your credit facility is active: "
        "you can draw on it. Sign in and open Credit facilities."
    ),
)


def application_status_notify(
    *, application, from_state: str, to_state: str, actor=None
) -> list[Notification]:
    """Tell who must hear that the application moved to `to_state`, in one batch: the
    company's applicant logins in plain language (APPLICANT_MESSAGES), and the staff
    (STAFF_MESSAGES) but not the person who moved it. The recipients are read in one query;
    called inside the transition's transaction, mail after commit."""
    from org.selectors import staff_serving_q

    applicant_entry = APPLICANT_MESSAGES.get(to_state)
    staff_entry = STAFF_MESSAGES.get((from_state, to_state)) or STAFF_MESSAGES.get((None, to_state))
    if to_state == Status.CONTRACT_SIGNED and application.is_facility_application:
        # Its signed contract activates the facility: nothing is paid out on it.
        applicant_entry, staff_entry = FACILITY_ACTIVE_MESSAGE, None
    if applicant_entry is None and staff_entry is None:
        return []
    User = get_user_model()
    wanted = Q(pk__in=[])
    # The company's people: whoever acts for it (an active binding, as applicant_users).
    acts_for_it = Q(pk__in=applicant_users(company_id=application.company_id).values("pk"))
    if applicant_entry is not None:
        wanted |= acts_for_it
    if staff_entry is not None:
        staff = Q(pk=application.relationship_manager_id, is_active=True)
        for role in staff_entry[3]:
            staff |= Q(
                pk__in=User.objects.filter(
                    staff_serving_q(branch=application.branch, role=role)
                ).values("pk")
            )
        if actor is not None:
            staff &= ~Q(pk=actor.pk)
        wanted |= staff
    recipients = (
        with_notification_preferences(User.objects.filter(wanted))
        .annotate(is_applicant=ExpressionWrapper(acts_for_it, output_field=BooleanField()))
        .order_by("-is_applicant", "pk")
    )
    messages = []
    texts: dict[str, tuple] = {}
    for user in recipients:
        is_applicant = user.is_applicant
        entry = applicant_entry if is_applicant else staff_entry
        if entry is None:
            continue
        key = "applicant" if is_applicant else "staff"
        if key not in texts:
            params = {"ref": application.reference}
            texts[key] = (
                entry[0],
                Formatted(entry[1], **params),
                Formatted(entry[2], **params),
                reverse(
                    "portal-application" if is_applicant else "application-detail",
                    args=[application.pk],
                ),
            )
        kind, title, body, url = texts[key]
        messages.append(
            Message(
                user=user,
                kind=kind,
                title=title,
                body=body,
                url=url,
                application=application,
            )
        )
    return notify_many(messages)


def applicant_users(*, company_id: int):
    """The active logins of the people who act for the company (an active binding), in the
    order they were bound."""
    return (
        get_user_model()
        .objects.filter(
            company_bindings__company_id=company_id,
            company_bindings__status="active",
            is_active=True,
        )
        .order_by("company_bindings__created_at", "company_bindings__id")
    )
