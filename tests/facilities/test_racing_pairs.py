"""Racing drawdowns and racing approvals never exceed a limit (issue 28): 1,000 pairs against
PostgreSQL, each pair two requests started together on two threads with their own
connections. Four lanes run side by side (two facilities, two customers), each with its own
two racing threads: a lane's pairs touch only its own rows.

- Drawdown pairs: two drawdowns under one facility whose amounts each fit what is available
  but together do not (exactly one is taken) or together fit (both are). The facility row is
  locked by `drawdown_request`.
- Approval pairs: two applications of one customer sent to approval together, each alone
  within an authority (the tier-1 band of 3M, or the single-customer limit of 8M) and
  together above it. The route and its exposure are fixed when an application enters
  approval (`approvals.services.record_open`); the rows of the customer and its group are
  locked there, so the second sees the first in approval and goes to the higher authority:
  at most one of the two may be approved at the lower one.

After every pair, what the facility has drawn and reserved stays within its limit, and the
customer's exposure as the bank reads it (`customer_exposure`) equals a sum over the rows
written here, in plain SQL independent of postloan.exposure."""

import os
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from applications.models import LoanApplication
from applications.services import application_transition
from approvals import demo
from approvals.models import ApprovalRecord
from common.errors import InvalidInput
from facilities.models import Drawdown, DrawdownApproval, Facility
from facilities.services import drawdown_request
from postloan.models import Loan
from postloan.selectors import customer_exposure
from postloan.services import loan_terms_from
from tests.factories import ApplicationFactory, CompanyFactory
from tests.racers import Racers

# RACE_PAIRS=n runs fewer while working on this test; the check is the 1,000.
PAIRS = int(os.environ.get("RACE_PAIRS", 1000))
M = Decimal("1000000")
TIER1_BAND = 3 * M  # the demo matrix: tier 1 decides an exposure up to 3M
SINGLE_CUSTOMER_LIMIT = 8 * M  # the demo matrix's single-customer limit


@pytest.fixture(autouse=True)
def _no_investigation_gates(monkeypatch):
    """The applications start investigated; the investigation's own gates have their tests."""
    from applications import effects

    monkeypatch.setitem(effects.GATES, "send_to_approval", ())


def _lane(run, failures: list) -> None:
    """Run `run(racers)` on this thread's own connection with its own two racers; a failure
    is kept for the test's thread to raise."""
    racers = Racers()
    try:
        run(racers)
    except BaseException as exc:  # raised again by the test's thread
        failures.append(exc)
    finally:
        racers.stop()
        connection.close()


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _one(sql: str, params: list) -> Decimal:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] or Decimal("0")


def _drawn_and_reserved(facility: Facility) -> Decimal:
    """The facility's outstanding drawdown principal plus the drawdowns still reserving, in
    plain SQL."""
    loan, drawdown, application = _table(Loan), _table(Drawdown), _table(LoanApplication)
    return _one(
        f"SELECT COALESCE((SELECT SUM(l.outstanding_principal) FROM {loan} l "
        f"JOIN {drawdown} d ON d.application_id = l.application_id "
        "WHERE d.facility_id = %s AND l.status = 'active'), 0)"
        f" + COALESCE((SELECT SUM(d.amount) FROM {drawdown} d "
        f"LEFT JOIN {application} a ON a.id = d.application_id "
        "WHERE d.facility_id = %s AND (d.status = 'requested' OR "
        "(d.status = 'approved' AND a.status IN ('approved', 'contract_signed')))), 0)",
        [facility.pk, facility.pk],
    )


def _independent_exposure(company_id: int) -> Decimal:
    """Outstanding principal of active loans + the undrawn part (limit - outstanding drawdown
    principal, revolving) of open facilities + amounts in approval, in plain SQL."""
    loan, drawdown, facility = _table(Loan), _table(Drawdown), _table(Facility)
    application = _table(LoanApplication)
    return _one(
        f"SELECT COALESCE((SELECT SUM(l.outstanding_principal) FROM {loan} l "
        f"JOIN {application} a ON a.id = l.application_id "
        "WHERE a.company_id = %s AND l.status = 'active'), 0)"
        " + COALESCE((SELECT SUM(GREATEST(f.amount - COALESCE(("
        f"SELECT SUM(l.outstanding_principal) FROM {loan} l "
        f"JOIN {drawdown} d ON d.application_id = l.application_id "
        "WHERE d.facility_id = f.id AND l.status = 'active'), 0), 0)) "
        f"FROM {facility} f WHERE f.company_id = %s AND f.revolving "
        "AND f.status IN ('approved', 'active', 'frozen')), 0)"
        f" + COALESCE((SELECT SUM(amount) FROM {application} "
        "WHERE company_id = %s AND status = 'in_approval'), 0)",
        [company_id] * 3,
    )


def _exposure(company) -> Decimal:
    rows = customer_exposure(company=company)
    assert [row["currency"] for row in rows] in ([], ["CNY"])
    return rows[0]["total"] if rows else Decimal("0")


def _drawn_loan(facility: Facility, staff, outstanding: str) -> None:
    """A disbursed drawdown with `outstanding` principal still owed on its loan."""
    application = ApplicationFactory(
        company=facility.company,
        product=facility.application.product,
        amount=Decimal(outstanding),
        status="disbursed",
        filed_by=staff["rm"],
    )
    Drawdown.objects.create(
        facility=facility,
        application=application,
        amount=Decimal(outstanding),
        currency="CNY",
        term_months=6,
        interest_rate=facility.min_rate,
        repayment_method="equal_instalments",
        status=Drawdown.Status.APPROVED,
        requested_by=staff["rm"],
    )
    Loan.objects.create(
        application=application,
        **loan_terms_from(application),
        branch=application.branch,
        relationship_manager=staff["rm"],
        status="active",
        currency="CNY",
        principal=Decimal(outstanding),
        outstanding_principal=Decimal(outstanding),
        disbursed_on=date(2026, 1, 5),
    )


def _drawdown_amounts(n: int, available: Decimal) -> tuple[Decimal, Decimal]:
    """Two amounts, each within what is available; together within it for one pair in
    three, above it otherwise (by as little as 0.01)."""
    step = available / 8
    first = step * (1 + n % 7)  # 100K .. 700K of 800K
    if n % 3 == 0:
        return first, available - first  # together exactly what is available: both
    if n % 3 == 1:
        return first, available - first + Decimal("0.01")  # one cent too many: one
    return first, min(available, available - first + step * (1 + (n * 5) % 7))  # above: one


def _racing_drawdowns(n, *, racers, facility, drawn, rm_id) -> None:
    """`drawn`: what the facility has drawn before the pair (each pair's drawdowns are
    declined after it)."""
    available = facility.amount - drawn
    amounts = _drawdown_amounts(n, available)

    def draw(amount):
        def job():
            actor = racers.actor(rm_id)
            return drawdown_request(
                facility_id=facility.pk, actor=actor, amount=amount, term_months=6
            )

        return job

    outcomes = racers.race(draw(amounts[0]), draw(amounts[1]))

    for kind, value in outcomes:
        assert kind == "ok" or (isinstance(value, InvalidInput) and "amount" in value.details), (
            value
        )
    taken = [amount for amount, (kind, _v) in zip(amounts, outcomes, strict=True) if kind == "ok"]
    expected = 2 if sum(amounts) <= available else 1
    assert len(taken) == expected, (n, amounts, available, outcomes)
    after = _drawn_and_reserved(facility)
    assert after == drawn + sum(taken) <= facility.amount, (n, amounts, after)
    assert _exposure(facility.company) == _independent_exposure(facility.company_id)
    # Reset: the drawdowns of this pair are declined, their amounts no longer reserved.
    Drawdown.objects.filter(facility=facility, status=Drawdown.Status.REQUESTED).update(
        status=Drawdown.Status.DECLINED
    )


def _racing_approvals(n, *, racers, applications, customer, base, limit, rm_id) -> None:
    """Two applications of `customer` (exposure `base` before them) sent to approval
    together; `limit` is the authority (tier-1 band or single-customer limit) that each fits
    alone and both do not."""
    first, second = applications

    def send(application):
        def job():
            actor = racers.actor(rm_id)
            application_transition(
                application_id=application.pk, transition="send_to_approval", actor=actor
            )

        return job

    outcomes = racers.race(send(first), send(second))

    assert [kind for kind, _v in outcomes] == ["ok", "ok"], outcomes
    records = list(ApprovalRecord.objects.filter(application__in=applications).order_by("pk"))
    assert len(records) == 2
    together = base + first.amount + second.amount
    assert base + first.amount <= limit and base + second.amount <= limit < together
    # The route fixed first saw the customer without the other; the second, with it.
    amounts = {first.pk: first.amount, second.pk: second.amount}
    assert records[0].exposure_after == base + amounts[records[0].application_id], n
    assert records[1].exposure_after == together, n
    # At most one of the two is decided at the lower authority.
    if limit == TIER1_BAND:
        at_tier1 = [
            r for r in records if [s["code"] for s in r.route] == ["credit_review", "tier1"]
        ]
        assert len(at_tier1) == 1, (n, [r.route for r in records])
    else:
        within = [
            r for r in records if "above_single_customer_limit" not in r.exposure["above_limits"]
        ]
        assert len(within) == 1, (n, [r.exposure for r in records])
    assert _exposure(customer) == _independent_exposure(customer.pk) == together
    # Reset: both leave approval (withdrawn), so the next pair starts from the same base.
    LoanApplication.objects.filter(pk__in=amounts).update(status="withdrawn")


def _investigated(template: LoanApplication, amounts: list[Decimal]) -> list[LoanApplication]:
    """Investigated applications like `template`, one per amount (written in one insert)."""
    fields = {
        f.attname: getattr(template, f.attname)
        for f in LoanApplication._meta.concrete_fields
        if not f.primary_key and f.name != "reference"
    }
    made = LoanApplication.objects.bulk_create(
        LoanApplication(**{**fields, "amount": amount, "reference": f"LFRACE{template.pk}{i:05d}"})
        for i, amount in enumerate(amounts)
    )
    return made


@pytest.mark.django_db(transaction=True)
def test_racing_drawdowns_and_approvals_never_exceed_a_limit(
    staff, branch, product, facility_product, make_facility
):
    demo.seed()  # the authority matrix: tier 1 up to 3M, a single-customer limit of 8M
    # Two facilities for the drawdown pairs, each with 200K drawn.
    facilities = [
        make_facility(amount="1000000.00", approval=DrawdownApproval.APPROVER) for _ in (1, 2)
    ]
    for facility in facilities:
        _drawn_loan(facility, staff, "200000.00")

    # Two customers for the approval pairs: one with a 1M facility (the tier-1 band of 3M),
    # one with a 5M facility (the single-customer limit of 8M).
    tier_customer = CompanyFactory(home_branch=branch)
    large_customer = CompanyFactory(home_branch=branch)
    make_facility(amount="1000000.00", of_company=tier_customer)
    make_facility(amount="5000000.00", of_company=large_customer)
    half = PAIRS // 2
    plans = []
    for n in range(half):
        if n % 2 == 0:
            customer, limit = tier_customer, TIER1_BAND
            a = Decimal("900000") + Decimal("100000") * (n % 7)  # 0.9M .. 1.5M
            b = TIER1_BAND - Decimal("1000000") - a + Decimal("100000") * (1 + n % 3)
        else:
            customer, limit = large_customer, SINGLE_CUSTOMER_LIMIT
            a = Decimal("1500000") + Decimal("100000") * (n % 10)  # 1.5M .. 2.4M
            b = SINGLE_CUSTOMER_LIMIT - Decimal("5000000") - a + Decimal("100000") * (1 + n % 4)
        plans.append((customer, limit, a, b))
    templates = {
        c.pk: ApplicationFactory(
            company=c,
            product=product,
            status="investigation",
            amount=Decimal("1000000"),
            risk_grade="B",
            route_recommendation="standard",
            filed_by=staff["rm"],
            investigator=staff["rm"],
        )
        for c in (tier_customer, large_customer)
    }
    LoanApplication.objects.filter(pk__in=[t.pk for t in templates.values()]).update(
        status="withdrawn"
    )
    made = {}
    for c in (tier_customer, large_customer):
        mine = [(a, b) for customer, _l, a, b in plans if customer == c]
        made[c.pk] = iter(
            _investigated(templates[c.pk], [amount for pair in mine for amount in pair])
        )

    drawn = Decimal("200000.00")
    assert [_drawn_and_reserved(facility) for facility in facilities] == [drawn, drawn]
    bases = {c.pk: _independent_exposure(c.pk) for c in (tier_customer, large_customer)}
    assert bases == {tier_customer.pk: M, large_customer.pk: 5 * M}

    def drawdown_pairs(facility, numbers):
        def run(racers):
            for n in numbers:
                _racing_drawdowns(n, racers=racers, facility=facility, drawn=drawn, rm_id=rm_id)

        return run

    def approval_pairs(of_customer):
        def run(racers):
            for n, (customer, limit, _a, _b) in enumerate(plans):
                if customer != of_customer:
                    continue
                _racing_approvals(
                    n,
                    racers=racers,
                    applications=(next(made[customer.pk]), next(made[customer.pk])),
                    customer=customer,
                    base=bases[customer.pk],
                    limit=limit,
                    rm_id=rm_id,
                )

        return run

    # Each facility's drawdown pairs and each customer's approval pairs touch their own rows:
    # the four run side by side, each on its own two racing threads.
    rm_id = staff["rm"].pk
    runs = [
        drawdown_pairs(facilities[0], range(0, half, 2)),
        drawdown_pairs(facilities[1], range(1, half, 2)),
        approval_pairs(tier_customer),
        approval_pairs(large_customer),
    ]
    failures = []
    lanes = [threading.Thread(target=_lane, args=(run, failures)) for run in runs]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join(timeout=900)
    if failures:
        raise failures[0]

    for facility in facilities:
        assert _drawn_and_reserved(facility) == drawn <= facility.amount
    assert Drawdown.objects.filter(facility__in=facilities).count() > half
    for customer in (tier_customer, large_customer, facilities[0].company):
        assert _exposure(customer) == _independent_exposure(customer.pk)
    assert ApprovalRecord.objects.filter(application__company=tier_customer).count() == half
