"""Complaints (投诉): what an SME owner, or the bank on their behalf, says went wrong, and how
the bank answered.

A small app of its own rather than a messaging thread: a complaint belongs to the company
(about one of its applications or loans, or about the bank in general), has a handler and a
life of its own (received, acknowledged, then resolved with a response or rejected with a
reason), and is counted by the balanced scorecard (analytics.scorecard, "complaints"). The
portal and the staff pages show it; the transitions are taken only through
complaints.services, which checks scope, role and state, then saves and audits."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from common.i18n import Bilingual
from org.permissions import has_role_perm

# A complaint is a statement, not a dossier: longer material goes by message or in person.
TEXT_MAX_LENGTH = 4000
RESPONSE_MAX_LENGTH = 4000


class ComplaintCategory(Bilingual, models.Model):
    """What a complaint is about (service, fees, delays, ...), configured in the admin in
    both languages; an inactive category is no longer offered but keeps its complaints."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.localized("name")


def handle_permission(instance, user) -> bool:
    """django-fsm's permission of the handling transitions: the rule
    `complaints.handle_complaint` with the complaint (the role, and that the user is its
    relationship manager or a branch head over its branch)."""
    return has_role_perm(user, "complaints.handle_complaint", instance)


class Complaint(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    # In their own context: other apps' "Rejected" or "Received" mean something else.
    class Status(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("complaint", "Received")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("complaint", "Being handled")
        RESOLVED = "resolved", pgettext_lazy("complaint", "Resolved")
        REJECTED = "rejected", pgettext_lazy("complaint", "Rejected")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Customer portal")
        PHONE = "phone", _("Telephone")
        BRANCH = "branch", _("In the branch")
        LETTER = "letter", _("Letter or e-mail")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    # The company's home branch when the complaint was received: the branch it counts for
    # and whose staff see it, kept even if the company later moves.
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    # The application (or, once paid out, its loan) it is about; none for a complaint about
    # the bank in general.
    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    category = models.ForeignKey(
        ComplaintCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    channel = models.CharField(_("received by"), max_length=10, choices=Channel.choices)
    text = models.TextField(_("complaint"), max_length=TEXT_MAX_LENGTH)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    # Who handles it besides the branch heads over its branch: the application's relationship
    # manager, or for a general complaint the one of the company's latest application.
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    status = FSMField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED, protected=True
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The answer the owner reads: the resolution, or the reason it was rejected.
    response = models.TextField(_("response"), max_length=RESPONSE_MAX_LENGTH, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("file_complaint", "Can file a complaint for their company on the portal"),
            ("record_complaint", "Can record a complaint received by phone, letter or in branch"),
            ("handle_complaint", "Can acknowledge, resolve and reject complaints"),
        ]
        indexes = [
            # The scorecard's count and the staff list: a branch's complaints by receipt.
            models.Index(fields=["branch", "received_at"], name="complaint_branch_received"),
            # The owner's list: their company's, newest first.
            models.Index(fields=["company", "-received_at"], name="complaint_company_recent"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if not self.reference:
            self.reference = f"CP{timezone.now():%y%m}{secrets.token_hex(4).upper()}"
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.RECEIVED, self.Status.ACKNOWLEDGED)

    # --- Transitions ---------------------------------------------------------------------
    # Called only through complaints.services.complaint_transition (scope, role, state, the
    # handler rule, then save and audit in one transaction). They change this record only.

    @transition(
        field=status,
        source=Status.RECEIVED,
        target=Status.ACKNOWLEDGED,
        permission=handle_permission,
    )
    def acknowledge(self, *, by, text: str = "") -> None:
        self.acknowledged_at = timezone.now()
        self.acknowledged_by = by

    @transition(
        field=status,
        source=Status.ACKNOWLEDGED,
        target=Status.RESOLVED,
        permission=handle_permission,
    )
    def resolve(self, *, by, text: str) -> None:
        self._answered(by=by, text=text)

    @transition(
        field=status,
        source=Status.ACKNOWLEDGED,
        target=Status.REJECTED,
        permission=handle_permission,
    )
    def reject(self, *, by, text: str) -> None:
        self._answered(by=by, text=text)

    def _answered(self, *, by, text: str) -> None:
        self.response = text
        self.answered_at = timezone.now()
        self.answered_by = by


TRANSITION_NAMES = ("acknowledge", "resolve", "reject")
