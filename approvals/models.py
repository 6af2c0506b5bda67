"""Tiered approval: the versioned authority matrix, personal limits, the route fixed for each
application when it enters approval, the role-queue tasks, committee votes and conditions."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from applications.models import RouteRecommendation
from common.i18n import Bilingual, coded_text, in_language, is_chinese
from org.roles import Role
from sla.models import Step

GRADES = ("A", "B", "C", "D", "E")
ROUTES = tuple(RouteRecommendation.values)


class MatrixVersion(models.Model):
    """One version of the authority matrix. Exactly one is active; routes already fixed keep
    the version they were computed with."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    fast_track_review_percent = models.PositiveIntegerField(
        _("share of automatic approvals reviewed afterwards (%)"),
        default=10,
        validators=[MaxValueValidator(100)],
    )
    committee_quorum = models.PositiveIntegerField(
        _("committee quorum (votes cast)"), default=3, validators=[MinValueValidator(1)]
    )
    committee_majority_percent = models.PositiveIntegerField(
        _(
            "committee majority: approve votes must be strictly above this percent of approve and decline votes"
        ),
        default=50,
        validators=[MaxValueValidator(99)],
    )
    # Concentration limits (in CNY; empty: none), typically a share of the bank's net capital
    # (10% for one customer, 15% for a group under the Chinese regulator's rules). An
    # application whose exposure after it goes above one is escalated: its route ends at the
    # credit committee, with the reason; without a committee step nobody may approve it.
    single_customer_limit = models.DecimalField(
        _("single-customer limit (CNY)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For example 10 percent of the bank's net capital. Empty: no limit."),
    )
    group_limit = models.DecimalField(
        _("group limit (CNY)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For example 15 percent of the bank's net capital. Empty: no limit."),
    )
    # Or as shares of the bank's net capital: where both an amount and a share are set, the
    # lower binds (concentration_limit).
    net_capital = models.DecimalField(
        _("the bank's net capital (CNY)"),
        max_digits=20,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("The base of the limits given as a share. Empty: no limit as a share."),
    )
    single_customer_limit_percent = models.DecimalField(
        _("single-customer limit (percent of net capital)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("For example 10. Where an amount is set too, the lower binds."),
    )
    group_limit_percent = models.DecimalField(
        _("group limit (percent of net capital)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("For example 15. Where an amount is set too, the lower binds."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("authority matrix version")
        verbose_name_plural = _("authority matrix versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="appr_one_active_matrix"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.name}".strip()

    def clean(self) -> None:
        if self.net_capital is None and (
            self.single_customer_limit_percent is not None or self.group_limit_percent is not None
        ):
            raise ValidationError(
                {"net_capital": _("A limit given as a share of net capital needs the net capital.")}
            )

    def _limit(self, amount: Decimal | None, percent: Decimal | None) -> Decimal | None:
        """The lower of the amount and the share of net capital (either may be unset)."""
        share = None
        if percent is not None and self.net_capital is not None:
            share = (self.net_capital * percent / 100).quantize(Decimal("0.01"))
        limits = [limit for limit in (amount, share) if limit is not None]
        return min(limits) if limits else None

    @property
    def single_customer_limit_binding(self) -> Decimal | None:
        """The single-customer limit in CNY that applies (None: none)."""
        return self._limit(self.single_customer_limit, self.single_customer_limit_percent)

    @property
    def group_limit_binding(self) -> Decimal | None:
        """The group limit in CNY that applies (None: none)."""
        return self._limit(self.group_limit, self.group_limit_percent)


class MatrixStep(Bilingual, models.Model):
    """A step the matrix's rules can put on a route (credit review, tier-1, tier-2,
    committee...)."""

    version = models.ForeignKey(MatrixVersion, on_delete=models.CASCADE, related_name="steps")
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    checks_limit = models.BooleanField(
        _("approver's personal limit must cover the amount"), default=False
    )
    is_committee = models.BooleanField(_("committee vote"), default=False)
    sla_hours = models.PositiveIntegerField(_("time allowed (hours)"), default=24)

    class Meta:
        verbose_name = _("matrix step")
        verbose_name_plural = _("matrix steps")
        unique_together = [("version", "code")]
        ordering = ["version", "id"]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_role_display()})"

    @property
    def display_name(self) -> str:
        return self.localized("name")

    def as_route_step(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "name_zh": self.name_zh,
            "role": self.role,
            "checks_limit": self.checks_limit,
            "is_committee": self.is_committee,
            "sla_hours": self.sla_hours,
        }


class MatrixRule(Bilingual, models.Model):
    """First matching rule (lowest priority number) gives the route. Empty criteria match
    anything. Amount band: above `amount_above` and up to `amount_up_to` (inclusive)."""

    version = models.ForeignKey(MatrixVersion, on_delete=models.CASCADE, related_name="rules")
    priority = models.PositiveIntegerField(_("priority (lower first)"), default=100)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount_above = models.DecimalField(
        _("amount above"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    amount_up_to = models.DecimalField(
        _("amount up to (inclusive)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    grades = models.JSONField(_("risk grades (empty: any)"), default=list, blank=True)
    routes = models.JSONField(_("route recommendations (empty: any)"), default=list, blank=True)
    min_flags = models.PositiveIntegerField(_("at least this many flags"), null=True, blank=True)
    max_flags = models.PositiveIntegerField(_("at most this many flags"), null=True, blank=True)
    steps = models.JSONField(_("route (step codes in order)"), default=list, blank=True)
    fast_track = models.BooleanField(
        _("fast track: the system approves"),
        default=False,
        help_text=_(
            "Only for fast-track-eligible products, the fast_track recommendation, "
            "grade A or B and no flags."
        ),
    )

    class Meta:
        verbose_name = _("matrix rule")
        verbose_name_plural = _("matrix rules")
        ordering = ["version", "priority", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.localized("name")

    def clean(self):
        bad_grades = [g for g in self.grades or [] if g not in GRADES]
        bad_routes = [r for r in self.routes or [] if r not in ROUTES]
        errors = {}
        if bad_grades:
            errors["grades"] = _("Unknown grades: %(g)s") % {"g": ", ".join(bad_grades)}
        if bad_routes:
            errors["routes"] = _("Unknown routes: %(r)s") % {"r": ", ".join(bad_routes)}
        if not self.fast_track and not self.steps:
            errors["steps"] = _("A rule that is not fast track needs at least one step.")
        if self.version_id and self.steps:
            known = set(self.version.steps.values_list("code", flat=True))
            unknown = [s for s in self.steps if s not in known]
            if unknown:
                errors["steps"] = _("Unknown steps: %(s)s") % {"s": ", ".join(unknown)}
        if errors:
            raise ValidationError(errors)


class ApproverLimit(models.Model):
    """A personal authority limit by risk grade (falls back to StaffProfile.authority_limit)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_limits"
    )
    grade = models.CharField(_("risk grade"), max_length=1, choices=[(g, g) for g in GRADES])
    max_amount = models.DecimalField(_("maximum amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        verbose_name = _("approver limit")
        verbose_name_plural = _("approver limits")
        unique_together = [("user", "grade", "currency")]

    def __str__(self) -> str:
        return f"{self.user} {self.grade} ≤ {self.max_amount} {self.currency}"


class DeclineReason(Bilingual, models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label (staff)"), max_length=200)
    label_zh = models.CharField(_("label (staff, Chinese)"), max_length=200, blank=True)
    applicant_text = models.TextField(_("text for the applicant (English)"))
    applicant_text_zh = models.TextField(_("text for the applicant (Chinese)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("decline reason")
        verbose_name_plural = _("decline reasons")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.display_label}"

    @property
    def display_label(self) -> str:
        """The staff label in the active language."""
        return self.localized("label")

    def text_for(self, language: str | None = None) -> str:
        """What the applicant reads, in `language` (default: the active one)."""
        return self.localized("applicant_text", language)


class ApprovalRecord(models.Model):
    """The route fixed when the application entered approval (one per entry)."""

    class Status(models.TextChoices):
        PENDING_AUTO = "pending_auto", _("Waiting for the automatic decision")
        IN_PROGRESS = "in_progress", _("In progress")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        RETURNED = "returned", _("Returned to investigation")
        CANCELLED = "cancelled", _("Cancelled")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="approval_records"
    )
    matrix_version = models.ForeignKey(
        MatrixVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        MatrixRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_name = models.CharField(_("rule"), max_length=200, blank=True)
    route = models.JSONField(_("route"), default=list)
    reason = models.TextField(_("why this route"), blank=True)
    # The reason as codes and parameters (approvals.selectors.route_reason_text words it).
    reason_data = models.JSONField(_("why this route (codes)"), default=dict, blank=True)
    fast_track = models.BooleanField(_("fast track"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS
    )
    current_step = models.PositiveIntegerField(_("current step"), default=0)
    decided_by_system = models.BooleanField(_("decided by the system"), default=False)
    # Versions of the matrix settings used for committee votes on this route.
    # The customer's group's exposure after this application, when the route was fixed: the
    # matrix's amount bands and the approvers' limits apply to it (postloan.selectors
    # .exposure_after; its figures and related companies in `exposure`).
    exposure_after = models.DecimalField(
        _("exposure after this application"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    exposure = models.JSONField(_("exposure"), default=dict, blank=True)
    # The terms an approver changed on this route ("approve on other terms": amount,
    # term_months, interest_rate, as strings), which later steps decide on and the
    # application takes when the route approves it (LoanApplication.approve).
    terms = models.JSONField(_("terms approved on other terms"), default=dict, blank=True)
    committee_quorum = models.PositiveIntegerField(default=3)
    committee_majority_percent = models.PositiveIntegerField(default=50)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval route")
        verbose_name_plural = _("approval routes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["application", "-created_at"], name="appr_record_app"),
            # The fast-track sweep: routes still waiting for the automatic decision.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending_auto"),
                name="appr_record_pending_auto",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {' → '.join(s['code'] for s in self.route)}"

    @property
    def reason_display(self) -> str:
        """Why this route, in the active language (the stored text for older routes)."""
        return route_reason_text(self.reason_data, fallback=self.reason)


class ApprovalTask(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A step of a route waiting in a role's queue. Its status moves only through the
    transitions below; the services call them and save inside transaction.atomic()."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Claimed")
        WAITING = "waiting", _("Waiting for the applicant")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        STEP = "step", _("Approval step")
        POST_REVIEW = "post_review", _("Review of an automatic approval")

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        APPROVE_WITH_CONDITIONS = "approve_with_conditions", _("Approve with conditions")
        DECLINE = "decline", _("Decline")
        RETURN = "return_to_investigation", _("Return to the investigator")
        REQUEST_INFORMATION = "request_information", _("Request information from the applicant")
        CONFIRM = "confirm", _("Confirm (after-the-fact review)")
        CONCERN = "concern", _("Raise a concern (after-the-fact review)")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="approval_tasks"
    )
    record = models.ForeignKey(ApprovalRecord, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.STEP)
    step_index = models.PositiveIntegerField(_("step number"), default=0)
    step = models.CharField(_("step"), max_length=30)
    step_name = models.CharField(_("step name"), max_length=100, blank=True)
    step_name_zh = models.CharField(_("step name (Chinese)"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+")
    status = FSMField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, protected=True
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=30, choices=Decision.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the people of its queue were told of it (or, if none of them may take it, the
    # branch head): approvals.services.task_announce, after the commit that opened it.
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)

    OPEN_STATES = ("open", "claimed")

    class Meta:
        verbose_name = _("approval task")
        verbose_name_plural = _("approval tasks")
        ordering = ["due_at", "id"]
        indexes = [
            # The queue page of a role (head office: every branch), oldest due first.
            models.Index(
                fields=["role", "due_at", "id"],
                condition=Q(status__in=["open", "claimed"]),
                name="appr_task_queue",
            ),
            # Someone holding several queue roles: the page in due order, filtered by role.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status__in=["open", "claimed"]),
                name="appr_task_queue_due",
            ),
            # A branch's queue page in index order, no sort; and the queue counts (open,
            # claimed, mine, overdue: one aggregate), read from this index alone.
            models.Index(
                fields=["role", "branch", "due_at", "id"],
                include=["status", "claimed_by"],
                condition=Q(status__in=["open", "claimed"]),
                name="appr_task_queue_branch",
            ),
            # The stale-claim sweep. Every claimed task has a last activity; saying so keeps
            # this index out of other questions about claimed tasks (the "mine" filter).
            models.Index(
                fields=["last_activity_at"],
                condition=Q(status="claimed", last_activity_at__isnull=False),
                name="appr_task_stale",
            ),
            # The queue's "mine" filter: an approver's claimed tasks.
            models.Index(
                fields=["claimed_by", "role", "branch"],
                condition=Q(status="claimed"),
                name="appr_task_mine",
            ),
            models.Index(fields=["application", "status"], name="appr_task_app"),
            # The sweep's probe for tasks whose announcement the broker lost.
            models.Index(
                fields=["created_at"],
                condition=Q(announced_at__isnull=True, status="open"),
                name="appr_task_unannounced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} #{self.pk}"

    @property
    def step_display(self) -> str:
        """The step's name in the active language. Tasks made before the route carried the
        Chinese name fall back to the known steps' translated names."""
        if self.kind == self.Kind.POST_REVIEW:
            return str(self.Kind.POST_REVIEW.label)
        return route_step_name(
            {"code": self.step, "name": self.step_name, "name_zh": self.step_name_zh}
        )

    @property
    def is_committee(self) -> bool:
        route = self.record.route
        if self.kind == self.Kind.STEP and self.step_index < len(route):
            return bool(route[self.step_index].get("is_committee"))
        return False

    # --- Transitions (in memory; the services save them) ---------------------------------

    @transition(field=status, source=Status.OPEN, target=Status.CLAIMED)
    def claim(self, *, by, at) -> None:
        self.claimed_by, self.claimed_at, self.last_activity_at = by, at, at

    @transition(field=status, source=Status.CLAIMED, target=Status.OPEN)
    def release(self, *, at) -> None:
        self.claimed_by, self.claimed_at, self.last_activity_at = None, None, at

    @transition(
        field=status,
        source=[Status.OPEN, Status.CLAIMED],
        target=RETURN_VALUE(Status.OPEN, Status.CLAIMED),
    )
    def reassign(self, *, to, at) -> str:
        """To someone (claimed by them), or back to the queue (`to` None)."""
        self.claimed_by, self.claimed_at, self.last_activity_at = to, at if to else None, at
        return self.Status.CLAIMED if to else self.Status.OPEN

    @transition(field=status, source=Status.CLAIMED, target=Status.DONE)
    def complete(self, *, decision: str, by, comment: str, at) -> None:
        self.decision, self.decided_by, self.decided_at = decision, by, at
        self.last_activity_at, self.comment = at, comment

    @transition(field=status, source=[Status.OPEN, Status.CLAIMED], target=Status.WAITING)
    def wait_for_applicant(self, *, at) -> None:
        """The application went back to the applicant for information (the holder keeps
        the task)."""
        self.last_activity_at = at

    @transition(
        field=status, source=Status.WAITING, target=RETURN_VALUE(Status.OPEN, Status.CLAIMED)
    )
    def resume(self, *, at) -> str:
        """The applicant answered: back to its holder, or to the queue."""
        if self.claimed_by_id:
            self.last_activity_at = at
            return self.Status.CLAIMED
        return self.Status.OPEN

    @transition(
        field=status, source=[Status.OPEN, Status.CLAIMED, Status.WAITING], target=Status.CANCELLED
    )
    def cancel(self) -> None:
        """The application left approval before this step was decided."""


class CommitteeVote(models.Model):
    class Vote(models.TextChoices):
        APPROVE = "approve", _("Approve")
        DECLINE = "decline", _("Decline")
        ABSTAIN = "abstain", _("Abstain")

    task = models.ForeignKey(ApprovalTask, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    vote = models.CharField(_("vote"), max_length=10, choices=Vote.choices)
    comment = models.TextField(_("comment"), blank=True)
    cast_at = models.DateTimeField(_("cast"), auto_now=True)

    class Meta:
        verbose_name = _("committee vote")
        verbose_name_plural = _("committee votes")
        unique_together = [("task", "member")]
        ordering = ["cast_at", "id"]

    def __str__(self) -> str:
        return f"{self.member}: {self.vote}"


class FlagMitigation(models.Model):
    """How an approver says an open High flag is mitigated, given with an approval of a step.
    The flag's code and message are kept as they were: a new analysis rebuilds the flags."""

    task = models.ForeignKey(ApprovalTask, on_delete=models.CASCADE, related_name="mitigations")
    flag = models.ForeignKey(
        "investigation.Flag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    flag_code = models.CharField(_("flag"), max_length=40)
    flag_message = models.CharField(_("flag message"), max_length=500)
    text = models.TextField(_("how it is mitigated"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("flag mitigation")
        verbose_name_plural = _("flag mitigations")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.flag_code}: {self.text[:60]}"


class ApprovalCondition(models.Model):
    """A condition precedent set by an approver; the disbursement checks it is satisfied."""

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="approval_conditions"
    )
    task = models.ForeignKey(
        ApprovalTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="conditions"
    )
    text = models.TextField(_("condition"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    satisfied_at = models.DateTimeField(_("satisfied"), null=True, blank=True)
    satisfied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("approval condition")
        verbose_name_plural = _("approval conditions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:80]


# The parts of a route's reason, kept as [code, params] on the record and put into words
# when shown (route_reason_text), so each reader reads them in their own language.
REASON_PARTS = {
    "product": _("product %(p)s"),
    "amount_between": _("amount %(a)s above %(lo)s and up to %(hi)s"),
    "amount_above": _("amount %(a)s above %(lo)s"),
    "amount_up_to": _("amount %(a)s up to %(hi)s"),
    "exposure_between": _(
        "exposure %(a)s after this application (its amount %(m)s) above %(lo)s and up to %(hi)s"
    ),
    "exposure_above": _("exposure %(a)s after this application (its amount %(m)s) above %(lo)s"),
    "exposure_up_to": _("exposure %(a)s after this application (its amount %(m)s) up to %(hi)s"),
    "grade": _("grade %(g)s"),
    "route": _("recommended route %(r)s"),
    "flags": _("%(n)d open flags"),
    "fast_track": _("fast-track eligible"),
    "external_data": _("decided on external data"),
    "above_single_customer_limit": _(
        "the customer's exposure %(a)s after this application is above the single-customer "
        "limit of %(limit)s: the credit committee decides"
    ),
    "above_group_limit": _(
        "the group's exposure %(a)s after this application is above the group limit of "
        "%(limit)s: the credit committee decides"
    ),
}
REASONS = {
    "no_matrix": _("No authority matrix is active: default route."),
    "no_rule": _("No rule of matrix v%(v)d matches: default route."),
    "rule": _("%(rule)s (matrix v%(v)d): %(detail)s."),
    "concentration": _("Matrix v%(v)d: %(detail)s."),
}


def _part_text(code: str, params: dict) -> str:
    if code == "route":
        params = {"r": RouteRecommendation(params["r"]).label if params["r"] in ROUTES else ""}
    return coded_text(REASON_PARTS, code, params, fallback=code)


def route_reason_text(data: dict, fallback: str = "") -> str:
    """Why the route was chosen, in the active language, from the record's reason_data;
    `fallback` (the stored text) for routes fixed before the reason was kept as codes."""
    code = (data or {}).get("code")
    if code in ("rule", "concentration"):
        parts = [_part_text(c, p) for c, p in data.get("parts", [])]
        params = {
            "rule": data.get("rule", ""),
            "rule_zh": data.get("rule_zh", ""),
            "v": data.get("v", 0),
            "detail": "; ".join(parts) if parts else str(_("any application")),
        }
        return coded_text(REASONS, code, params, fallback)
    return coded_text(REASONS, code or "", data, fallback)


def route_step_name(step: dict) -> str:
    """A route step's name (a snapshot of its matrix step) in the active language."""
    english = step.get("name") or step.get("code", "")
    if step.get("name_zh") or not is_chinese():
        return in_language(english, step.get("name_zh", ""))
    try:
        return str(Step(step.get("code")).label)
    except ValueError:
        return english


class PostReviewConcern(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A post-reviewer's concern about an automatic approval (decision "concern" at a
    post-review task). While open it blocks a payout not yet made (disbursement.services);
    on a loan already paid out it raised an early-warning alert (`alert`). Cleared, with a
    reason, by a branch head or credit reviewer who did not raise it (approvals.services)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLEARED = "cleared", _("Cleared")

    application = models.ForeignKey(
        "applications.LoanApplication",
        on_delete=models.CASCADE,
        related_name="post_review_concerns",
    )
    task = models.OneToOneField(
        ApprovalTask, on_delete=models.CASCADE, related_name="concern", verbose_name=_("review")
    )
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, protected=True
    )
    comment = models.TextField(_("concern"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    alert = models.ForeignKey(
        "postloan.Alert",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("early-warning alert"),
    )
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    clear_reason = models.TextField(_("why it is cleared"), blank=True)

    class Meta:
        verbose_name = _("post-review concern")
        verbose_name_plural = _("post-review concerns")
        ordering = ["-raised_at", "-id"]
        permissions = [("clear_concern", "Can clear a post-reviewer's concern")]
        indexes = [
            # The payout gate: an application's open concerns.
            models.Index(
                fields=["application"], condition=Q(status="open"), name="appr_concern_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.get_status_display()}"

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.CLEARED,
        permission="approvals.clear_concern",
    )
    def clear(self, *, by, reason: str) -> None:
        self.cleared_by = by
        self.cleared_at = timezone.now()
        self.clear_reason = reason


DEFAULT_ROUTE = [
    {
        "code": "credit_review",
        "name": "Credit review",
        "name_zh": "授信审查",
        "role": "credit_reviewer",
        "checks_limit": False,
        "is_committee": False,
        "sla_hours": 24,
    },
    {
        "code": "tier1",
        "name": "Tier-1 approval",
        "name_zh": "一级审批",
        "role": "approver",
        "checks_limit": True,
        "is_committee": False,
        "sla_hours": 24,
    },
]
ZERO = Decimal("0")
