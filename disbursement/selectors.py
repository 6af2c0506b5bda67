"""Reads of the disbursement stage."""

from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from applications.models import LoanApplication, Status
from applications.selectors import application_scope_q
from approvals.models import ApprovalCondition
from disbursement.models import Contract, Disbursement, Instalment, Offer
from org.roles import Role, has_role

ZERO = Decimal("0.00")


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
