"""Reads for the investigation: configuration in force, the workspace, what the gate misses."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import Prefetch
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from applications.selectors import application_get
from common.errors import NotFound
from common.i18n import in_language
from investigation.models import (
    CreditMemo,
    Flag,
    IndustryRisk,
    Investigation,
    InvestigationPolicy,
    Question,
    Questionnaire,
    RepaymentRecord,
    Scorecard,
    ScoreResult,
    SiteVisit,
    VerificationItem,
)
from org.selectors import is_staff_member
from pricing.selectors import application_price_buildup


def policy_current() -> InvestigationPolicy:
    policy = InvestigationPolicy.objects.order_by("-version").first()
    if policy is None:  # defaults until an administrator saves one
        policy = InvestigationPolicy(
            version=0, fast_track_grades=["A", "B"], enhanced_grades=["D", "E"]
        )
    return policy


def scorecard_current() -> Scorecard | None:
    return (
        Scorecard.objects.filter(is_active=True)
        .prefetch_related("factors")
        .order_by("-version")
        .first()
    )


def questionnaire_for_product(*, product) -> Questionnaire | None:
    return (
        Questionnaire.objects.filter(product=product, is_active=True).order_by("-version").first()
    )


def investigation_application_get(*, user, pk):
    """The application, if `user` is staff who may see it (SME owners never see the
    investigation)."""
    application = application_get(user=user, pk=pk)
    if not is_staff_member(user):
        raise NotFound()
    return application


def investigation_queue(*, user):
    """Applications under investigation that `user` investigates, oldest status change first."""
    from applications.models import LoanApplication, Status

    if not is_staff_member(user):
        return LoanApplication.objects.none()
    return (
        LoanApplication.objects.filter(status=Status.INVESTIGATION, investigator=user)
        .select_related("company", "product")
        .order_by("status_changed_at", "id")
    )


def investigation_for(*, application) -> Investigation | None:
    return (
        Investigation.objects.filter(application=application)
        .select_related("questionnaire")
        .prefetch_related(
            Prefetch("questionnaire__questions", queryset=Question.objects.order_by("order", "id")),
            "answers",
            "financials",
            Prefetch(
                "verifications", queryset=VerificationItem.objects.select_related("verified_by")
            ),
            Prefetch("site_visits", queryset=SiteVisit.objects.prefetch_related("photos")),
            Prefetch("flags", queryset=Flag.objects.order_by("id")),
        )
        .first()
    )


def score_current(*, application) -> ScoreResult | None:
    return ScoreResult.objects.filter(application=application, is_current=True).first()


def score_rows(score: ScoreResult | None) -> list[dict]:
    """The breakdown with factor names in the active language and the reason factors marked."""
    if score is None:
        return []
    from investigation.models import ScorecardFactor

    labels = dict(ScorecardFactor.Code.choices)
    rows = []
    for row in score.breakdown:
        shown = {
            **row,
            "label": str(labels.get(row["factor"], row.get("label", ""))),
            "value": factor_value_text(row["factor"], row.get("value")),
            "raw_value": row.get("value"),
            "is_reason": row["factor"] in score.reasons,
        }
        if row.get("kind") == ScorecardFactor.Kind.SOURCE_FIELD:
            shown.update(_source_field_shown(row))
        rows.append(shown)
    return rows


def _source_field_shown(row: dict) -> dict:
    """A source field's name in the reader's language, its value as the source gave it (or
    "missing"), and where it came from: the source and the time its answer arrived."""
    import datetime

    from django.utils import formats, timezone

    from datasources.models import Source

    answered = row.get("answered_at")
    when = ""
    if answered:
        moment = timezone.localtime(datetime.datetime.fromisoformat(answered))
        when = formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    source = str(Source(row["source"]).label) if row.get("source") in Source.values else ""
    missing = row.get("value") in (None, "")
    return {
        "label": in_language(row.get("label", ""), row.get("label_zh", "")),
        "value": _("missing") if missing else str(row["value"]),
        "missing": missing,
        "source_label": source,
        "answered_at_text": when,
        "provenance": (
            _("%(source)s, answer of %(when)s") % {"source": source, "when": when}
            if when
            else _("%(source)s: no answer") % {"source": source}
        ),
    }


# Factors whose value is a share (shown as a percentage) or a multiple (shown as "1.25x").
_PERCENT_FACTORS = frozenset({"debt_ratio", "net_margin"})
_MULTIPLE_FACTORS = frozenset({"current_ratio", "dscr", "collateral_coverage"})


def factor_value_text(factor: str, value) -> str:
    """A scorecard input in words and locale-formatted numbers, in the active language:
    `good` -> "Always repaid on time", `0.4625` -> "46.3%"; empty when missing."""
    if value in (None, ""):
        return ""
    choices = {"repayment_record": RepaymentRecord, "industry_risk": IndustryRisk}.get(factor)
    if choices is not None:
        return str(choices(value).label) if value in choices.values else str(value)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if factor in _PERCENT_FACTORS:
        return f"{_rounded(number * 100, '0.1')}%"
    if factor in _MULTIPLE_FACTORS:
        return f"{_rounded(number, '0.01')}×"
    if factor == "revenue":
        return _rounded(number, "0.01", grouping=True)
    if factor == "years_in_business":
        return _rounded(number, "0.1")
    return str(value)


def _rounded(number: Decimal, places: str, *, grouping: bool = False) -> str:
    # Half up, as people round (number_format alone rounds half to even: 46.25 -> 46.2).
    value = number.quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return number_format(value, use_l10n=True, force_grouping=grouping)


def score_reason_labels(score: ScoreResult | None) -> list[str]:
    if score is None:
        return []
    from investigation.models import ScorecardFactor

    labels = dict(ScorecardFactor.Code.choices)
    for row in score.breakdown:
        if row.get("kind") == ScorecardFactor.Kind.SOURCE_FIELD:
            labels[row["factor"]] = in_language(row.get("label", ""), row.get("label_zh", ""))
    return [str(labels.get(code, code)) for code in score.reasons]


def case_summary(*, application) -> dict:
    """The credit case as the application page and the approver's workbench show it: the
    current score with each factor's points and the reasons in words, the flags with their
    evidence (the High ones apart), the derived ratios and cross-checks, the guarantors, the
    collateral with its lendable value, the price build-up (pricing.selectors), the
    investigator's opinion and the ready memos. A
    fixed number of queries, whatever the number of flags, guarantors or collateral."""
    investigation = (
        Investigation.objects.filter(application=application)
        .only("id", "application_id", "opinion", "derived", "analysed_at")
        .prefetch_related(Prefetch("flags", queryset=Flag.objects.order_by("id")))
        .first()
    )
    score = score_current(application=application)
    flags = list(investigation.flags.all()) if investigation else []
    # The application's guarantors and collateral: filed in the wizard, completed by the
    # investigator (intake.models).
    guarantors = list(application.guarantors.order_by("id"))
    collateral = list(application.collateral.order_by("id"))
    derived = (investigation.derived if investigation else None) or {}
    pricing = (
        application_price_buildup(
            application=application,
            pd_pct=score.pd_pct,
            collateral=collateral,
            guarantors=guarantors,
        )
        if score is not None
        else None
    )
    return {
        "investigation": investigation,
        "score": score,
        "score_rows": score_rows(score),
        "reasons": score_reason_labels(score),
        "flags": flags,
        "high_flags": [f for f in flags if f.severity == Flag.Severity.HIGH],
        "ratios": derived.get("ratios") or {},
        "cross": derived.get("cross_check") or {},
        "conc": derived.get("concentration") or {},
        "guarantors": guarantors,
        "collateral": collateral,
        "lendable_total": sum(
            (c.lendable_value for c in collateral if c.lendable_value is not None), Decimal("0")
        ),
        "pricing": pricing,
        "facility_range": _facility_range(application),
        "opinion": investigation.opinion if investigation else "",
        "memos": list(
            CreditMemo.objects.filter(
                application=application, status=CreditMemo.Status.READY
            ).order_by("-version")[:5]
        ),
    }


def _facility_range(application) -> tuple | None:
    """A facility application's proposed pricing range (lower end, upper end), shown next to
    its build-up; None for a loan or a drawdown."""
    from facilities.selectors import facility_pricing_range

    if not application.is_facility_application:
        return None
    return facility_pricing_range(application=application)


def flags_high(*, application_id: int) -> list[Flag]:
    """The application's open High flags (an approval must say how each is mitigated)."""
    return list(
        Flag.objects.filter(application_id=application_id, severity=Flag.Severity.HIGH)
        .only("id", "code", "message", "params")
        .order_by("id")
    )


def memos_for(*, application) -> list[CreditMemo]:
    return list(CreditMemo.objects.filter(application=application).order_by("-version"))


def memo_get(*, user, application_pk, memo_pk) -> CreditMemo:
    application = investigation_application_get(user=user, pk=application_pk)
    try:
        return CreditMemo.objects.get(application=application, pk=memo_pk)
    except (CreditMemo.DoesNotExist, ValueError):
        raise NotFound() from None


def questionnaire_missing(investigation: Investigation) -> list[Question]:
    if investigation.questionnaire is None:
        return []
    answered = {a.question_id for a in investigation.answers.all() if a.value.strip()}
    return [
        q
        for q in investigation.questionnaire.questions.all()
        if q.required and q.id not in answered
    ]


def decided_on_external_data(*, application) -> bool:
    """Whether the application took the data-driven fast track: its site visit was waived
    because it passed the external sources and the fast-track rule (an unsaved application,
    a what-if route, did not)."""
    if application.pk is None:
        return False
    return Investigation.objects.filter(
        application=application, site_visit_waived_at__isnull=False
    ).exists()


def _parties_and_score_missing(*, application) -> list[str]:
    missing: list[str] = []
    for guarantor in application.guarantors.all():
        if not guarantor.is_assessed:
            missing.append(
                _("Guarantor %(name)s has not been assessed.") % {"name": guarantor.name}
            )
    for item in application.collateral.all():
        if not item.is_valued:
            missing.append(
                _("Collateral '%(description)s' has not been valued.")
                % {"description": item.description}
            )
    if score_current(application=application) is None:
        missing.append(_("The risk score has not been computed."))
    return missing


def investigation_missing(*, application) -> list[str]:
    """What still blocks `send_to_approval` (no side effects: this runs inside the gate)."""
    investigation = investigation_for(application=application)
    if investigation is None:
        return [_("The investigation has not been started.")]
    missing: list[str] = []
    if investigation.site_visit_waived_at is not None:
        # The data-driven fast track: the site visit is waived and the facts come from the
        # sources, so the reduced checklist is the parties and a current score on them.
        return _parties_and_score_missing(application=application)
    if investigation.questionnaire is None:
        missing.append(_("There is no questionnaire for this product."))
    for question in questionnaire_missing(investigation):
        missing.append(_("Questionnaire: '%(q)s' is not answered.") % {"q": question.label()})
    pending = [
        v for v in investigation.verifications.all() if v.status == VerificationItem.Status.PENDING
    ]
    if pending:
        missing.append(
            _("Verification not done: %(facts)s.")
            % {"facts": ", ".join(str(v.get_fact_display()) for v in pending)}
        )
    for guarantor in application.guarantors.all():
        if not guarantor.is_assessed:
            missing.append(
                _("Guarantor %(name)s has not been assessed.") % {"name": guarantor.name}
            )
    for item in application.collateral.all():
        if not item.is_valued:
            missing.append(
                _("Collateral '%(description)s' has not been valued.")
                % {"description": item.description}
            )
    if score_current(application=application) is None:
        missing.append(_("The risk score has not been computed."))
    fresh_after = max(filter(None, [investigation.changed_at, investigation.returned_at]))
    ready = CreditMemo.objects.filter(
        application=application, status=CreditMemo.Status.READY, created_at__gte=fresh_after
    ).exists()
    if not ready:
        being_rendered = CreditMemo.objects.filter(
            application=application, status=CreditMemo.Status.PENDING, created_at__gte=fresh_after
        ).exists()
        missing.append(
            _("The credit memo is still being generated: send it when it is ready.")
            if being_rendered
            else _("The credit memo has not been generated since the investigation last changed.")
        )
    return missing
