from django.db import models
from django.utils.translation import gettext_lazy as _


class OneTimeCode(models.Model):
    """A six-digit code sent to a mobile number or an e-mail address to prove the person
    holds it (portal.verification). Only its keyed hash is stored; it expires, allows a few
    wrong tries, and is used once. A newer code for the same address and purpose replaces
    the older ones."""

    class Channel(models.TextChoices):
        SMS = "sms", _("Mobile number")
        EMAIL = "email", _("E-mail")

    purpose = models.CharField(_("purpose"), max_length=30)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254)
    code_hash = models.CharField(_("code's hash"), max_length=64)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    # Set when the code is used, replaced by a newer one, or locked by too many wrong tries.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [
            models.Index(fields=["purpose", "address", "created_at"], name="otc_address_at"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.channel} {self.created_at:%Y-%m-%d %H:%M}"
