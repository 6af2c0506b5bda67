"""Contract templates (versioned; a version in use is frozen), the contracts of an
application filled from its approved offer and signed in turn by each party, the signatures,
and the loan file's entries (档案: every document of a case with the hash it was filed with)."""

import uuid
from datetime import date, timedelta

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from common.errors import Conflict
from common.i18n import Bilingual


class ContractKind(models.TextChoices):
    LOAN = "loan", _("Loan contract")
    GUARANTEE = "guarantee", _("Guarantee contract")
    PLEDGE = "pledge", _("Pledge contract")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Chinese")
    EN = "en", _("English")


class ContractTemplate(Bilingual, models.Model):
    """One version of a contract's text: a Django template (HTML) filled from the approved
    offer, the parties, the guarantor or collateral and the conditions. For one product (or
    every product, when empty), kind and language one version is active; a version that has
    been active is frozen (contracts name it): it is copied, never edited."""

    kind = models.CharField(_("kind"), max_length=20, choices=ContractKind.choices)
    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contract_templates",
        help_text=_("Leave empty for the template every product uses unless it has its own."),
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    body = models.TextField(
        _("text"), help_text=_("HTML with Django template variables, filled from the offer.")
    )
    is_active = models.BooleanField(_("active"), default=False)
    # Set when the version is first activated: from then on it is frozen.
    activated_at = models.DateTimeField(_("first activated"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")
        ordering = ["kind", "product", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "product", "language", "version"],
                name="contract_template_version",
                nulls_distinct=False,
            ),
            models.UniqueConstraint(
                fields=["kind", "product", "language"],
                condition=Q(is_active=True),
                name="contract_template_one_active",
                nulls_distinct=False,
            ),
        ]
        permissions = [
            ("prepare_contracts", "Can prepare an application's contracts"),
            ("sign_contract", "Can sign a contract as a party, or witness its signing"),
            ("sign_for_bank", "Can sign contracts for the bank (authorised signer)"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.language} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.activated_at is not None

    @property
    def display_name(self) -> str:
        return self.localized("name")


def _contract_path(instance, filename: str) -> str:
    return f"contracts/{instance.application_id}/{uuid.uuid4().hex}-{filename}"


class Party(models.TextChoices):
    BORROWER = "borrower", _("Borrower (legal representative)")
    GUARANTOR = "guarantor", _("Guarantor")
    BANK = "bank", _("Bank (authorised signer)")


class ContractDocument(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One contract of an application, filled from a template version: its text and its PDF
    (hashed) are fixed when it is prepared; the parties sign that exact PDF in turn, the bank
    last; the signed PDF (the contract and a signature page) is stored and hashed too."""

    class Status(models.TextChoices):
        AWAITING_PARTIES = "awaiting_parties", _("Awaiting the parties' signatures")
        AWAITING_BANK = "awaiting_bank", _("Awaiting the bank's signature")
        SIGNED = "signed", _("Signed")

    class PdfStatus(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="contract_documents",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ContractKind.choices)
    number = models.CharField(_("contract number"), max_length=60, unique=True)
    template = models.ForeignKey(
        ContractTemplate,
        verbose_name=_("template version"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    guarantor = models.ForeignKey(
        "intake.Guarantor",
        verbose_name=_("guarantor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    collateral = models.ForeignKey(
        "intake.Collateral",
        verbose_name=_("collateral"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    text = models.TextField(_("text as filled"), editable=False)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.AWAITING_PARTIES,
        protected=True,
    )
    pdf_status = models.CharField(
        _("PDF"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.PENDING
    )
    file = models.FileField(_("contract PDF"), upload_to=_contract_path, blank=True)
    sha256 = models.CharField(_("SHA-256 of the contract PDF"), max_length=64, blank=True)
    signed_file = models.FileField(_("signed PDF"), upload_to=_contract_path, blank=True)
    signed_sha256 = models.CharField(_("SHA-256 of the signed PDF"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True, editable=False)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    prepared_at = models.DateTimeField(_("prepared"), auto_now_add=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["application", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind", "guarantor", "collateral"],
                name="contract_document_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def required_parties(self) -> list[str]:
        """Who signs before the bank: the borrower's legal representative signs the loan and
        pledge contracts, the guarantor their guarantee contract."""
        if self.kind == ContractKind.GUARANTEE:
            return [Party.GUARANTOR]
        return [Party.BORROWER]

    @transition(
        field=status,
        source=Status.AWAITING_PARTIES,
        target=RETURN_VALUE(Status.AWAITING_PARTIES, Status.AWAITING_BANK),
        permission="contracts.sign_contract",
    )
    def sign_by_party(self, *, remaining: int) -> str:
        """A party has signed; when none remains, the bank signs next."""
        if remaining:
            return self.Status.AWAITING_PARTIES
        return self.Status.AWAITING_BANK

    @transition(
        field=status,
        source=Status.AWAITING_BANK,
        target=Status.SIGNED,
        permission="contracts.sign_for_bank",
    )
    def sign_by_bank(self) -> None:
        self.signed_at = timezone.now()


class Signature(models.Model):
    """One party's signature of one contract: who (their identity as verified), how (on the
    portal, or face to face in the branch with the witnessing staff member), the one-time
    code that confirmed it, when, the SHA-256 of the exact PDF signed, and the e-signature
    provider's seal."""

    class Method(models.TextChoices):
        PORTAL = "portal", _("On the portal")
        BRANCH = "branch", _("Face to face in the branch (面签)")
        BANK = "bank", _("By the bank's authorised signer")

    contract = models.ForeignKey(
        ContractDocument,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    party = models.CharField(_("party"), max_length=20, choices=Party.choices)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    signer_name = models.CharField(_("signer"), max_length=200)
    signer_id_number = models.CharField(_("signer's ID number"), max_length=30, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed in as"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("witnessed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    code_channel = models.CharField(_("code sent by"), max_length=10)
    code_sent_to = models.CharField(_("code sent to (masked)"), max_length=100)
    document_sha256 = models.CharField(_("SHA-256 of the PDF signed"), max_length=64)
    provider = models.CharField(_("e-signature provider"), max_length=100)
    seal = models.CharField(_("provider's seal"), max_length=500)
    client_ip = models.GenericIPAddressField(_("signed from"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed"), default=timezone.now)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["contract", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "party"], name="contract_signature_once"),
        ]
        # A signature, once given, is never changed nor taken back.
        triggers = [
            pgtrigger.Protect(
                name="signature_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.party} {self.signer_name}"


class DocumentKind(models.TextChoices):
    INTAKE_DOCUMENT = "intake_document", _("Application material")
    SITE_VISIT_PHOTO = "site_visit_photo", _("Site visit photo")
    CREDIT_MEMO = "credit_memo", _("Credit memo")
    OFFER_LETTER = "offer_letter", _("Offer letter")
    CONTRACT = "contract", _("Contract (as prepared)")
    SIGNED_CONTRACT = "signed_contract", _("Signed contract")
    DISBURSEMENT_RECORD = "disbursement_record", _("Disbursement record")
    POSTLOAN_ATTACHMENT = "postloan_attachment", _("Post-loan inspection attachment")
    EXTERNAL_DATA = "external_data", _("External data answer")
    CONSENT_FORM = "consent_form", _("Signed consent form")
    APPROVAL_RECORD = "approval_record", _("Approval record")
    POSTLOAN_RECORD = "postloan_record", _("Post-loan alert or inspection record")


# The retention each kind of document starts with (seeded into RetentionPeriod by migration
# contracts/0003; the admin changes it there), in years from its filing: nothing is deleted
# before. Contracts and the payout are kept longest (they prove the debt).
RETENTION_YEARS = {
    DocumentKind.INTAKE_DOCUMENT: 10,
    DocumentKind.SITE_VISIT_PHOTO: 10,
    DocumentKind.CREDIT_MEMO: 10,
    DocumentKind.OFFER_LETTER: 10,
    DocumentKind.CONTRACT: 30,
    DocumentKind.SIGNED_CONTRACT: 30,
    DocumentKind.DISBURSEMENT_RECORD: 30,
    DocumentKind.POSTLOAN_ATTACHMENT: 10,
    DocumentKind.EXTERNAL_DATA: 10,
    DocumentKind.CONSENT_FORM: 10,
    DocumentKind.APPROVAL_RECORD: 10,
    DocumentKind.POSTLOAN_RECORD: 10,
}
# A kind with no configured period is kept this long (the longest: never too short).
RETENTION_YEARS_FALLBACK = 30


class RetentionPeriod(Bilingual, models.Model):
    """How long documents of one kind are kept, configured in the admin. An entry's retention
    date is computed from it when the entry is filed and kept on the entry: changing the
    period applies to documents filed afterwards and never shortens one already filed."""

    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices, unique=True)
    years = models.PositiveIntegerField(
        _("years kept"), help_text=_("Counted from the day the document is filed.")
    )
    label = models.CharField(_("label"), max_length=200)
    label_zh = models.CharField(_("Chinese label"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(years__gte=1), name="retention_period_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.localized('label')}: {self.years}"

    @staticmethod
    def years_for(kind: str) -> int:
        configured = (
            RetentionPeriod.objects.filter(kind=kind).values_list("years", flat=True).first()
        )
        if configured is not None:
            return configured
        return RETENTION_YEARS.get(kind, RETENTION_YEARS_FALLBACK)


class ArchiveEntry(models.Model):
    """A document of the loan file as it was filed: what it is, where it lives, who made it,
    and the SHA-256 it had then, which every later verification recomputes against."""

    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="archive_entries",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    source = models.CharField(_("source"), max_length=100)
    version = models.PositiveIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=300)
    filename = models.CharField(_("file name in the archive"), max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("document time"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    filed_at = models.DateTimeField(_("filed"), default=timezone.now)
    retain_until = models.DateField(_("kept until"))

    class Meta:
        verbose_name = _("loan file entry")
        verbose_name_plural = _("loan file entries")
        ordering = ["application", "filed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "source", "version"], name="archive_entry_once"
            ),
        ]
        triggers = [
            # Whatever deletes it (a queryset, a cascade, a session of its own), an entry is
            # kept until its retention ends; the hash it was filed with never changes.
            pgtrigger.Protect(
                name="archive_entry_retained",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.retain_until > CURRENT_DATE"),
            ),
            pgtrigger.Protect(
                name="archive_entry_hash_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange("sha256", "source", "version", "application"),
            ),
            # Its retention date, computed when it was filed, may be lengthened, never shortened.
            pgtrigger.Protect(
                name="archive_entry_retention_kept",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(new__retain_until__lt=pgtrigger.F("old__retain_until")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.source} v{self.version}"

    @staticmethod
    def retention_end(kind: str, filed_at) -> date:
        """The retention date of a document of this kind filed now: the configured period
        (RetentionPeriod) read once, at filing; the entry keeps the date it got."""
        years = RetentionPeriod.years_for(kind)
        return (filed_at + timedelta(days=round(365.25 * years))).date()

    def delete(self, *args, **kwargs):
        """Refused before the end of its retention period."""
        if timezone.localdate() < self.retain_until:
            raise Conflict(
                gettext("This document is kept until %(date)s and cannot be deleted before.")
                % {"date": self.retain_until.isoformat()},
                code="retention",
            )
        return super().delete(*args, **kwargs)
