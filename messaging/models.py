"""Being heard: the message thread between an SME owner and the bank about one application,
and the owner's satisfaction survey after the decision and after the disbursement.

A small app of its own rather than a module of the portal: the thread has two sides (the
owner on the portal, the bank's staff on the application page, each through its own scope),
the survey's answers are read by analytics (the balanced scorecard's customer perspective),
and both are kept with the case like its documents. The portal shows them; it does not own
them."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.storage import documents_store

# A message is a note, not a letter: longer texts go as an attachment.
BODY_MAX_LENGTH = 4000
SURVEY_COMMENT_MAX_LENGTH = 2000


def attachment_path(instance, filename: str) -> str:
    # The client's file name is never used on disk.
    return f"messages/{instance.application_id}/{uuid.uuid4().hex}{instance.attachment_extension}"


class Side(models.TextChoices):
    OWNER = "owner", _("The applicant")
    BANK = "bank", _("The bank")


class Message(models.Model):
    """One message of an application's thread, oldest first. `read_at` is when the other
    side first opened the thread after it was written."""

    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    side = models.CharField(_("from"), max_length=10, choices=Side.choices)
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    attachment = models.FileField(
        _("attachment"),
        storage=documents_store,
        upload_to=attachment_path,
        max_length=200,
        blank=True,
    )
    attachment_name = models.CharField(_("file name"), max_length=200, blank=True)
    attachment_content_type = models.CharField(max_length=100, blank=True)
    attachment_extension = models.CharField(max_length=10, blank=True)
    attachment_size = models.PositiveIntegerField(null=True, blank=True)
    attachment_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["application", "created_at", "id"], name="msg_thread"),
            models.Index(
                fields=["application", "side"],
                name="msg_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.side} {self.created_at:%Y-%m-%d %H:%M}"


class SurveyStage(models.TextChoices):
    DECISION = "decision", _("After the decision")
    DISBURSEMENT = "disbursement", _("After the disbursement")


class SurveyAnswer(models.Model):
    """An owner's answer to the satisfaction survey: once per application and stage."""

    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="survey_answers",
    )
    stage = models.CharField(_("stage"), max_length=20, choices=SurveyStage.choices)
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), max_length=SURVEY_COMMENT_MAX_LENGTH, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction survey answer")
        verbose_name_plural = _("satisfaction survey answers")
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "stage"], name="survey_once_per_application_stage"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage}: {self.score}"
