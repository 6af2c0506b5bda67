"""The bank's exposure (issue 28): what it counts, once, and the risk officer's view of it.

A customer's exposure is the outstanding principal of its active loans (drawdown loans
included), the undrawn part of its open facilities (approved, active, frozen: limit - drawn),
the amounts of its applications in approval, and the amounts of its loans approved but not yet
paid out (approved or contract signed; a facility application's and a drawdown's amounts are
the facility's undrawn part instead). `exposure_parts` is the one definition, as querysets:
`exposure_rows` reads them row by row for the approval workbench's table
(postloan.selectors.customer_exposure) and the exposure after a decision
(postloan.selectors.exposure_after), live. The bank-wide figures are read from a dated
snapshot instead (postloan/snapshot.py, docs/adr/0018-exposure-snapshot.md): the nightly job
(or a refresh a risk officer asks for) writes `exposure_rows` summed per customer, branch and
currency, with the customer's group key; the risk officer's view (`exposure_overview`) and
the nightly flag (`exposure_limits_flag`) sum the snapshot's rows per customer, group,
industry or branch in the database, largest first, a page at a time.

The portfolio-wide group is the companies with the same controlling shareholder (by resident
ID number or credit code) or, where none is known, the same legal representative (by
resident ID number): `group_key`. The guarantee links (a company guaranteeing the customer,
or guaranteed by it) are listed per customer rather than merged into groups, because
guarantees chain (A guarantees B, B guarantees C) and merging them would make one group of
half the book (docs/adr/0016-portfolio-exposure-groups.md). `related_companies`, for one
application, still counts every kind of link.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Forbidden, InvalidInput
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


MONEY = DecimalField(max_digits=18, decimal_places=2)


@dataclass(frozen=True)
class Part:
    """One part of the exposure: the rows that make it (`queryset`), the path from a row to
    its company (`company`) and what a row adds (`amount`, an expression on the row)."""

    queryset: QuerySet
    company: str
    amount: object

    def grouped(self, *fields, **expressions) -> QuerySet:
        """The part summed by the fields: amount and count."""
        return (
            self.queryset.order_by()
            .values(*fields, **expressions)
            .annotate(amount=Sum(self.amount, output_field=MONEY), count=Count("pk"))
        )

    @property
    def company_prefix(self) -> str:
        """The path from a row to its company, as a lookup prefix."""
        return self.company.removesuffix("_id") + "__"


def exposure_parts(
    *,
    company_ids=None,
    currency: str | None = None,
    user=None,
    exclude_application_id: int | None = None,
) -> dict[str, Part]:
    """The one definition of the parts of the bank's exposure (PARTS), each a Part:
    loans (outstanding principal of active loans, drawdown loans included), undrawn (the
    undrawn part of open facilities), in_approval (applications in approval) and approved
    (loans approved or contract signed, not yet paid out; a facility application's and a
    drawdown's amounts are in the facility's undrawn part instead). Restricted to
    `company_ids`, a `currency`, the rows booked in the `user`'s branch scope, and without one
    application (the one being decided). Every read of the exposure (exposure_rows, the
    grouped pages, the nightly flag) is built from these querysets."""
    from applications.models import IN_PLACE_CHANGES, RENEWALS, LoanApplication, Status
    from facilities.models import OPEN_FACILITY, Facility
    from facilities.selectors import undrawn_expression

    scope = Q()
    if currency:
        scope &= Q(currency=currency)
    if user is not None:
        scope &= branch_scope_q(user)
    # A change that keeps or replaces the loan's principal (an extension, a restructuring, a
    # renewal of at most the principal owed) adds nothing until it is applied or paid out: its
    # loan is counted already (postloan.changes.exposure_added: what it adds at its decision).
    pending = LoanApplication.objects.filter(scope).exclude(
        change_kind__in=(*IN_PLACE_CHANGES, *RENEWALS)
    )
    if exclude_application_id is not None:
        pending = pending.exclude(pk=exclude_application_id)
    parts = {
        "loans": Part(
            Loan.objects.filter(scope, status=Loan.Status.ACTIVE),
            "application__company_id",
            F("outstanding_principal"),
        ),
        "undrawn": Part(
            Facility.objects.filter(scope, status__in=OPEN_FACILITY),
            "company_id",
            undrawn_expression(),
        ),
        "in_approval": Part(pending.filter(status=Status.IN_APPROVAL), "company_id", F("amount")),
        "approved": Part(
            pending.filter(
                status__in=(Status.APPROVED, Status.CONTRACT_SIGNED),
                # A facility's and a drawdown's amounts are in the facility's undrawn part.
                product__facility_terms__isnull=True,
                drawdown__isnull=True,
            ),
            "company_id",
            F("amount"),
        ),
    }
    if company_ids is not None:
        parts = {
            name: Part(
                part.queryset.filter(**{f"{part.company}__in": company_ids}),
                part.company,
                part.amount,
            )
            for name, part in parts.items()
        }
    return parts


def exposure_rows(
    *,
    company_ids=None,
    currency: str | None = None,
    user=None,
    exclude_application_id: int | None = None,
    group: bool = False,
) -> list[dict]:
    """The parts of the bank's exposure (exposure_parts), one dict per (part, company,
    branch, currency) with part, company_id, branch_id, currency, amount and count, and with
    `group`, the company's group key (group_key). One query (the parts' sums, united),
    whatever the number of customers."""
    parts = exposure_parts(
        company_ids=company_ids,
        currency=currency,
        user=user,
        exclude_application_id=exclude_application_id,
    )
    first, *others = (
        part.grouped(
            "branch_id",
            "currency",
            customer=F(part.company),
            part=Value(name, output_field=CharField()),
            **({"group": group_key(part.company_prefix)} if group else {}),
        )
        for name, part in parts.items()
    )
    return [
        {
            "part": item["part"],
            "company_id": item["customer"],
            "branch_id": item["branch_id"],
            "currency": item["currency"],
            "amount": item["amount"] or ZERO,
            "count": item["count"],
            **({"group": item["group"]} if group else {}),
        }
        for item in first.union(*others, all=True)
    ]


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


def group_key(prefix: str = ""):
    """The portfolio-wide group of a company, as an expression on Company (or on a row with
    the company at `prefix`, e.g. "company__"): its controlling shareholder's identifier
    (resident ID number or credit code) when known, else its legal representative's resident
    ID number; a company with neither is a group of its own
    (docs/adr/0016-portfolio-exposure-groups.md). The one definition, for the database's
    grouping and for the single company's."""
    return Coalesce(
        NullIf(F(f"{prefix}controlling_shareholder_id"), Value("")),
        NullIf(F(f"{prefix}legal_representative_id"), Value("")),
        Concat(Value("company-"), Cast(f"{prefix}id", CharField())),
        output_field=CharField(),
    )


def group_link():
    """Which link the group key is: controlling_shareholder, legal_representative or ''."""
    return Case(
        When(~Q(controlling_shareholder_id=""), then=Value("controlling_shareholder")),
        When(~Q(legal_representative_id=""), then=Value("legal_representative")),
        default=Value(""),
        output_field=CharField(),
    )


def group_person():
    """The name of the person (or company) the group is keyed on."""
    return Case(
        When(~Q(controlling_shareholder_id=""), then=F("controlling_shareholder")),
        default=F("legal_representative"),
        output_field=CharField(),
    )


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


PAGE_SIZE = 50


def _search(q: str, *, prefix: str = "") -> Q:
    """A customer (at `prefix`) by (part of) its name or the start of its credit code."""
    q = q.strip()
    return Q(**{f"{prefix}name__icontains": q}) | Q(
        **{f"{prefix}credit_code__istartswith": q.upper()}
    )


# The figures a snapshot row holds, summed over rows.
SUMS = (*PARTS, *COUNTS.values(), "total")


def snapshot_rows(snapshot, *, user=None, currency: str | None = None) -> QuerySet:
    """The snapshot's rows (postloan.snapshot) booked in the user's branch scope (None: the
    whole bank), in one currency if given; none without a snapshot."""
    from postloan.models import ExposureSnapshotRow

    if snapshot is None:
        return ExposureSnapshotRow.objects.none()
    rows = ExposureSnapshotRow.objects.filter(snapshot=snapshot)
    if user is not None:
        rows = rows.filter(branch_scope_q(user))
    if currency:
        rows = rows.filter(currency=currency)
    return rows


def summed(rows: QuerySet, *fields, **expressions) -> QuerySet:
    """The rows' figures summed in the database by the fields: the parts, their counts and
    the total."""
    return (
        rows.order_by()
        .values(*fields, **expressions)
        .annotate(**{name: Sum(name) for name in SUMS})
    )


def _largest_first(rows: QuerySet) -> QuerySet:
    """CNY first, then the other currencies, each largest first."""
    return rows.order_by(
        Case(When(currency=LIMIT_CURRENCY, then=Value(0)), default=Value(1)),
        "currency",
        "-total",
        "key",
    )


def _shared_keys(rows: QuerySet) -> QuerySet:
    """The group keys of two or more companies among the rows (values of `group_key`)."""
    return (
        rows.order_by()
        .values("group_key")
        .annotate(companies=Count("company_id", distinct=True))
        .filter(companies__gt=1)
        .values_list("group_key", flat=True)
    )


# The shape of the groups' table. Each currency's groups are summed in one aggregate over the
# scope's rows, their companies counted in every currency; the currencies are united. Only
# aggregates of one table: no join of the rows with themselves, whose plan PostgreSQL gets
# wrong on a snapshot just taken (its statistics do not know the new snapshot: it took one row
# for it and looped over all of them for each row, 13 s for head office's groups at scale
# 0.05, quadratic in the rows).
def _groups_by_currency(scope: QuerySet) -> QuerySet:
    """The groups of two or more companies among the scope's rows, summed per group key and
    currency (`key`, `currency`, `rank`: 0 for CNY), largest first."""
    currencies = sorted(scope.order_by().values_list("currency", flat=True).distinct())
    tables = [
        scope.order_by()
        .values(key=F("group_key"))
        .annotate(
            **{name: Sum(name, filter=Q(currency=currency)) for name in SUMS},
            companies=Count("company_id", distinct=True),
            here=Count("pk", filter=Q(currency=currency)),
        )
        .filter(companies__gt=1, here__gt=0)
        # After the sums: a `currency` annotation before them would be what they filter on.
        .annotate(
            currency=Value(currency, output_field=CharField()),
            rank=Value(int(currency != LIMIT_CURRENCY)),
        )
        for currency in currencies
    ]
    if not tables:
        return _largest_first(summed(scope, "currency", key=F("group_key")))
    first, *others = tables
    return first.union(*others, all=True).order_by("rank", "currency", "-total", "key")


def _label(person: str, key: str) -> str:
    """A group as shown: the person's name and the identifier's last four characters (the
    full number, the key, is not published)."""
    return f"{person} (…{key[-4:]})"


def _customer_rows(rows: list[dict], *, scope: QuerySet, limits: Limits) -> list[dict]:
    """The page's customers (their figures summed from the snapshot) with their group (when
    two or more companies of the scope share its key) and guarantee links and the limit they
    are above. Four queries for the page."""
    from customers.models import Company

    ids = sorted({row["key"] for row in rows})
    if not ids:
        return []
    companies = {
        item["id"]: item
        for item in Company.objects.filter(pk__in=ids)
        .annotate(link=group_link(), person=group_person())
        .values(
            "id", "name", "credit_code", "industry_code", "legal_representative", "link", "person"
        )
    }
    shared = set(_shared_keys(scope.filter(group_key__in={row["group"] for row in rows})))
    links = _guarantee_links(ids, {c["credit_code"]: pk for pk, c in companies.items()})
    result = []
    for row in rows:
        c = companies[row["key"]]
        own = {k: v for k, v in row.items() if k not in ("key", "group")}
        in_group = row["group"] in shared
        result.append(
            {
                **own,
                "company_id": c["id"],
                "name": c["name"],
                "credit_code": c["credit_code"],
                "industry": (c["industry_code"] or "")[:1],
                "group": _label(c["person"], row["group"]) if in_group else "",
                "legal_representative": c["legal_representative"],
                "group_link": c["link"] if in_group else "",
                "guaranteed_by": links.get(c["id"], {}).get("guaranteed_by", []),
                "guarantees": links.get(c["id"], {}).get("guarantees", []),
                "limit": limits.above(own),
            }
        )
    return result


def _group_members(keys, rows: QuerySet) -> dict[str, list[dict]]:
    """The companies among the rows (a snapshot's) of each group key, in id order: id, name,
    person and link. Two queries."""
    from customers.models import Company

    pairs = set(rows.filter(group_key__in=keys).values_list("group_key", "company_id"))
    companies = {
        item["id"]: item
        for item in Company.objects.filter(pk__in={pk for _key, pk in pairs})
        .annotate(person=group_person(), link=group_link())
        .values("id", "name", "person", "link")
    }
    found: dict[str, list[dict]] = {}
    for key, pk in sorted(pairs, key=lambda pair: pair[1]):
        found.setdefault(key, []).append(companies[pk])
    return found


def _group_rows(rows: list[dict], *, scope: QuerySet, limits: Limits) -> list[dict]:
    """The page's groups (their figures summed from the snapshot) with their companies and
    the limit they are above. Two queries for the page."""
    members = _group_members({row["key"] for row in rows}, scope) if rows else {}
    result = []
    for row in rows:
        items = members.get(row["key"], [])
        own = {k: v for k, v in row.items() if k != "key"}
        first = items[0] if items else {"person": "", "link": ""}
        names = sorted(item["name"] for item in items)
        result.append(
            {
                **own,
                "group": _label(first["person"], row["key"]),
                "legal_representative": first["person"],
                "group_link": first["link"],
                "companies": names,
                "company_count": len(names),
                "limit": limits.above(own, group=True),
            }
        )
    return result


def _dimension_rows(scope: QuerySet, *, snapshot, dimension: str, q: str) -> QuerySet | list:
    """The dimension's rows summed in the database from the scope's snapshot rows, in order:
    customers (`key` the company, `group` its group key) and groups (`key` the group key, two
    or more companies) largest first, `q` finding a customer (or the groups of the customers)
    by name or credit code; industries (GB/T 4754 section) and branches by currency and
    name, with their number of customers."""
    if dimension == "customer":
        if q:
            scope = scope.filter(_search(q, prefix="company__"))
        return _largest_first(summed(scope, "currency", key=F("company_id"), group=F("group_key")))
    if dimension == "group":
        if q:
            # The groups of the customers found (among the whole bank's rows).
            found = snapshot_rows(snapshot).filter(_search(q, prefix="company__"))
            scope = scope.filter(group_key__in=list(found.values_list("group_key", flat=True)))
        return _groups_by_currency(scope)
    if dimension == "industry":
        table = summed(scope, "currency", section=Substr("company__industry_code", 1, 1))
    else:
        table = summed(scope, "currency", "branch__name")
    # A small table (a row per section or branch and currency), read whole: paging it would
    # group the whole scope a second time only to count its rows.
    return list(
        table.annotate(customer_count=Count("company_id", distinct=True)).order_by(
            "currency", "section" if dimension == "industry" else "branch__name"
        )
    )


@dataclass
class Overview:
    """The bank's exposure in a user's scope for one dimension, as of the latest snapshot
    (`snapshot`; None before the first) while `refreshing` says whether a newer one is being
    taken: the limits, the totals per currency and `rows`, the dimension's rows in order (a
    queryset summed in the database, customers and groups: page it, or iterate it; a list,
    industries and branches); `figures` adds, for a page of them, what the tables show beside
    the figures."""

    user: object
    dimension: str
    q: str
    limits: Limits
    snapshot: object
    refreshing: object
    totals: list[dict]
    rows: QuerySet | list
    scope: QuerySet

    def figures(self, rows) -> list[dict]:
        """The rows (a page of `rows`) as the tables show them."""
        rows = list(rows)
        if self.dimension == "customer":
            return _customer_rows(rows, scope=self.scope, limits=self.limits)
        if self.dimension == "group":
            return _group_rows(rows, scope=self.scope, limits=self.limits)
        if self.dimension == "industry":
            return [{**row, "section": row["section"] or "-"} for row in rows]
        return [{"branch": row.pop("branch__name"), **row} for row in rows]


def exposure_overview(*, user, dimension: str = "customer", q: str = "") -> Overview:
    """The bank's exposure as of the latest snapshot (postloan.snapshot: the nightly one or
    a refresh), as the user's branch scope books it, by customer (with its group and
    guarantee links), by group (companies with the same controlling shareholder or, without
    one, legal representative: two or more), by industry (GB/T 4754 section, the first letter
    of the company's industry code) or by branch, each per currency with counts and totals.
    Everything is summed in the database over the snapshot's rows in the scope, customers
    and groups ordered largest first to be read a page at a time, `q` finding a customer (or
    the groups of the customers) by name or credit code; the customers above the active
    matrix version's single-customer limit and the groups above its group limit are marked
    with the limit."""
    from postloan.snapshot import exposure_snapshot_latest, exposure_snapshot_refreshing

    if dimension not in DIMENSIONS:
        raise InvalidInput(
            _("Choose customer, group, industry or branch."),
            details={"dimension": [_("Choose customer, group, industry or branch.")]},
        )
    snapshot = exposure_snapshot_latest()
    scope = snapshot_rows(snapshot, user=user)
    totals = (
        summed(scope, "currency")
        .annotate(customer_count=Count("company_id", distinct=True))
        .order_by(Case(When(currency=LIMIT_CURRENCY, then=Value(0)), default=Value(1)), "currency")
    )
    return Overview(
        user=user,
        dimension=dimension,
        q=q,
        limits=concentration_limits(),
        snapshot=snapshot,
        refreshing=exposure_snapshot_refreshing(),
        totals=list(totals),
        rows=_dimension_rows(scope, snapshot=snapshot, dimension=dimension, q=q),
        scope=scope,
    )


# Who sees the bank's exposure: risk officers and branch heads, each over their branch scope
# (at head office, the whole bank).
EXPOSURE_ROLES = (Role.RISK_OFFICER, Role.BRANCH_HEAD)


def may_see_exposure(user) -> bool:
    return bool(is_staff_member(user) and has_role(user, *EXPOSURE_ROLES))


def exposure_overview_for(*, user, dimension: str = "customer", q: str = "") -> Overview:
    """exposure_overview for a risk officer or a branch head; anyone else: 403."""
    if not may_see_exposure(user):
        raise Forbidden(
            _("The bank's exposure is for risk officers and branch heads."), code="exposure_view"
        )
    return exposure_overview(user=user, dimension=dimension, q=q)


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
CSV_CHUNK = 500


def exposure_table(overview: Overview) -> Iterator[list]:
    """All the rows of the overview's table as rows of cells (the CSV export), its header
    first: read from the database a chunk at a time, so the export streams."""
    columns = COLUMNS[overview.dimension]
    yield columns
    rows = overview.rows
    source = iter(rows) if isinstance(rows, list) else rows.iterator(chunk_size=CSV_CHUNK)
    while chunk := list(islice(source, CSV_CHUNK)):
        for item in overview.figures(chunk):
            cells = []
            for column in columns:
                value = item.get(column)
                if isinstance(value, list):
                    value = "; ".join(str(v) for v in value)
                cells.append("" if value is None else value)
            yield cells


# --- The nightly flag -----------------------------------------------------------------------


def exposure_above_limits(*, snapshot, limits: Limits | None = None) -> dict[int, dict]:
    """The customers whose exposure (in CNY, the whole bank's, as of the `snapshot`) is
    above the active matrix version's single-customer limit, or whose group's (two or more
    companies with CNY exposure and the same group key) is above the group limit:
    {company_id: evidence}. The customers' and the groups' figures are summed in the
    database over the snapshot's rows."""
    limits = limits or concentration_limits()
    if snapshot is None or (limits.single_customer is None and limits.group is None):
        return {}
    rows = snapshot_rows(snapshot, currency=LIMIT_CURRENCY)
    single = set()
    if limits.single_customer is not None:
        single = set(
            summed(rows, key=F("company_id"))
            .filter(total__gt=limits.single_customer)
            .values_list("key", flat=True)
        )
    group_totals = {}
    if limits.group is not None:
        group_totals = {
            row["key"]: row["total"]
            for row in summed(rows, key=F("group_key"))
            .annotate(companies=Count("company_id", distinct=True))
            .filter(companies__gt=1, total__gt=limits.group)
        }
    members = _group_members(group_totals, rows) if group_totals else {}
    company_ids = single | {m["id"] for items in members.values() for m in items}
    if not company_ids:
        return {}
    by_company = {
        row["key"]: row
        for row in summed(rows.filter(company_id__in=company_ids), key=F("company_id"))
    }
    group_of = {m["id"]: (key, items) for key, items in members.items() for m in items}
    above: dict[int, dict] = {}
    for pk in sorted(company_ids):
        figures = by_company.get(pk) or _blank()
        # Flat, as the alert's page lists its evidence (key: value).
        evidence = {
            "currency": LIMIT_CURRENCY,
            "matrix_version": limits.version,
            **{f"customer_{part}": str(figures[part]) for part in (*PARTS, "total")},
        }
        if pk in single:
            evidence["single_customer_limit"] = str(limits.single_customer)
        if pk in group_of:
            key, items = group_of[pk]
            evidence["group_total"] = str(group_totals[key])
            evidence["group_limit"] = str(limits.group)
            evidence["group_link"] = items[0]["link"]
            evidence["group_companies"] = ", ".join(item["name"] for item in items)
        above[pk] = evidence
    return above


def exposure_limits_flag(*, snapshot, as_of: date | None = None) -> list[int]:
    """The nightly step: an alert (rule of kind exposure_above_limit) per customer above a
    concentration limit, on its active loan with the most principal outstanding, with the
    figures as evidence; none while one of its loans has such an alert open or acknowledged
    (raised once while it stays above). A customer with no active loan (only facilities or
    applications in approval) has no loan to carry the alert and is shown on the exposure
    view instead. The figures are the `snapshot`'s (the one the nightly job has just taken:
    one computation of the bank's exposure a night). Returns the new alerts' ids (their
    clocks and notifications follow)."""
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
        above = exposure_above_limits(snapshot=snapshot)
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
