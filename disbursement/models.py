"""Offer, contract, disbursement (maker-checker) and the fixed repayment schedule."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Offer(models.Model):
    """The offer letter made when an application is approved: a snapshot of the terms, the
    conditions precedent and the indicative schedule; its PDF is rendered after commit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="offer",
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    interest_rate = models.DecimalField(
        _("annual interest rate (%)"), max_digits=6, decimal_places=3
    )
    term_months = models.PositiveIntegerField(_("term (months)"))
    repayment_method = models.CharField(_("repayment method"), max_length=30)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    conditions = models.JSONField(_("conditions precedent"), default=list, blank=True)
    schedule = models.JSONField(_("indicative schedule"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    render_seconds = models.FloatField(_("render time (s)"), null=True, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # How the owner accepted it (disbursement.services.offer_accept): from which address
    # (org.auth.client_address), with which browser, and the SHA-256 of exactly what they
    # were shown (disbursement.selectors.offer_documents_sha256).
    accepted_from = models.GenericIPAddressField(_("accepted from"), null=True, blank=True)
    accepted_user_agent = models.CharField(_("accepted with (browser)"), max_length=500, blank=True)
    accepted_documents_sha256 = models.CharField(
        _("SHA-256 of the documents shown"), max_length=64, blank=True
    )

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        indexes = [
            # The render sweep: offers still pending.
            models.Index(
                fields=["created_at"], name="offer_pending", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} offer"


class Contract(models.Model):
    class Channel(models.TextChoices):
        PORTAL = "portal", _("Accepted on the portal")
        STAFF = "staff", _("Recorded by the relationship manager")

    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="contract",
    )
    number = models.CharField(_("contract number"), max_length=50, blank=True)
    signed_on = models.DateField(_("signed on"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="contract_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.application_id} contract"


class Disbursement(models.Model):
    """Maker-checker: the officer records it, a different checker confirms it."""

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded, awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")

    application = models.OneToOneField(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="disbursement",
    )
    account_number = models.CharField(_("account number"), max_length=40)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    value_date = models.DateField(_("value date"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECORDED
    )
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    made_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        indexes = [
            models.Index(
                fields=["made_at"], name="disb_awaiting_check", condition=Q(status="recorded")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.amount} {self.currency}"


class Instalment(models.Model):
    """One row of the repayment schedule fixed at disbursement."""

    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="instalments",
    )
    number = models.PositiveIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    principal = models.DecimalField(_("principal"), max_digits=18, decimal_places=2)
    interest = models.DecimalField(_("interest"), max_digits=18, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["application", "number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="instalment_app_number"),
        ]
        indexes = [models.Index(fields=["due_date"], name="instalment_due")]

    def __str__(self) -> str:
        return f"{self.application_id} #{self.number}"
