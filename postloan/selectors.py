"""Reads for post-loan monitoring: scoped loans, tasks, alerts, the risk officer's queue and the
portfolio by classification."""

import operator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import reduce

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from applications.selectors import application_get
from common.errors import NotFound
from org.selectors import branch_scope_q
from postloan.daily import loan_positions
from postloan.models import (
    CLASS_RANK,
    NON_PERFORMING,
    SEVERITY_RANK,
    Alert,
    Classification,
    ClassificationChange,
    InspectionTask,
    Loan,
    WriteOff,
)
from postloan.position import LoanPosition

OPEN_ALERT = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED)


def _rank(field: str, ranks: dict) -> Case:
    return Case(
        *[When(**{field: key}, then=Value(rank)) for key, rank in ranks.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def loan_scope_q(user, *, prefix: str = "") -> Q:
    return branch_scope_q(user, field=f"{prefix}branch")


def loan_get(*, user, application_id: int, for_update: bool = False) -> Loan:
    """The post-loan record of an application the user may see (404 otherwise)."""
    application_get(user=user, pk=application_id)
    qs = Loan.objects.all()
    if for_update:
        qs = qs.select_for_update(of=("self",))
    else:
        qs = qs.select_related(
            "application__company", "application__branch", "relationship_manager"
        )
    try:
        return qs.get(application_id=application_id)
    except Loan.DoesNotExist:
        raise NotFound() from None


def loan_list(*, user, filters: dict | None = None) -> QuerySet[Loan]:
    filters = filters or {}
    qs = Loan.objects.filter(loan_scope_q(user)).select_related(
        "application__company", "branch", "relationship_manager"
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("classification"):
        qs = qs.filter(classification=filters["classification"])
    if filters.get("mine"):
        qs = qs.filter(relationship_manager=user)
    return qs.order_by("-days_past_due", "-outstanding_principal", "id")


def loan_position_for(*, loan: Loan, as_of: date | None = None) -> LoanPosition:
    """The loan's position on `as_of` (today), by the nightly job's definition."""
    as_of = as_of or timezone.localdate()
    return loan_positions(loan_ids=[loan.pk], as_of=as_of).get(loan.pk) or LoanPosition()


def task_get(*, user, task_id: int, for_update: bool = False) -> InspectionTask:
    qs = InspectionTask.objects.filter(loan_scope_q(user, prefix="loan__"))
    if for_update:
        qs = qs.select_for_update(of=("self",))
    else:
        qs = qs.select_related("loan__application__company", "owner", "alert__rule")
    try:
        return qs.get(pk=task_id)
    except (InspectionTask.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def task_list(*, user, filters: dict | None = None) -> QuerySet[InspectionTask]:
    filters = filters or {}
    qs = InspectionTask.objects.filter(loan_scope_q(user, prefix="loan__")).select_related(
        "loan__application__company", "owner"
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("mine"):
        qs = qs.filter(owner=user)
    if filters.get("overdue"):
        qs = qs.filter(status=InspectionTask.Status.OPEN, due_date__lt=timezone.localdate())
    if filters.get("application"):
        qs = qs.filter(loan__application_id=filters["application"])
    return qs.order_by("due_date", "id")


def overdue_task_queue(*, user, today: date | None = None) -> QuerySet[InspectionTask]:
    """Open post-loan tasks past their due date in the user's scope, worst first: most days
    overdue, then the worst classification, then the largest exposure."""
    today = today or timezone.localdate()
    return (
        InspectionTask.objects.filter(
            loan_scope_q(user, prefix="loan__"),
            status=InspectionTask.Status.OPEN,
            due_date__lt=today,
            loan__status=Loan.Status.ACTIVE,
        )
        .select_related("loan__application__company", "owner")
        .annotate(class_rank=_rank("loan__classification", CLASS_RANK))
        .order_by("due_date", "-class_rank", "-loan__outstanding_principal", "id")
    )


def alert_get(*, user, alert_id: int, for_update: bool = False) -> Alert:
    qs = Alert.objects.filter(loan_scope_q(user, prefix="loan__"))
    if for_update:
        qs = qs.select_for_update(of=("self",))
    else:
        qs = qs.select_related("loan__application__company", "rule", "acknowledged_by", "closed_by")
    try:
        return qs.get(pk=alert_id)
    except (Alert.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def alert_list(*, user, filters: dict | None = None) -> QuerySet[Alert]:
    """Alerts in scope; open ones (open or acknowledged) by default, worst first."""
    filters = filters or {}
    qs = (
        Alert.objects.filter(loan_scope_q(user, prefix="loan__"))
        .select_related("loan__application__company", "rule")
        .annotate(
            severity_rank=_rank("severity", SEVERITY_RANK),
            class_rank=_rank("loan__classification", CLASS_RANK),
        )
    )
    status = filters.get("status")
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_ALERT)
    if filters.get("application"):
        qs = qs.filter(loan__application_id=filters["application"])
    return qs.order_by("-severity_rank", "-class_rank", "created_at", "id")


def classification_pending(*, user) -> QuerySet[ClassificationChange]:
    return (
        ClassificationChange.objects.filter(
            loan_scope_q(user, prefix="loan__"), status=ClassificationChange.Status.PROPOSED
        )
        .select_related("loan__application__company", "proposed_by")
        .order_by("created_at")
    )


def write_off_pending(*, user) -> QuerySet[WriteOff]:
    return (
        WriteOff.objects.filter(
            loan_scope_q(user, prefix="loan__"), status=WriteOff.Status.PROPOSED
        )
        .select_related("loan__application__company", "proposed_by")
        .order_by("created_at")
    )


def portfolio_by_classification(*, user) -> dict:
    """Active loans in scope by classification: count and outstanding principal, and the NPL
    ratio (substandard + doubtful + loss over the total, by outstanding principal)."""
    rows = (
        Loan.objects.filter(loan_scope_q(user), status=Loan.Status.ACTIVE)
        .values("classification")
        .annotate(count=Count("id"), outstanding=Sum("outstanding_principal"))
    )
    by_class = {row["classification"]: row for row in rows}
    classes = []
    total = Decimal("0.00")
    npl = Decimal("0.00")
    for value, label in Classification.choices:
        row = by_class.get(value, {})
        outstanding = row.get("outstanding") or Decimal("0.00")
        total += outstanding
        if value in NON_PERFORMING:
            npl += outstanding
        classes.append(
            {
                "classification": value,
                "label": str(label),
                "count": row.get("count", 0),
                "outstanding": outstanding,
            }
        )
    ratio = (npl / total * 100).quantize(Decimal("0.01")) if total else Decimal("0.00")
    return {
        "classes": classes,
        "total_outstanding": total,
        "npl_outstanding": npl,
        "npl_ratio": ratio,
    }


def loan_detail(*, user, application_id: int) -> dict:
    """Everything the application panel and the loan API show, in a fixed number of queries."""
    loan = loan_get(user=user, application_id=application_id)
    position = loan_position_for(loan=loan)
    tasks = list(loan.tasks.select_related("owner").order_by("-status", "due_date"))
    alerts = list(loan.alerts.select_related("rule").order_by("-created_at")[:50])
    changes = list(
        loan.classification_changes.select_related("proposed_by", "decided_by").order_by(
            "-created_at", "-id"
        )[:50]
    )
    repayments = list(
        loan.repayments.select_related("recorded_by").order_by("-value_date", "-id")[:100]
    )
    write_offs = list(loan.write_offs.select_related("proposed_by", "decided_by"))
    return {
        "loan": loan,
        "position": position,
        "tasks": tasks,
        "alerts": alerts,
        "classification_changes": changes,
        "repayments": repayments,
        "write_offs": write_offs,
    }


def customer_exposure(*, company) -> list[dict]:
    """The customer's total exposure with the bank, one row per currency: the outstanding
    principal of its disbursed loans still on the book (active), the undrawn part of its open
    facilities (approved, active, frozen), the amounts of its applications in approval (the
    one being decided included) and of its loans approved but not yet paid out, as
    postloan.exposure.exposure_rows defines them (the one place that says what the bank counts
    as a customer's exposure). Five queries, whatever the number of loans and facilities.

    Each row: currency, loans (outstanding principal), loan_count, undrawn, facility_count,
    in_approval (amount), in_approval_count, approved (amount), approved_count, total."""
    from postloan.exposure import exposure_by, exposure_rows

    totals = exposure_by(exposure_rows(company_ids=[company.pk]), lambda row: row["company_id"])
    rows = [figures for _key, figures in sorted(totals.items(), key=lambda item: item[0][1])]
    for figures in rows:
        del figures["key"], figures["customer_count"]
    return rows


@dataclass(frozen=True)
class ExposureAfter:
    """What the bank would be owed by the customer, and by its group, if this application
    were granted: outstanding principal of active loans, the undrawn part of open facilities,
    amounts of other applications in approval or approved and not paid out, and this
    application's amount, in its currency. `related`: the other companies of the group, each
    with the link that puts it there."""

    currency: str
    amount: Decimal
    customer: Decimal
    group: Decimal
    related: list[dict]

    def as_record(self) -> dict:
        return {
            "currency": self.currency,
            "amount": str(self.amount),
            "customer": str(self.customer),
            "group": str(self.group),
            "related": self.related,
        }


# How a company is in the customer's group, in the order a reader looks for it.
GROUP_LINKS = (
    "controlling_shareholder",
    "legal_representative",
    "guarantees_it",
    "guaranteed_by_it",
)


def related_companies(*, company) -> list[dict]:
    """The other companies of the customer's group, each with its links (GROUP_LINKS): the
    same controlling shareholder (by resident ID number or credit code), the same legal
    representative (by resident ID number), a company guaranteeing one of the customer's
    applications or loans, or one whose application or loan the customer guarantees (by
    unified social credit code). One query. Each: id, name, credit_code, links and
    sources (for a shared person or company: who, as "name (…last four)")."""
    from applications.models import LoanApplication
    from customers.models import Company
    from intake.models import Guarantor

    def shared(field: str) -> Q:
        value = getattr(company, field)
        return Q(**{field: value}) if value else Q(pk__in=[])

    guarantees_it = Q(
        credit_code__in=Guarantor.objects.filter(
            kind=Guarantor.Kind.COMPANY, application__company=company
        ).values("id_number")
    )
    guaranteed_by_it = Q(
        pk__in=LoanApplication.objects.filter(
            guarantors__kind=Guarantor.Kind.COMPANY, guarantors__id_number=company.credit_code
        ).values("company_id")
    )
    flags = {
        "controlling_shareholder": shared("controlling_shareholder_id"),
        "legal_representative": shared("legal_representative_id"),
        "guarantees_it": guarantees_it,
        "guaranteed_by_it": guaranteed_by_it,
    }
    sources = {
        "controlling_shareholder": (
            f"{company.controlling_shareholder} (…{company.controlling_shareholder_id[-4:]})"
        ),
        "legal_representative": (
            f"{company.legal_representative} (…{company.legal_representative_id[-4:]})"
        ),
    }
    rows = (
        Company.objects.filter(reduce(operator.or_, flags.values()))
        .exclude(pk=company.pk)
        .annotate(
            **{
                f"is_{name}": ExpressionWrapper(q, output_field=BooleanField())
                for name, q in flags.items()
            }
        )
        .order_by("pk")
        .values("id", "name", "credit_code", *(f"is_{name}" for name in GROUP_LINKS))
    )
    result = []
    for row in rows:
        links = [name for name in GROUP_LINKS if row[f"is_{name}"]]
        result.append(
            {
                "id": row["id"],
                "name": row["name"],
                "credit_code": row["credit_code"],
                "links": links,
                "sources": {name: sources[name] for name in links if name in sources},
            }
        )
    return result


def _exposure_added(application) -> Decimal:
    """What granting the application adds: its amount, or a change's own measure (a renewal
    replaces the loan it renews, an extension or restructuring adds nothing)."""
    if getattr(application, "change_kind", ""):
        from postloan.changes import exposure_added

        return exposure_added(application)
    return application.amount


def exposure_after(*, application, for_update: bool = False) -> ExposureAfter:
    """The customer's and its group's exposure after this application is granted (the
    authority matrix and the approvers' limits apply to it, issue 28): outstanding principal
    of active loans (drawdown loans included), the undrawn part of open facilities (approved,
    active, frozen: limit - drawn, so a facility counts its limit once however much is drawn)
    and amounts of other applications in approval or approved and not paid out, plus this
    one. Up to six queries.

    `for_update` (the route fixed on entering approval, approvals.services.record_open): the
    companies of the group are locked first (select_for_update, in id order), so two
    applications of one customer or group entering approval together are taken one after
    the other and the second counts the first as in approval; read without the lock, each
    would see the other not yet in approval and both would go to an authority that covers
    only its own amount."""
    from customers.models import Company
    from postloan.exposure import exposure_by, exposure_rows

    related = related_companies(company=application.company)
    group = [application.company_id] + [row["id"] for row in related]
    if for_update:
        list(
            Company.objects.select_for_update()
            .filter(pk__in=group)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    totals = exposure_by(
        exposure_rows(
            company_ids=group,
            currency=application.currency,
            exclude_application_id=application.pk,
        ),
        lambda row: row["company_id"],
    )

    def of(company_id) -> Decimal:
        found = totals.get((company_id, application.currency))
        return found["total"] if found else Decimal("0")

    customer = of(application.company_id) + _exposure_added(application)
    return ExposureAfter(
        currency=application.currency,
        amount=application.amount,
        customer=customer,
        group=customer + sum((of(pk) for pk in group[1:]), Decimal("0")),
        related=[{**row, "exposure": str(of(row["id"]))} for row in related],
    )


# --- Prepayment ----------------------------------------------------------------------------


def loan_payoff_quote(
    *,
    user,
    application_id: int,
    value_date: date | None = None,
    kind: str = "full",
    principal=None,
):
    """The payoff quote of a loan the user may see (postloan.payoff.payoff_quote) for a date
    (today by default): 400 for an input it cannot take, 409 when the loan's state refuses."""
    from common.errors import Conflict, InvalidInput
    from postloan.payoff import PrepaymentRefused, payoff_quote

    loan = loan_get(user=user, application_id=application_id)
    try:
        return payoff_quote(
            loan=loan,
            value_date=value_date or timezone.localdate(),
            kind=kind,
            principal=principal,
        )
    except PrepaymentRefused as exc:
        if exc.field:
            raise InvalidInput(
                exc.message, code=exc.code, details={exc.field: [exc.message]}
            ) from None
        raise Conflict(exc.message, code=exc.code) from None


def prepayment_request_dates() -> tuple[date, date]:
    """The value dates an owner may ask a prepayment for: from today to the latest a value
    date may be ahead (disbursement.services.value_date_window, the bank's setting)."""
    from disbursement.services import value_date_window

    return timezone.localdate(), value_date_window()[1]


def loan_owner_requests(*, loan: Loan):
    """The owner's requests on the loan (prepayments and changes), newest first, with what
    became of them."""
    return loan.owner_requests.select_related(
        "loan", "prepayment", "change", "asked_by", "handled_by"
    ).order_by("-created_at", "-id")


def loan_prepayments(*, loan: Loan):
    return loan.prepayments.select_related("filed_by", "decided_by").order_by("-created_at", "-id")


def loan_schedule_revisions(*, loan: Loan):
    return loan.schedule_revisions.order_by("number")
