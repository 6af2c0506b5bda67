"""Credit facilities (授信额度) and the drawdowns under them (issue 28).

A facility product is an ordinary `applications.Product` with `FacilityTerms`: its
applications go through intake, investigation and approval like a loan's, and the approval
opens a `Facility` (applications.effects). A drawdown is a light application: a
`LoanApplication` under the facility's product, approved by the facility's rules (or a
drawdown approver) without an investigation, then contracted and disbursed as any loan.
States change only through facilities.services, audited in one chain per facility.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition


class DrawdownApproval(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatic within the facility's rules")
    APPROVER = "approver", _("By a drawdown approver")


# Why a drawdown waits for a drawdown approver (Drawdown.approval_reasons), in words.
APPROVAL_REASONS = {
    "facility_rule": _("The facility's drawdowns are approved by a drawdown approver."),
    "above_automatic_limit": _("Above the largest drawdown approved automatically."),
    "classification": _("A loan of the company is classified special mention."),
    "open_alerts": _("The company has open early-warning alerts."),
}


class FacilityTerms(models.Model):
    """What makes a product a facility product: the terms its facilities are granted on."""

    product = models.OneToOneField(
        "applications.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="facility_terms",
    )
    revolving = models.BooleanField(
        _("revolving"),
        default=True,
        help_text=_("Repaid principal becomes available to draw again."),
    )
    max_drawdown_term_months = models.PositiveIntegerField(
        _("longest term of one drawdown (months)"), validators=[MinValueValidator(1)]
    )
    drawdown_approval = models.CharField(
        _("drawdown approval"),
        max_length=10,
        choices=DrawdownApproval.choices,
        default=DrawdownApproval.AUTOMATIC,
    )
    auto_approval_limit = models.DecimalField(
        _("largest drawdown approved automatically"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: any amount within the available limit."),
    )

    class Meta:
        verbose_name = _("facility terms")
        verbose_name_plural = _("facility terms")

    def __str__(self) -> str:
        return str(self.product)


class Facility(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        EXPIRED = "expired", _("Expired")
        CLOSED = "closed", _("Closed")

    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("facility application"),
        on_delete=models.PROTECT,
        related_name="facility",
    )
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("limit"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    term_months = models.PositiveIntegerField(_("term of the facility (months)"))
    revolving = models.BooleanField(_("revolving"))
    max_drawdown_term_months = models.PositiveIntegerField(
        _("longest term of one drawdown (months)")
    )
    min_rate = models.DecimalField(_("lowest annual rate (%)"), max_digits=6, decimal_places=3)
    max_rate = models.DecimalField(_("highest annual rate (%)"), max_digits=6, decimal_places=3)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    # The price build-up the pricing range was approved on (pricing.calc.PriceBuildup's
    # record: the parameter version, floor and target rate for the limit and term), and,
    # when the range's lower end was below the floor, the approver's reason.
    pricing = models.JSONField(_("pricing when approved"), default=dict, blank=True)
    drawdown_approval = models.CharField(
        _("drawdown approval"), max_length=10, choices=DrawdownApproval.choices
    )
    auto_approval_limit = models.DecimalField(
        _("largest drawdown approved automatically"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
    )
    approved_on = models.DateField(_("approved on"))
    expires_on = models.DateField(_("expires on"))
    status = FSMField(_("status"), default=Status.APPROVED, choices=Status.choices, protected=True)
    status_reason = models.TextField(_("reason of the last change"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("freeze_facility", "Can freeze, unfreeze and close credit facilities"),
            ("approve_drawdown", "Can approve drawdowns under a facility"),
        ]
        indexes = [
            # The nightly expiry: facilities still open, by expiry.
            models.Index(
                fields=["expires_on"],
                condition=Q(status__in=["approved", "active", "frozen"]),
                name="facility_open_expiry",
            ),
            models.Index(fields=["company", "status"], name="facility_company_status"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.amount} {self.currency}"

    # --- Transitions: called only through facilities.services, which checks the role,
    # locks the row, saves and audits. They change this record only.

    @transition(field=status, source=Status.APPROVED, target=Status.ACTIVE)
    def activate(self, *, reason: str = ""):
        self.status_reason = reason

    @transition(field=status, source=Status.ACTIVE, target=Status.FROZEN)
    def freeze(self, *, reason: str = ""):
        self.status_reason = reason

    @transition(field=status, source=Status.FROZEN, target=Status.ACTIVE)
    def unfreeze(self, *, reason: str = ""):
        self.status_reason = reason

    @transition(
        field=status, source=[Status.APPROVED, Status.ACTIVE, Status.FROZEN], target=Status.EXPIRED
    )
    def expire(self, *, reason: str = ""):
        self.status_reason = reason

    @transition(
        field=status,
        source=[Status.APPROVED, Status.ACTIVE, Status.FROZEN, Status.EXPIRED],
        target=Status.CLOSED,
    )
    def close(self, *, reason: str = ""):
        self.status_reason = reason


OPEN_FACILITY = (Facility.Status.APPROVED, Facility.Status.ACTIVE, Facility.Status.FROZEN)


class Drawdown(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One drawdown under a facility; its loan is `application` (a light application)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for a drawdown approver")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.PROTECT, related_name="drawdowns"
    )
    # The drawdown's loan, made when the drawdown is approved: a declined request leaves no
    # application behind.
    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("loan application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drawdown",
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=18,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(_("currency"), max_length=3)
    term_months = models.PositiveIntegerField(_("term (months)"))
    interest_rate = models.DecimalField(
        _("annual interest rate (%)"), max_digits=6, decimal_places=3
    )
    repayment_method = models.CharField(_("repayment method"), max_length=30)
    purpose = models.TextField(_("purpose"), blank=True)
    # The drawdown's own price build-up when requested (its amount, term and rate; the
    # facility application's PD and cover), with the parameter version it used.
    pricing = models.JSONField(_("price build-up"), default=dict, blank=True)
    status = FSMField(_("status"), default=Status.REQUESTED, choices=Status.choices, protected=True)
    approval_reasons = models.JSONField(_("why an approver decides"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("drawdown")
        verbose_name_plural = _("drawdowns")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["facility", "status"], name="drawdown_facility_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount} {self.currency}"

    @property
    def approval_reason_labels(self) -> list[str]:
        return [str(APPROVAL_REASONS.get(code, code)) for code in self.approval_reasons]

    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED)
    def approve(self, *, by, comment: str = ""):
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_comment = comment

    @transition(field=status, source=Status.REQUESTED, target=Status.DECLINED)
    def decline(self, *, by, comment: str = ""):
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_comment = comment
