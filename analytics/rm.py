"""Relationship managers' results: per RM, their cases' flow in the period and the quality of
the book they originated, with the book's size and vintage mix beside every figure (a figure
of a large, seasoned book and one of a small, young book are not comparable).

Who sees what: a relationship manager their own results only; whoever sees the process figures
(branch heads, head office, risk officers, administrators) every RM of their branch subtree.
The filters are the dashboard's (analytics.forms.FiltersForm) plus `rm`, one RM's id.

What each figure counts, for the RM the application names (LoanApplication.relationship_manager;
the loan keeps the same person, Loan.relationship_manager):

- filed, approved, declined, disbursed: their applications submitted in the period and how
  far those got; conversion = disbursed / filed, approval rate = approved / decided;
- stages, stage_mean_h: the stages they completed in the period themselves (StageVisit.actor)
  and the mean time those took (business or calendar hours, the filters' basis);
- case_visits, rework, rework_rate: the stages of their cases completed in the period, whoever
  completed them, and how many went back or waited on the applicant (StageVisit.is_rework);
  a stage counts for the RM who held the case when it ended (StageVisit.relationship_manager),
  so a case handed over counts its earlier stages for the RM before;
- sla_deadlines, sla_breached: SLA deadlines of their cases stopped in the period, and those
  stopped after they were due;
- disbursed_loans, disbursed_amount: loans of theirs disbursed in the period (principal);
- the book, now (whatever the period): active loans, outstanding principal, the vintage mix
  (share of the outstanding principal by year of disbursement), yield and margin, overdue
  rate (outstanding principal of loans one day or more past due over the book) and NPL rate
  (substandard, doubtful and loss over the book); per vintage (quarter of disbursement) in
  the rm-vintages figure, with the written-off loans of each vintage;
- surveys offered and answered, and the average score (1 to 5) of their cases' satisfaction
  survey (analytics.selectors.analytics_satisfaction's cases).

Yield and margin: the yield is the balance-weighted average contractual interest rate of the
active book (each loan's current rate, Loan.interest_rate, weighted by outstanding principal),
and the margin is the yield less the balance-weighted cost of funds of the same loans, each at
the active pricing version's curve for its current term (pricing.models.PricingVersion); no
margin without an active version.

Rows are in branch and name order, never ranked by a figure.
"""

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Aggregate, Count, DecimalField, F, FilteredRelation, Q, Sum, Value
from django.db.models.functions import ExtractQuarter, ExtractYear
from django.utils.translation import gettext as _

from analytics.selectors import (
    APPROVED_OR_LATER,
    BREACHED,
    DISBURSED_OR_LATER,
    HOUR,
    Filters,
    _applications,
    _average,
    _count_where,
    _deadlines,
    _figure,
    _rate,
    _survey_offered,
    _visits,
    analytics_can_view,
    analytics_filters,
)
from applications.models import Status
from common.errors import Forbidden, InvalidInput, NotFound
from messaging.models import SurveyStage
from org.roles import Role, has_role
from org.selectors import branch_scope_q, is_staff_member
from postloan.models import NON_PERFORMING, Loan
from pricing.models import PricingVersion
from pricing.selectors import pricing_version_active

ZERO = Decimal("0.00")

RESULT_COLUMNS = [
    "rm_id",
    "username",
    "name",
    "branch",
    "book_loans",
    "book_balance",
    "vintage_mix",
    "filed",
    "approved",
    "declined",
    "disbursed",
    "conversion",
    "approval_rate",
    "stages",
    "stage_mean_h",
    "case_visits",
    "rework",
    "rework_rate",
    "sla_deadlines",
    "sla_breached",
    "sla_breach_rate",
    "disbursed_loans",
    "disbursed_amount",
    "yield_pct",
    "margin_pct",
    "overdue_balance",
    "overdue_rate",
    "npl_balance",
    "npl_rate",
    "surveys_offered",
    "surveys_answered",
    "satisfaction_score",
]
VINTAGE_COLUMNS = [
    "rm_id",
    "username",
    "name",
    "vintage",
    "loans",
    "disbursed_amount",
    "active_loans",
    "balance",
    "overdue_balance",
    "overdue_rate",
    "npl_balance",
    "npl_rate",
    "written_off_loans",
]


# --- Access ---------------------------------------------------------------------------------


def rm_results_filters(*, user, params: Mapping) -> tuple[Filters, object | None]:
    """The filters and the one RM asked for (None: every RM in the user's scope). An RM who
    does not see the process figures always gets themselves; asking for someone else is 404,
    as is an RM outside a branch head's subtree. Anyone else without the figures: 403."""
    manager = analytics_can_view(user=user)
    if not manager and not (is_staff_member(user) and has_role(user, Role.RELATIONSHIP_MANAGER)):
        raise Forbidden(
            _("The results are for relationship managers, branch heads and head office.")
        )
    f = analytics_filters(user=user, params=params)
    raw = str(params.get("rm") or "").strip()
    if not raw:
        return f, (None if manager else user)
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(
            _("Some filters are not valid."),
            details={"rm": [_("Choose a relationship manager.")]},
        )
    pk = int(raw)
    if not manager:
        if pk != user.pk:
            raise NotFound(_("This relationship manager is outside your scope."))
        return f, user
    rm = rm_choices(user=user).filter(pk=pk).first()
    if rm is None:
        raise NotFound(_("This relationship manager is outside your scope."))
    return f, rm


def rm_choices(*, user):
    """The relationship managers whose own branch is in the user's scope, by name."""
    return (
        get_user_model()
        .objects.filter(
            branch_scope_q(user, field="staff_profile__branch"),
            pk__in=get_user_model()
            .objects.filter(groups__name=Role.RELATIONSHIP_MANAGER)
            .values("pk"),
        )
        .select_related("staff_profile__branch")
        .order_by("username")
    )


# --- The figures ----------------------------------------------------------------------------


def analytics_rm_results(*, user, params: Mapping) -> dict:
    """One row per relationship manager (see the module's docstring for each column); the
    rows of rm-vintages under "vintages" and the totals under "summary"."""
    f, rm = rm_results_filters(user=user, params=params)
    return _results(user=user, f=f, rm=rm)


def analytics_rm_vintages(*, user, params: Mapping) -> dict:
    """Per relationship manager and quarter of disbursement (vintage): loans, amount
    disbursed, the active loans' outstanding principal, its overdue and NPL rates, and the
    loans written off."""
    f, rm = rm_results_filters(user=user, params=params)
    rows, _by_rm = _vintages(user=user, f=f, rm=rm, people=None)
    return _figure("rm_vintages", f, VINTAGE_COLUMNS, rows, rm=rm.pk if rm else None)


RM_FIGURES = {"rm-results": analytics_rm_results, "rm-vintages": analytics_rm_vintages}


def analytics_rm_figure(*, user, name: str, params: Mapping) -> dict:
    return RM_FIGURES[name](user=user, params=params)


def rm_book_yield(*, user, f: Filters, **extra: Aggregate) -> dict:
    """The active book's yield and margin over the cost of funds in the filters (the balanced
    scorecard's): the summary's figures of the relationship managers' results, by one
    aggregate over the active loans (_book_sums, as per RM). `extra`: other aggregates over
    the same loans, computed in the same statement and returned beside them."""
    pricing = pricing_version_active()
    book = (
        _loans(user=user, f=f, rm=None)
        .filter(status=Loan.Status.ACTIVE)
        .aggregate(**_book_sums(pricing), **extra)
    )
    balance = book["balance"] or ZERO
    book["rated"], book["funded"] = book["rated"] or 0, book["funded"] or 0
    return {
        "yield_pct": round(float(book["rated"] / balance), 4) if balance else None,
        "margin_pct": _margin(book, balance, pricing),
        **{name: book[name] for name in extra},
    }


def _book_sums(pricing: PricingVersion | None) -> dict:
    """The active book's sums (aggregates over loans): outstanding principal, principal x
    rate, and principal x the cost of funds for its term under `pricing`."""
    cost_of_funds = (
        pricing.cost_of_funds_case("term_months")
        if pricing is not None
        else Value(Decimal("0"), output_field=DecimalField(max_digits=7, decimal_places=4))
    )
    active = Q(status=Loan.Status.ACTIVE)
    money = DecimalField(max_digits=30, decimal_places=5)
    return {
        "balance": Sum("outstanding_principal", filter=active),
        "rated": Sum(
            F("outstanding_principal") * F("interest_rate"),
            filter=active,
            output_field=money,
        ),
        "funded": Sum(
            F("outstanding_principal") * cost_of_funds, filter=active, output_field=money
        ),
    }


def _mine(qs, rm, field: str):
    return qs if rm is None else qs.filter(**{field: rm})


def _loans(*, user, f: Filters, rm):
    qs = f.narrow(Loan.objects.all(), user=user, branch_field="branch", app_prefix="application__")
    return _mine(qs, rm, "relationship_manager")


def _money(value) -> str:
    return str((value or ZERO).quantize(Decimal("0.01")))


def _results(*, user, f: Filters, rm) -> dict:
    apps = {
        r["relationship_manager"]: r
        for r in _mine(_applications(user=user, f=f), rm, "relationship_manager")
        .order_by()
        .values("relationship_manager")
        .annotate(
            filed=Count("id"),
            approved=Count("id", filter=Q(status__in=APPROVED_OR_LATER)),
            declined=Count("id", filter=Q(status=Status.DECLINED)),
            disbursed=Count("id", filter=Q(status__in=DISBURSED_OR_LATER)),
        )
    }
    own_stages, cases = _stages_and_cases(user=user, f=f, rm=rm)
    sla = {
        r["application__relationship_manager"]: r
        for r in _mine(_deadlines(user=user, f=f), rm, "application__relationship_manager")
        .order_by()
        .values("application__relationship_manager")
        .annotate(n=Count("id"), breached=Count("id", filter=BREACHED))
    }
    paid_out = {
        r["relationship_manager"]: r
        for r in _loans(user=user, f=f, rm=rm)
        .filter(disbursed_on__gte=f.date_from, disbursed_on__lte=f.date_to)
        .order_by()
        .values("relationship_manager")
        .annotate(n=Count("id"), amount=Sum("principal"))
    }
    surveys: dict[int, dict] = defaultdict(lambda: {"offered": 0, "answered": 0, "score": 0})
    for stage in SurveyStage.values:
        rows = (
            _mine(_survey_offered(user=user, f=f, stage=stage), rm, "relationship_manager")
            .annotate(
                answer=FilteredRelation("survey_answers", condition=Q(survey_answers__stage=stage))
            )
            .order_by()
            .values("relationship_manager")
            .annotate(offered=Count("id"), answered=Count("answer__id"), score=Sum("answer__score"))
        )
        for r in rows:
            total = surveys[r["relationship_manager"]]
            total["offered"] += r["offered"]
            total["answered"] += r["answered"]
            total["score"] += r["score"] or 0
    pricing = pricing_version_active()
    vintage_rows, book = _vintages(user=user, f=f, rm=rm, people={}, pricing=pricing)
    ids = set(apps) | set(cases) | set(sla) | set(paid_out) | set(surveys) | set(book)
    if rm is not None:
        ids = {rm.pk}
    people = _people(user=user, f=f, ids=ids, everyone=rm is None)
    for row in vintage_rows:
        row["username"], row["name"] = people.get(row["rm_id"], ("", "", ""))[:2]
    out = []
    for pk, (username, name, branch) in sorted(
        people.items(), key=lambda item: (item[1][2], item[1][0])
    ):
        a = apps.get(pk, {})
        own, case, deadlines = own_stages.get(pk, {}), cases.get(pk, {}), sla.get(pk, {})
        paid, survey = paid_out.get(pk, {}), surveys.get(pk, {})
        b = book.get(pk, {})
        filed, approved, declined = a.get("filed", 0), a.get("approved", 0), a.get("declined", 0)
        balance = b.get("balance", ZERO)
        yield_pct = b["rated"] / balance if balance else None
        margin_pct = _margin(b, balance, pricing)
        stages = own.get("n", 0)
        out.append(
            {
                "rm_id": pk,
                "username": username,
                "name": name,
                "branch": branch,
                "book_loans": b.get("active", 0),
                "book_balance": _money(balance),
                "vintage_mix": _mix(b.get("by_year", {}), balance),
                "filed": filed,
                "approved": approved,
                "declined": declined,
                "disbursed": a.get("disbursed", 0),
                "conversion": _rate(a.get("disbursed", 0), filed),
                "approval_rate": _rate(approved, approved + declined),
                "stages": stages,
                "stage_mean_h": (round(float(own["total"]) / stages / HOUR, 4) if stages else None),
                "case_visits": case.get("n", 0),
                "rework": case.get("rework", 0),
                "rework_rate": _rate(case.get("rework", 0), case.get("n", 0)),
                "sla_deadlines": deadlines.get("n", 0),
                "sla_breached": deadlines.get("breached", 0),
                "sla_breach_rate": _rate(deadlines.get("breached", 0), deadlines.get("n", 0)),
                "disbursed_loans": paid.get("n", 0),
                "disbursed_amount": _money(paid.get("amount")),
                "yield_pct": None if yield_pct is None else round(float(yield_pct), 4),
                "margin_pct": margin_pct,
                "overdue_balance": _money(b.get("overdue")),
                "overdue_rate": _share(b.get("overdue"), balance),
                "npl_balance": _money(b.get("npl")),
                "npl_rate": _share(b.get("npl"), balance),
                "surveys_offered": survey.get("offered", 0),
                "surveys_answered": survey.get("answered", 0),
                "satisfaction_score": _average(survey.get("score", 0), survey.get("answered", 0)),
            }
        )
    summary = _summary(out, book, surveys, pricing)
    return _figure(
        "rm_results",
        f,
        RESULT_COLUMNS,
        out,
        rm=rm.pk if rm else None,
        pricing_version=pricing.number if pricing is not None else None,
        summary=summary,
        vintages=vintage_rows,
        vintage_columns=VINTAGE_COLUMNS,
    )


def _stages_and_cases(*, user, f: Filters, rm) -> tuple[dict, dict]:
    """The stages each RM completed in the period ({actor: {"n", "total"}}: timed visits and
    their seconds on the filters' basis) and the stages of each RM's cases completed in it
    ({RM of the case when the stage ended: {"n", "rework"}}), from one read of the period's
    visits grouped by who completed the stage and the case's RM (each visit keeps it): the
    visits are not read twice, and every column comes from the covering index."""
    column = "business_seconds" if f.basis == "business" else "calendar_seconds"
    visits = _visits(user=user, f=f)
    if rm is not None:
        visits = visits.filter(Q(actor=rm) | Q(relationship_manager=rm))
    own: dict = defaultdict(lambda: {"n": 0, "total": 0})
    cases: dict = defaultdict(lambda: {"n": 0, "rework": 0})
    for r in (
        visits.order_by()
        .values("actor", "relationship_manager")
        .annotate(
            timed=Count(column),
            seconds=Sum(column),
            n=_count_where(Q()),
            rework=_count_where(Q(is_rework=True)),
        )
    ):
        actor, case_rm = r["actor"], r["relationship_manager"]
        if actor is not None and (rm is None or actor == rm.pk):
            own[actor]["n"] += r["timed"]
            own[actor]["total"] += r["seconds"] or 0
        if rm is None or case_rm == rm.pk:
            cases[case_rm]["n"] += r["n"]
            cases[case_rm]["rework"] += r["rework"]
    return dict(own), dict(cases)


def _vintages(
    *, user, f: Filters, rm, people: dict | None, pricing: PricingVersion | None = None
) -> tuple[list[dict], dict]:
    """The rm-vintages rows and, per RM, the book they add up to (active loans, balance,
    balance x rate, balance x cost of funds under `pricing`, overdue and NPL balances,
    balance by year of disbursement). One query."""
    active = Q(status=Loan.Status.ACTIVE)
    grouped = (
        _loans(user=user, f=f, rm=rm)
        .annotate(year=ExtractYear("disbursed_on"), quarter=ExtractQuarter("disbursed_on"))
        .order_by()
        .values("relationship_manager", "year", "quarter")
        .annotate(
            loans=Count("id"),
            disbursed=Sum("principal"),
            active=Count("id", filter=active),
            **_book_sums(pricing),
            overdue=Sum("outstanding_principal", filter=active & Q(days_past_due__gt=0)),
            npl=Sum("outstanding_principal", filter=active & Q(classification__in=NON_PERFORMING)),
            written_off=Count("id", filter=Q(status=Loan.Status.WRITTEN_OFF)),
        )
    )
    rows, book = [], {}
    for r in grouped:
        pk = r["relationship_manager"]
        balance = r["balance"] or ZERO
        total = book.setdefault(
            pk,
            {
                "active": 0,
                "balance": ZERO,
                "rated": Decimal("0"),
                "funded": Decimal("0"),
                "overdue": ZERO,
                "npl": ZERO,
                "by_year": defaultdict(lambda: ZERO),
            },
        )
        total["active"] += r["active"]
        total["balance"] += balance
        total["rated"] += r["rated"] or 0
        total["funded"] += r["funded"] or 0
        total["overdue"] += r["overdue"] or ZERO
        total["npl"] += r["npl"] or ZERO
        total["by_year"][r["year"]] += balance
        rows.append(
            {
                "rm_id": pk,
                "username": "",
                "name": "",
                "vintage": f"{r['year']}Q{r['quarter']}",
                "loans": r["loans"],
                "disbursed_amount": _money(r["disbursed"]),
                "active_loans": r["active"],
                "balance": _money(balance),
                "overdue_balance": _money(r["overdue"]),
                "overdue_rate": _share(r["overdue"], balance),
                "npl_balance": _money(r["npl"]),
                "npl_rate": _share(r["npl"], balance),
                "written_off_loans": r["written_off"],
            }
        )
    if people is None:
        people = _people(user=user, f=f, ids={r["rm_id"] for r in rows}, everyone=False)
        for row in rows:
            row["username"], row["name"] = people.get(row["rm_id"], ("", "", ""))[:2]
    rows.sort(key=lambda r: (r["username"], r["vintage"]))
    return rows, book


def _people(*, user, f: Filters, ids: set, everyone: bool) -> dict[int, tuple[str, str, str]]:
    """{pk: (username, name, branch)} of the RMs with figures (`ids`) and, for `everyone`,
    the RMs of the scope (under the branch filter) who have none yet."""
    q = Q(pk__in=ids)
    if everyone:
        mine = rm_choices(user=user)
        if f.branch is not None:
            mine = mine.filter(staff_profile__branch__path__startswith=f.branch.path)
        q |= Q(pk__in=mine.values("pk"))
    return {
        pk: (username, f"{first} {last}".strip() or username, branch or "")
        for pk, username, first, last, branch in get_user_model()
        .objects.filter(q)
        .values_list("pk", "username", "first_name", "last_name", "staff_profile__branch__name")
    }


def _share(part, whole) -> float | None:
    return round(float((part or ZERO) / whole), 4) if whole else None


def _mix(by_year: Mapping[int, Decimal], balance: Decimal) -> str:
    """ "2025: 0.25; 2026: 0.75": the book's outstanding principal by year of disbursement."""
    if not balance:
        return ""
    return "; ".join(
        f"{year}: {float(amount / balance):.2f}"
        for year, amount in sorted(by_year.items())
        if amount
    )


def _margin(book: dict, balance, pricing: PricingVersion | None) -> float | None:
    """The book's yield less its balance-weighted cost of funds (annual %)."""
    if not balance or pricing is None:
        return None
    return round(float((book["rated"] - book["funded"]) / balance), 4)


def _summary(rows: list[dict], book: dict, surveys: dict, pricing: PricingVersion | None) -> dict:
    """The rows' totals (a branch head's branch): counts summed, rates over the sums."""

    def total(key):
        return sum(r[key] for r in rows)

    ids = {r["rm_id"] for r in rows}
    books = [b for pk, b in book.items() if pk in ids]
    balance = sum((b["balance"] for b in books), ZERO)
    rated = sum((b["rated"] for b in books), Decimal("0"))
    funded = sum((b["funded"] for b in books), Decimal("0"))
    overdue = sum((b["overdue"] for b in books), ZERO)
    npl = sum((b["npl"] for b in books), ZERO)
    filed, approved, declined = total("filed"), total("approved"), total("declined")
    yield_pct = rated / balance if balance else None
    answered = total("surveys_answered")
    scored = sum(surveys[pk]["score"] for pk in ids if pk in surveys)
    return {
        "relationship_managers": len(rows),
        "book_loans": total("book_loans"),
        "book_balance": _money(balance),
        "filed": filed,
        "disbursed": total("disbursed"),
        "conversion": _rate(total("disbursed"), filed),
        "approval_rate": _rate(approved, approved + declined),
        "rework_rate": _rate(total("rework"), total("case_visits")),
        "sla_breach_rate": _rate(total("sla_breached"), total("sla_deadlines")),
        "disbursed_amount": _money(sum((Decimal(r["disbursed_amount"]) for r in rows), ZERO)),
        "yield_pct": None if yield_pct is None else round(float(yield_pct), 4),
        "margin_pct": _margin({"rated": rated, "funded": funded}, balance, pricing),
        "overdue_rate": _share(overdue, balance),
        "npl_rate": _share(npl, balance),
        "surveys_answered": answered,
        "satisfaction_score": _average(scored, answered),
    }
