import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditEvent(models.Model):
    """One append-only row per thing that happened, tamper-evident (docs/adr/0013):

    - the application's database role may only INSERT and SELECT here (`manage.py db_roles`),
      and the triggers in Meta.triggers refuse UPDATE, DELETE and TRUNCATE to the owner too;
    - a BEFORE INSERT trigger written in the migrations (audit_event_link, not a pgtrigger
      trigger: those can be skipped by any session through `pgtrigger.ignore`) sets `at` to
      the database's clock, whatever the caller gave, and links the row into its chain: one
      chain per subject (an SLA deadline, an approval task, a loan), else per application,
      else "system" (audit_chain_key); `seq` counts from 1, `hash` is a SHA-256 over the row
      and the previous row's hash (audit_event_digest);
    - `manage.py audit_verify` (nightly) recomputes every chain against AuditChainHead."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Transition")
        REFUSAL = "refusal", _("Refused action")
        ACTION = "action", _("Action")
        SLA = "sla", _("SLA reminder or escalation")
        SYSTEM = "system", _("System event")

    # Set by the database (clock_timestamp()) whatever the caller passes: see audit_event_link.
    at = models.DateTimeField(_("when"), db_default=Now(), editable=False)
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
    from_state = models.CharField(pgettext_lazy("state", "from"), max_length=30, blank=True)
    to_state = models.CharField(pgettext_lazy("state", "to"), max_length=30, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    # The hash chain, filled in by the database's insert trigger (a caller's values are
    # replaced). db_default makes Django read them back after an insert.
    chain = models.CharField(_("chain"), max_length=100, db_default="", editable=False)
    seq = models.BigIntegerField(_("position in the chain"), db_default=0, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, db_default="", editable=False)
    hash = models.CharField(_("hash"), max_length=64, db_default="", editable=False)

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
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # Protect composes row-level bodies only, and TRUNCATE fires per statement.
            pgtrigger.Trigger(
                name="no_truncate",
                when=pgtrigger.Before,
                operation=pgtrigger.Truncate,
                level=pgtrigger.Statement,
                func="RAISE EXCEPTION 'pgtrigger: Cannot truncate % table', TG_TABLE_NAME;",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.from_state}->{self.to_state}"


class AuditChainHead(models.Model):
    """The last link of each chain, kept by the insert trigger (which locks the row, so the
    appends to one chain take turns while other chains go on). It lets audit_verify notice
    rows removed from the end of a chain, or a whole chain gone. The application's role may
    only read it."""

    chain = models.CharField(_("chain"), max_length=100, primary_key=True)
    seq = models.BigIntegerField(_("last position"))
    hash = models.CharField(_("last hash"), max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"
