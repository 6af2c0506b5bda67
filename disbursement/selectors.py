"""Reads of the disbursement stage."""

import hashlib
import json
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from applications.models import LoanApplication, RepaymentMethod, Status
from applications.selectors import application_scope_q
from approvals.models import ApprovalCondition
from disbursement.models import Contract, Disbursement, Instalment, Offer
from disbursement.schedule import Conventions
from org.roles import Role, has_role
from sla.calendar import get_calendar

ZERO = Decimal("0.00")


def repayment_method_label(method: str) -> str:
    try:
        return str(RepaymentMethod(method).label)
    except ValueError:
        return method


def schedule_conventions(application) -> Conventions:
    """How the application's schedule is drawn: its product's conventions as it was filed
    under them (the product's own for an application filed without a snapshot), with the
    business calendar of its branch."""
    terms = application.product_snapshot or application.product.snapshot()
    return Conventions.of_terms(terms, calendar=get_calendar(application.branch.region))


def offer_for(application) -> Offer | None:
    return Offer.objects.defer("pdf").filter(application=application).first()


# From approval on, the owner sees their offer, contract and schedule.
OFFER_STATUSES = (
    Status.APPROVED,
    Status.CONTRACT_SIGNED,
    Status.DISBURSED,
    Status.CLOSED,
    Status.WRITTEN_OFF,
)


def offer_stage_reached(application) -> bool:
    """The application has an offer to show its owner (approved or later)."""
    return application.status in OFFER_STATUSES


def offer_can_be_accepted(*, application, offer: Offer | None, user) -> bool:
    """The owner may accept the offer: the application is approved and the offer not yet
    accepted (accepting signs the contract)."""
    return (
        application.status == Status.APPROVED
        and offer is not None
        and offer.accepted_at is None
        and has_role(user, Role.APPLICANT)
    )


# --- What the owner is shown when accepting -------------------------------------------------

OFFER_DOCUMENTS_VERSION = 1


def offer_documents_sha256(*, terms: dict, schedule: list[dict], pdf: bytes | None) -> str:
    """The SHA-256 (hex) of exactly what the owner is shown when accepting an offer. THE one
    definition: the acceptance records it, the portal page and API show it, and anyone holding
    the same inputs (the terms and schedule the API answered, the PDF downloaded) gets the
    same digest.

    It is the SHA-256 of the UTF-8 bytes of this JSON object, with sorted keys, no spaces
    (separators "," and ":") and non-ASCII characters as they are:

        {"version": 1,
         "terms": {"amount": "120000.00", "currency": "CNY", "interest_rate": "6.000",
                   "term_months": 12, "repayment_method": "equal_principal",
                   "conditions": ["Pledge of receivables", ...]},
         "schedule": [{"number": 1, "due_date": "2026-12-06", "principal": "10000.00",
                       "interest": "600.00", "total": "10600.00",
                       "closing_balance": "110000.00"}, ...],
         "offer_pdf_sha256": "<SHA-256 hex of the offer letter's PDF bytes>" or null}

    Amounts have two decimals and the rate three, whatever form they come in; the PDF is null
    while the letter is not rendered. Keys of `terms` and of the schedule rows other than
    these are ignored."""

    def money(value) -> str:
        return f"{Decimal(str(value)):.2f}"

    canonical = {
        "version": OFFER_DOCUMENTS_VERSION,
        "terms": {
            "amount": money(terms["amount"]),
            "currency": str(terms["currency"]),
            "interest_rate": f"{Decimal(str(terms['interest_rate'])):.3f}",
            "term_months": int(terms["term_months"]),
            "repayment_method": str(terms["repayment_method"]),
            "conditions": [str(text) for text in terms["conditions"]],
        },
        "schedule": [
            {
                "number": int(row["number"]),
                "due_date": str(row["due_date"]),
                **{
                    key: money(row[key])
                    for key in ("principal", "interest", "total", "closing_balance")
                },
            }
            for row in schedule
        ],
        "offer_pdf_sha256": hashlib.sha256(bytes(pdf)).hexdigest() if pdf else None,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def offer_terms(offer: Offer) -> dict:
    """The terms the owner is shown with the offer (offer_documents_sha256's `terms`)."""
    return {
        "amount": offer.amount,
        "currency": offer.currency,
        "interest_rate": offer.interest_rate,
        "term_months": offer.term_months,
        "repayment_method": offer.repayment_method,
        "conditions": [str(c.get("text", "")) for c in offer.conditions or []],
    }


def offer_shown_sha256(application, offer: Offer) -> str:
    """The digest of what the portal shows the owner of this offer now: its terms, the
    schedule as schedule_rows gives it, and the offer letter's PDF if rendered."""
    rows, _fixed = schedule_rows(application)
    pdf = (
        Offer.objects.filter(pk=offer.pk, status=Offer.Status.READY)
        .values_list("pdf", flat=True)
        .first()
    )
    return offer_documents_sha256(terms=offer_terms(offer), schedule=rows, pdf=pdf)


def contract_for(application) -> Contract | None:
    return Contract.objects.select_related("recorded_by").filter(application=application).first()


def disbursement_for(application) -> Disbursement | None:
    return (
        Disbursement.objects.select_related("maker", "checker")
        .filter(application=application)
        .first()
    )


def conditions_for(application) -> list:
    return list(
        ApprovalCondition.objects.filter(application=application)
        .select_related("satisfied_by")
        .order_by("pk")
    )


def schedule_rows(application) -> tuple[list[dict], bool]:
    """The fixed schedule (from the Instalment rows) once disbursed, else the offer's
    indicative one; rows as dicts of Decimals, with the balance after each instalment."""
    instalments = list(Instalment.objects.filter(application=application).order_by("number"))
    if instalments:
        balance = sum((i.principal for i in instalments), ZERO)
        rows = []
        for i in instalments:
            balance -= i.principal
            rows.append(
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "principal": i.principal,
                    "interest": i.interest,
                    "total": i.total,
                    "closing_balance": balance,
                    "currency": i.currency,
                }
            )
        return rows, True
    offer = offer_for(application)
    if offer is None:
        return [], False
    return [
        {
            "number": r["number"],
            "due_date": r["due_date"],
            "principal": Decimal(r["principal"]),
            "interest": Decimal(r["interest"]),
            "total": Decimal(r["total"]),
            "closing_balance": Decimal(r["closing_balance"]),
            "currency": offer.currency,
        }
        for r in offer.schedule
    ], False


def schedule_totals(rows: list[dict]) -> dict[str, Decimal]:
    return {key: sum((r[key] for r in rows), ZERO) for key in ("principal", "interest", "total")}


def disbursement_queue(*, user) -> QuerySet[LoanApplication]:
    """Applications in the user's scope awaiting disbursement (contract signed, nothing
    recorded yet) or confirmation (recorded by a maker, not yet confirmed)."""
    recorded = Disbursement.objects.filter(
        application=OuterRef("pk"), status=Disbursement.Status.RECORDED
    )
    any_disbursement = Disbursement.objects.filter(application=OuterRef("pk"))
    return (
        LoanApplication.objects.filter(application_scope_q(user))
        .filter(status="contract_signed")
        .without_facility_applications()
        .annotate(awaiting_confirmation=Exists(recorded), has_disbursement=Exists(any_disbursement))
        .filter(Q(awaiting_confirmation=True) | Q(has_disbursement=False))
        .select_related("company", "branch", "product", "disbursement", "disbursement__maker")
        .order_by("status_changed_at", "pk")
    )


def payouts_to_record(*, user) -> QuerySet[LoanApplication]:
    """What a disbursement officer records next: contracts signed, no payout recorded."""
    return disbursement_queue(user=user).filter(has_disbursement=False)


def payouts_to_confirm(*, user) -> QuerySet[LoanApplication]:
    """What waits for this checker's confirmation: payouts recorded by someone else (the
    maker never confirms their own)."""
    return (
        disbursement_queue(user=user)
        .filter(awaiting_confirmation=True)
        .exclude(disbursement__maker=user)
    )
