"""Writes of the investigation. Only the investigator edits, and only while the application is
under investigation; each change is atomic (the application row is locked) and audited."""

import datetime
import logging
import time
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, ProtectedError, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from applications.models import LoanApplication, Status
from applications.selectors import application_get
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.queue import enqueue_on_commit
from datasources.selectors import source_flags
from intake.models import Collateral, Guarantor
from investigation import calc
from investigation.models import (
    Answer,
    CreditMemo,
    FinancialPeriod,
    Flag,
    Investigation,
    Question,
    ScorecardFactor,
    ScoreResult,
    SiteVisit,
    SiteVisitPhoto,
    VerificationItem,
    flag_text,
)
from investigation.selectors import (
    investigation_for,
    policy_current,
    questionnaire_for_product,
    questionnaire_missing,
    score_reason_labels,
    score_rows,
    scorecard_current,
)
from org.roles import primary_role

logger = logging.getLogger(__name__)

# A guarantee counts from the moment its loan goes to approval until the loan ends.
GUARANTEE_STATUSES = (
    Status.IN_APPROVAL,
    Status.APPROVED,
    Status.CONTRACT_SIGNED,
    Status.DISBURSED,
)
PERIODS = [p.value for p in FinancialPeriod.Period]
FIGURES = (
    "revenue",
    "net_profit",
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "bank_inflows_12m",
    "tax_paid",
)
MAX_PHOTO_BYTES = 10 * 1024 * 1024


# --- Opening and editing -------------------------------------------------------------------------


def investigation_open(*, application: LoanApplication) -> Investigation:
    """The application's investigation, created with the product's questionnaire and the
    verification checklist of the declared facts (idempotent)."""
    investigation, created = Investigation.objects.get_or_create(
        application=application,
        defaults={"questionnaire": questionnaire_for_product(product=application.product)},
    )
    if created:
        company = application.company
        declared = {
            VerificationItem.Fact.REGISTRATION: company.credit_code,
            VerificationItem.Fact.LEGAL_REPRESENTATIVE: company.legal_representative,
            VerificationItem.Fact.ADDRESS: company.address,
            VerificationItem.Fact.REVENUE: "",
            VerificationItem.Fact.TAX: "",
            VerificationItem.Fact.BANK_FLOWS: "",
            VerificationItem.Fact.COLLATERAL: application.get_guarantee_type_display(),
        }
        VerificationItem.objects.bulk_create(
            [
                VerificationItem(
                    investigation=investigation, fact=fact, declared_value=str(value)[:300]
                )
                for fact, value in declared.items()
            ]
        )
    elif investigation.questionnaire_id is None:
        investigation.questionnaire = questionnaire_for_product(product=application.product)
        if investigation.questionnaire_id:
            investigation.save(update_fields=["questionnaire"])
    return investigation


def investigation_ensure(*, application: LoanApplication, user) -> None:
    """When the investigator opens the workspace of an application under investigation, make
    sure its record exists with the product's current questionnaire (idempotent)."""
    if application.status == Status.INVESTIGATION and application.investigator_id == getattr(
        user, "pk", None
    ):
        with transaction.atomic():
            investigation_open(application=application)


def _for_edit(*, actor, application_id: int) -> tuple[LoanApplication, Investigation]:
    application = application_get(user=actor, pk=application_id, for_update=True)
    if application.status != Status.INVESTIGATION:
        raise Conflict(
            _(
                "The investigation can only be changed while the application is under "
                "investigation."
            ),
            code="not_investigating",
        )
    if application.investigator_id != getattr(actor, "pk", None):
        raise Forbidden(
            _("Only the investigator of this application may change the investigation."),
            code="not_investigator",
        )
    return application, investigation_open(application=application)


def _changed(
    *,
    investigation: Investigation,
    application,
    actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    data: dict | None = None,
) -> None:
    investigation.changed_at = timezone.now()
    investigation.save(update_fields=["changed_at"])
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor),
        application=application,
        kind="action",
        subject_type=subject_type,
        subject_id=subject_id,
        data=data or {},
    )


def _clean_answer(question: Question, value) -> str:
    value = "" if value is None else str(value).strip()
    if not value:
        return ""
    kind = question.answer_type
    if kind == Question.AnswerType.NUMBER:
        try:
            Decimal(value)
        except ArithmeticError:
            raise ValueError(_("Enter a number.")) from None
    elif kind == Question.AnswerType.YES_NO:
        lowered = value.lower()
        if lowered not in ("yes", "no", "true", "false"):
            raise ValueError(_("Answer yes or no."))
        value = "yes" if lowered in ("yes", "true") else "no"
    elif kind == Question.AnswerType.CHOICE:
        if value not in [str(c) for c in question.choices]:
            raise ValueError(_("Choose one of the listed answers."))
    elif kind == Question.AnswerType.DATE:
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    return value[:4000]


@transaction.atomic
def answers_save(*, application_id: int, actor, answers: dict) -> Investigation:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    if investigation.questionnaire is None:
        raise Conflict(_("There is no questionnaire for this product."), code="no_questionnaire")
    questions = {q.code: q for q in investigation.questionnaire.questions.all()}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for code, value in answers.items():
        question = questions.get(code)
        if question is None:
            errors[code] = [_("There is no such question.")]
            continue
        try:
            cleaned[code] = _clean_answer(question, value)
        except ValueError as exc:
            errors[code] = [str(exc)]
    if errors:
        raise InvalidInput(details=errors)
    version = investigation.questionnaire.version
    for code, value in cleaned.items():
        Answer.objects.update_or_create(
            investigation=investigation,
            question=questions[code],
            defaults={"value": value, "questionnaire_version": version},
        )
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_answers",
        subject_type="investigation.investigation",
        subject_id=investigation.pk,
        data={"questions": sorted(cleaned)},
    )
    return investigation


@transaction.atomic
def site_visit_record(
    *, application_id: int, actor, visit_date: datetime.date, participants: str, findings: str
) -> SiteVisit:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    if visit_date > timezone.localdate():
        raise InvalidInput(details={"visit_date": [_("A visit cannot be in the future.")]})
    visit = SiteVisit.objects.create(
        investigation=investigation,
        visit_date=visit_date,
        participants=participants,
        findings=findings,
        recorded_by=actor,
    )
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_site_visit",
        subject_type="investigation.sitevisit",
        subject_id=visit.pk,
        data={"visit_date": visit_date.isoformat()},
    )
    return visit


def image_extension(head: bytes) -> str | None:
    """The image type from its magic bytes (never from the name or the browser's claim)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


@transaction.atomic
def site_visit_photo_add(
    *, application_id: int, actor, visit_id: int, upload, caption: str = ""
) -> SiteVisitPhoto:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    try:
        visit = SiteVisit.objects.get(pk=visit_id, investigation=investigation)
    except (SiteVisit.DoesNotExist, ValueError):
        raise NotFound() from None
    if upload.size > MAX_PHOTO_BYTES:
        raise InvalidInput(details={"image": [_("The photo is larger than 10 MB.")]})
    upload.seek(0)
    extension = image_extension(upload.read(16))
    upload.seek(0)
    if extension is None:
        raise InvalidInput(details={"image": [_("Upload a JPEG, PNG or WebP photo.")]})
    photo = SiteVisitPhoto(visit=visit, caption=caption, extension=extension)
    photo.image.save("photo", ContentFile(upload.read()), save=False)
    photo.save()
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_photo",
        subject_type="investigation.sitevisitphoto",
        subject_id=photo.pk,
    )
    return photo


@transaction.atomic
def financials_save(
    *,
    application_id: int,
    actor,
    period: str,
    figures: dict,
    period_end: datetime.date | None = None,
) -> FinancialPeriod:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    if period not in PERIODS:
        raise InvalidInput(details={"period": [_("Unknown period.")]})
    missing = [name for name in FIGURES if figures.get(name) is None]
    if missing:
        raise InvalidInput(details={name: [_("This figure is required.")] for name in missing})
    values = {name: Decimal(figures[name]) for name in FIGURES}
    for name in (
        "revenue",
        "total_assets",
        "total_liabilities",
        "current_assets",
        "current_liabilities",
        "bank_inflows_12m",
        "tax_paid",
    ):
        if values[name] < 0:
            raise InvalidInput(details={name: [_("This figure cannot be negative.")]})
    row, _created = FinancialPeriod.objects.update_or_create(
        investigation=investigation,
        period=period,
        defaults={**values, "period_end": period_end, "currency": application.currency},
    )
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_financials",
        subject_type="investigation.financialperiod",
        subject_id=row.pk,
        data={"period": period},
    )
    return row


# --- Guarantors and collateral: the application's own records, completed here -----------------


def _guarantor_assessment(
    *, guaranteed_amount: Decimal, own_exposure: Decimal, net_worth: Decimal | None
) -> None:
    errors = {}
    if guaranteed_amount is None or guaranteed_amount < 0:
        errors["guaranteed_amount"] = [_("Enter the guaranteed amount (zero or more).")]
    if own_exposure is None or own_exposure < 0:
        errors["own_exposure"] = [_("This figure cannot be negative.")]
    if errors:
        raise InvalidInput(details=errors)


@transaction.atomic
def guarantor_add(
    *,
    application_id: int,
    actor,
    name: str = "",
    id_number: str = "",
    guaranteed_amount: Decimal,
    kind: str = "person",
    own_exposure: Decimal = Decimal("0"),
    net_worth: Decimal | None = None,
    intake_guarantor_id: int | None = None,
    notes: str = "",
) -> Guarantor:
    """A guarantor the investigation found beyond those filed. Given the id of a guarantor
    filed with the application (intake_guarantor_id), that record is completed instead."""
    if intake_guarantor_id:
        return guarantor_assess(
            application_id=application_id,
            actor=actor,
            guarantor_id=intake_guarantor_id,
            guaranteed_amount=guaranteed_amount,
            own_exposure=own_exposure,
            net_worth=net_worth,
            notes=notes,
        )
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    _guarantor_assessment(
        guaranteed_amount=guaranteed_amount, own_exposure=own_exposure, net_worth=net_worth
    )
    if not name.strip() or not id_number.strip():
        raise InvalidInput(
            details={
                field: [_("This field is required.")]
                for field, value in (("name", name), ("id_number", id_number))
                if not value.strip()
            }
        )
    guarantor = Guarantor.objects.create(
        application=application,
        kind=kind,
        name=name.strip(),
        id_number=id_number.strip().upper(),
        guaranteed_amount=guaranteed_amount,
        own_exposure=own_exposure,
        net_worth=net_worth,
        currency=application.currency,
        notes=notes,
    )
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_guarantor_add",
        subject_type="intake.guarantor",
        subject_id=guarantor.pk,
    )
    return guarantor


@transaction.atomic
def guarantor_assess(
    *,
    application_id: int,
    actor,
    guarantor_id: int,
    guaranteed_amount: Decimal,
    own_exposure: Decimal = Decimal("0"),
    net_worth: Decimal | None = None,
    notes: str = "",
) -> Guarantor:
    """Complete (or correct) the assessment of a guarantor of the application, filed in the
    wizard or added during the investigation: nothing is typed twice."""
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    guarantor = (
        Guarantor.objects.select_for_update()
        .filter(application=application, pk=guarantor_id)
        .first()
    )
    if guarantor is None:
        raise NotFound()
    _guarantor_assessment(
        guaranteed_amount=guaranteed_amount, own_exposure=own_exposure, net_worth=net_worth
    )
    guarantor.guaranteed_amount = guaranteed_amount
    guarantor.own_exposure = own_exposure
    guarantor.net_worth = net_worth
    guarantor.notes = notes
    guarantor.currency = application.currency
    guarantor.save(
        update_fields=["guaranteed_amount", "own_exposure", "net_worth", "notes", "currency"]
    )
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_guarantor_assess",
        subject_type="intake.guarantor",
        subject_id=guarantor.pk,
        data={"guaranteed_amount": str(guaranteed_amount)},
    )
    return guarantor


def _without_documents(*, model, item_id: int, application) -> None:
    item = model.objects.filter(application=application, pk=item_id).first()
    if item is None:
        raise NotFound()
    if model is Guarantor and item.documents.exists():
        raise Conflict(
            _("This guarantor has documents on file; the guarantor cannot be removed."),
            code="has_documents",
        )
    try:
        item.delete()
    except ProtectedError as error:  # named in a prepared contract: 409, not 500
        from contracts.services import removal_refused

        item_name = "guarantor" if model is Guarantor else "collateral"
        raise removal_refused(error, item=item_name) from error


@transaction.atomic
def guarantor_remove(*, application_id: int, actor, guarantor_id: int) -> None:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    _without_documents(model=Guarantor, item_id=guarantor_id, application=application)
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_guarantor_remove",
        subject_type="intake.guarantor",
        subject_id=guarantor_id,
    )


def _collateral_valuation(*, valuation: Decimal, valuation_date, haircut_pct: Decimal) -> None:
    errors = {}
    if valuation is None or valuation < 0:
        errors["valuation"] = [_("Enter the valuation (zero or more).")]
    if valuation_date is None:
        errors["valuation_date"] = [_("Enter the valuation date.")]
    if haircut_pct is None or not (Decimal("0") <= haircut_pct <= Decimal("100")):
        errors["haircut_pct"] = [_("The haircut is between 0 and 100%.")]
    if errors:
        raise InvalidInput(details=errors)


@transaction.atomic
def collateral_add(
    *,
    application_id: int,
    actor,
    collateral_type: str = "",
    description: str = "",
    valuation: Decimal,
    valuation_date: datetime.date,
    haircut_pct: Decimal = Decimal("30"),
    intake_collateral_id: int | None = None,
) -> Collateral:
    """Collateral the investigation found beyond what was filed. Given the id of collateral
    filed with the application (intake_collateral_id), that record is valued instead."""
    if intake_collateral_id:
        return collateral_value(
            application_id=application_id,
            actor=actor,
            collateral_id=intake_collateral_id,
            valuation=valuation,
            valuation_date=valuation_date,
            haircut_pct=haircut_pct,
        )
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    _collateral_valuation(
        valuation=valuation, valuation_date=valuation_date, haircut_pct=haircut_pct
    )
    if not collateral_type or not description.strip():
        raise InvalidInput(
            details={
                field: [_("This field is required.")]
                for field, value in (
                    ("collateral_type", collateral_type),
                    ("description", description.strip()),
                )
                if not value
            }
        )
    item = Collateral.objects.create(
        application=application,
        kind=collateral_type,
        description=description.strip(),
        # Not declared by the applicant: the bank's valuation stands for the declared value.
        declared_value=valuation,
        valuation=valuation,
        valuation_date=valuation_date,
        haircut_pct=haircut_pct,
        currency=application.currency,
    )
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_collateral_add",
        subject_type="intake.collateral",
        subject_id=item.pk,
    )
    return item


@transaction.atomic
def collateral_value(
    *,
    application_id: int,
    actor,
    collateral_id: int,
    valuation: Decimal,
    valuation_date: datetime.date,
    haircut_pct: Decimal = Decimal("30"),
) -> Collateral:
    """Record (or correct) the bank's valuation of collateral of the application."""
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    item = (
        Collateral.objects.select_for_update()
        .filter(application=application, pk=collateral_id)
        .first()
    )
    if item is None:
        raise NotFound()
    _collateral_valuation(
        valuation=valuation, valuation_date=valuation_date, haircut_pct=haircut_pct
    )
    item.valuation = valuation
    item.valuation_date = valuation_date
    item.haircut_pct = haircut_pct
    item.save(update_fields=["valuation", "valuation_date", "haircut_pct"])
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_collateral_value",
        subject_type="intake.collateral",
        subject_id=item.pk,
        data={"valuation": str(valuation), "haircut_pct": str(haircut_pct)},
    )
    return item


@transaction.atomic
def collateral_remove(*, application_id: int, actor, collateral_id: int) -> None:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    _without_documents(model=Collateral, item_id=collateral_id, application=application)
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_collateral_remove",
        subject_type="intake.collateral",
        subject_id=collateral_id,
    )


@transaction.atomic
def verification_record(
    *, application_id: int, actor, fact: str, status: str, source: str = "", note: str = ""
) -> VerificationItem:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    try:
        item = VerificationItem.objects.select_for_update().get(
            investigation=investigation, fact=fact
        )
    except VerificationItem.DoesNotExist:
        raise NotFound() from None
    if status not in VerificationItem.Status.values:
        raise InvalidInput(details={"status": [_("Unknown status.")]})
    if status != VerificationItem.Status.PENDING:
        if source not in VerificationItem.Source.values:
            raise InvalidInput(details={"source": [_("Say where this was checked.")]})
        if status == VerificationItem.Status.MISMATCH and not note.strip():
            raise InvalidInput(details={"note": [_("Describe the mismatch.")]})
    item.status, item.source, item.note = status, source, note
    item.verified_by = actor if status != VerificationItem.Status.PENDING else None
    item.verified_at = timezone.now() if status != VerificationItem.Status.PENDING else None
    item.save()
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_verification",
        subject_type="investigation.verificationitem",
        subject_id=item.pk,
        data={"fact": fact, "status": status, "source": source},
    )
    return item


ASSESSMENT_FIELDS = ("repayment_record", "tax_grade", "industry_risk", "opinion")


@transaction.atomic
def assessment_save(*, application_id: int, actor, changes: dict) -> Investigation:
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    for name in ASSESSMENT_FIELDS:
        if name in changes:
            setattr(investigation, name, changes[name] or "")
    investigation.save()
    _changed(
        investigation=investigation,
        application=application,
        actor=actor,
        action="investigation_assessment",
        subject_type="investigation.investigation",
        subject_id=investigation.pk,
        data={"fields": sorted(k for k in changes if k in ASSESSMENT_FIELDS)},
    )
    return investigation


# --- Analysis: ratios, cross-checks, concentration, route ------------------------------------


def _flag(code: str, severity: str, params: dict, **evidence) -> dict:
    """A flag kept as its code and the parameters of its message (Flag.text words it in the
    reader's language); `message` keeps the words of the moment, for older readers."""
    params = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in params.items()}
    return {
        "code": code,
        "severity": severity,
        "message": flag_text(code, params),
        "params": params,
        "evidence": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in evidence.items()},
    }


def _periods(investigation: Investigation) -> dict[str, FinancialPeriod]:
    return {row.period: row for row in investigation.financials.all()}


def ratios_compute(*, application: LoanApplication, investigation: Investigation) -> dict:
    periods = _periods(investigation)
    last = periods.get("last_year") or periods.get("current")
    before = periods.get("year_before_last")
    sheet = periods.get("current") or periods.get("last_year")
    instalment = calc.monthly_instalment(
        amount=application.amount,
        annual_rate_pct=application.interest_rate,
        term_months=application.term_months,
        method=application.repayment_method,
    )
    lendable = sum(
        (c.lendable_value for c in application.collateral.all() if c.is_valued), Decimal("0")
    )
    out = {
        "instalment": instalment,
        "annual_debt_service": instalment * 12,
        "debt_ratio": calc.ratio(sheet.total_liabilities, sheet.total_assets) if sheet else None,
        "current_ratio": (
            calc.ratio(sheet.current_assets, sheet.current_liabilities) if sheet else None
        ),
        "net_margin": calc.ratio(last.net_profit, last.revenue) if last else None,
        "revenue_growth": (
            calc.ratio(last.revenue - before.revenue, before.revenue) if last and before else None
        ),
        "dscr": calc.ratio(last.net_profit, instalment * 12) if last else None,
        "collateral_lendable": lendable,
        "collateral_coverage": calc.ratio(lendable, application.amount),
        "revenue": last.revenue if last else None,
    }
    return out


def cross_check_flags(*, investigation: Investigation, policy) -> tuple[dict, list[dict]]:
    """Declared revenue against bank inflows and against the revenue implied by tax paid.
    A gap strictly above the policy's threshold raises a flag."""
    periods = _periods(investigation)
    last = periods.get("last_year") or periods.get("current")
    if last is None:
        return {}, []
    flags = []
    bank_gap = calc.gap_pct(last.revenue, last.bank_inflows_12m)
    implied = (
        calc.q(last.tax_paid / (policy.tax_rate_pct / 100), "0.01") if policy.tax_rate_pct else None
    )
    tax_gap = calc.gap_pct(last.revenue, implied)
    if bank_gap is not None and bank_gap > policy.revenue_bank_gap_pct:
        flags.append(
            _flag(
                "revenue_bank_gap",
                Flag.Severity.HIGH,
                {"gap": calc.q(bank_gap, "0.1"), "limit": policy.revenue_bank_gap_pct},
                revenue=last.revenue,
                bank_inflows_12m=last.bank_inflows_12m,
                gap_pct=calc.q(bank_gap),
                threshold_pct=policy.revenue_bank_gap_pct,
                period=last.period,
            )
        )
    if tax_gap is not None and tax_gap > policy.revenue_tax_gap_pct:
        flags.append(
            _flag(
                "revenue_tax_gap",
                Flag.Severity.HIGH,
                {"gap": calc.q(tax_gap, "0.1"), "limit": policy.revenue_tax_gap_pct},
                revenue=last.revenue,
                tax_paid=last.tax_paid,
                implied_revenue=implied,
                tax_rate_pct=policy.tax_rate_pct,
                gap_pct=calc.q(tax_gap),
                threshold_pct=policy.revenue_tax_gap_pct,
                period=last.period,
            )
        )
    figures = {
        "bank_gap_pct": calc.q(bank_gap),
        "implied_revenue": implied,
        "tax_gap_pct": calc.q(tax_gap),
    }
    return figures, flags


def concentration_flags(
    *, application: LoanApplication, investigation: Investigation, policy
) -> tuple[dict, list[dict]]:
    """Industry share of the bank's exposure, guarantors' total guaranteed exposure, and the
    exposure to the companies sharing the legal representative. Exposure is the bank's one
    definition (postloan.exposure.exposure_rows: outstanding principal, undrawn facilities,
    amounts in approval, loans approved not yet paid out), in the application's currency,
    read once, with this application's amount added."""
    from customers.models import Company
    from postloan.exposure import exposure_rows

    flags: list[dict] = []
    company = application.company
    amount = application.amount
    rows = exposure_rows(currency=application.currency, exclude_application_id=application.pk)
    in_industry = set(
        Company.objects.filter(industry_code=company.industry_code).values_list("pk", flat=True)
    )
    total = sum((row["amount"] for row in rows), Decimal("0")) + amount
    industry = (
        sum((row["amount"] for row in rows if row["company_id"] in in_industry), Decimal("0"))
        + amount
    )
    share = industry / total * 100 if total else None  # compared unrounded
    figures: dict = {
        "industry_code": company.industry_code,
        "industry_exposure": industry,
        "book_total": total,
        "industry_share_pct": calc.q(share),
    }
    if share is not None and share > policy.industry_share_limit_pct:
        flags.append(
            _flag(
                "industry_concentration",
                Flag.Severity.MEDIUM,
                {
                    "code": company.industry_code,
                    "share": calc.q(share, "0.1"),
                    "limit": policy.industry_share_limit_pct,
                },
                industry_code=company.industry_code,
                industry_exposure=industry,
                book_total=total,
                share_pct=calc.q(share),
                limit_pct=policy.industry_share_limit_pct,
            )
        )

    # Only assessed guarantors carry an amount; one still to be assessed is in "missing".
    guarantors = [g for g in application.guarantors.all() if g.is_assessed]
    if guarantors:
        ids = {g.id_number for g in guarantors}
        elsewhere = dict(
            Guarantor.objects.filter(
                id_number__in=ids,
                application__status__in=GUARANTEE_STATUSES,
                guaranteed_amount__isnull=False,
            )
            .exclude(application=application)
            .values_list("id_number")
            .annotate(total=Sum("guaranteed_amount"))
        )
        figures["guarantors"] = {}
        for g in guarantors:
            exposure = g.guaranteed_amount + elsewhere.get(g.id_number, Decimal("0"))
            figures["guarantors"][g.id_number] = exposure
            if exposure > policy.guarantor_exposure_limit:
                flags.append(
                    _flag(
                        "guarantor_exposure",
                        Flag.Severity.HIGH,
                        {
                            "name": g.name,
                            "total": f"{exposure:,.2f}",
                            "limit": f"{policy.guarantor_exposure_limit:,.2f}",
                        },
                        guarantor=g.name,
                        id_number=g.id_number,
                        total_guaranteed=exposure,
                        own_exposure=g.own_exposure,
                        limit=policy.guarantor_exposure_limit,
                    )
                )

    if company.legal_representative_id:
        in_group = set(
            Company.objects.filter(
                legal_representative_id=company.legal_representative_id
            ).values_list("pk", flat=True)
        )
        group_rows = [row for row in rows if row["company_id"] in in_group]
        group_total = sum((row["amount"] for row in group_rows), Decimal("0")) + amount
        others = len({row["company_id"] for row in group_rows} - {company.pk})
        figures["related_exposure"] = group_total
        figures["related_companies"] = others
        if others and group_total > policy.related_party_limit:
            flags.append(
                _flag(
                    "related_party_exposure",
                    Flag.Severity.HIGH,
                    {
                        "total": f"{group_total:,.2f}",
                        "limit": f"{policy.related_party_limit:,.2f}",
                    },
                    legal_representative=company.legal_representative,
                    group_total=group_total,
                    other_companies=others,
                    limit=policy.related_party_limit,
                )
            )
    return figures, flags


def completeness_pct(*, investigation: Investigation) -> Decimal:
    """How complete the investigation is, in percent. A waived site visit (the data-driven
    fast track) counts as done; so do the parts the route reads from the sources instead."""
    if investigation.site_visit_waived_at is not None:
        return Decimal("100.00")
    parts = []
    if investigation.questionnaire is not None:
        required = [q for q in investigation.questionnaire.questions.all() if q.required]
        parts.append(
            Decimal(1) - (Decimal(len(questionnaire_missing(investigation))) / len(required))
            if required
            else Decimal(1)
        )
    else:
        parts.append(Decimal(0))
    parts.append(Decimal(1) if investigation.site_visits.all() else Decimal(0))
    parts.append(Decimal(len(_periods(investigation))) / len(PERIODS))
    items = list(investigation.verifications.all())
    done = [v for v in items if v.status != VerificationItem.Status.PENDING]
    parts.append(Decimal(len(done)) / len(items) if items else Decimal(0))
    filled = [getattr(investigation, f) for f in ("repayment_record", "tax_grade", "industry_risk")]
    parts.append(Decimal(sum(1 for f in filled if f)) / 3)
    return calc.q(sum(parts) / len(parts) * 100, "0.01")


def route_recommend(
    *, application: LoanApplication, grade: str, completeness: Decimal, flags: list[dict], policy
) -> str:
    severities = {f["severity"] for f in flags}
    if (
        grade in policy.enhanced_grades
        or Flag.Severity.HIGH in severities
        or application.amount >= policy.enhanced_min_amount
        or completeness < policy.min_completeness_pct
    ):
        return "enhanced"
    if (
        grade in policy.fast_track_grades
        and not flags
        and completeness >= 100
        and application.amount <= policy.fast_track_max_amount
        and application.product.fast_track_eligible
    ):
        return "fast_track"
    return "standard"


def score_inputs(
    *, application: LoanApplication, investigation: Investigation, ratios: dict
) -> dict:
    registered = application.company.registration_date
    years = calc.q(Decimal((timezone.localdate() - registered).days) / Decimal("365.25"), "0.01")
    return {
        "years_in_business": years,
        "revenue": ratios.get("revenue"),
        "debt_ratio": ratios.get("debt_ratio"),
        "current_ratio": ratios.get("current_ratio"),
        "net_margin": ratios.get("net_margin"),
        "dscr": ratios.get("dscr"),
        "repayment_record": investigation.repayment_record or None,
        "tax_grade": investigation.tax_grade or None,
        "collateral_coverage": ratios.get("collateral_coverage"),
        "industry_risk": investigation.industry_risk or None,
    }


def source_field_inputs(*, application, scorecard) -> tuple[dict, dict]:
    """The scorecard's source fields read from the latest arrived answer of each source for
    the application: (values by factor key, provenance by factor key). Without an answer the
    value is missing (None) and the factor scores its points when missing."""
    from datasources.checks import answer_field
    from datasources.models import SourceQuery

    fields = [f for f in scorecard.factors.all() if f.kind == ScorecardFactor.Kind.SOURCE_FIELD]
    if not fields:
        return {}, {}
    latest: dict[str, SourceQuery] = {}
    for query in SourceQuery.objects.filter(
        application=application,
        source__in={f.source for f in fields},
        status=SourceQuery.Status.ARRIVED,
    ).order_by("-answered_at", "-id"):
        latest.setdefault(query.source, query)
    today = timezone.localdate()
    values, provenance = {}, {}
    for factor in fields:
        query = latest.get(factor.source)
        value = answer_field(query.answer, factor.field_path, today=today) if query else None
        values[factor.key] = value
        provenance[factor.key] = {
            "kind": ScorecardFactor.Kind.SOURCE_FIELD,
            "source": factor.source,
            "field_path": factor.field_path,
            "label_zh": factor.name_zh,
            "query_id": query.pk if query else None,
            "answered_at": query.answered_at.isoformat() if query else None,
        }
    return values, provenance


def scorecard_apply(*, scorecard, inputs: dict, provenance: dict | None = None) -> dict:
    factors = [
        calc.FactorSpec(
            code=f.key,
            label=f.name
            if f.kind == ScorecardFactor.Kind.SOURCE_FIELD
            else str(f.get_code_display()),
            bins=f.bins,
            missing_points=f.missing_points,
        )
        for f in scorecard.factors.all()
    ]
    return calc.score(factors, inputs, scorecard.grade_bands, provenance=provenance)


@transaction.atomic
def investigation_score(*, application_id: int, actor) -> ScoreResult:
    """Run the checks (ratios, cross-checks, concentration), rebuild the flags, score with the
    scorecard in force, recommend a route and write the summary onto the application. Only on
    request: a new scorecard never rescores existing results."""
    application, _investigation = _for_edit(actor=actor, application_id=application_id)
    return _score_case(application=application, actor=actor)


def data_route_refusals(*, application, grade: str, flags: list[dict], policy) -> list[str]:
    """Why the application may not take the data-driven fast track (empty: it may): the
    product allows it, an online application filed by the owner, all four sources answered,
    no high flag from the sources, and the fast-track rule (grade, amount cap, no flag)."""
    from approvals.selectors import FAST_TRACK_GRADES
    from datasources.models import Source, SourceQuery
    from datasources.texts import SOURCE_FLAG_MESSAGES
    from org.roles import Role, has_role

    product = application.product
    refusals = []
    if not (product.data_fast_track and product.fast_track_eligible):
        refusals.append("product")
    if application.channel != LoanApplication.Channel.ONLINE or not (
        application.filed_by_id and has_role(application.filed_by, Role.APPLICANT)
    ):
        refusals.append("not_online_by_owner")
    answered = set(
        SourceQuery.objects.filter(
            application=application, status=SourceQuery.Status.ARRIVED
        ).values_list("source", flat=True)
    )
    if answered != set(Source.values):
        refusals.append("sources_missing")
    if any(
        f["code"] in SOURCE_FLAG_MESSAGES and f["severity"] == Flag.Severity.HIGH for f in flags
    ):
        refusals.append("high_source_flag")
    if grade not in FAST_TRACK_GRADES or grade not in policy.fast_track_grades:
        refusals.append("grade")
    if application.amount > policy.fast_track_max_amount:
        refusals.append("amount")
    if flags:
        refusals.append("flags")
    return refusals


def _score_case(*, application: LoanApplication, actor) -> ScoreResult:
    """The scoring of investigation_score, for the investigator or the system (actor None,
    the data-driven fast track), the application locked by the caller."""
    scorecard = scorecard_current()
    if scorecard is None:
        raise Conflict(_("No scorecard is configured."), code="no_scorecard")
    investigation = investigation_for(application=application)
    policy = policy_current()
    ratios = ratios_compute(application=application, investigation=investigation)
    cross, flags = cross_check_flags(investigation=investigation, policy=policy)
    conc, conc_flags = concentration_flags(
        application=application, investigation=investigation, policy=policy
    )
    flags += conc_flags
    flags += source_flags(application=application, policy=policy)
    for item in investigation.verifications.all():
        if item.status == VerificationItem.Status.MISMATCH:
            flags.append(
                _flag(
                    "verification_mismatch",
                    Flag.Severity.MEDIUM,
                    {"fact": item.fact, "note": item.note[:300]},
                    fact=item.fact,
                    source=item.source,
                )
            )
    sourced, provenance = source_field_inputs(application=application, scorecard=scorecard)
    result = scorecard_apply(
        scorecard=scorecard,
        inputs={
            **score_inputs(application=application, investigation=investigation, ratios=ratios),
            **sourced,
        },
        provenance=provenance,
    )
    data_refusals = (
        data_route_refusals(
            application=application, grade=result["grade"], flags=flags, policy=policy
        )
        if application.product.data_fast_track
        else None
    )
    _site_visit_waiver(
        application=application,
        investigation=investigation,
        actor=actor,
        refusals=data_refusals,
        grade=result["grade"],
        policy=policy,
    )
    completeness = completeness_pct(investigation=investigation)
    route = route_recommend(
        application=application,
        grade=result["grade"],
        completeness=completeness,
        flags=flags,
        policy=policy,
    )

    Flag.objects.filter(investigation=investigation).delete()
    Flag.objects.bulk_create(
        [Flag(investigation=investigation, application=application, **f) for f in flags]
    )
    ScoreResult.objects.filter(application=application, is_current=True).update(is_current=False)
    score = ScoreResult.objects.create(
        investigation=investigation,
        application=application,
        scorecard=scorecard,
        scorecard_version=scorecard.version,
        score=result["score"],
        max_score=result["max_score"],
        grade=result["grade"],
        pd_pct=result["pd"],
        breakdown=result["breakdown"],
        reasons=result["reasons"],
        route=route,
        scored_by=actor,
    )
    # Why it may not take the data-driven route (None: the product has no such route), for
    # data_fast_track_run to record on the route; not a column.
    score.data_route_refusals = data_refusals

    def jsonable(d):
        return {
            k: (
                str(v)
                if isinstance(v, Decimal)
                else ({kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
            )
            for k, v in d.items()
        }

    Investigation.objects.filter(pk=investigation.pk).update(
        derived={
            "ratios": jsonable(ratios),
            "cross_check": jsonable(cross),
            "concentration": jsonable(conc),
            "completeness_pct": str(completeness),
            "policy_version": policy.version,
        },
        analysed_at=timezone.now(),
    )
    LoanApplication.objects.filter(pk=application.pk).update(
        risk_grade=result["grade"],
        risk_score=result["score"],
        route_recommendation=route,
        flag_count=len(flags),
    )
    audit_record(
        action="investigation_score",
        actor=actor,
        actor_role=primary_role(actor) if actor is not None else "system",
        application=application,
        kind="action",
        subject_type="investigation.scoreresult",
        subject_id=score.pk,
        data={
            "scorecard_version": scorecard.version,
            "score": result["score"],
            "grade": result["grade"],
            "route": route,
            "flags": len(flags),
            "source_fields": {
                key: {"value": row.get("value"), "query_id": row.get("query_id")}
                for key, row in ((r["factor"], r) for r in result["breakdown"])
                if key in provenance
            },
            "data_route": data_refusals,
        },
    )
    return score


def _site_visit_waiver(
    *, application, investigation: Investigation, actor, refusals: list[str] | None, grade, policy
) -> None:
    """Waive the site visit when the application passes the data-driven fast track (refusals
    empty), with the reason recorded and audited; withdraw a waiver it no longer earns."""
    waived = investigation.site_visit_waived_at is not None
    if refusals == [] and not waived:
        reason = _(
            "Site visit waived, decided on external data: all four sources answered with no "
            "flag, grade %(grade)s, amount within the fast-track cap of %(cap)s."
        ) % {"grade": grade, "cap": f"{policy.fast_track_max_amount:,.2f}"}
        investigation.site_visit_waived_at = timezone.now()
        investigation.site_visit_waived_reason = reason[:300]
        action = "investigation_site_visit_waived"
    elif refusals != [] and waived:
        investigation.site_visit_waived_at = None
        investigation.site_visit_waived_reason = ""
        action = "investigation_site_visit_waiver_withdrawn"
    else:
        return
    Investigation.objects.filter(pk=investigation.pk).update(
        site_visit_waived_at=investigation.site_visit_waived_at,
        site_visit_waived_reason=investigation.site_visit_waived_reason,
    )
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor) if actor is not None else "system",
        application=application,
        kind="action",
        subject_type="investigation.investigation",
        subject_id=investigation.pk,
        comment=investigation.site_visit_waived_reason,
        data={"refusals": refusals or [], "decided_on_external_data": refusals == []},
    )


def data_fast_track_sweep(*, limit: int = 200) -> int:
    """The data-driven fast track for applications under investigation, of a product that
    allows it, whose four sources have answered and which the system has not yet looked at
    (its task lost to a broker outage). Returns how many were sent to approval."""
    from django.db.models import Exists, OuterRef

    from datasources.models import Source, SourceQuery

    ids = list(
        LoanApplication.objects.filter(status=Status.INVESTIGATION, product__data_fast_track=True)
        .annotate(
            answered=Count(
                "source_queries__source",
                filter=Q(source_queries__status=SourceQuery.Status.ARRIVED),
                distinct=True,
            ),
            system_scored=Exists(
                ScoreResult.objects.filter(application=OuterRef("pk"), scored_by__isnull=True)
            ),
        )
        .filter(answered=len(Source.values), system_scored=False)
        .order_by("status_changed_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for application_id in ids:
        try:
            sent += data_fast_track_run(application_id=application_id) == "sent"
        except Exception:
            logger.exception("Data-driven fast track failed for application %s", application_id)
    return sent


def data_fast_track_run(*, application_id: int) -> str:
    """The data-driven fast track, by the system once the sources have answered: an
    application under investigation, of a product that allows it, is scored on the sources'
    answers; if it passes (site visit waived) it is sent to approval, where the fast track
    approves it automatically. Otherwise it stays with its investigator on the normal route,
    with the reasons recorded on its route (datasources.DataRoute) and audited. A route that
    fell back or that a person took over is left alone. Returns what happened: sent,
    normal_route, waiting, skipped."""
    from datasources.models import DataRoute, Source, SourceQuery
    from datasources.services import data_route_fall_back

    with transaction.atomic():
        application = (
            LoanApplication.objects.select_for_update(of=("self",))
            .select_related("product", "company", "filed_by")
            .filter(pk=application_id)
            .first()
        )
        if (
            application is None
            or application.status != Status.INVESTIGATION
            or not application.product.data_fast_track
        ):
            return "skipped"
        arrived = set(
            SourceQuery.objects.filter(
                application=application, status=SourceQuery.Status.ARRIVED
            ).values_list("source", flat=True)
        )
        if arrived != set(Source.values):
            return "waiting"
        if ScoreResult.objects.filter(application=application, scored_by__isnull=True).exists():
            return "skipped"  # the system looks once; then the investigator goes on
        route = DataRoute.objects.select_for_update().filter(application=application).first()
        if route is None:
            # The sources were asked by the case officer under investigation.
            route = DataRoute.objects.create(application=application)
        elif route.status != DataRoute.Status.WAITING:
            return "skipped"  # fallen back, or taken over by a person: theirs now
        investigation_open(application=application)
        score = _score_case(application=application, actor=None)
        investigation = Investigation.objects.get(application=application)
        if investigation.site_visit_waived_at is None or score.route != "fast_track":
            data_route_fall_back(
                route=route,
                application=application,
                reasons=score.data_route_refusals or ["route"],
                data={"grade": score.grade, "route": score.route, "score_id": score.pk},
            )
            return "normal_route"
        from applications.services import application_transition

        application.refresh_from_db()
        try:
            # Its own savepoint: a gate that refuses (a party not assessed) falls back
            # instead of failing the task again at every sweep.
            with transaction.atomic():
                application_transition(
                    application_id=application_id,
                    transition="send_to_approval",
                    actor=None,
                    system=True,
                    locked=application,
                    comment=_("Sent to approval by the system: decided on external data."),
                    data={"decided_on_external_data": True, "score_id": score.pk},
                )
        except Conflict as exc:
            data_route_fall_back(
                route=route,
                application=application,
                reasons=["incomplete"],
                data={"missing": [str(m) for m in getattr(exc, "missing", None) or []]},
            )
            return "normal_route"
        route.send()
        route.save()
    return "sent"


# --- Credit memo ---------------------------------------------------------------------------------


def _enqueue_render(memo_id: int) -> None:
    from investigation.tasks import render_credit_memo  # the tasks module imports this one

    enqueue_on_commit(render_credit_memo, memo_id)


@transaction.atomic
def memo_request(*, application_id: int, actor) -> CreditMemo:
    """A new memo version, pending until the worker renders it after commit."""
    application, investigation = _for_edit(actor=actor, application_id=application_id)
    score = ScoreResult.objects.filter(application=application, is_current=True).first()
    if score is None or score.created_at < investigation.changed_at:
        raise Conflict(
            _(
                "Compute the risk score (again) before generating the memo: the "
                "investigation changed since it was last scored."
            ),
            code="not_scored",
        )
    last = CreditMemo.objects.filter(application=application).order_by("-version").first()
    memo = CreditMemo.objects.create(
        application=application,
        investigation=investigation,
        version=(last.version + 1) if last else 1,
        language=application.language or "zh-hans",
        requested_by=actor,
    )
    audit_record(
        action="investigation_memo_request",
        actor=actor,
        actor_role=primary_role(actor),
        application=application,
        kind="action",
        subject_type="investigation.creditmemo",
        subject_id=memo.pk,
        data={"version": memo.version},
    )
    _enqueue_render(memo.pk)
    return memo


@transaction.atomic
def memo_retry(*, application_id: int, actor, memo_id: int) -> CreditMemo:
    """Enqueue the render again for a memo still pending (broker outage) or failed."""
    application = application_get(user=actor, pk=application_id)
    if application.investigator_id != actor.pk:
        raise Forbidden(
            _("Only the investigator may regenerate the memo."), code="not_investigator"
        )
    memo = (
        CreditMemo.objects.select_for_update().filter(pk=memo_id, application=application).first()
    )
    if memo is None:
        raise NotFound()
    if not can_proceed(memo.retry):
        raise Conflict(_("This memo is already ready."), code="memo_ready")
    memo.retry()
    memo.save(update_fields=["status", "error"])
    audit_record(
        action="investigation_memo_retry",
        actor=actor,
        actor_role=primary_role(actor),
        application=application,
        kind="action",
        subject_type="investigation.creditmemo",
        subject_id=memo_id,
    )
    _enqueue_render(memo_id)
    return memo


def memo_requeue_pending(
    *, older_than_seconds: int = CreditMemo.STALE_AFTER_SECONDS, limit: int = 100
) -> int:
    """Enqueue again the renders of memos still pending after a while (their enqueue was lost
    to a broker outage). Rendering is idempotent, so a slow render enqueued twice is harmless.
    Reads the partial index on pending memos."""
    from common.queue import enqueue_now
    from investigation.tasks import render_credit_memo

    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    ids = list(
        CreditMemo.objects.filter(status=CreditMemo.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for memo_id in ids if enqueue_now(render_credit_memo, memo_id))


def memo_context(*, memo: CreditMemo) -> dict:
    application = LoanApplication.objects.select_related(
        "company", "product", "branch", "investigator", "relationship_manager"
    ).get(pk=memo.application_id)
    investigation = investigation_for(application=application)
    periods = _periods(investigation)
    score = ScoreResult.objects.filter(application=application, is_current=True).first()
    answers = {a.question_id: a.value for a in investigation.answers.all()}
    questions = (
        list(investigation.questionnaire.questions.all()) if investigation.questionnaire else []
    )
    return {
        "memo": memo,
        "application": application,
        "company": application.company,
        "investigation": investigation,
        "periods": [(p, periods.get(p.value)) for p in FinancialPeriod.Period],
        "figures": FIGURES,
        "derived": investigation.derived or {},
        "score": score,
        "score_rows": score_rows(score),
        "reasons": score_reason_labels(score),
        "flags": list(investigation.flags.all()),
        "verifications": list(investigation.verifications.all()),
        "guarantors": list(application.guarantors.all()),
        "collateral": list(application.collateral.all()),
        "visits": list(investigation.site_visits.all()),
        "qa": [(q.label(), q.answer_text(answers.get(q.id, ""))) for q in questions],
        "generated_at": timezone.now(),
    }


def memo_html(*, memo: CreditMemo) -> str:
    language = "zh-hans" if (memo.language or "").startswith("zh") else "en"
    with translation.override(language):
        return render_to_string("investigation/memo.html", memo_context(memo=memo))


def memo_render(*, memo_id: int) -> CreditMemo | None:
    """Render a pending memo to PDF and store it (called by the Celery task; idempotent: a
    memo already ready is left alone)."""
    from investigation.memo import BundledAssetFetcher, html_to_pdf

    memo = CreditMemo.objects.filter(pk=memo_id).first()
    if memo is None or memo.status == CreditMemo.Status.READY:
        return memo
    started = time.monotonic()
    try:
        pdf = html_to_pdf(memo_html(memo=memo), fetcher=BundledAssetFetcher())
    except Exception as exc:  # noqa: BLE001 - record the failure visibly, retry later
        logger.exception("Credit memo %s failed to render", memo_id)
        with transaction.atomic():
            memo = CreditMemo.objects.select_for_update().get(pk=memo_id)
            if can_proceed(memo.failed):  # still pending: no other worker finished it
                memo.failed(error=str(exc))
                memo.save(update_fields=["status", "error"])
        return memo
    elapsed = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        memo = CreditMemo.objects.select_for_update().get(pk=memo_id)
        if memo.status == CreditMemo.Status.READY:
            return memo  # another worker got there first
        memo.file.save("memo.pdf", ContentFile(pdf), save=False)
        memo.rendered(render_ms=elapsed)
        memo.save()
        audit_record(
            action="investigation_memo_ready",
            actor=None,
            actor_role="system",
            application=memo.application,
            kind="action",
            subject_type="investigation.creditmemo",
            subject_id=memo.pk,
            data={"version": memo.version, "render_ms": elapsed},
        )
    return memo


# --- The loan record's transitions (called from applications.effects) ----------------------


def on_application_transitioned(*, application: LoanApplication, transition: str) -> None:
    if transition == "start_investigation":
        investigation_open(application=application)
    elif transition == "return_to_investigation":
        investigation = investigation_open(application=application)
        Investigation.objects.filter(pk=investigation.pk).update(returned_at=timezone.now())
