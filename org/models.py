from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Branch(models.Model):
    class Level(models.TextChoices):
        HEAD_OFFICE = "head_office", _("Head office")
        BRANCH = "branch", _("Branch")
        SUB_BRANCH = "sub_branch", _("Sub-branch")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path ("HO/BJ/BJ01/"): scope checks are a prefix match, no recursion.
    path = models.CharField(_("path"), max_length=255, editable=False, db_index=True)
    region = models.CharField(
        _("calendar region"),
        max_length=20,
        default="CN",
        help_text=_("Which business calendar this branch follows."),
    )

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent else "") + f"{self.code}/"
        super().save(*args, **kwargs)

    @property
    def is_head_office(self) -> bool:
        return self.level == self.Level.HEAD_OFFICE

    def contains(self, other: "Branch") -> bool:
        return other.path.startswith(self.path)


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="staff"
    )
    authority_limit = models.DecimalField(
        _("personal authority limit"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_(
            "The largest amount this person may approve (at grade A); see approvals "
            "for limits by grade."
        ),
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_language = models.CharField(_("language"), max_length=10, default="zh-hans")

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} @ {self.branch}"


class TokenSecondFactor(models.Model):
    """When an API token last came with a second factor: the token endpoint given an `otp`,
    or a step-up action given one. Within LOANFLOW_STEP_UP_MINUTES of it the token's
    holder may approve, close a vote, confirm a disbursement or approve a write-off without
    another code (as a browser session does after its last code)."""

    token = models.OneToOneField(
        "authtoken.Token",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="second_factor",
        verbose_name=_("token"),
    )
    verified_at = models.DateTimeField(_("verified at"))

    class Meta:
        verbose_name = _("token's second factor")
        verbose_name_plural = _("tokens' second factor")

    def __str__(self) -> str:
        return f"{self.token_id}: {self.verified_at:%Y-%m-%d %H:%M:%S}"
