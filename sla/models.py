from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BusinessHours(models.Model):
    """Working hours of one calendar region (branches name their region: Branch.region).
    Without a row, a region works 09:00-17:00 Asia/Shanghai, Monday to Friday."""

    region = models.CharField(_("region"), max_length=20, unique=True, default="CN")
    timezone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    start = models.TimeField(_("working day starts"), default=time(9, 0))
    end = models.TimeField(_("working day ends"), default=time(17, 0))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["region"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="sla_hours_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"


class CalendarDay(models.Model):
    """An exception to the Monday-Friday week: a public holiday on a weekday, or a make-up
    working day (调休) on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (no work)")
        WORKDAY = "workday", _("Working day (make-up day)")

    region = models.CharField(_("region"), max_length=20, default="CN")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["region", "date"]
        constraints = [
            models.UniqueConstraint(fields=["region", "date"], name="sla_calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.date} {self.get_kind_display()}"


class Step(models.TextChoices):
    INTAKE_CHECK = "intake_check", _("Intake check")
    INVESTIGATION = "investigation", _("Investigation")
    CREDIT_REVIEW = "credit_review", _("Credit review")
    TIER1 = "tier1", _("Tier 1 approval")
    TIER2 = "tier2", _("Tier 2 approval")
    COMMITTEE = "committee", _("Credit committee")
    CONTRACT = "contract", _("Contract")
    DISBURSEMENT = "disbursement", _("Disbursement")
    FIRST_CHECK = "first_check", _("First post-loan check")
    PERIODIC_INSPECTION = "periodic_inspection", _("Periodic inspection")
    WARNING_REVIEW = "warning_review", _("Early-warning review")
    CLASSIFICATION_REVIEW = "classification_review", _("Classification review")
    COMPLAINT_ANSWER = "complaint_answer", _("Answer to a complaint")
    CHANGE_REVIEW = "change_review", _("Review of a change to a loan")
    CHANGE_AGREEMENT = "change_agreement", _("Supplementary agreement of a change")


def step_label(step: str) -> str:
    """A step's name in the active language (a step the choices do not know, in words)."""
    try:
        return str(Step(step).label)
    except ValueError:
        return step.replace("_", " ")


class SlaPolicy(models.Model):
    """The time limit of one step, optionally for one product (a product row wins).

    `step` is free text so stages can add steps; the choices above are the known ones."""

    class Unit(models.TextChoices):
        HOURS = "hours", _("business hours")
        DAYS = "days", _("business days")

    step = models.CharField(_("step"), max_length=40)
    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    target = models.PositiveIntegerField(_("target"))
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.DAYS)
    reminder_percent = models.PositiveSmallIntegerField(
        _("reminder at percent elapsed"),
        default=75,
        null=True,
        blank=True,
        help_text=_("Leave empty for no reminder."),
    )
    escalation2_after_hours = models.PositiveIntegerField(
        _("second escalation after (business hours past due)"),
        default=8,
        null=True,
        blank=True,
        help_text=_("Leave empty for no second escalation."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["step", "product"]
        constraints = [
            models.UniqueConstraint(fields=["step", "product"], name="sla_policy_step_product"),
            models.UniqueConstraint(
                fields=["step"],
                condition=models.Q(product__isnull=True),
                name="sla_policy_step_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step}: {self.target} {self.get_unit_display()}"

    def target_business_seconds(self, *, hours_per_day: int) -> int:
        if self.unit == self.Unit.HOURS:
            return self.target * 3600
        return self.target * hours_per_day


class Deadline(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    subject_type = models.CharField(_("subject type"), max_length=50)
    subject_id = models.BigIntegerField(_("subject id"))
    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadlines",
    )
    step = models.CharField(_("step"), max_length=40)
    policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=40, blank=True)
    branch = models.ForeignKey(
        "org.Branch",
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.CharField(_("calendar region"), max_length=20, default="CN")
    target_business_seconds = models.PositiveIntegerField(_("target (business seconds)"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    reminder_at = models.DateTimeField(_("reminder"), null=True, blank=True)
    escalation2_at = models.DateTimeField(_("second escalation"), null=True, blank=True)
    # The earliest unfired reminder/escalation; NULL when nothing is left to fire.
    next_fire_at = models.DateTimeField(_("next event"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    paused_remaining_seconds = models.BigIntegerField(null=True, blank=True, editable=False)
    paused_reminder_seconds = models.BigIntegerField(null=True, blank=True, editable=False)
    reminder_fired_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level reached"), default=0)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_at"]
        indexes = [
            # The sweep: with nothing due this is one index probe, however many are open.
            # Only running clocks have a next_fire_at (pausing and stopping clear it), so the
            # condition need not name the status: a condition on a status value would not
            # serve the sweep's prepared statements, whose status is a parameter.
            models.Index(
                fields=["next_fire_at"],
                name="sla_deadline_fire",
                condition=models.Q(next_fire_at__isnull=False),
            ),
            models.Index(fields=["subject_type", "subject_id"], name="sla_deadline_subject"),
            models.Index(fields=["application", "status"], name="sla_deadline_application"),
        ]
        constraints = [
            # At most one open clock per subject and step (clock_start is idempotent).
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "step"],
                condition=~models.Q(status="stopped"),
                name="sla_deadline_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} {self.subject_type}#{self.subject_id} due {self.due_at:%Y-%m-%d %H:%M}"

    def remaining_business_seconds(self, now=None) -> int:
        """Business seconds left until due (negative when overdue; frozen while paused)."""
        from sla.calendar import business_seconds_between

        if self.status == self.Status.PAUSED and self.paused_remaining_seconds is not None:
            return int(self.paused_remaining_seconds)
        end = self.stopped_at if self.status == self.Status.STOPPED else (now or timezone.now())
        return business_seconds_between(end, self.due_at, region=self.region)

    @property
    def is_overdue(self) -> bool:
        if self.status == self.Status.PAUSED:
            return (self.paused_remaining_seconds or 0) < 0
        moment = self.stopped_at if self.status == self.Status.STOPPED else timezone.now()
        return moment > self.due_at

    def compute_next_fire_at(self):
        """The earliest reminder or escalation still to fire (None when nothing is left): the
        one definition of the SLA due rule, with mark_due. The clocks and the sweep both
        use it."""
        field = self.next_fire_field()
        return None if field is None else getattr(self, field)

    def next_fire_field(self) -> str | None:
        """Which of the deadline's moments fires next: "reminder_at", "due_at" (the first
        escalation), "escalation2_at", or None when nothing is left to fire."""
        if self.status != self.Status.PENDING:
            return None
        if self.reminder_at and not self.reminder_fired_at and self.reminder_at < self.due_at:
            return "reminder_at"
        if self.escalation_level < 1:
            return "due_at"
        if self.escalation_level < 2 and self.escalation2_at:
            return "escalation2_at"
        return None

    def mark_due(self, now) -> list[tuple[str, int]]:
        """The (kind, level) events due at `now`, marked as fired on the instance (reminder
        sent, escalation level reached, next moment to fire); the caller saves it (the sweep
        writes a claimed batch's marks in one statement)."""
        reminder = bool(
            self.reminder_at
            and not self.reminder_fired_at
            and self.reminder_at <= now
            and self.reminder_at < self.due_at
        )
        escalation1 = self.escalation_level < 1 and self.due_at <= now
        escalation2 = (
            self.escalation_level < 2
            and self.escalation2_at is not None
            and self.escalation2_at <= now
        )
        if reminder:
            self.reminder_fired_at = now
        if escalation2:
            self.escalation_level = 2
        elif escalation1:
            self.escalation_level = max(self.escalation_level, 1)
        self.next_fire_at = self.compute_next_fire_at()
        return [
            event
            for event, due in (
                ((SlaEvent.Kind.REMINDER, 0), reminder),
                ((SlaEvent.Kind.ESCALATION, 1), escalation1),
                ((SlaEvent.Kind.ESCALATION, 2), escalation2),
            )
            if due
        ]


class SlaEvent(models.Model):
    """One fired reminder or escalation. The unique constraint makes "exactly once" a
    database fact, whatever happens to sweepers and workers."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        ESCALATION = "escalation", _("Escalation")

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    fired_at = models.DateTimeField(_("fired"), default=timezone.now)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "kind", "level"], name="sla_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.level} for {self.deadline_id}"
