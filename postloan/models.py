"""Post-loan monitoring: the loan's post-loan state, inspections, repayments, early warnings,
the five-category classification (五级分类) and write-offs.

A "loan" is an application in status disbursed. `Loan` holds its derived post-loan state
(balances, days past due, classification), maintained by the repayment service and by the
set-based daily job (postloan.daily).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from applications.models import ChangeKind
from common.i18n import Bilingual, in_language

ZERO = Decimal("0.00")


class Classification(models.TextChoices):
    NORMAL = "normal", _("Normal (正常)")
    SPECIAL_MENTION = "special_mention", _("Special mention (关注)")
    SUBSTANDARD = "substandard", _("Substandard (次级)")
    DOUBTFUL = "doubtful", _("Doubtful (可疑)")
    LOSS = "loss", _("Loss (损失)")


# Worse is higher. Floors only ever move a loan to a worse class.
CLASS_RANK = {
    Classification.NORMAL: 0,
    Classification.SPECIAL_MENTION: 1,
    Classification.SUBSTANDARD: 2,
    Classification.DOUBTFUL: 3,
    Classification.LOSS: 4,
}
NON_PERFORMING = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class InspectionMethod(models.TextChoices):
    SITE_VISIT = "site_visit", _("Site visit")
    REMOTE = "remote", _("Remote")


# --- Configuration ------------------------------------------------------------------------


class ClassificationFloor(models.Model):
    """'At least <classification> from <min_days_past_due> days past due.'"""

    min_days_past_due = models.PositiveIntegerField(_("from days past due"), unique=True)
    classification = models.CharField(_("at least"), max_length=20, choices=Classification.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("classification floor")
        verbose_name_plural = _("classification floors")
        ordering = ["min_days_past_due"]

    def __str__(self) -> str:
        return f">= {self.min_days_past_due} DPD: {self.get_classification_display()}"


class InspectionRule(Bilingual, models.Model):
    class Kind(models.TextChoices):
        FIRST_USE_OF_FUNDS = "first_use_of_funds", _("First check on the use of funds")
        PERIODIC = "periodic", _("Periodic inspection")

    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    classification = models.CharField(
        _("for classification"),
        max_length=20,
        choices=Classification.choices,
        blank=True,
        help_text=_("Periodic rules: the classification this frequency applies to."),
    )
    days = models.PositiveIntegerField(
        _("days"),
        help_text=_(
            "First check: within this many days of disbursement. Periodic: every this many days."
        ),
    )
    lead_days = models.PositiveIntegerField(
        _("created days ahead"),
        default=7,
        help_text=_("Periodic: the task is created this many days before it is due."),
    )
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=InspectionMethod.choices,
        default=InspectionMethod.SITE_VISIT,
    )
    questions = models.JSONField(
        _("questions"),
        default=list,
        blank=True,
        help_text=_('A list of {"key": ..., "label": ...} the inspector answers.'),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inspection rule")
        verbose_name_plural = _("inspection rules")
        ordering = ["kind", "days"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "classification"],
                condition=Q(is_active=True),
                name="postloan_one_active_inspection_rule",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.localized("name")


class WarningRule(Bilingual, models.Model):
    """An early-warning signal (预警信号). `threshold` means: days past due (overdue, dpd),
    percent of revenue drop (revenue_drop), days an inspection is overdue (inspection_overdue);
    the other kinds fire on the event itself."""

    class Kind(models.TextChoices):
        OVERDUE_INSTALMENT = "overdue_instalment", _("Any overdue instalment")
        DPD_THRESHOLD = "dpd_threshold", _("Days past due at or above a threshold")
        NEGATIVE_FINDING = "negative_finding", _("Negative inspection finding")
        REVENUE_DROP = "revenue_drop", _("Revenue drop at an inspection")
        GUARANTOR_TROUBLE = "guarantor_trouble", _("Guarantor in trouble")
        LITIGATION = "litigation", _("Litigation or enforcement")
        INSPECTION_OVERDUE = "inspection_overdue", _("Inspection overdue")
        EXPOSURE_ABOVE_LIMIT = "exposure_above_limit", _("Exposure above a concentration limit")
        POST_REVIEW_CONCERN = (
            "post_review_concern",
            _("Concern raised on an automatic approval"),
        )
        # New bad news in a source's answer at a post-loan re-query (datasources.checks.news).
        SOURCE_BUREAU_OVERDUE = "source_bureau_overdue", _("New overdue at the credit bureau")
        SOURCE_TAX_GRADE_D = "source_tax_grade_d", _("Tax credit grade dropped to D")
        SOURCE_COURT_RECORD = (
            "source_court_record",
            _("New dishonest-debtor or enforcement record"),
        )
        SOURCE_ABNORMAL_OPERATION = (
            "source_abnormal_operation",
            _("Abnormal operation at the business registry"),
        )
        SOURCE_LEGAL_REP_CHANGE = "source_legal_rep_change", _("Change of legal representative")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=10, decimal_places=2, default=ZERO)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    creates_inspection = models.BooleanField(_("creates an extra inspection"), default=False)
    freezes_facilities = models.BooleanField(
        _("freezes the customer's credit facilities"),
        default=False,
        help_text=_(
            "An alert of this rule freezes the active credit facilities of the loan's company at "
            "once: no drawdown until a risk officer unfreezes them."
        ),
    )
    inspection_within_days = models.PositiveIntegerField(
        _("extra inspection within (days)"), default=7
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")
        ordering = ["kind", "threshold"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.localized("name")


# --- The loan's post-loan state ---------------------------------------------------------------


class Loan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed (repaid)")
        WRITTEN_OFF = "written_off", _("Written off")

    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="postloan",
    )
    # Copied from the application so the daily job and the queues never join it.
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The customer and the current terms, copied like the two above: at disbursement
    # (services.loan_open) and again when a change is applied (changes.change_apply,
    # which also writes them on the application), so the book's figures read the loans alone.
    company = models.ForeignKey(
        "customers.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    interest_rate = models.DecimalField(
        _("annual interest rate (%)"), max_digits=6, decimal_places=3
    )
    term_months = models.PositiveIntegerField(_("term (months)"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    principal = models.DecimalField(_("principal"), max_digits=18, decimal_places=2)
    disbursed_on = models.DateField(_("disbursed on"))

    scheduled_total = models.DecimalField(
        _("scheduled total"), max_digits=18, decimal_places=2, default=ZERO
    )
    paid_total = models.DecimalField(_("repaid"), max_digits=18, decimal_places=2, default=ZERO)
    # With the overdue interest unpaid.
    outstanding_total = models.DecimalField(
        _("outstanding (principal and interest)"), max_digits=18, decimal_places=2, default=ZERO
    )
    outstanding_principal = models.DecimalField(
        _("outstanding principal"), max_digits=18, decimal_places=2, default=ZERO
    )
    paid_instalments = models.PositiveIntegerField(_("instalments paid"), default=0)
    oldest_unpaid_due = models.DateField(_("oldest unpaid instalment due"), null=True, blank=True)
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    classification = models.CharField(
        _("classification"),
        max_length=20,
        choices=Classification.choices,
        default=Classification.NORMAL,
    )
    last_inspection_on = models.DateField(_("last inspection"), null=True, blank=True)
    next_inspection_due = models.DateField(_("next inspection due"), null=True, blank=True)
    litigation_flag = models.BooleanField(_("litigation or enforcement"), default=False)
    guarantor_trouble_flag = models.BooleanField(_("guarantor in trouble"), default=False)
    flags_note = models.TextField(_("note on flags"), blank=True)
    recomputed_on = models.DateField(_("recomputed on"), null=True, blank=True)
    # Overdue interest (罚息): accrued by the nightly job (OverdueInterestAccrual), and what
    # of it the repayments have not paid (they pay it first: postloan.daily).
    overdue_interest = models.DecimalField(
        _("overdue interest accrued"), max_digits=18, decimal_places=2, default=ZERO
    )
    overdue_interest_unpaid = models.DecimalField(
        _("overdue interest unpaid"), max_digits=18, decimal_places=2, default=ZERO
    )
    # Restructured (重组, postloan.changes): the nightly job keeps the loan at least in
    # `restructured_floor` until `monitoring_until`, and no upgrade goes below it before then.
    restructured_on = models.DateField(_("restructured on"), null=True, blank=True)
    restructured_floor = models.CharField(
        _("classification floor while monitored"),
        max_length=20,
        choices=Classification.choices,
        blank=True,
    )
    monitoring_until = models.DateField(_("monitored until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-created_at"]
        permissions = [
            ("record_repayment", "Can record and import repayments"),
            ("propose_classification", "Can propose a classification change"),
            ("decide_classification", "Can approve classification changes"),
            ("triage_alert", "Can triage early-warning alerts"),
            ("flag_loan", "Can record litigation and guarantor flags"),
            ("propose_write_off", "Can propose a write-off"),
            ("decide_write_off", "Can approve a write-off"),
            ("complete_inspection", "Can complete post-loan inspections"),
        ]
        indexes = [
            # The daily job reads only active loans.
            models.Index(fields=["id"], condition=Q(status="active"), name="postloan_loan_active"),
            models.Index(
                fields=["branch", "classification"],
                condition=Q(status="active"),
                name="postloan_loan_portfolio",
            ),
            models.Index(
                fields=["next_inspection_due"],
                condition=Q(status="active"),
                name="postloan_loan_next_insp",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference}"

    @property
    def is_non_performing(self) -> bool:
        return self.classification in NON_PERFORMING


class InspectionTask(models.Model):
    class Kind(models.TextChoices):
        FIRST_USE_OF_FUNDS = "first_use_of_funds", _("First check on the use of funds")
        PERIODIC = "periodic", _("Periodic inspection")
        WARNING = "warning", _("Extra inspection after a warning")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled (loan ended)")

    class Outcome(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="tasks"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    rule = models.ForeignKey(
        InspectionRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    alert = models.ForeignKey(
        "Alert",
        verbose_name=_("alert"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="postloan_tasks",
    )
    due_date = models.DateField(_("due date"))
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=InspectionMethod.choices,
        default=InspectionMethod.SITE_VISIT,
    )
    questions = models.JSONField(_("questions"), default=list, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    revenue_previous = models.DecimalField(
        _("revenue, previous period"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    revenue_current = models.DecimalField(
        _("revenue, this period"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        ordering = ["due_date", "id"]
        constraints = [
            # One scheduled inspection open per loan: the daily job's inserts rely on it.
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="open", kind__in=["first_use_of_funds", "periodic"]),
                name="postloan_one_open_scheduled_task",
            ),
            models.UniqueConstraint(
                fields=["alert"],
                condition=Q(alert__isnull=False),
                name="postloan_one_task_per_alert",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_date"], condition=Q(status="open"), name="postloan_task_open_due"
            ),
            models.Index(
                fields=["owner", "due_date"],
                condition=Q(status="open"),
                name="postloan_task_owner_due",
            ),
            models.Index(fields=["loan", "status"], name="postloan_task_loan"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def questions_display(self) -> list[dict]:
        """The questions with their labels in the active language ("label_zh" beside "label")."""
        return [
            {**q, "label": in_language(q.get("label", ""), q.get("label_zh", ""))}
            for q in self.questions
        ]

    @property
    def days_overdue(self) -> int:
        return max(0, (timezone.localdate() - self.due_date).days)


def attachment_path(instance, filename: str) -> str:
    return f"postloan/tasks/{instance.task_id}/{filename}"


class TaskAttachment(models.Model):
    task = models.ForeignKey(InspectionTask, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("inspection attachment")
        verbose_name_plural = _("inspection attachments")

    def __str__(self) -> str:
        return self.name


class RepaymentImport(models.Model):
    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("repayment import")
        verbose_name_plural = _("repayment imports")

    def __str__(self) -> str:
        return self.file_name


class Repayment(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Recorded by staff")
        IMPORT = "import", _("Core-banking import")
        # No money moves: a restructuring made the past-due interest principal of the new
        # schedule (ChangeTerms.restructuring_arrears), which pays it as a repayment would.
        CAPITALISED = "capitalised", _("Capitalised by a restructuring")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="repayments"
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    value_date = models.DateField(_("value date"))
    external_id = models.CharField(_("core-banking id"), max_length=64, null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=12, choices=Source.choices, default=Source.MANUAL
    )
    batch = models.ForeignKey(
        RepaymentImport, null=True, blank=True, on_delete=models.PROTECT, related_name="repayments"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["value_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="postloan_repayment_external_id",
            ),
        ]
        indexes = [models.Index(fields=["loan", "value_date"], name="postloan_repay_loan")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.value_date}"


class RepaymentReminder(models.Model):
    """A reminder the nightly job sent an SME owner about one instalment: before its due date,
    or on its first day overdue. One row per instalment and kind, ever: the unique constraint
    is what makes a second run of the job (or two at once) send nothing more."""

    class Kind(models.TextChoices):
        BEFORE_DUE = "before_due", _("Before the due date")
        FIRST_DAY_OVERDUE = "first_day_overdue", _("First day overdue")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="reminders"
    )
    instalment_number = models.PositiveIntegerField(_("instalment"))
    due_date = models.DateField(_("due date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    sent_on = models.DateField(_("business date"))
    # The run that recorded the row: bulk_create(ignore_conflicts=True) returns no ids, so a
    # run finds the rows it won (and notifies for those only) by this token.
    run = models.UUIDField(_("run"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("repayment reminder")
        verbose_name_plural = _("repayment reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "instalment_number", "kind"], name="postloan_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} #{self.instalment_number} {self.kind}"


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        CLOSED = "closed", _("Closed")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="alerts"
    )
    rule = models.ForeignKey(
        WarningRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alerts"
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.OPEN
    )
    action_plan = models.TextField(_("action plan"), blank=True)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_comment = models.TextField(_("closing comment"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]
        constraints = [
            # Reruns of the daily job never duplicate an alert that is still being handled.
            models.UniqueConstraint(
                fields=["loan", "rule"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="postloan_one_open_alert",
            ),
        ]
        indexes = [
            models.Index(
                fields=["severity", "created_at"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="postloan_alert_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.get_status_display()})"


class ClassificationChange(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A change of the loan's class: applied at once by the daily job's days-past-due floor
    (kind automatic), or proposed by a relationship manager and decided by a different risk
    officer (proposed -> applied or rejected)."""

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", _("Days-past-due floor")
        PROPOSED = "proposed", _("Proposed")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for approval")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    loan = models.ForeignKey(
        Loan,
        verbose_name=_("loan"),
        on_delete=models.PROTECT,
        related_name="classification_changes",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = FSMField(_("status"), max_length=10, choices=Status.choices, protected=True)
    from_classification = models.CharField(
        pgettext_lazy("classification", "from"), max_length=20, choices=Classification.choices
    )
    to_classification = models.CharField(
        pgettext_lazy("classification", "to"), max_length=20, choices=Classification.choices
    )
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    class Meta:
        verbose_name = _("classification change")
        verbose_name_plural = _("classification changes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="proposed"),
                name="postloan_one_pending_classification",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="proposed"), name="postloan_class_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_classification} -> {self.to_classification}"

    def _decided(self, *, by, comment: str) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_comment = comment

    @transition(field=status, source=Status.PROPOSED, target=Status.APPLIED)
    def apply(self, *, by, comment: str = "", from_classification: str) -> None:
        """Approved: the class the loan had when it was decided is the one changed from."""
        self.from_classification = from_classification
        self._decided(by=by, comment=comment)

    @transition(field=status, source=Status.PROPOSED, target=Status.REJECTED)
    def reject(self, *, by, comment: str = "") -> None:
        self._decided(by=by, comment=comment)


class WriteOff(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A proposed write-off, decided by a risk officer other than the proposer (proposed ->
    approved, after which the loan ends written off; or rejected)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="write_offs"
    )
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED, protected=True
    )
    amount = models.DecimalField(_("amount written off"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    class Meta:
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="proposed"),
                name="postloan_one_pending_write_off",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"

    def _decided(self, *, by, comment: str) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_comment = comment

    @transition(field=status, source=Status.PROPOSED, target=Status.APPROVED)
    def approve(self, *, by, comment: str = "") -> None:
        self._decided(by=by, comment=comment)

    @transition(field=status, source=Status.PROPOSED, target=Status.REJECTED)
    def reject(self, *, by, comment: str = "") -> None:
        self._decided(by=by, comment=comment)


# --- Changes to a live loan: prepayment and overdue interest (issue 29) ---------------------


class ServicingTerms(Bilingual, models.Model):
    """A product's terms for prepayment and overdue interest (罚息). A product without a row
    allows every kind of prepayment without a fee and charges no overdue interest
    (servicing_terms_for)."""

    product = models.OneToOneField(
        "applications.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="servicing_terms",
    )
    note = models.TextField(
        _("note to the borrower"),
        blank=True,
        help_text=_("Shown with a payoff quote, for example how a prepayment is arranged."),
    )
    note_zh = models.TextField(_("note to the borrower (Chinese)"), blank=True)
    allow_full_prepayment = models.BooleanField(_("full prepayment allowed"), default=True)
    allow_shorten_term = models.BooleanField(
        _("partial prepayment that shortens the term allowed"), default=True
    )
    allow_lower_instalment = models.BooleanField(
        _("partial prepayment that lowers the instalment allowed"), default=True
    )
    prepayment_fee_rate = models.DecimalField(
        _("prepayment fee (percent of the principal prepaid)"),
        max_digits=6,
        decimal_places=3,
        default=ZERO,
    )
    overdue_surcharge_rate = models.DecimalField(
        _("overdue interest surcharge (percent over the contract rate)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("50.000"),
        help_text=_("50 means overdue principal bears the contract rate times 1.5, accrued daily."),
    )
    compound_overdue_interest = models.BooleanField(
        _("overdue interest also on overdue contract interest"), default=False
    )

    class Meta:
        verbose_name = _("servicing terms")
        verbose_name_plural = _("servicing terms")

    def __str__(self) -> str:
        return str(self.product)

    @property
    def note_display(self) -> str:
        return self.localized("note")

    def allows(self, kind: str) -> bool:
        return {
            Prepayment.Kind.FULL: self.allow_full_prepayment,
            Prepayment.Kind.SHORTEN_TERM: self.allow_shorten_term,
            Prepayment.Kind.LOWER_INSTALMENT: self.allow_lower_instalment,
        }[kind]


class Prepayment(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A prepayment: filed with its quote (requested), then confirmed by a second person, who
    records the money and rebuilds the schedule or closes the loan; or cancelled."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full prepayment (closes the loan)")
        SHORTEN_TERM = "shorten_term", _("Partial prepayment, shorter term")
        LOWER_INSTALMENT = "lower_instalment", _("Partial prepayment, lower instalment")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="prepayments"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.REQUESTED,
        protected=True,
    )
    value_date = models.DateField(_("value date"))
    currency = models.CharField(_("currency"), max_length=3)
    principal = models.DecimalField(_("principal prepaid"), max_digits=18, decimal_places=2)
    interest = models.DecimalField(_("interest to the value date"), max_digits=18, decimal_places=2)
    overdue_interest = models.DecimalField(
        _("overdue interest"), max_digits=18, decimal_places=2, default=ZERO
    )
    fee = models.DecimalField(_("prepayment fee"), max_digits=18, decimal_places=2)
    total = models.DecimalField(_("total to pay"), max_digits=18, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("filed"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    repayment = models.OneToOneField(
        Repayment,
        verbose_name=_("repayment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prepayment",
    )

    class Meta:
        verbose_name = _("prepayment")
        verbose_name_plural = _("prepayments")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("file_prepayment", "Can file a prepayment"),
            ("confirm_prepayment", "Can confirm a prepayment"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="requested"),
                name="postloan_one_pending_prepayment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.total} {self.currency}"

    def _decided(self, *, by, comment: str) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_comment = comment

    @transition(
        field=status,
        source=Status.REQUESTED,
        target=Status.CONFIRMED,
        permission="postloan.confirm_prepayment",
    )
    def confirm(self, *, by, comment: str = "", repayment: Repayment | None = None) -> None:
        self.repayment = repayment
        self._decided(by=by, comment=comment)

    @transition(field=status, source=Status.REQUESTED, target=Status.CANCELLED)
    def cancel(self, *, by, comment: str = "") -> None:
        self._decided(by=by, comment=comment)


def owner_request_answer_permission(instance, user) -> bool:
    """django-fsm's permission of filing or declining an owner's request: a prepayment by
    staff whose role files prepayments, a change by the loan's relationship manager (who
    alone files a change to it)."""
    from org.permissions import has_role_perm

    if instance.is_prepayment:
        return has_role_perm(user, "postloan.file_prepayment")
    return instance.loan.relationship_manager_id == user.pk and has_role_perm(
        user, "applications.create_application"
    )


def owner_request_withdraw_permission(instance, user) -> bool:
    """The borrower withdraws their own company's request (the service checks the scope);
    the bank answers it instead."""
    from org.selectors import is_staff_member

    return not is_staff_member(user)


class OwnerRequest(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """The owner asks on the portal for something only the bank can do to their loan: a
    prepayment (on a value date, with the principal of a partial one) or a change (renewal,
    extension, restructuring, top-up). The loan's relationship manager files it, as a
    Prepayment (a checker then confirms that as any other) or as a change application, or
    declines it with an answer; the owner may withdraw it while it is open. One open
    request a loan."""

    class Kind(models.TextChoices):
        FULL = Prepayment.Kind.FULL.value, Prepayment.Kind.FULL.label
        SHORTEN_TERM = Prepayment.Kind.SHORTEN_TERM.value, Prepayment.Kind.SHORTEN_TERM.label
        LOWER_INSTALMENT = (
            Prepayment.Kind.LOWER_INSTALMENT.value,
            Prepayment.Kind.LOWER_INSTALMENT.label,
        )
        RENEWAL = ChangeKind.RENEWAL.value, ChangeKind.RENEWAL.label
        RENEWAL_WITHOUT_REPAYMENT = (
            ChangeKind.RENEWAL_WITHOUT_REPAYMENT.value,
            ChangeKind.RENEWAL_WITHOUT_REPAYMENT.label,
        )
        EXTENSION = ChangeKind.EXTENSION.value, ChangeKind.EXTENSION.label
        RESTRUCTURING = ChangeKind.RESTRUCTURING.value, ChangeKind.RESTRUCTURING.label
        TOP_UP = ChangeKind.TOP_UP.value, ChangeKind.TOP_UP.label

    class Status(models.TextChoices):
        OPEN = "open", _("With the relationship manager")
        FILED = "filed", _("Filed by the bank")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="owner_requests"
    )
    kind = models.CharField(_("what is asked"), max_length=30, choices=Kind.choices)
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, protected=True
    )
    value_date = models.DateField(
        _("value date"), null=True, blank=True, help_text=_("A prepayment's; empty for a change.")
    )
    principal = models.DecimalField(
        _("principal to prepay"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("A partial prepayment's principal; empty otherwise."),
    )
    note = models.TextField(_("the owner's note"), blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    prepayment = models.OneToOneField(
        Prepayment,
        verbose_name=_("filed as the prepayment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owner_request",
    )
    change = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("filed as the change application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    answer = models.TextField(_("answer to the owner"), blank=True)

    class Meta:
        verbose_name = _("owner's request")
        verbose_name_plural = _("owners' requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"], condition=Q(status="open"), name="postloan_one_open_owner_request"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in Prepayment.Kind], value_date__isnull=False)
                | (~Q(kind__in=[k.value for k in Prepayment.Kind]) & Q(value_date__isnull=True)),
                name="postloan_owner_request_value_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind} {self.status}"

    @property
    def is_prepayment(self) -> bool:
        return self.kind in Prepayment.Kind.values

    @property
    def kind_display(self) -> str:
        return str(self.get_kind_display())

    def _handled(self, *, by, answer: str = "") -> None:
        self.handled_by = by
        self.handled_at = timezone.now()
        self.answer = answer

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.FILED,
        permission=owner_request_answer_permission,
    )
    def file(self, *, by, prepayment: Prepayment | None = None, change=None) -> None:
        """Filed as what answers it: a prepayment for a prepayment, a change application for
        a change."""
        self.prepayment = prepayment
        self.change = change
        self._handled(by=by)

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.DECLINED,
        permission=owner_request_answer_permission,
    )
    def decline(self, *, by, answer: str) -> None:
        self._handled(by=by, answer=answer)

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.WITHDRAWN,
        permission=owner_request_withdraw_permission,
    )
    def withdraw(self, *, by) -> None:
        self._handled(by=by)


class ScheduleRevision(models.Model):
    """A schedule as it was before a change replaced it (the loan's current schedule is its
    application's instalments): version `number` of the loan's schedule, kept readable."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="schedule_revisions"
    )
    number = models.PositiveIntegerField(_("version"))
    prepayment = models.ForeignKey(
        Prepayment,
        verbose_name=_("replaced by the prepayment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    change = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("replaced by the change"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    instalments = models.JSONField(_("instalments"), default=list)
    created_at = models.DateTimeField(_("replaced"), default=timezone.now)

    class Meta:
        verbose_name = _("schedule version")
        verbose_name_plural = _("schedule versions")
        ordering = ["loan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "number"], name="postloan_schedule_version"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} v{self.number}"


class OverdueInterestAccrual(models.Model):
    """One day's overdue interest (罚息) on a loan, written by the nightly job: the overdue
    principal (and, where the product compounds, the overdue contract interest) at the end of
    `accrued_on`, at the penalty rate. One row per loan and day: a second run adds nothing."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="overdue_accruals"
    )
    accrued_on = models.DateField(_("day"))
    overdue_principal = models.DecimalField(_("overdue principal"), max_digits=18, decimal_places=2)
    overdue_interest = models.DecimalField(
        _("overdue contract interest compounded"), max_digits=18, decimal_places=2
    )
    annual_rate = models.DecimalField(_("penalty rate (annual)"), max_digits=9, decimal_places=5)
    amount = models.DecimalField(_("overdue interest"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("overdue interest accrual")
        verbose_name_plural = _("overdue interest accruals")
        ordering = ["loan", "accrued_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "accrued_on"], name="postloan_overdue_accrual_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.accrued_on} {self.amount}"


# --- Changes to a live loan: renewal, extension, restructuring, top-up (issue 29) ----------


class ChangeTerms(Bilingual, models.Model):
    """A product's rules for changes to its loans (postloan.changes). A product without a
    row has the defaults below (change_terms_for)."""

    class RestructuringArrears(models.TextChoices):
        PAY_FIRST = "pay_first", _("Paid before the restructuring is applied")
        CAPITALISE = "capitalise", _("Capitalised into the new schedule")

    product = models.OneToOneField(
        "applications.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="change_terms",
    )
    note = models.TextField(
        _("note to the borrower"),
        blank=True,
        help_text=_("Shown with the changes a borrower may ask for, e.g. what to prepare."),
    )
    note_zh = models.TextField(_("note to the borrower (Chinese)"), blank=True)
    max_extensions = models.PositiveSmallIntegerField(_("extensions allowed per loan"), default=1)
    max_extension_months = models.PositiveSmallIntegerField(
        _("longest extension (months)"),
        default=12,
        help_text=_("In total over all the loan's extensions."),
    )
    renewal_requires_normal = models.BooleanField(
        _("renewal only for loans classified normal (正常)"), default=True
    )
    renewal_clean_months = models.PositiveSmallIntegerField(
        _("renewal: no overdue in the last months"),
        default=12,
        help_text=_("0: the repayment history is not checked."),
    )
    renewal_no_open_alerts = models.BooleanField(
        _("renewal only without open early-warning alerts"), default=True
    )
    restructured_floor = models.CharField(
        _("classification floor of a restructured loan"),
        max_length=20,
        choices=Classification.choices,
        default=Classification.SPECIAL_MENTION,
    )
    monitoring_months = models.PositiveSmallIntegerField(
        _("monitoring period after a restructuring (months)"),
        default=6,
        help_text=_("The loan is not upgraded above the floor before it ends."),
    )
    restructuring_arrears = models.CharField(
        _("past-due interest at a restructuring"),
        max_length=10,
        choices=RestructuringArrears.choices,
        default=RestructuringArrears.PAY_FIRST,
        help_text=_(
            "Paid first: the restructuring is applied only once the past-due contract interest "
            "and the overdue interest are paid. Capitalised: they become principal of the new "
            "schedule."
        ),
    )

    class Meta:
        verbose_name = _("change terms")
        verbose_name_plural = _("change terms")

    def __str__(self) -> str:
        return str(self.product)

    @property
    def note_display(self) -> str:
        return self.localized("note")


class LoanChange(models.Model):
    """What a change application (LoanApplication with change_of and change_kind) carries
    besides an application's fields: its light review (what changed since the loan's last
    investigation, prefilled by postloan.changes.change_review_figures and confirmed by the
    investigator), the new terms of an extension or restructuring, the supplementary
    agreement, and what applying it did."""

    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("change application"),
        on_delete=models.CASCADE,
        related_name="loan_change",
    )
    loan = models.ForeignKey(
        Loan, verbose_name=_("loan changed"), on_delete=models.PROTECT, related_name="changes"
    )
    reason = models.TextField(_("why the change is asked for"), blank=True)
    # Extension: months added to the maturity. Restructuring: the new terms.
    extension_months = models.PositiveSmallIntegerField(
        _("extension (months)"), null=True, blank=True
    )
    grace_months = models.PositiveSmallIntegerField(_("interest-only months"), default=0)
    # The figures as prefilled and as confirmed (the investigator may correct them).
    figures = models.JSONField(_("figures when filed"), default=dict, blank=True)
    review = models.JSONField(_("figures confirmed"), default=dict, blank=True)
    review_opinion = models.TextField(_("reviewer's opinion"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    agreement_reference = models.CharField(_("supplementary agreement"), max_length=60, blank=True)
    agreement_signed_on = models.DateField(_("agreement signed on"), null=True, blank=True)
    applied_on = models.DateField(_("applied on"), null=True, blank=True)
    # What a restructuring made principal of its new schedule when applied.
    capitalised_principal = models.DecimalField(
        _("past-due principal capitalised"), max_digits=18, decimal_places=2, default=ZERO
    )
    capitalised_interest = models.DecimalField(
        _("past-due contract interest capitalised"), max_digits=18, decimal_places=2, default=ZERO
    )
    capitalised_overdue_interest = models.DecimalField(
        _("overdue interest capitalised"), max_digits=18, decimal_places=2, default=ZERO
    )
    created_at = models.DateTimeField(_("filed"), default=timezone.now)

    class Meta:
        verbose_name = _("loan change")
        verbose_name_plural = _("loan changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.application.get_change_kind_display()}"


# --- The bank-wide exposure as of a time (postloan/snapshot.py, docs/adr/0018) ----------------


class ExposureSnapshot(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """The bank's exposure as of a time, read by the risk officer's view and the nightly
    limits flag: taken by the nightly job, or requested from the view (requested -> taken, or
    failed). Its rows become visible with the transition to taken, in the same commit."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("nightly")
        REQUESTED = "requested", _("requested")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Being taken")
        TAKEN = "taken", _("Taken")
        FAILED = "failed", _("Failed")

    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.REQUESTED,
        protected=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    as_of = models.DateField(_("as of"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    customer_count = models.PositiveIntegerField(_("customers"), default=0)
    seconds = models.FloatField(_("seconds taken"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("exposure snapshot")
        verbose_name_plural = _("exposure snapshots")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One refresh at a time (postloan.snapshot.exposure_snapshot_request: 409).
            models.UniqueConstraint(
                fields=["trigger"],
                condition=Q(status="requested", trigger="requested"),
                name="postloan_one_exposure_refresh",
            ),
        ]
        indexes = [
            models.Index(
                fields=["-taken_at"], condition=Q(status="taken"), name="postloan_snapshot_taken"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.taken_at or self.requested_at}"

    @transition(field=status, source=Status.REQUESTED, target=Status.TAKEN)
    def take(self, *, row_count: int, customer_count: int, seconds: float) -> None:
        self.taken_at = timezone.now()
        self.as_of = timezone.localdate(self.taken_at)
        self.row_count = row_count
        self.customer_count = customer_count
        self.seconds = seconds

    @transition(field=status, source=Status.REQUESTED, target=Status.FAILED)
    def fail(self, *, error: str) -> None:
        self.error = error


class ExposureSnapshotRow(models.Model):
    """One customer's exposure booked at one branch in one currency, as of its snapshot:
    the parts and their counts as postloan.exposure.exposure_rows sums them, and the
    customer's group key (postloan.exposure.group_key) then."""

    snapshot = models.ForeignKey(
        ExposureSnapshot, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    company = models.ForeignKey(
        "customers.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    group_key = models.CharField(_("group key"), max_length=40)
    loans = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    loan_count = models.PositiveIntegerField(default=0)
    undrawn = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    facility_count = models.PositiveIntegerField(default=0)
    in_approval = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    in_approval_count = models.PositiveIntegerField(default=0)
    approved = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    approved_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)

    class Meta:
        verbose_name = _("exposure snapshot row")
        verbose_name_plural = _("exposure snapshot rows")
        indexes = [
            # A branch scope's rows (the view's tables), and a group's members.
            models.Index(fields=["snapshot", "branch"], name="postloan_snaprow_branch"),
            models.Index(fields=["snapshot", "group_key"], name="postloan_snaprow_group"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.currency} {self.total}"
