import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One append-only row per thing that happened. The database itself refuses UPDATE and
    DELETE on this table, whoever connects (the trigger in Meta.triggers). TRUNCATE stays
    possible for the test runner's flush and the benchmark's reload: it needs table
    ownership, which the application role does not use."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Transition")
        REFUSAL = "refusal", _("Refused action")
        ACTION = "action", _("Action")
        SLA = "sla", _("SLA reminder or escalation")
        SYSTEM = "system", _("System event")

    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TRANSITION)
    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # For events about something other than an application (a post-loan task, a deadline).
    subject_type = models.CharField(_("subject type"), max_length=50, blank=True)
    subject_id = models.BigIntegerField(_("subject id"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_role = models.CharField(_("role"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=60)
    from_state = models.CharField(_("from"), max_length=30, blank=True)
    to_state = models.CharField(_("to"), max_length=30, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["application", "at"], name="audit_app_at"),
            models.Index(fields=["subject_type", "subject_id", "at"], name="audit_subject_at"),
            models.Index(fields=["at"], name="audit_at"),
            # Analytics' fast-track share: approvals taken by the system (no actor).
            models.Index(
                fields=["application"],
                name="audit_system_approve",
                condition=models.Q(action="approve", actor__isnull=True, kind="transition"),
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.from_state}->{self.to_state}"
