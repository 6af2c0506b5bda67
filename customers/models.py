from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.ric import validate_party_id, validate_resident_id
from customers.uscc import validate_uscc


class Company(models.Model):
    name = models.CharField(_("company name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    industry_code = models.CharField(
        _("industry code"),
        max_length=10,
        db_index=True,
        help_text=_("GB/T 4754 industry classification, e.g. C13."),
    )
    registration_date = models.DateField(_("registration date"))
    employees = models.PositiveIntegerField(_("employees"), default=0)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    legal_representative_id = models.CharField(
        _("legal representative's ID number"),
        max_length=30,
        blank=True,
        db_index=True,
        validators=[validate_resident_id],
    )
    # The portfolio's group key when known (postloan.exposure.group_key, ADR 0016): a person
    # (resident ID number) or a company (unified social credit code).
    controlling_shareholder = models.CharField(
        _("controlling shareholder"), max_length=200, blank=True
    )
    controlling_shareholder_id = models.CharField(
        _("controlling shareholder's ID number or credit code"),
        max_length=30,
        blank=True,
        db_index=True,
        validators=[validate_party_id],
        help_text=_("A person's resident ID number or a company's unified social credit code."),
    )
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    home_branch = models.ForeignKey(
        "org.Branch",
        verbose_name=_("home branch"),
        on_delete=models.PROTECT,
        related_name="companies",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.credit_code = self.credit_code.strip().upper()
        self.controlling_shareholder_id = (self.controlling_shareholder_id or "").strip().upper()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.controlling_shareholder = (self.controlling_shareholder or "").strip()
        self.controlling_shareholder_id = (self.controlling_shareholder_id or "").strip().upper()
        if self.controlling_shareholder_id and not self.controlling_shareholder:
            raise ValidationError(
                {"controlling_shareholder": _("Give the controlling shareholder's name.")}
            )
        if self.controlling_shareholder and not self.controlling_shareholder_id:
            raise ValidationError(
                {
                    "controlling_shareholder_id": _(
                        "Give the controlling shareholder's resident ID number or credit code."
                    )
                }
            )


class ApplicantProfile(models.Model):
    """An SME owner's portal login, and the company they act for now: one of the companies
    they are bound to (CompanyBinding, active), or none. The services keep it so (binding,
    switching and revoking in customers.services); the portal's scope reads it with the user
    (org.auth), without another query."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applicant_profile"
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("acting for"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applicants",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_language = models.CharField(_("language"), max_length=10, default="zh-hans")

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")

    def __str__(self) -> str:
        return f"{self.user} ({self.company or '-'})"


class CompanyBinding(models.Model):
    """A person acting for a company on the portal. Active at once when the legal
    representative's name and ID number match what the bank holds (or the company is new to
    the bank) and nobody else is bound; otherwise pending until branch staff confirm it.
    Revoked bindings are kept: they say who could act for the company, and until when."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the bank's confirmation")
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="company_bindings",
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="bindings"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )

    class Waits(models.TextChoices):
        ANOTHER_OWNER = "another_owner", _("Another person already acts for the company")
        DETAILS_DIFFER = "details_differ", _("The legal representative differs from our records")
        REVOKED_BEFORE = "revoked_before", _("An earlier binding of this person was revoked")

    pending_reason = models.CharField(
        _("why it waits"), max_length=30, choices=Waits.choices, blank=True
    )
    # What the claimant gave, for the staff who confirm a claim.
    representative_name = models.CharField(_("legal representative given"), max_length=100)
    representative_id = models.CharField(_("resident ID number given"), max_length=18)
    # Whether the name and ID number given are the bank's: None when the bank held none (the
    # company was new to it).
    details_matched = models.BooleanField(
        _("legal representative matched the bank's records"), null=True
    )
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("confirmed or revoked at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed or revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("staff's reason"), blank=True)

    class Meta:
        verbose_name = _("company binding")
        verbose_name_plural = _("company bindings")
        ordering = ["company", "created_at", "id"]
        constraints = [
            # One live claim per person and company; revoked ones stay as history.
            models.UniqueConstraint(
                fields=["user", "company"],
                condition=~models.Q(status="revoked"),
                name="binding_one_live_per_user_company",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status"], name="binding_company_status"),
            models.Index(
                fields=["created_at"],
                name="binding_pending",
                condition=models.Q(status="pending"),
            ),
        ]
        permissions = [
            ("confirm_companybinding", "Can confirm a pending company binding"),
            ("revoke_companybinding", "Can revoke a company binding"),
        ]

    def __str__(self) -> str:
        return f"{self.user} -> {self.company} ({self.status})"
