from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    ASSIGNMENT = "assignment", _("New assignment")
    REMINDER = "reminder", _("Reminder")
    ESCALATION = "escalation", _("Escalation")
    STATUS_CHANGE = "status_change", _("Status change")
    INFO_REQUEST = "info_request", _("Request for information")
    DECISION = "decision", _("Decision")
    MESSAGE = "message", _("Message about an application")
    SYSTEM = "system", _("System notice")
    REPAYMENT = "repayment", _("Repayment reminder")
    AWAITING_YOU = "awaiting_you", _("Waiting for your confirmation or approval")
    EARLY_WARNING = "early_warning", _("Early warning")
    COMPLAINT = "complaint", _("Complaint")


# Escalations cannot be muted: someone must hear about late work. Nor system notices (the
# administrators' operational warnings, such as a missing holiday calendar, and an owner's
# notice that someone else claims their company).
UNMUTABLE_KINDS = frozenset({Kind.ESCALATION, Kind.SYSTEM})


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notif_user_created"),
            # The bell's unread count: an index-only count of a user's unread rows.
            models.Index(
                fields=["user"], name="notif_user_unread", condition=models.Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationMute(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_mutes"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("muted notification kind")
        verbose_name_plural = _("muted notification kinds")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_mute_once")]

    def __str__(self) -> str:
        return f"{self.user} mutes {self.kind}"


class EmailDelivery(models.Model):
    """One email to send, rendered when the notification was made (in the recipient's
    language). The row is the truth; the Celery task only tries to send it, and the re-queue
    sweep retries anything not sent, so a broker outage loses nothing.

    A delivery is claimed ("sending", committed) before the SMTP call and marked sent right
    after it: a worker killed in between leaves it "sending" until `next_attempt_at`, when it
    is sent again with the same Message-ID (`message_id`), which a mail server can drop."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Failed, gave up")

    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.EmailField(pgettext_lazy("e-mail recipient", "to"))
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("email delivery")
        verbose_name_plural = _("email deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notif_email_undelivered",
                condition=models.Q(status__in=["queued", "failed", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject} ({self.status})"

    @property
    def message_id(self) -> str:
        """The same for every attempt: a mail server can drop a repeat."""
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "loanflow"
        return f"<loanflow-delivery-{self.pk}@{domain}>"
