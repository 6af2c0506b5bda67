"""Pre-loan investigation (贷前调查): questionnaire, site visit, financials, verification,
flags, the risk scorecard and its results, and the credit memo. The guarantors and collateral
are the application's own records (intake.Guarantor, intake.Collateral), completed here."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from common.i18n import Bilingual, coded_text, in_language
from datasources.models import Source
from datasources.texts import SOURCE_FLAG_MESSAGES

MONEY = {"max_digits": 18, "decimal_places": 2}


# --- Configuration (admin) --------------------------------------------------------------------


class Questionnaire(models.Model):
    """The standard questionnaire of a product. Versioned: answers record the version they
    answered; a new version is a new row, old answers keep theirs."""

    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="questionnaires",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["product__code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "version"], name="inv_questionnaire_product_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.version}"


class Question(Bilingual, models.Model):
    class AnswerType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        YES_NO = "yes_no", _("Yes / no")
        CHOICE = "choice", _("Choice")
        DATE = "date", _("Date")

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    code = models.SlugField(_("code"), max_length=50)
    text = models.CharField(_("question"), max_length=300)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300, blank=True)
    answer_type = models.CharField(
        _("answer type"), max_length=10, choices=AnswerType.choices, default=AnswerType.TEXT
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For choice questions: the allowed answers."),
    )
    choices_zh = models.JSONField(
        _("choices (Chinese)"),
        default=list,
        blank=True,
        help_text=_("The same answers in Chinese, in the same order (what a Chinese reader sees)."),
    )
    required = models.BooleanField(_("required"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "code"], name="inv_question_code")
        ]

    def __str__(self) -> str:
        return self.text

    def label(self, language: str | None = None) -> str:
        """The question in `language` (default: the active one)."""
        return self.localized("text", language or None)

    def answer_text(self, value: str, language: str | None = None) -> str:
        """An answer as the reader reads it: a choice in their words, yes or no translated."""
        if self.answer_type == self.AnswerType.CHOICE:
            return dict(self.choice_options(language)).get(value, value)
        if self.answer_type == self.AnswerType.YES_NO and value in ("yes", "no"):
            with translation.override(language or translation.get_language()):
                return str(_("Yes") if value == "yes" else _("No"))
        return value

    def choice_options(self, language: str | None = None) -> list[tuple[str, str]]:
        """(stored value, label in `language`) for each allowed answer; the value stays the
        English answer whatever the reader's language."""
        chinese = list(self.choices_zh or [])
        return [
            (
                str(value),
                in_language(str(value), str(chinese[i]) if i < len(chinese) else "", language),
            )
            for i, value in enumerate(self.choices)
        ]


class InvestigationPolicy(models.Model):
    """Thresholds and routing rules. Each save in the admin creates a new version; the newest
    is in force, older rows are the history."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    revenue_bank_gap_pct = models.DecimalField(
        _("revenue vs bank inflows: allowed gap (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("30"),
    )
    revenue_tax_gap_pct = models.DecimalField(
        _("revenue vs tax-implied revenue: allowed gap (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("30"),
    )
    tax_rate_pct = models.DecimalField(
        _("tax rate used to imply revenue (%)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("3"),
    )
    industry_share_limit_pct = models.DecimalField(
        _("industry share of the book: limit (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("25"),
    )
    guarantor_exposure_limit = models.DecimalField(
        _("guaranteed exposure per guarantor: limit"), default=Decimal("3000000"), **MONEY
    )
    related_party_limit = models.DecimalField(
        _("exposure to companies sharing the legal representative: limit"),
        default=Decimal("5000000"),
        **MONEY,
    )
    fast_track_max_amount = models.DecimalField(
        _("fast track: maximum amount"), default=Decimal("1000000"), **MONEY
    )
    fast_track_grades = models.JSONField(_("fast track: grades"), default=list)
    enhanced_grades = models.JSONField(_("enhanced review: grades"), default=list)
    enhanced_min_amount = models.DecimalField(
        _("enhanced review: from amount"), default=Decimal("3000000"), **MONEY
    )
    min_completeness_pct = models.DecimalField(
        _("data completeness below which review is enhanced (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("80"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("investigation policy")
        verbose_name_plural = _("investigation policies")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class Scorecard(models.Model):
    """A versioned scorecard. Results keep the version that produced them; editing or adding
    a scorecard never rescores existing results."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    grade_bands = models.JSONField(
        _("grade bands"),
        default=list,
        help_text=_(
            'Highest first: [{"grade": "A", "min_score": 80, "pd": "0.5"}, ...]; '
            "pd is the estimated probability of default in %."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ScorecardFactor(Bilingual, models.Model):
    class Kind(models.TextChoices):
        INPUT = "input", _("Investigation input")
        SOURCE_FIELD = "source_field", _("Source field")

    class Code(models.TextChoices):
        YEARS_IN_BUSINESS = "years_in_business", _("Years in business")
        REVENUE = "revenue", _("Annual revenue")
        DEBT_RATIO = "debt_ratio", _("Debt ratio")
        CURRENT_RATIO = "current_ratio", _("Current ratio")
        NET_MARGIN = "net_margin", _("Net margin")
        DSCR = "dscr", _("Debt-service coverage")
        REPAYMENT_RECORD = "repayment_record", _("Repayment record")
        TAX_GRADE = "tax_grade", _("Tax credit grade")
        COLLATERAL_COVERAGE = "collateral_coverage", _("Collateral coverage")
        INDUSTRY_RISK = "industry_risk", _("Industry risk")

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="factors")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INPUT)
    code = models.CharField(_("factor"), max_length=30, choices=Code.choices, blank=True)
    # A source field: the latest arrived answer of `source` for the application, read at
    # `field_path` (datasources.checks.answer_field).
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, blank=True)
    field_path = models.CharField(
        _("field path"),
        max_length=200,
        blank=True,
        help_text=_(
            "Dotted path in the source's answer, e.g. periods.-1.grade, "
            "company.overdue_count_24m, established_on.years_since or dishonest_debtor.count."
        ),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    bins = models.JSONField(
        _("bins"),
        default=list,
        help_text=_(
            'Numeric: [{"min": null, "max": 2, "points": 0}, ...] (min inclusive, '
            'max exclusive); categorical: [{"value": "good", "points": 15}, ...].'
        ),
    )
    missing_points = models.IntegerField(_("points when the input is missing"), default=0)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scorecard factor")
        verbose_name_plural = _("scorecard factors")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "code"],
                condition=models.Q(kind="input"),
                name="inv_factor_code",
            ),
            models.UniqueConstraint(
                fields=["scorecard", "source", "field_path"],
                condition=models.Q(kind="source_field"),
                name="inv_factor_source_field",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="input", source="", field_path="") & ~models.Q(code=""))
                | (
                    models.Q(kind="source_field", code="")
                    & ~models.Q(source="")
                    & ~models.Q(field_path="")
                ),
                name="inv_factor_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.label()

    @property
    def key(self) -> str:
        """The factor's key in a breakdown and the reasons: its code, or source:path."""
        if self.kind == self.Kind.SOURCE_FIELD:
            return f"{self.source}:{self.field_path}"
        return self.code

    def label(self, language: str | None = None) -> str:
        if self.kind == self.Kind.SOURCE_FIELD:
            return self.localized("name", language) or self.key
        return str(self.get_code_display())

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.SOURCE_FIELD:
            errors = {}
            if not self.source:
                errors["source"] = _("A source field names its source.")
            if not self.field_path:
                errors["field_path"] = _("A source field names the field's path.")
            if not self.name:
                errors["name"] = _("A source field has a name.")
            if errors:
                raise ValidationError(errors)
            self.code = ""
        else:
            if not self.code:
                raise ValidationError({"code": _("Choose the factor.")})
            self.source = self.field_path = ""

    @property
    def max_points(self) -> int:
        return max([int(b.get("points", 0)) for b in self.bins] + [self.missing_points])


# --- The investigation record -----------------------------------------------------------------


class RepaymentRecord(models.TextChoices):
    GOOD = "good", _("Always repaid on time")
    NONE = "none", _("No credit history")
    MINOR_LATE = "minor_late", _("Minor late payments")
    SERIOUS_LATE = "serious_late", _("Serious arrears")


class TaxGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    M = "M", "M"
    C = "C", "C"
    D = "D", "D"


class IndustryRisk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Investigation(models.Model):
    application = models.OneToOneField(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="investigation"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    repayment_record = models.CharField(
        _("repayment record"), max_length=20, blank=True, choices=RepaymentRecord.choices
    )
    tax_grade = models.CharField(
        _("tax credit grade"), max_length=1, blank=True, choices=TaxGrade.choices
    )
    industry_risk = models.CharField(
        _("industry risk"), max_length=10, blank=True, choices=IndustryRisk.choices
    )
    opinion = models.TextField(_("investigator's opinion"), blank=True)
    # Derived figures of the last analysis (ratios, cross-checks, concentration, completeness).
    derived = models.JSONField(_("derived figures"), default=dict, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    # Any change to the investigation's data; a memo must be newer than this to pass the gate.
    changed_at = models.DateTimeField(default=timezone.now)
    returned_at = models.DateTimeField(null=True, blank=True)
    # The data-driven fast track (issue 30): the site visit waived because the company passed
    # the sources and the fast-track rule; when, and why, in the words of the moment.
    site_visit_waived_at = models.DateTimeField(_("site visit waived at"), null=True, blank=True)
    site_visit_waived_reason = models.CharField(
        _("why the site visit was waived"), max_length=300, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("investigation")
        verbose_name_plural = _("investigations")

    def __str__(self) -> str:
        return str(self.application_id)


class Answer(models.Model):
    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    questionnaire_version = models.PositiveIntegerField(_("questionnaire version"))
    value = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["investigation", "question"], name="inv_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value[:40]}"


class SiteVisit(models.Model):
    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="site_visits"
    )
    visit_date = models.DateField(_("visit date"))
    participants = models.CharField(_("participants"), max_length=300)
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site visit")
        verbose_name_plural = _("site visits")
        ordering = ["-visit_date", "-id"]

    def __str__(self) -> str:
        return f"{self.visit_date} {self.participants[:40]}"


def _photo_path(instance, filename: str) -> str:
    import secrets

    ext = instance.extension or "bin"
    return f"investigation/photos/{instance.visit_id}/{secrets.token_hex(12)}.{ext}"


class SiteVisitPhoto(models.Model):
    visit = models.ForeignKey(SiteVisit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to=_photo_path)
    extension = models.CharField(max_length=5)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site visit photo")
        verbose_name_plural = _("site visit photos")

    def __str__(self) -> str:
        return self.caption or f"photo {self.pk}"


class FinancialPeriod(models.Model):
    class Period(models.TextChoices):
        YEAR_BEFORE_LAST = "year_before_last", _("Year before last")
        LAST_YEAR = "last_year", _("Last year")
        CURRENT = "current", _("Current period")

    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="financials"
    )
    period = models.CharField(_("period"), max_length=20, choices=Period.choices)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    revenue = models.DecimalField(_("revenue"), **MONEY)
    net_profit = models.DecimalField(_("net profit"), **MONEY)
    total_assets = models.DecimalField(_("total assets"), **MONEY)
    total_liabilities = models.DecimalField(_("total liabilities"), **MONEY)
    current_assets = models.DecimalField(_("current assets"), **MONEY)
    current_liabilities = models.DecimalField(_("current liabilities"), **MONEY)
    bank_inflows_12m = models.DecimalField(_("bank inflows, last 12 months"), **MONEY)
    tax_paid = models.DecimalField(_("tax paid"), **MONEY)

    class Meta:
        verbose_name = _("financial period")
        verbose_name_plural = _("financial periods")
        constraints = [
            models.UniqueConstraint(
                fields=["investigation", "period"], name="inv_financial_period_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display()} ({self.investigation_id})"


class VerificationItem(models.Model):
    class Fact(models.TextChoices):
        REGISTRATION = "registration", _("Business registration")
        LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
        ADDRESS = "address", _("Business address")
        REVENUE = "revenue", _("Declared revenue")
        TAX = "tax", _("Tax payments")
        BANK_FLOWS = "bank_flows", _("Bank account flows")
        COLLATERAL = "collateral", _("Collateral and guarantees")

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet verified")
        VERIFIED = "verified", _("Verified")
        MISMATCH = "mismatch", _("Mismatch")

    class Source(models.TextChoices):
        TAX_RECORD = "tax_record", _("Tax record")
        BANK_STATEMENT = "bank_statement", _("Bank statement")
        REGISTRY = "registry", _("Registry")
        SITE_VISIT = "site_visit", _("Site visit")

    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="verifications"
    )
    fact = models.CharField(_("declared fact"), max_length=30, choices=Fact.choices)
    declared_value = models.CharField(_("declared"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("verification item")
        verbose_name_plural = _("verification items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["investigation", "fact"], name="inv_verification_fact_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_fact_display()}: {self.get_status_display()}"


# What each flag says, with the parameters Flag.params keeps (worded when shown).
FLAG_MESSAGES = {
    "revenue_bank_gap": _(
        "Declared revenue differs from bank inflows by %(gap)s%% (allowed %(limit)s%%)."
    ),
    "revenue_tax_gap": _(
        "Declared revenue differs from the revenue implied by tax paid by %(gap)s%% "
        "(allowed %(limit)s%%)."
    ),
    "industry_concentration": _(
        "After this loan, industry %(code)s would be %(share)s%% of the book (limit %(limit)s%%)."
    ),
    "guarantor_exposure": _(
        "Guarantor %(name)s would guarantee %(total)s in total (limit %(limit)s)."
    ),
    "related_party_exposure": _(
        "Companies sharing the legal representative would owe %(total)s in total (limit %(limit)s)."
    ),
    "verification_mismatch": _("%(fact)s does not match what was declared: %(note)s"),
    # Raised from the external sources' answers (datasources.checks).
    **SOURCE_FLAG_MESSAGES,
}


def flag_text(code: str, params: dict | None, fallback: str = "") -> str:
    """A flag's message in the active language."""
    if (
        code == "verification_mismatch"
        and params
        and params.get("fact") in VerificationItem.Fact.values
    ):
        params = {**params, "fact": VerificationItem.Fact(params["fact"]).label}
    return coded_text(FLAG_MESSAGES, code, params, fallback)


class Flag(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="flags")
    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="investigation_flags"
    )
    code = models.CharField(_("code"), max_length=40)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    message = models.CharField(_("message"), max_length=500)
    # The message's parameters (flag_text words them); empty on flags raised before.
    params = models.JSONField(_("message parameters"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["id"]
        indexes = [models.Index(fields=["application", "severity"], name="inv_flag_app")]

    def __str__(self) -> str:
        return f"{self.code} ({self.severity})"

    @property
    def text(self) -> str:
        """The message in the active language (the stored one for flags raised before)."""
        return flag_text(self.code, self.params, fallback=self.message)


class ScoreResult(models.Model):
    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="scores"
    )
    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="score_results"
    )
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="results")
    scorecard_version = models.PositiveIntegerField(_("scorecard version"))
    score = models.IntegerField(_("score"))
    max_score = models.IntegerField(_("maximum score"))
    grade = models.CharField(_("grade"), max_length=1)
    pd_pct = models.DecimalField(
        _("estimated probability of default (%)"), max_digits=6, decimal_places=3
    )
    breakdown = models.JSONField(_("points per factor"), default=list)
    reasons = models.JSONField(_("reason codes"), default=list)
    route = models.CharField(_("route recommendation"), max_length=20, blank=True)
    is_current = models.BooleanField(default=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("score result")
        verbose_name_plural = _("score results")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(is_current=True),
                name="inv_one_current_score",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.grade} {self.score} (v{self.scorecard_version})"


def _memo_path(instance, filename: str) -> str:
    import secrets

    return (
        f"investigation/memos/{instance.application_id}/"
        f"memo-v{instance.version}-{secrets.token_hex(8)}.pdf"
    )


class CreditMemo(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A version of the credit memo: pending until a worker renders it (ready), or failed with
    the error kept; a pending or failed memo can be enqueued again (pending)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being generated")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="credit_memos"
    )
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="memos")
    version = models.PositiveIntegerField(_("version"))
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, protected=True
    )
    language = models.CharField(_("language"), max_length=10)
    file = models.FileField(_("file"), upload_to=_memo_path, blank=True)
    error = models.TextField(blank=True)
    render_ms = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("credit memo")
        verbose_name_plural = _("credit memos")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["application", "version"], name="inv_memo_version")
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="inv_memo_pending", condition=models.Q(status="pending")
            )
        ]

    # A render takes seconds; one still pending after this long was lost (a broker outage, a
    # killed worker): the sweep enqueues it again, and the page offers Retry.
    STALE_AFTER_SECONDS = 120

    def __str__(self) -> str:
        return f"{self.application_id} memo v{self.version} {self.status}"

    def is_stale(self, now=None) -> bool:
        age = (now or timezone.now()) - self.created_at
        return self.status == self.Status.PENDING and age.total_seconds() > self.STALE_AFTER_SECONDS

    def may_retry(self, now=None) -> bool:
        """Retry is offered after a failure, or when the render is taking far too long."""
        return self.status == self.Status.FAILED or self.is_stale(now)

    @transition(field=status, source=[Status.PENDING, Status.FAILED], target=Status.READY)
    def rendered(self, *, render_ms: int) -> None:
        """The service has stored the PDF in `file` (a render may succeed after another
        attempt at the same memo failed)."""
        self.error = ""
        self.render_ms = render_ms
        self.rendered_at = timezone.now()

    @transition(field=status, source=Status.PENDING, target=Status.FAILED)
    def failed(self, *, error: str) -> None:
        self.error = error[:2000]

    @transition(field=status, source=[Status.PENDING, Status.FAILED], target=Status.PENDING)
    def retry(self) -> None:
        """Enqueue the render again: still pending after a broker outage, or failed."""
        self.error = ""
