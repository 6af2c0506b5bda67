"""Intake reads: published checklists, an application's checklist status, documents, the
applicant's to-do list."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import GuaranteeType, LoanApplication, Product
from applications.services import validate_against_product
from intake.models import (
    AdmissionFacts,
    ChecklistItem,
    Document,
    Guarantor,
    InfoRequest,
    PrescreenResult,
    PrescreenRule,
    Stage,
    prescreen_entry_worded,
)

STAGE_ORDER = [Stage.SUBMIT, Stage.START_INVESTIGATION]


def product_list_published() -> QuerySet[Product]:
    today = timezone.localdate()
    return (
        Product.objects.filter(is_active=True)
        .exclude(active_from__gt=today)
        .exclude(active_until__lt=today)
        .prefetch_related(
            Prefetch(
                "checklist_items", queryset=ChecklistItem.objects.select_related("document_type")
            )
        )
        .order_by("code")
    )


def product_get_published(*, code: str) -> Product | None:
    return product_list_published().filter(code=code).first()


def prescreen_rules_for(*, product_id: int) -> QuerySet[PrescreenRule]:
    """The active pre-screen rules an application for the product is screened by: the
    bank-wide ones and the product's own, the negative list among them."""
    return PrescreenRule.objects.filter(is_active=True).filter(
        Q(product__isnull=True) | Q(product_id=product_id)
    )


@dataclass(frozen=True)
class Criterion:
    """One admission criterion of a product in plain words, in the active language; with the
    applicant's facts, whether they meet it and why."""

    kind: str
    text: str
    met: bool | None = None
    explanation: str = ""


def admission_criteria(
    *, product: Product, facts: AdmissionFacts | None = None, today: date | None = None
) -> list[Criterion]:
    """What an applicant for the product must meet: the terms a request must fit when it is
    filed (amount, term, guarantee type: applications.services.validate_against_product)
    and the pre-screen rules the submission runs (PrescreenRule.assess), except the negative
    list, which stays internal and is not even read. With `facts`, each criterion says
    whether they meet it. Reads the rules and nothing else; writes nothing."""
    terms = product.snapshot()
    rules = list(
        prescreen_rules_for(product_id=product.pk).exclude(kind=PrescreenRule.Kind.NEGATIVE_LIST)
    )
    labels = dict(GuaranteeType.choices)
    published = {
        "term_months": _("A term from %(min)d to %(max)d months")
        % {"min": product.min_term_months, "max": product.max_term_months},
        "guarantee_type": _("Guarantee types accepted: %(types)s")
        % {"types": ", ".join(str(labels.get(t, t)) for t in product.guarantee_types)},
    }
    # With an amount rule, the rule says it (the same range); else the filing's check does.
    if not any(rule.kind == PrescreenRule.Kind.AMOUNT_WITHIN_PRODUCT for rule in rules):
        published = {
            "amount": _("An amount from %(min)s to %(max)s %(cur)s")
            % {
                "min": f"{product.min_amount:,.2f}",
                "max": f"{product.max_amount:,.2f}",
                "cur": product.currency,
            },
            **published,
        }
    if facts is None:
        return [Criterion(kind=kind, text=text) for kind, text in published.items()] + [
            Criterion(kind=rule.kind, text=rule.criterion(terms=terms)) for rule in rules
        ]

    errors = validate_against_product(
        product=product,
        amount=facts.amount,
        term_months=facts.term_months,
        interest_rate=None,
        repayment_method="",
        guarantee_type=facts.guarantee_type,
    )
    fits = {
        "amount": _("The amount %(amount)s fits.") % {"amount": f"{facts.amount:,.2f}"},
        "term_months": _("A term of %(months)d months fits.") % {"months": facts.term_months},
        "guarantee_type": _("%(type)s is accepted.")
        % {"type": labels.get(facts.guarantee_type, facts.guarantee_type)},
    }
    criteria = [
        Criterion(
            kind=kind,
            text=text,
            met=kind not in errors,
            explanation=str(errors[kind][0]) if kind in errors else fits[kind],
        )
        for kind, text in published.items()
    ]
    today = today or timezone.localdate()
    for rule in rules:
        outcome = rule.assess(facts, terms=terms, today=today)
        criteria.append(
            Criterion(
                kind=rule.kind,
                text=outcome.criterion,
                met=outcome.passed,
                explanation=outcome.finding,
            )
        )
    return criteria


@dataclass
class ChecklistLine:
    item: ChecklistItem
    guarantor: Guarantor | None
    document: Document | None
    stage: str

    @property
    def label(self) -> str:
        name = self.item.document_type.display_name
        if self.guarantor is not None:
            return _("%(doc)s for guarantor %(name)s") % {"doc": name, "name": self.guarantor.name}
        return name

    @property
    def state(self) -> str:
        if self.document is None:
            return "missing"
        return self.document.status


def checklist_lines(
    application: LoanApplication, *, stages=None, items=None, guarantors=None, documents=None
) -> list[ChecklistLine]:
    """Every line of the checklist that applies to this application (guarantee type,
    guarantors), with its current document. Three queries, whatever the size."""
    stages = stages or STAGE_ORDER
    if items is None:
        items = list(
            ChecklistItem.objects.filter(
                product_id=application.product_id, stage__in=stages
            ).select_related("document_type")
        )
    if guarantors is None:
        guarantors = list(Guarantor.objects.filter(application=application))
    if documents is None:
        documents = list(Document.objects.filter(application=application, is_current=True))
    current = {(d.document_type_id, d.guarantor_id): d for d in documents}
    lines = []
    for item in items:
        if item.stage not in stages:
            continue
        if (
            item.only_for_guarantee_type
            and item.only_for_guarantee_type != application.guarantee_type
        ):
            continue
        if item.per_guarantor:
            for guarantor in guarantors:
                lines.append(
                    ChecklistLine(
                        item,
                        guarantor,
                        current.get((item.document_type_id, guarantor.pk)),
                        item.stage,
                    )
                )
        else:
            lines.append(
                ChecklistLine(item, None, current.get((item.document_type_id, None)), item.stage)
            )
    return lines


def checklist_missing(application: LoanApplication, *, transition: str) -> list[str]:
    """What blocks `transition`: for submit every required document uploaded and not
    rejected; for start_investigation every required document accepted."""
    stages = [Stage.SUBMIT] if transition == "submit" else STAGE_ORDER
    missing = []
    for line in checklist_lines(application, stages=stages):
        if not line.item.required:
            continue
        state = line.state
        if state == "missing":
            missing.append(_("Missing document: %(label)s.") % {"label": line.label})
        elif state == "rejected":
            missing.append(
                _("Rejected document to send again: %(label)s (%(reason)s).")
                % {"label": line.label, "reason": line.document.review_reason}
            )
        elif transition != "submit" and state != "accepted":
            missing.append(
                _("Document not yet accepted by the bank: %(label)s.") % {"label": line.label}
            )
    return missing


def document_list(*, application: LoanApplication, history: bool = False) -> QuerySet[Document]:
    qs = Document.objects.filter(application=application).select_related(
        "document_type", "guarantor", "uploaded_by", "reviewed_by"
    )
    if not history:
        qs = qs.filter(is_current=True)
    return qs.order_by("document_type__code", "guarantor_id", "-version")


def document_get(*, application: LoanApplication, pk: int) -> Document | None:
    return Document.objects.filter(application=application, pk=pk).first()


def info_request_list(
    *, application: LoanApplication, open_only: bool = False
) -> QuerySet[InfoRequest]:
    qs = InfoRequest.objects.filter(application=application).select_related(
        "document_type", "requested_by"
    )
    if open_only:
        qs = qs.filter(status=InfoRequest.Status.OPEN)
    return qs


def prescreen_latest(*, application: LoanApplication) -> PrescreenResult | None:
    """The latest pre-screen, its rules and reasons worded for the reader (to read, never to
    save: the stored lists keep their codes)."""
    result = PrescreenResult.objects.filter(application=application).first()
    if result is not None:
        result.checked = [prescreen_entry_worded(entry) for entry in result.checked]
        result.failures = [prescreen_entry_worded(entry) for entry in result.failures]
    return result


@dataclass
class TodoItem:
    kind: str  # "document", "question", "resend"
    text: str
    document_type: str = ""
    guarantor_id: int | None = None
    info_request_id: int | None = None
    due_date: date | None = None
    reason: str = ""


def applicant_todo(*, application: LoanApplication) -> list[TodoItem]:
    """What the bank still needs from the applicant, in plain words."""
    todo: list[TodoItem] = []
    for request in info_request_list(application=application, open_only=True):
        todo.append(
            TodoItem(
                kind=request.kind,
                text=request.text,
                document_type=request.document_type.code if request.document_type else "",
                info_request_id=request.pk,
                due_date=request.due_date,
            )
        )
    if application.status in (
        "draft",
        "submitted",
        "investigation",
        "in_approval",
        "info_requested",
    ):
        for line in checklist_lines(application):
            if line.state == "rejected":
                todo.append(
                    TodoItem(
                        kind="resend",
                        text=line.label,
                        document_type=line.item.document_type.code,
                        guarantor_id=line.guarantor.pk if line.guarantor else None,
                        reason=line.document.review_reason,
                    )
                )
            elif (
                line.state == "missing"
                and line.item.required
                and (application.status == "draft" or line.stage != Stage.SUBMIT)
            ):
                todo.append(
                    TodoItem(
                        kind="document",
                        text=line.label,
                        document_type=line.item.document_type.code,
                        guarantor_id=line.guarantor.pk if line.guarantor else None,
                    )
                )
    return todo
