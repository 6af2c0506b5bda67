"""Intake: materials checklists (清单制), documents, guarantors and collateral declared at
intake, information requests, the pre-screen rules and the negative list (预审批, 负面清单)."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import GuaranteeType
from common.i18n import Bilingual, coded_text, in_language
from common.storage import documents_store
from customers.ric import validate_party_id


class Stage(models.TextChoices):
    SUBMIT = "submit", _("Before submission")
    START_INVESTIGATION = "start_investigation", _("Before the investigation starts")


class DocumentType(Bilingual, models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    description = models.TextField(_("what to provide"), blank=True)
    description_zh = models.TextField(_("what to provide (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language (the Chinese name when there is one)."""
        return self.localized("name")

    @property
    def display_description(self) -> str:
        return self.localized("description")


class ChecklistItem(models.Model):
    """One line of a product's published materials checklist."""

    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="checklist_items",
    )
    stage = models.CharField(
        _("needed"), max_length=30, choices=Stage.choices, default=Stage.SUBMIT
    )
    document_type = models.ForeignKey(
        DocumentType, verbose_name=_("document type"), on_delete=models.PROTECT, related_name="+"
    )
    required = models.BooleanField(_("required"), default=True)
    only_for_guarantee_type = models.CharField(
        _("only when the guarantee type is"),
        max_length=20,
        choices=GuaranteeType.choices,
        blank=True,
        help_text=_("Leave empty when the item is needed for every guarantee type."),
    )
    per_guarantor = models.BooleanField(_("one per guarantor"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["product", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "stage", "document_type"], name="intake_checklist_unique_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code}: {self.document_type}"


class Guarantor(models.Model):
    """A guarantor of the application: declared at filing, then completed (not re-entered) by
    the investigator with the guaranteed amount, exposure elsewhere and net worth."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="guarantors"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    id_number = models.CharField(
        _("ID number or credit code"), max_length=30, db_index=True, validators=[validate_party_id]
    )
    relationship = models.CharField(_("relationship to the company"), max_length=100, blank=True)
    # Completed by the investigator (贷前调查); empty until the guarantor is assessed.
    guaranteed_amount = models.DecimalField(
        _("guaranteed amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    own_exposure = models.DecimalField(
        _("own debts and guarantees elsewhere"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0"),
    )
    net_worth = models.DecimalField(
        _("net worth"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("guarantor")
        verbose_name_plural = _("guarantors")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_assessed(self) -> bool:
        return self.guaranteed_amount is not None


class Collateral(models.Model):
    """Collateral offered: declared at filing, then valued by the investigator."""

    class Kind(models.TextChoices):
        PROPERTY = "property", _("Real estate")
        EQUIPMENT = "equipment", _("Equipment")
        RECEIVABLES = "receivables", _("Receivables")
        DEPOSIT = "deposit", _("Deposit")
        OTHER = "other", _("Other")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="collateral"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    declared_value = models.DecimalField(_("declared value"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # Completed by the investigator: the bank's own valuation and the haircut it applies.
    valuation = models.DecimalField(
        _("valuation"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    valuation_date = models.DateField(_("valuation date"), null=True, blank=True)
    haircut_pct = models.DecimalField(
        _("haircut (%)"), max_digits=5, decimal_places=2, default=Decimal("30")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("collateral")
        verbose_name_plural = _("collateral")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description

    @property
    def is_valued(self) -> bool:
        return self.valuation is not None

    @property
    def lendable_value(self) -> Decimal | None:
        """What the bank would lend against it: the valuation less the haircut; None until
        the investigator has valued it."""
        if self.valuation is None:
            return None
        return (self.valuation * (Decimal("100") - self.haircut_pct) / Decimal("100")).quantize(
            Decimal("0.01")
        )


def document_path(instance, filename: str) -> str:
    # The client's file name is never used on disk.
    return f"{instance.application_id}/{uuid.uuid4().hex}{instance.extension}"


class Document(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="documents"
    )
    document_type = models.ForeignKey(
        DocumentType,
        verbose_name=_("document type"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    guarantor = models.ForeignKey(
        Guarantor,
        verbose_name=_("guarantor"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    file = models.FileField(storage=documents_store, upload_to=document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    review_reason = models.TextField(_("review comment"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["document_type__code", "-version"]
        indexes = [
            models.Index(
                fields=["application", "document_type"],
                name="intake_doc_current",
                condition=Q(is_current=True),
            ),
            models.Index(
                fields=["status", "uploaded_at"],
                name="intake_doc_pending",
                condition=Q(status="pending", is_current=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type} v{self.version}"


class InfoRequest(models.Model):
    class Kind(models.TextChoices):
        DOCUMENT = "document", _("Document")
        QUESTION = "question", _("Question")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="info_requests"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    document_type = models.ForeignKey(
        DocumentType,
        verbose_name=_("document type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("what is needed"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answer_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("information request")
        verbose_name_plural = _("information requests")
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(
                fields=["application"], name="intake_inforeq_open", condition=Q(status="open")
            ),
            models.Index(
                fields=["due_date"], name="intake_inforeq_due", condition=Q(status="open")
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


@dataclass(frozen=True)
class AdmissionFacts:
    """What the admission rules look at: the company's and the request's facts. The
    submission reads them from the application; the eligibility check from what the owner
    entered. (The negative list looks at the parties themselves and is not among them.)"""

    registration_date: date
    industry_code: str
    amount: Decimal
    term_months: int
    guarantee_type: str

    @classmethod
    def of_application(cls, application) -> "AdmissionFacts":
        company = application.company
        return cls(
            registration_date=company.registration_date,
            industry_code=company.industry_code,
            amount=application.amount,
            term_months=application.term_months,
            guarantee_type=application.guarantee_type,
        )

    def years_in_business(self, today: date) -> Decimal:
        days = (today - self.registration_date).days
        return (Decimal(days) / Decimal("365.25")).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class RuleOutcome:
    """One admission rule assessed against the facts, in the active language."""

    rule: "PrescreenRule"
    messages: list  # why it fails: [code, params] (PRESCREEN_MESSAGES); empty when it passes
    criterion: str  # what the rule asks, in plain words
    finding: str  # what the facts show: why it is met, or the reason it is not

    @property
    def passed(self) -> bool:
        return not self.messages

    @property
    def reasons(self) -> list[str]:
        return [prescreen_text(code, params) for code, params in self.messages]


class PrescreenRule(Bilingual, models.Model):
    """An admission rule (预审批). Rules without a product apply to every product."""

    class Kind(models.TextChoices):
        MIN_YEARS_IN_BUSINESS = "min_years_in_business", _("Minimum years in business")
        EXCLUDED_INDUSTRIES = "excluded_industries", _("Excluded industries")
        AMOUNT_WITHIN_PRODUCT = "amount_within_product", _("Amount within the product's range")
        NEGATIVE_LIST = "negative_list", _("Not on the negative list")

    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    min_years = models.DecimalField(
        _("minimum years"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    industry_codes = models.CharField(
        _("excluded industry codes"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated GB/T 4754 codes or prefixes, e.g. K70, B06."),
    )
    # What applicants read on the product page and in the eligibility check; empty for the
    # standard wording made from the kind and its figures.
    description = models.CharField(
        _("in plain words, for applicants"),
        max_length=300,
        blank=True,
        help_text=_(
            "Shown on the product page and in the eligibility check, e.g. 'Not for real "
            "estate or coal mining'. Leave empty for the standard wording."
        ),
    )
    description_zh = models.CharField(
        _("in plain words, for applicants (Chinese)"), max_length=300, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pre-screen rule")
        verbose_name_plural = _("pre-screen rules")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.localized("name")

    def industry_list(self) -> list[str]:
        return [code.strip().upper() for code in self.industry_codes.split(",") if code.strip()]

    @property
    def display_description(self) -> str:
        """The plain description in the active language ("" when none was written)."""
        return self.localized("description")

    def criterion(self, *, terms: dict) -> str:
        """What the rule asks of an applicant, in plain words (the administrator's wording
        when there is one); `terms` are the product's (Product.snapshot())."""
        if self.display_description:
            return self.display_description
        if self.kind == self.Kind.MIN_YEARS_IN_BUSINESS:
            if self.min_years is None:
                return gettext("Years in business")
            return gettext("At least %(min)s years in business") % {"min": self.min_years}
        if self.kind == self.Kind.EXCLUDED_INDUSTRIES:
            return gettext("Not for companies in the industries %(codes)s") % {
                "codes": ", ".join(self.industry_list())
            }
        if self.kind == self.Kind.AMOUNT_WITHIN_PRODUCT:
            return gettext("An amount from %(min)s to %(max)s %(cur)s") % {
                "min": f"{Decimal(terms['min_amount']):,.2f}",
                "max": f"{Decimal(terms['max_amount']):,.2f}",
                "cur": terms.get("currency", ""),
            }
        return str(self.get_kind_display())

    def assess(self, facts: AdmissionFacts, *, terms: dict, today: date) -> RuleOutcome:
        """The rule against the facts: pure, no query, nothing written. The submission's
        pre-screen and the owner's eligibility check both call it. A failure is kept as
        [code, params] (PRESCREEN_MESSAGES), worded in the reader's language when shown. The
        negative list is not assessed from facts (intake.services.negative_list_hits looks
        at the parties)."""
        if self.kind == self.Kind.NEGATIVE_LIST:
            raise ValueError("The negative list is checked against the parties, not facts.")
        messages: list[list] = []
        finding = ""
        if self.kind == self.Kind.MIN_YEARS_IN_BUSINESS and self.min_years is not None:
            years = facts.years_in_business(today)
            finding = gettext("The company has been in business %(years)s years.") % {
                "years": years
            }
            if years < self.min_years:
                messages.append(["too_young", {"years": str(years), "min": str(self.min_years)}])
        elif self.kind == self.Kind.EXCLUDED_INDUSTRIES:
            industry = facts.industry_code.strip().upper()
            finding = gettext("The industry %(code)s is not excluded.") % {
                "code": facts.industry_code
            }
            if any(industry.startswith(code) for code in self.industry_list()):
                messages.append(["excluded_industry", {"code": facts.industry_code}])
        elif self.kind == self.Kind.AMOUNT_WITHIN_PRODUCT:
            low, high = Decimal(terms["min_amount"]), Decimal(terms["max_amount"])
            finding = gettext("The amount %(amount)s is within the product's range.") % {
                "amount": f"{facts.amount:,.2f}"
            }
            if not (low <= facts.amount <= high):
                messages.append(
                    [
                        "amount_outside",
                        {
                            "amount": f"{facts.amount:,.2f}",
                            "min": f"{low:,.2f}",
                            "max": f"{high:,.2f}",
                        },
                    ]
                )
        return RuleOutcome(
            rule=self,
            messages=messages,
            criterion=self.criterion(terms=terms),
            finding=prescreen_text(*messages[0]) if messages else finding,
        )


class NegativeListEntry(models.Model):
    """A blacklisted party (负面清单), matched by credit code, ID number or exact name."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True, db_index=True)
    credit_code = models.CharField(_("credit code"), max_length=18, blank=True, db_index=True)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=300)
    is_active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("negative list entry")
        verbose_name_plural = _("negative list")
        ordering = ["-added_at"]

    def __str__(self) -> str:
        return self.name or self.credit_code or self.id_number

    def save(self, *args, **kwargs):
        self.credit_code = self.credit_code.strip().upper()
        self.id_number = self.id_number.strip().upper()
        self.name = self.name.strip()
        super().save(*args, **kwargs)


# Why a pre-screen rule failed, by code, with the parameters a result keeps ("messages").
PRESCREEN_MESSAGES = {
    "too_young": _(
        "The company has been in business %(years)s years; at least %(min)s are required."
    ),
    "excluded_industry": _("The industry %(code)s is excluded from lending."),
    "amount_outside": _("The amount %(amount)s is outside the product's range %(min)s to %(max)s."),
    "negative_company": _("The company %(name)s is on the negative list: %(reason)s"),
    "negative_representative": _(
        "The legal representative %(name)s is on the negative list: %(reason)s"
    ),
    "negative_guarantor": _("The guarantor %(name)s is on the negative list: %(reason)s"),
}


def prescreen_text(code: str, params: dict, fallback: str = "") -> str:
    """A pre-screen reason in the active language."""
    return coded_text(PRESCREEN_MESSAGES, code, params, fallback)


def prescreen_entry_worded(entry: dict) -> dict:
    """A rule's line of a pre-screen result, its name and reasons in the active language;
    results recorded before the reasons were kept as codes keep their words."""
    reasons = list(entry.get("reasons") or [])
    messages = entry.get("messages")
    if messages is not None and len(messages) == len(reasons):
        reasons = [
            prescreen_text(code, params, fallback=text)
            for (code, params), text in zip(messages, reasons, strict=True)
        ]
    name = in_language(entry.get("name", ""), entry.get("name_zh", ""))
    return {**entry, "name": name, "reasons": reasons}


class PrescreenResult(models.Model):
    application = models.ForeignKey(
        "applications.LoanApplication", on_delete=models.CASCADE, related_name="prescreen_results"
    )
    passed = models.BooleanField(_("passed"))
    failures = models.JSONField(_("failed rules"), default=list, blank=True)
    checked = models.JSONField(_("rules checked"), default=list, blank=True)
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pre-screen result")
        verbose_name_plural = _("pre-screen results")
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {'pass' if self.passed else 'fail'}"
