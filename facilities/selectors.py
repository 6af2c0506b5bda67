"""Reads of facilities: the staff's (their branch subtree, head office all) and the owner's
(their company's), and what a facility has available to draw."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from applications.models import Status as ApplicationStatus
from applications.selectors import applicant_company_id, is_portal_user
from common.errors import NotFound
from facilities.models import OPEN_FACILITY, Drawdown, Facility
from org.selectors import branch_scope_q, is_staff_member
from postloan.models import Loan

SUBJECT_TYPE = "facilities.facility"
ZERO = Decimal("0.00")

# A drawdown reserves its amount from its request until its loan is disbursed (then the loan
# counts) or it ends without one (declined, or its application withdrawn).
RESERVING = Q(status=Drawdown.Status.REQUESTED) | Q(
    status=Drawdown.Status.APPROVED,
    application__status__in=(ApplicationStatus.APPROVED, ApplicationStatus.CONTRACT_SIGNED),
)


def facility_scope_q(user, *, prefix: str = "") -> Q:
    """Staff: their branch subtree; an owner: their company's; anyone else: nothing."""
    if is_staff_member(user):
        return branch_scope_q(user, field=f"{prefix}branch")
    company_id = applicant_company_id(user) if is_portal_user(user) else None
    if company_id is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}company_id": company_id})


def facility_list(*, user, filters: dict | None = None) -> QuerySet[Facility]:
    filters = filters or {}
    qs = Facility.objects.filter(facility_scope_q(user)).select_related(
        "company", "branch", "application"
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("company"):
        qs = qs.filter(company_id=filters["company"])
    return qs.order_by("-created_at", "-id")


def facility_get(*, user, pk, for_update: bool = False) -> Facility:
    """A facility the user may see (404 otherwise); `for_update` locks its row."""
    qs = Facility.objects.filter(facility_scope_q(user))
    qs = (
        qs.select_for_update(of=("self",))
        if for_update
        else qs.select_related("company", "branch", "application__product")
    )
    try:
        return qs.get(pk=pk)
    except (Facility.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@dataclass(frozen=True)
class Availability:
    """What a facility has drawn and may still draw, in its currency.

    `drawn`: principal that uses the limit (revolving: outstanding principal of its active
    drawdown loans; non-revolving: principal ever disbursed under it); `pending`: drawdowns
    requested or approved and not yet disbursed; `available`: limit - drawn - pending (never
    below zero); `undrawn`: limit - drawn, the part of the limit that is not a loan (it
    counts in the customer's exposure, postloan.selectors)."""

    limit: Decimal
    drawn: Decimal
    pending: Decimal

    @property
    def undrawn(self) -> Decimal:
        return max(self.limit - self.drawn, ZERO)

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.drawn - self.pending, ZERO)

    def as_dict(self) -> dict:
        return {
            "limit": self.limit,
            "drawn": self.drawn,
            "pending": self.pending,
            "undrawn": self.undrawn,
            "available": self.available,
        }


def facility_availability(*, facility: Facility) -> Availability:
    """Two queries. Read it with the facility locked when a drawdown depends on it."""
    return facility_availabilities(facilities=[facility])[facility.pk]


def facility_availabilities(*, facilities: list[Facility]) -> dict[int, Availability]:
    """Each facility's Availability by id: three queries at most, whatever their number."""
    if not facilities:
        return {}
    drawn = _drawn_by_facility({f.pk: f.revolving for f in facilities})
    pending = dict(
        Drawdown.objects.filter(RESERVING, facility__in=[f.pk for f in facilities])
        .values("facility")
        .annotate(s=Sum("amount"))
        .values_list("facility", "s")
    )
    return {
        f.pk: Availability(
            limit=f.amount, drawn=drawn.get(f.pk) or ZERO, pending=pending.get(f.pk) or ZERO
        )
        for f in facilities
    }


def _drawn_by_facility(revolving: dict[int, bool]) -> dict[int, Decimal]:
    """What uses each facility's limit (Availability.drawn), by facility id (`revolving`:
    id -> whether it revolves): the outstanding principal of a revolving facility's active
    drawdown loans, the principal ever disbursed under any other. One query per kind."""
    key = "application__drawdown__facility_id"
    drawn: dict[int, Decimal] = {}
    for revolves, column in ((True, "outstanding_principal"), (False, "principal")):
        ids = [pk for pk, kind in revolving.items() if kind is revolves]
        if not ids:
            continue
        loans = Loan.objects.filter(**{f"{key}__in": ids})
        if revolves:
            loans = loans.filter(status=Loan.Status.ACTIVE)
        drawn.update(loans.values(key).annotate(s=Sum(column)).values_list(key, "s"))
    return drawn


def undrawn_by_facility(*, facility_q: Q) -> list[dict]:
    """The undrawn part (limit - drawn, as facility_availability counts it) of each open
    facility (approved, active, frozen) matching `facility_q`: one dict per facility with id,
    company_id, branch_id, currency and undrawn. Three queries whatever their number; the one
    definition of a facility's part in the bank's exposure (postloan.exposure)."""
    facilities = list(
        Facility.objects.filter(facility_q, status__in=OPEN_FACILITY).values(
            "id", "company_id", "branch_id", "currency", "amount", "revolving"
        )
    )
    drawn = _drawn_by_facility({row["id"]: row["revolving"] for row in facilities})
    return [
        {
            "id": row["id"],
            "company_id": row["company_id"],
            "branch_id": row["branch_id"],
            "currency": row["currency"],
            "undrawn": max(row["amount"] - (drawn.get(row["id"]) or ZERO), ZERO),
        }
        for row in facilities
    ]


def undrawn_by_company(*, company_ids, currency: str) -> dict[int, Decimal]:
    """The undrawn part of the open facilities of each company, in `currency`."""
    undrawn: dict[int, Decimal] = {}
    for row in undrawn_by_facility(facility_q=Q(company_id__in=company_ids, currency=currency)):
        undrawn[row["company_id"]] = undrawn.get(row["company_id"], ZERO) + row["undrawn"]
    return undrawn


def facility_drawdowns(*, facility: Facility) -> QuerySet[Drawdown]:
    return facility.drawdowns.select_related("application", "requested_by", "decided_by").order_by(
        "-requested_at", "-id"
    )


def drawdown_get(*, user, pk, for_update: bool = False) -> Drawdown:
    qs = Drawdown.objects.filter(facility_scope_q(user, prefix="facility__"))
    qs = (
        qs.select_for_update(of=("self",))
        if for_update
        else qs.select_related("facility", "application")
    )
    try:
        return qs.get(pk=pk)
    except (Drawdown.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
