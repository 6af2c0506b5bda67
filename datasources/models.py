"""External data: the applicant's consents, every call to a source (who asked, why, under which
consent, when, and the answer as received), and the facts read from the answers, each with its
source and time, which the relationship manager confirms or marks as a mismatch."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from common.storage import documents_store
from postloan.models import Classification


class Source(models.TextChoices):
    BUREAU = "bureau", _("Credit bureau")
    TAX = "tax", _("Tax bureau")
    REGISTRY = "registry", _("Business registry")
    COURTS = "courts", _("Courts")


class Purpose(models.TextChoices):
    PRE_LOAN = "pre_loan", _("Pre-loan investigation")
    REVIEW = "review", _("Credit review")
    POST_LOAN = "post_loan", _("Post-loan monitoring")


def _consent_form_path(instance, filename: str) -> str:
    import secrets

    return f"datasources/consents/{instance.application_id}/{secrets.token_hex(12)}.pdf"


class Consent(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """The applicant's authorisation to query the listed sources about the company (and its
    legal representative) for one application, until `valid_until`: given by the owner in the
    portal, or a signed form the relationship manager records with its scan."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet given")
        GRANTED = "granted", _("Given")
        REVOKED = "revoked", _("Revoked")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("In the portal, by the owner")
        SIGNED_FORM = "signed_form", _("Signed form, recorded by the bank")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="consents"
    )
    scope = models.JSONField(_("sources"), default=list)
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, protected=True
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    signed_form = models.FileField(
        _("signed form"), storage=documents_store, upload_to=_consent_form_path, blank=True
    )
    valid_until = models.DateTimeField(_("valid until"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("given at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent to query external data")
        verbose_name_plural = _("consents to query external data")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_id} {','.join(self.scope)} {self.status}"

    def covers(self, source: str, now=None) -> bool:
        return (
            self.status == self.Status.GRANTED
            and source in self.scope
            and self.valid_until > (now or timezone.now())
        )

    @transition(field=status, source=Status.PENDING, target=Status.GRANTED)
    def grant(self, *, by) -> None:
        self.granted_by = by
        self.granted_at = timezone.now()

    @transition(field=status, source=Status.GRANTED, target=Status.REVOKED)
    def revoke(self, *, by, reason: str = "") -> None:
        self.revoked_by = by
        self.revoked_at = timezone.now()
        self.revoke_reason = reason[:300]


class SourceQuery(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One call to a source for one application: pending until the worker's answer arrives, or
    failed after the last attempt. A fresh answer already held for the company is reused: the
    new record points at it (`reused_from`) and arrives at once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ARRIVED = "arrived", _("Arrived")
        FAILED = "failed", _("Failed")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="source_queries"
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    adapter = models.CharField(_("adapter"), max_length=200)
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, related_name="queries", verbose_name=_("consent")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, protected=True
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # As received from the source (the reused record's, for a cached answer).
    answer = models.JSONField(_("answer"), null=True, blank=True)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the worker may try (again): now, after a backoff, or when the breaker closes.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("external data query")
        verbose_name_plural = _("external data queries")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="ds_query_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["credit_code", "source", "answered_at"], name="ds_query_cache"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.source} {self.status}"

    @transition(field=status, source=Status.PENDING, target=Status.ARRIVED)
    def arrive(self, *, answer: dict, reused_from=None) -> None:
        self.answer = answer
        self.reused_from = reused_from
        self.answered_at = timezone.now()
        self.error = ""

    @transition(field=status, source=Status.PENDING, target=Status.FAILED)
    def fail(self, *, error: str) -> None:
        self.error = error[:2000]


class SourceFact(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A fact the investigation is pre-filled with, read from an answer: its source and time
    come with it; the relationship manager confirms it or records a mismatch with a reason."""

    class Key(models.TextChoices):
        REPAYMENT_RECORD = "repayment_record", _("Repayment record")
        OVERDUE_COUNT = "overdue_count", _("Overdue loans, last 24 months")
        GUARANTEE_EXPOSURE = "guarantee_exposure", _("Guarantees given to others")
        TAX_GRADE = "tax_grade", _("Tax credit grade")
        DECLARED_REVENUE = "declared_revenue", _("Revenue declared for tax, last year")
        TAX_PAID = "tax_paid", _("Tax paid, last year")
        REGISTRY_STATUS = "registry_status", _("Registration status")
        LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
        REGISTERED_CAPITAL = "registered_capital", _("Registered capital")
        COURT_RECORDS = "court_records", _("Court records")

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("To be confirmed")
        CONFIRMED = "confirmed", _("Confirmed")
        MISMATCH = "mismatch", _("Mismatch")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="source_facts"
    )
    query = models.ForeignKey(SourceQuery, on_delete=models.CASCADE, related_name="facts")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    key = models.CharField(_("fact"), max_length=30, choices=Key.choices)
    value = models.CharField(_("value"), max_length=300)
    observed_at = models.DateTimeField(_("as of"))
    status = FSMField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.UNCONFIRMED,
        protected=True,
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fact from an external source")
        verbose_name_plural = _("facts from external sources")
        ordering = ["source", "id"]

    def __str__(self) -> str:
        return f"{self.key}={self.value} ({self.source})"

    @transition(field=status, source=[Status.UNCONFIRMED, Status.MISMATCH], target=Status.CONFIRMED)
    def confirm(self, *, by) -> None:
        self.reason = ""
        self.decided_by = by
        self.decided_at = timezone.now()

    @transition(field=status, source=[Status.UNCONFIRMED, Status.CONFIRMED], target=Status.MISMATCH)
    def mismatch(self, *, by, reason: str) -> None:
        self.reason = reason[:500]
        self.decided_by = by
        self.decided_at = timezone.now()


# --- Post-loan re-queries ---------------------------------------------------------------------


class RequeryInterval(models.Model):
    """How often the sources are asked again about an active loan of a classification
    (the nightly re-query, datasources.services.loans_requery). A class with no row is not
    re-queried."""

    classification = models.CharField(
        _("classification"),
        max_length=20,
        unique=True,
        choices=Classification.choices,
    )
    every_days = models.PositiveIntegerField(_("every (days)"))

    class Meta:
        verbose_name = _("re-query interval")
        verbose_name_plural = _("re-query intervals")
        ordering = ["every_days"]

    def __str__(self) -> str:
        return f"{self.get_classification_display()}: {self.every_days}"


class LoanRequery(models.Model):
    """The nightly re-query of one source about one active loan: the day it was last asked
    (or, before the first re-query, the day of the answer the loan was granted on, else the
    payout), so it is due again `RequeryInterval.every_days` of the loan's class later; and
    the last query the nightly run made. `consent_missing_since`: the day a re-query was due
    but no consent in force covered the source; the loan is listed as needing a renewed
    consent until one does."""

    loan = models.ForeignKey(
        "postloan.Loan", on_delete=models.CASCADE, related_name="requeries", verbose_name=_("loan")
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    last_asked_on = models.DateField(_("last asked on"))
    last_query = models.ForeignKey(
        SourceQuery,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last re-query"),
    )
    consent_missing_since = models.DateField(_("consent missing since"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-loan re-query")
        verbose_name_plural = _("post-loan re-queries")
        ordering = ["last_asked_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "source"], name="ds_requery_one_per_source")
        ]
        indexes = [models.Index(fields=["last_asked_on", "id"], name="ds_requery_due")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.source} {self.last_asked_on}"


# --- The data-driven route ---------------------------------------------------------------------


class DataRoute(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """The data-driven route of one application: asked at the owner's online submission
    (the sources the consent covers, by the system), or when the last source answered for a
    case under investigation. Waiting while the answers come, then sent to approval by the
    system (the fast track decides it), fallen back to the normal route with the reasons, or
    taken over by a person who acted on the case first (the system then leaves it alone).
    The analytics' figure of the fast track reads these rows."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the sources")
        SENT = "sent", _("Sent to approval by the system")
        FALLEN_BACK = "fallen_back", _("Normal route")
        TAKEN_OVER = "taken_over", _("Taken over by a person")

    application = models.OneToOneField(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="data_route"
    )
    status = FSMField(
        _("status"), max_length=12, choices=Status.choices, default=Status.WAITING, protected=True
    )
    # Codes (datasources.texts.DATA_ROUTE_REASONS), in the order the checks found them.
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # At submission: the consent the system asked the sources under.
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("data-driven route")
        verbose_name_plural = _("data-driven routes")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The every-minute sweep: routes still waiting for their answers.
            models.Index(
                fields=["created_at"], name="ds_route_waiting", condition=models.Q(status="waiting")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.status}"

    @transition(field=status, source=Status.WAITING, target=Status.SENT)
    def send(self) -> None:
        self.reasons = []
        self.decided_at = timezone.now()

    @transition(field=status, source=Status.WAITING, target=Status.FALLEN_BACK)
    def fall_back(self, *, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        self.decided_at = timezone.now()

    @transition(field=status, source=Status.WAITING, target=Status.TAKEN_OVER)
    def take_over(self, *, reason: str) -> None:
        self.reasons = [reason]
        self.decided_at = timezone.now()
