"""The bank's exposure (issue 28): what it counts, once, and the risk officer's view of it.

A customer's exposure is the outstanding principal of its active loans (drawdown loans
included), the undrawn part of its open facilities (approved, active, frozen: limit - drawn),
the amounts of its applications in approval, and the amounts of its loans approved but not yet
paid out (approved or contract signed; a facility application's and a drawdown's amounts are
the facility's undrawn part instead). `exposure_rows` is the one definition: the
approval workbench's table (postloan.selectors.customer_exposure), the exposure after a
decision (postloan.selectors.exposure_after), the risk officer's view (`exposure_overview`)
and the nightly flag (`exposure_limits_flag`) all add its rows.

The portfolio-wide group is the companies with the same legal representative (by resident ID
number, the group's key); the guarantee links (a company guaranteeing the customer, or
guaranteed by it) are listed per customer rather than merged into groups, because guarantees
chain (A guarantees B, B guarantees C) and merging them would make one group of half the book
(docs/adr/0016-portfolio-exposure-groups.md). `related_companies`, for one application, still
counts both kinds of link.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Forbidden
from org.roles import Role, has_role
from org.selectors import branch_scope_q, is_staff_member
from postloan.models import Alert, Loan, WarningRule

ZERO = Decimal("0.00")
PARTS = ("loans", "undrawn", "in_approval", "approved")
COUNTS = {
    "loans": "loan_count",
    "undrawn": "facility_count",
    "in_approval": "in_approval_count",
    "approved": "approved_count",
}
# The concentration limits of the authority matrix are in CNY: other currencies are shown
# but never compared with them (as approvals.selectors.concentration_limits_passed).
LIMIT_CURRENCY = "CNY"
DIMENSIONS = ("customer", "group", "industry", "branch")


def exposure_rows(
    *,
    company_ids=None,
    currency: str | None = None,
    user=None,
    exclude_application_id: int | None = None,
) -> list[dict]:
    """The parts of the bank's exposure, one dict per (part, company, branch, currency) with
    part (loans, undrawn, in_approval, approved), company_id, branch_id, currency, amount and
    count.
    Restricted to `company_ids`, a `currency`, the rows booked in the `user`'s branch scope,
    and without one application (the one being decided). Two queries and the three of the
    facilities' undrawn part, whatever the number of customers."""
    from applications.models import IN_PLACE_CHANGES, RENEWALS, LoanApplication, Status
    from facilities.selectors import undrawn_by_facility

    loan_q = Q(status=Loan.Status.ACTIVE)
    application_q = Q(status=Status.IN_APPROVAL) | (
        Q(status__in=(Status.APPROVED, Status.CONTRACT_SIGNED))
        # A facility's and a drawdown's amounts are in the facility's undrawn part.
        & Q(product__facility_terms__isnull=True, drawdown__isnull=True)
    )
    facility_q = Q()
    if company_ids is not None:
        loan_q &= Q(application__company_id__in=company_ids)
        application_q &= Q(company_id__in=company_ids)
        facility_q &= Q(company_id__in=company_ids)
    if currency:
        loan_q &= Q(currency=currency)
        application_q &= Q(currency=currency)
        facility_q &= Q(currency=currency)
    if user is not None:
        loan_q &= branch_scope_q(user)
        application_q &= branch_scope_q(user)
        facility_q &= branch_scope_q(user)
    rows = []
    loans = (
        Loan.objects.filter(loan_q)
        .values("application__company_id", "branch_id", "currency")
        .annotate(amount=Sum("outstanding_principal"), count=Count("id"))
        .order_by()
    )
    for item in loans:
        rows.append(
            {
                "part": "loans",
                "company_id": item["application__company_id"],
                "branch_id": item["branch_id"],
                "currency": item["currency"],
                "amount": item["amount"] or ZERO,
                "count": item["count"],
            }
        )
    # A change that keeps or replaces the loan's principal (an extension, a restructuring, a
    # renewal of at most the principal owed) adds nothing until it is applied or paid out: its
    # loan is counted already (postloan.changes.exposure_added: what it adds at its decision).
    pending = LoanApplication.objects.filter(application_q).exclude(
        change_kind__in=(*IN_PLACE_CHANGES, *RENEWALS)
    )
    if exclude_application_id is not None:
        pending = pending.exclude(pk=exclude_application_id)
    for item in (
        pending.annotate(
            part=Case(
                When(status=Status.IN_APPROVAL, then=Value("in_approval")),
                default=Value("approved"),
            )
        )
        .values("part", "company_id", "branch_id", "currency")
        .annotate(amount=Sum("amount"), count=Count("id"))
        .order_by()
    ):
        rows.append({**item, "amount": item["amount"] or ZERO})
    for item in undrawn_by_facility(facility_q=facility_q):
        rows.append(
            {
                "part": "undrawn",
                "company_id": item["company_id"],
                "branch_id": item["branch_id"],
                "currency": item["currency"],
                "amount": item["undrawn"],
                "count": 1,
            }
        )
    return rows


def _blank(**keys) -> dict:
    figures = dict.fromkeys(PARTS, ZERO) | dict.fromkeys(COUNTS.values(), 0)
    return {**keys, **figures, "total": ZERO}


def _add(target: dict, row: dict) -> None:
    target[row["part"]] += row["amount"]
    target[COUNTS[row["part"]]] += row["count"]
    target["total"] += row["amount"]


def exposure_by(rows: list[dict], key) -> dict[tuple, dict]:
    """The rows added up by (key(row), currency): {(k, currency): figures}, the figures with
    `key` and the number of customers (customer_count)."""
    totals: dict[tuple, dict] = {}
    customers: dict[tuple, set] = {}
    for row in rows:
        k = (key(row), row["currency"])
        if k not in totals:
            totals[k] = _blank(key=k[0], currency=row["currency"])
            customers[k] = set()
        _add(totals[k], row)
        customers[k].add(row["company_id"])
    for k, figures in totals.items():
        figures["customer_count"] = len(customers[k])
    return totals


def group_key(legal_representative_id: str, company_id: int) -> str:
    """The portfolio-wide group of a company: its legal representative's resident ID number;
    a company without one is a group of its own."""
    return legal_representative_id or f"company-{company_id}"


# --- The risk officer's view ------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    single_customer: Decimal | None
    group: Decimal | None
    version: int | None

    def above(self, figures: dict, *, group: bool = False) -> Decimal | None:
        """The limit the figures are above (None: none), in CNY only."""
        limit = self.group if group else self.single_customer
        if limit is None or figures["currency"] != LIMIT_CURRENCY:
            return None
        return limit if figures["total"] > limit else None


def concentration_limits() -> Limits:
    from approvals.selectors import matrix_active

    version = matrix_active()
    if version is None:
        return Limits(None, None, None)
    return Limits(
        version.single_customer_limit_binding, version.group_limit_binding, version.number
    )


def _guarantee_links(company_ids: list[int], credit_codes: dict[str, int]) -> dict[int, dict]:
    """For each company: the names of the companies guaranteeing one of its applications or
    loans (guaranteed_by) and of those whose application or loan it guarantees (guarantees),
    by credit code on the guarantor records, as related_companies links them. Two queries."""
    from customers.models import Company
    from intake.models import Guarantor

    pairs = set(
        Guarantor.objects.filter(kind=Guarantor.Kind.COMPANY)
        .filter(Q(application__company_id__in=company_ids) | Q(id_number__in=list(credit_codes)))
        .values_list("application__company_id", "id_number")
    )
    known = list(
        Company.objects.filter(
            Q(credit_code__in={code for _pk, code in pairs}) | Q(pk__in={pk for pk, _c in pairs})
        ).values_list("pk", "credit_code", "name")
    )
    by_code = {code: (pk, name) for pk, code, name in known}
    name_of = {pk: name for pk, _code, name in known}
    links: dict[int, dict] = {
        pk: {"guaranteed_by": set(), "guarantees": set()} for pk in company_ids
    }
    for company_id, code in pairs:
        guarantor = by_code.get(code)
        if guarantor is None or guarantor[0] == company_id:
            continue
        if company_id in links:
            links[company_id]["guaranteed_by"].add(guarantor[1])
        if guarantor[0] in links and company_id in name_of:
            links[guarantor[0]]["guarantees"].add(name_of[company_id])
    return {pk: {k: sorted(v) for k, v in value.items()} for pk, value in links.items()}


def _sorted(rows) -> list[dict]:
    return sorted(rows, key=lambda r: (r["currency"] != LIMIT_CURRENCY, r["currency"], -r["total"]))


def exposure_overview(*, user) -> dict:
    """The bank's exposure now, as the user's branch scope books it: by customer (with its
    group and guarantee links), by group (companies with the same legal representative, two
    or more), by industry (GB/T 4754 section, the first letter of the company's industry
    code) and by branch, each per currency with counts and totals; the customers above the
    active matrix version's single-customer limit and the groups above its group limit are
    marked with the limit. A fixed number of queries, whatever the size of the book."""
    from customers.models import Company
    from org.models import Branch

    limits = concentration_limits()
    rows = exposure_rows(user=user)
    company_ids = sorted({row["company_id"] for row in rows})
    companies = {
        item["id"]: item
        for item in Company.objects.filter(pk__in=company_ids).values(
            "id",
            "name",
            "credit_code",
            "industry_code",
            "legal_representative",
            "legal_representative_id",
        )
    }
    branches = dict(
        Branch.objects.filter(pk__in={row["branch_id"] for row in rows}).values_list("pk", "name")
    )
    links = (
        _guarantee_links(company_ids, {c["credit_code"]: pk for pk, c in companies.items()})
        if company_ids
        else {}
    )

    def group_of(company_id: int) -> str:
        c = companies[company_id]
        return group_key(c["legal_representative_id"], company_id)

    def group_label(company_id: int) -> str:
        """The group as shown: the representative's name and the ID number's last four
        digits (the full number, the key, is not published)."""
        c = companies[company_id]
        return f"{c['legal_representative']} (…{c['legal_representative_id'][-4:]})"

    members: dict[str, set[int]] = {}
    for pk in company_ids:
        members.setdefault(group_of(pk), set()).add(pk)

    customers = []
    for (pk, _currency), figures in exposure_by(rows, lambda r: r["company_id"]).items():
        c = companies[pk]
        key = group_of(pk)
        customers.append(
            {
                **figures,
                "company_id": pk,
                "name": c["name"],
                "credit_code": c["credit_code"],
                "industry": (c["industry_code"] or "")[:1],
                "group": group_label(pk) if len(members[key]) > 1 else "",
                "legal_representative": c["legal_representative"],
                "group_link": "legal_representative" if len(members[key]) > 1 else "",
                "guaranteed_by": links.get(pk, {}).get("guaranteed_by", []),
                "guarantees": links.get(pk, {}).get("guarantees", []),
                "limit": limits.above(figures),
            }
        )
    groups = []
    grouped = exposure_by(
        [r for r in rows if len(members[group_of(r["company_id"])]) > 1],
        lambda r: group_of(r["company_id"]),
    )
    for (key, _currency), figures in grouped.items():
        names = sorted(companies[pk]["name"] for pk in members[key])
        first = companies[min(members[key])]
        groups.append(
            {
                **figures,
                "group": group_label(first["id"]),
                "legal_representative": first["legal_representative"],
                "companies": names,
                "company_count": len(names),
                "limit": limits.above(figures, group=True),
            }
        )
    industries = [
        {**figures, "section": key or "-"}
        for (key, _c), figures in exposure_by(
            rows, lambda r: (companies[r["company_id"]]["industry_code"] or "")[:1]
        ).items()
    ]
    by_branch = [
        {**figures, "branch": branches.get(key, "")}
        for (key, _c), figures in exposure_by(rows, lambda r: r["branch_id"]).items()
    ]
    totals = list(exposure_by(rows, lambda r: "").values())
    return {
        "limits": limits,
        "totals": _sorted(totals),
        "customer": _sorted(customers),
        "group": _sorted(groups),
        "industry": sorted(industries, key=lambda r: (r["currency"], r["section"])),
        "branch": sorted(by_branch, key=lambda r: (r["currency"], r["branch"])),
    }


# Who sees the bank's exposure: risk officers and branch heads, each over their branch scope
# (at head office, the whole bank).
EXPOSURE_ROLES = (Role.RISK_OFFICER, Role.BRANCH_HEAD)


def may_see_exposure(user) -> bool:
    return bool(is_staff_member(user) and has_role(user, *EXPOSURE_ROLES))


def exposure_overview_for(*, user) -> dict:
    """exposure_overview for a risk officer or a branch head; anyone else: 403."""
    if not may_see_exposure(user):
        raise Forbidden(
            _("The bank's exposure is for risk officers and branch heads."), code="exposure_view"
        )
    return exposure_overview(user=user)


# The columns of each table, as the page, the API and the CSV export show them.
FIGURES = [
    "currency",
    "loans",
    "loan_count",
    "undrawn",
    "facility_count",
    "in_approval",
    "in_approval_count",
    "approved",
    "approved_count",
    "total",
]
COLUMNS = {
    "customer": [
        "name",
        "credit_code",
        "industry",
        "legal_representative",
        "group",
        *FIGURES,
        "guaranteed_by",
        "guarantees",
        "limit",
    ],
    "group": ["group", "company_count", "companies", *FIGURES, "limit"],
    "industry": ["section", "customer_count", *FIGURES],
    "branch": ["branch", "customer_count", *FIGURES],
}


def exposure_table(overview: dict, dimension: str) -> list[list]:
    """One table of the overview as rows of cells (the CSV export): its header first."""
    columns = COLUMNS[dimension]
    rows: list[list] = [columns]
    for item in overview[dimension]:
        cells = []
        for column in columns:
            value = item.get(column)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            cells.append("" if value is None else value)
        rows.append(cells)
    return rows


# --- The nightly flag -----------------------------------------------------------------------


def exposure_above_limits(*, limits: Limits | None = None) -> dict[int, dict]:
    """The customers whose exposure (in CNY, the whole bank's) is above the active matrix
    version's single-customer limit, or whose group's (by legal representative) is above the
    group limit: {company_id: evidence}."""
    from customers.models import Company

    limits = limits or concentration_limits()
    if limits.single_customer is None and limits.group is None:
        return {}
    rows = exposure_rows(currency=LIMIT_CURRENCY)
    by_company = {k[0]: v for k, v in exposure_by(rows, lambda r: r["company_id"]).items()}
    companies = {
        pk: (representative, name)
        for pk, representative, name in Company.objects.filter(pk__in=list(by_company)).values_list(
            "pk", "legal_representative_id", "name"
        )
    }
    members: dict[str, list[int]] = {}
    for pk in sorted(by_company):
        members.setdefault(group_key(companies[pk][0], pk), []).append(pk)
    above: dict[int, dict] = {}
    for pks in members.values():
        group_total = sum((by_company[pk]["total"] for pk in pks), ZERO)
        group_limit = (
            limits.group
            if len(pks) > 1 and limits.group is not None and group_total > limits.group
            else None
        )
        for pk in pks:
            figures = by_company[pk]
            customer_limit = limits.above(figures)
            if customer_limit is None and group_limit is None:
                continue
            # Flat, as the alert's page lists its evidence (key: value).
            evidence = {
                "currency": LIMIT_CURRENCY,
                "matrix_version": limits.version,
                **{f"customer_{part}": str(figures[part]) for part in (*PARTS, "total")},
            }
            if customer_limit is not None:
                evidence["single_customer_limit"] = str(customer_limit)
            if group_limit is not None:
                evidence["group_total"] = str(group_total)
                evidence["group_limit"] = str(group_limit)
                evidence["group_link"] = "legal_representative"
                evidence["group_companies"] = ", ".join(companies[pk][1] for pk in pks)
            above[pk] = evidence
    return above


def exposure_limits_flag(*, as_of: date | None = None) -> list[int]:
    """The nightly step: an alert (rule of kind exposure_above_limit) per customer above a
    concentration limit, on its active loan with the most principal outstanding, with the
    figures as evidence; none while one of its loans has such an alert open or acknowledged
    (raised once while it stays above). A customer with no active loan (only facilities or
    applications in approval) has no loan to carry the alert and is shown on the exposure
    view instead. Returns the new alerts' ids (their clocks and notifications follow)."""
    from audit.models import AuditEvent
    from audit.services import audit_record_many
    from postloan.selectors import OPEN_ALERT

    as_of = as_of or timezone.localdate()
    rule = (
        WarningRule.objects.filter(kind=WarningRule.Kind.EXPOSURE_ABOVE_LIMIT, is_active=True)
        .order_by("pk")
        .first()
    )
    if rule is None:
        return []
    with transaction.atomic():
        above = exposure_above_limits()
        if not above:
            return []
        flagged = set(
            Alert.objects.filter(
                rule=rule,
                status__in=OPEN_ALERT,
                loan__application__company_id__in=list(above),
            ).values_list("loan__application__company_id", flat=True)
        )
        loans = list(
            Loan.objects.filter(
                application__company_id__in=[pk for pk in above if pk not in flagged],
                status=Loan.Status.ACTIVE,
            )
            .order_by("application__company_id", "-outstanding_principal", "id")
            .distinct("application__company_id")
            .values_list("pk", "application__company_id", "application_id")
        )
        if not loans:
            return []
        stamp = timezone.now()
        Alert.objects.bulk_create(
            [
                Alert(
                    loan_id=loan_id,
                    rule=rule,
                    severity=rule.severity,
                    evidence={**above[company_id], "as_of": as_of.isoformat()},
                    created_at=stamp,
                )
                for loan_id, company_id, _application_id in loans
            ],
            # A concurrent run's alert on the same loan wins (the one-open-alert constraint).
            ignore_conflicts=True,
        )
        created = dict(
            Alert.objects.filter(
                rule=rule, created_at=stamp, loan_id__in=[loan_id for loan_id, _c, _a in loans]
            ).values_list("loan_id", "pk")
        )
        audit_record_many(
            [
                {
                    "kind": AuditEvent.Kind.SYSTEM,
                    "action": "exposure_above_limit",
                    "application_id": application_id,
                    "subject_type": "postloan.alert",
                    "subject_id": created[loan_id],
                    "to_state": Alert.Status.OPEN,
                    "data": above[company_id],
                }
                for loan_id, company_id, application_id in loans
                if loan_id in created
            ]
        )
        return sorted(created.values())
