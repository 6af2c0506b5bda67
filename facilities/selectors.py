"""Reads of facilities: the staff's (their branch subtree, head office all) and the owner's
(their company's), and what a facility has available to draw."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

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
    """A facility the user may see (404 otherwise); `for_update` locks its row (its row
    only: the company, branch and application come with it, unlocked)."""
    return _facility_in_scope(user, Q(pk=pk), for_update=for_update)


def facility_of_drawdown(*, user, drawdown_id, for_update: bool = False) -> Facility:
    """The facility of a drawdown the user may see (404 otherwise), found and (`for_update`)
    locked in one statement: a drawdown is decided with its facility locked first."""
    return _facility_in_scope(user, Q(drawdowns__pk=drawdown_id), for_update=for_update)


def _facility_in_scope(user, q: Q, *, for_update: bool) -> Facility:
    try:
        qs = Facility.objects.filter(facility_scope_q(user), q).select_related(
            "company", "branch", "application__product"
        )
        if for_update:
            qs = qs.select_for_update(of=("self",))
        return qs.get()
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


MONEY = DecimalField(max_digits=18, decimal_places=2)


def drawn_expression():
    """What uses a facility's limit (Availability.drawn), as an expression on Facility: the
    outstanding principal of a revolving facility's active drawdown loans, the principal ever
    disbursed under any other. The one definition of "drawn", for a facility's availability
    and for the undrawn part of the bank's exposure (postloan.exposure), row by row or summed
    in the database."""
    key = "application__drawdown__facility_id"
    under = Loan.objects.filter(**{key: OuterRef("pk")}).order_by().values(key)
    outstanding = under.filter(status=Loan.Status.ACTIVE).annotate(s=Sum("outstanding_principal"))
    ever = under.annotate(s=Sum("principal"))
    return Coalesce(
        Case(
            When(revolving=True, then=Subquery(outstanding.values("s"))),
            default=Subquery(ever.values("s")),
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def undrawn_expression():
    """A facility's undrawn part (Availability.undrawn: limit - drawn, never below zero), as
    an expression on Facility."""
    return Greatest(F("amount") - drawn_expression(), Value(ZERO), output_field=MONEY)


def _drawn_by_facility(revolving: dict[int, bool]) -> dict[int, Decimal]:
    """What uses each facility's limit by facility id (`revolving`: id -> whether it
    revolves; only its keys are used). One query."""
    return dict(
        Facility.objects.filter(pk__in=list(revolving))
        .annotate(drawn=drawn_expression())
        .values_list("pk", "drawn")
    )


def undrawn_by_facility(*, facility_q: Q) -> list[dict]:
    """The undrawn part (limit - drawn, as facility_availability counts it) of each open
    facility (approved, active, frozen) matching `facility_q`: one dict per facility with id,
    company_id, branch_id, currency and undrawn. One query whatever their number."""
    return list(
        Facility.objects.filter(facility_q, status__in=OPEN_FACILITY)
        .annotate(undrawn=undrawn_expression())
        .values("id", "company_id", "branch_id", "currency", "undrawn")
    )


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


# --- Pricing (issue 32 for facilities) ------------------------------------------------------


def facility_pricing_range(*, application) -> tuple[Decimal, Decimal]:
    """The pricing range a facility application proposes (and its facility is granted):
    from its rate, the lower end that the pricing floor and the approvers' below-floor
    authority apply to, up to the product's highest rate."""
    rate = application.interest_rate
    return rate, max(application.product.max_rate, rate)


def facility_price_buildup(*, application, pd_pct=None, collateral=None, guarantors=None):
    """A facility application's price build-up (pricing.selectors.application_price_buildup,
    for its limit and term) at the lower end of its proposed range; None for any other
    application, before it is scored, or without an active parameter version."""
    from pricing.selectors import application_price_buildup

    if not application.is_facility_application:
        return None
    return application_price_buildup(
        application=application, pd_pct=pd_pct, collateral=collateral, guarantors=guarantors
    )


@dataclass(frozen=True)
class DrawdownTerms:
    amount: Decimal
    term_months: int
    interest_rate: Decimal


def drawdown_price_buildup(*, facility: Facility, amount, term_months: int, interest_rate):
    """A drawdown's price build-up on its own amount, term and rate, with the PD and the
    collateral and guarantees of its facility's application (the same formula and active
    parameters as an application's); None before that application was scored or without an
    active version."""
    from pricing.selectors import application_price_buildup

    return application_price_buildup(
        application=facility.application,
        terms=DrawdownTerms(amount=amount, term_months=term_months, interest_rate=interest_rate),
    )


# --- The drawdown approver's queue ----------------------------------------------------------


def company_worst_classes(*, company_ids) -> dict[int, str]:
    """Each company's worst classification over its active loans (normal without one): one
    query whatever their number."""
    from postloan.models import CLASS_RANK, Classification

    worst: dict[int, str] = dict.fromkeys(set(company_ids), Classification.NORMAL)
    for company_id, klass in (
        Loan.objects.filter(application__company_id__in=list(worst), status=Loan.Status.ACTIVE)
        .values_list("application__company_id", "classification")
        .distinct()
    ):
        if CLASS_RANK.get(klass, 0) > CLASS_RANK.get(worst[company_id], 0):
            worst[company_id] = klass
    return worst


def company_standings(*, company_ids) -> dict[int, tuple[str, int]]:
    """Each company's worst classification over its active loans and its open (or
    acknowledged) alerts: two queries whatever their number."""
    from postloan.models import Alert

    company_ids = list(set(company_ids))
    worst = company_worst_classes(company_ids=company_ids)
    alerts = dict(
        Alert.objects.filter(
            loan__application__company_id__in=company_ids,
            status__in=(Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED),
        )
        .values("loan__application__company_id")
        .annotate(n=Count("pk"))
        .values_list("loan__application__company_id", "n")
    )
    return {pk: (worst[pk], alerts.get(pk, 0)) for pk in company_ids}


def drawdowns_awaiting_approver(*, user) -> QuerySet[Drawdown]:
    """The drawdowns waiting for a drawdown approver in the user's branch scope (head
    office: all), oldest first."""
    return (
        Drawdown.objects.filter(
            facility_scope_q(user, prefix="facility__"), status=Drawdown.Status.REQUESTED
        )
        .select_related(
            "facility__company", "facility__application", "facility__branch", "requested_by"
        )
        .order_by("requested_at", "pk")
    )


def drawdown_queue_rows(*, user, drawdowns: list[Drawdown]) -> list[dict]:
    """What the approver decides on, per drawdown: the facility's availability, the
    company's classification and open alerts now, the customer's exposure after the
    drawdown (postloan.exposure), the drawdown's price build-up, and whether this user may
    decide it (never who requested it, filed the facility or manages it). A fixed number of
    queries whatever the number of rows.

    A drawdown moves part of the facility's undrawn limit into a loan, and the undrawn part
    already counts in the exposure: the exposure after the drawdown is the exposure now."""
    from applications.permissions import filed_it, manages_it
    from postloan.exposure import exposure_by, exposure_rows
    from postloan.models import Classification

    facilities = list({d.facility_id: d.facility for d in drawdowns}.values())
    availability = facility_availabilities(facilities=facilities)
    company_ids = [f.company_id for f in facilities]
    standings = company_standings(company_ids=company_ids)
    exposure = (
        exposure_by(exposure_rows(company_ids=company_ids), lambda row: row["company_id"])
        if company_ids
        else {}
    )
    rows = []
    for drawdown in drawdowns:
        facility = drawdown.facility
        worst, alerts = standings[facility.company_id]
        found = exposure.get((facility.company_id, drawdown.currency))
        rows.append(
            {
                "drawdown": drawdown,
                "facility": facility,
                "availability": availability[facility.pk],
                "classification": Classification(worst).label,
                "classification_code": worst,
                "open_alerts": alerts,
                "exposure_after": found["total"] if found else ZERO,
                "may_decide": drawdown.requested_by_id != user.pk
                and not filed_it(user, facility.application)
                and not manages_it(user, facility.application),
            }
        )
    return rows


# --- Post-loan: the facility and its drawdowns watched together (issue 28) ------------------


@dataclass(frozen=True)
class Monitoring:
    """A facility's drawdown loans as post-loan sees them, and the company's standing: its
    worst classification over all its active loans and its open early-warning alerts (a
    problem on any of the company's loans concerns the facility: an alert may freeze it)."""

    loans: list[Loan]
    outstanding_principal: Decimal
    overdue_interest_unpaid: Decimal
    worst_days_past_due: int
    worst_classification: str
    alerts: list

    @property
    def worst_classification_label(self) -> str:
        from postloan.models import Classification

        return str(Classification(self.worst_classification).label)

    def as_dict(self) -> dict:
        return {
            "outstanding_principal": self.outstanding_principal,
            "overdue_interest_unpaid": self.overdue_interest_unpaid,
            "worst_days_past_due": self.worst_days_past_due,
            "worst_classification": self.worst_classification,
            "worst_classification_display": self.worst_classification_label,
            "loans": [
                {
                    "application": loan.application_id,
                    "reference": loan.application.reference,
                    "status": loan.status,
                    "principal": loan.principal,
                    "outstanding_principal": loan.outstanding_principal,
                    "days_past_due": loan.days_past_due,
                    "classification": loan.classification,
                    "overdue_interest_unpaid": loan.overdue_interest_unpaid,
                    "open_alerts": loan.open_alerts,
                }
                for loan in self.loans
            ],
            "alerts": [
                {
                    "id": alert.pk,
                    "loan": alert.loan.application_id,
                    "reference": alert.loan.application.reference,
                    "rule": alert.rule.display_name,
                    "severity": alert.severity,
                    "status": alert.status,
                    "raised": alert.created_at,
                }
                for alert in self.alerts
            ],
        }


def facility_monitoring(*, facility: Facility) -> Monitoring:
    """Three queries: the drawdown loans with their open alerts counted, the company's worst
    class (company_worst_classes), its open alerts."""
    from postloan.models import Alert

    open_alert = Q(alerts__status__in=(Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED))
    loans = list(
        Loan.objects.filter(application__drawdown__facility=facility)
        .select_related("application")
        .annotate(open_alerts=Count("alerts", filter=open_alert))
        .order_by("-disbursed_on", "-pk")
    )
    active = [loan for loan in loans if loan.status == Loan.Status.ACTIVE]
    worst = company_worst_classes(company_ids=[facility.company_id])[facility.company_id]
    alerts = list(
        Alert.objects.filter(
            loan__application__company_id=facility.company_id,
            status__in=(Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED),
        )
        .select_related("rule", "loan__application")
        .order_by("-created_at")
    )
    return Monitoring(
        loans=loans,
        outstanding_principal=sum((loan.outstanding_principal for loan in active), ZERO),
        overdue_interest_unpaid=sum((loan.overdue_interest_unpaid for loan in active), ZERO),
        worst_days_past_due=max((loan.days_past_due for loan in active), default=0),
        worst_classification=worst,
        alerts=alerts,
    )
