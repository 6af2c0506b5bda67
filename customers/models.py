from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.ric import validate_resident_id
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
        super().save(*args, **kwargs)


class ApplicantProfile(models.Model):
    """An SME owner's portal login, linked to one company."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applicant_profile"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="applicants")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_language = models.CharField(_("language"), max_length=10, default="zh-hans")

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")

    def __str__(self) -> str:
        return f"{self.user} ({self.company})"
