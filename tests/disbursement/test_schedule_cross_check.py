"""Every schedule method and convention against an independent computation, to the cent.

The reference below is written apart from disbursement.schedule: dates with dateutil's
relativedelta and a calendar of its own, money in exact fractions (the annuity's payment in
closed form, interest as a daily accrual times the days), rounding half up by hand. Thousands
of random amounts, rates, terms, value dates, repayment days, day counts and business-day
conventions, seeded so a failure replays."""

import math
import random
from datetime import date, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from disbursement.schedule import Conventions, build_schedule
from sla.calendar import RegionCalendar

SEED = 20261206
CASES = 4000
METHODS = (
    "equal_instalments",
    "equal_principal",
    "interest_only_bullet",
    "quarterly_interest_bullet",
)
BUSINESS_DAYS = ("following", "modified_following", "none")
DAY_COUNTS = ("thirty_360", "actual_360", "actual_365")


# --- The reference ---------------------------------------------------------------------------


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both at least zero)."""
    return (2 * numerator + denominator) // (2 * denominator)


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def random_exceptions(rng: random.Random) -> dict[date, str]:
    """A calendar of holidays on weekdays (a festival week each year and scattered days) and
    make-up working days on weekends."""
    exceptions = {}
    for year in range(2025, 2062):
        festival = date(year, 1, 20) + timedelta(days=rng.randint(0, 30))
        for offset in range(rng.randint(5, 9)):
            exceptions[festival + timedelta(days=offset)] = "holiday"
        day = date(year, 1, 1)
        while day.year == year:
            if day not in exceptions:
                if day.weekday() < 5 and rng.random() < 0.04:
                    exceptions[day] = "holiday"
                elif day.weekday() >= 5 and rng.random() < 0.02:
                    exceptions[day] = "workday"
            day += timedelta(days=1)
    return exceptions


def reference_schedule(case: dict, exceptions: dict[date, str]) -> list[tuple]:
    """The rows as (number, due date, principal, interest, total, opening, closing). Money
    in whole cents and the rate in thousandths of a percent, so every product is exact."""
    amount = int(case["amount"] * 100)
    rate = int(case["rate"] * 1000)
    n, method, start, day = case["term"], case["method"], case["start"], case["repayment_day"]

    def working(d: date) -> bool:
        kind = exceptions.get(d)
        return kind == "workday" if kind else d.weekday() not in (5, 6)

    def moved(d: date) -> date:
        if case["business_day"] == "none":
            return d
        later = d
        while not working(later):
            later += timedelta(days=1)
        if case["business_day"] == "modified_following" and later.month != d.month:
            earlier = d
            while not working(earlier):
                earlier -= timedelta(days=1)
            if earlier > start:
                return earlier
        return later

    # The months of the term that end a period, and their dates.
    if method == "quarterly_interest_bullet":
        if day:
            months = [k for k in range(1, n) if (start + relativedelta(months=k)).month % 3 == 0]
        else:
            months = list(range(3, n, 3))
        months.append(n)
    else:
        months = list(range(1, n + 1))
    if day:
        ends = [start + relativedelta(months=k, day=day) for k in months]
    else:
        ends = [start + relativedelta(months=k) for k in months]
    broken_first = bool(day) and day != start.day
    periods = []
    for i, (k, end) in enumerate(zip(months, ends, strict=True)):
        begin = start if i == 0 else ends[i - 1]
        whole = None if (i == 0 and broken_first) else k - (months[i - 1] if i else 0)
        periods.append((begin, end, whole))

    year_days = 365 if case["day_count"] == "actual_365" else 360

    def month_interest(balance: int, months: int = 1) -> int:
        # balance x rate% x months / 12, the rate in thousandths of a percent.
        return half_up(balance * rate * months, 1_200_000)

    def accrued(balance: int, begin: date, end: date, whole, level: bool) -> int:
        if whole is not None and (level or case["day_count"] == "thirty_360"):
            return month_interest(balance, whole)
        days = end.toordinal() - begin.toordinal()
        return half_up(balance * rate * days, 100_000 * year_days)

    def simulate(principal_rule, level=False):
        rows, balance = [], amount
        for i, (begin, end, whole) in enumerate(periods):
            interest = accrued(balance, begin, end, whole, level)
            if i == len(periods) - 1:
                principal = balance
            else:
                principal = min(max(principal_rule(balance), 0), balance)
            rows.append((end, principal, interest, balance))
            balance -= principal
        return rows

    if method == "equal_instalments":
        # The annuity in closed form, exactly: A r / (1 - (1 + r)^-n).
        r = Fraction(rate, 1_200_000)
        exact = Fraction(amount, n) if r == 0 else amount * r / (1 - (1 + r) ** -n)
        payment = math.floor(exact + Fraction(1, 2))
        while True:
            rows = simulate(lambda balance, p=payment: p - month_interest(balance), level=True)
            repaid_early = any(opening == principal for _e, principal, _i, opening in rows[:-1])
            if not repaid_early or payment <= 0:
                break
            payment -= 1
    elif method == "equal_principal":
        level = half_up(amount, n)
        if level * (n - 1) >= amount:
            level = amount // n
        rows = simulate(lambda _balance: level)
    else:
        rows = simulate(lambda _balance: 0)

    billed = [row for row in rows if row[1] + row[2] > 0]
    return [
        (
            number,
            moved(end),
            money(principal),
            money(interest),
            money(principal + interest),
            money(opening),
            money(opening - principal),
        )
        for number, (end, principal, interest, opening) in enumerate(billed, start=1)
    ]


# --- The cases -------------------------------------------------------------------------------


def random_case(rng: random.Random) -> dict:
    method = rng.choice(METHODS)
    amount = max(1, round(10 ** rng.uniform(-2, 7.3) * 100))
    term = rng.choice(
        [rng.randint(1, 12), rng.randint(1, 60), rng.randint(1, 120), rng.choice([180, 240, 360])]
        if method == "equal_instalments"
        else [rng.randint(1, 12), rng.randint(1, 36), rng.randint(1, 120)]
    )
    return {
        "method": method,
        "amount": Decimal(amount).scaleb(-2),
        "rate": Decimal(0) if rng.random() < 0.08 else Decimal(rng.randint(1, 24000)).scaleb(-3),
        "term": term,
        "start": date(2025, 1, 1) + timedelta(days=rng.randint(0, 5 * 366)),
        "repayment_day": rng.choice([None, None, rng.randint(1, 28)]),
        "business_day": rng.choice(BUSINESS_DAYS),
        "day_count": rng.choice(DAY_COUNTS),
    }


def test_every_method_and_convention_matches_an_independent_computation_to_the_cent():
    rng = random.Random(SEED)
    exceptions = random_exceptions(rng)
    calendar = RegionCalendar(
        region="TEST",
        tz=ZoneInfo("Asia/Shanghai"),
        start=time(9),
        end=time(17),
        exceptions=exceptions,
    )
    seen = set()
    for _ in range(CASES):
        case = random_case(rng)
        rows = build_schedule(
            amount=case["amount"],
            annual_rate=case["rate"],
            term_months=case["term"],
            method=case["method"],
            start=case["start"],
            conventions=Conventions(
                business_day=case["business_day"],
                day_count=case["day_count"],
                repayment_day=case["repayment_day"],
                calendar=calendar,
            ),
        )
        got = [
            (
                row.number,
                row.due_date,
                row.principal,
                row.interest,
                row.total,
                row.opening_balance,
                row.closing_balance,
            )
            for row in rows
        ]
        assert got == reference_schedule(case, exceptions), case
        assert sum(row.principal for row in rows) == case["amount"], case
        assert all(row.total > 0 for row in rows), case
        assert all(row.closing_balance > 0 for row in rows[:-1]), case
        assert all(calendar.is_business_day(row.due_date) for row in rows) or (
            case["business_day"] == "none"
        ), case
        seen.add(
            (case["method"], case["business_day"], case["day_count"], bool(case["repayment_day"]))
        )
    # Every method met every convention, day count, and both kinds of first period.
    assert len(seen) == len(METHODS) * len(BUSINESS_DAYS) * len(DAY_COUNTS) * 2
