"""Repayment schedules: Decimal to the cent, the last instalment absorbs the rounding, due
dates move off non-working days, broken periods count their days. The random cross-check
against an independent computation is test_schedule_cross_check.py."""

from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from disbursement.schedule import METHODS, Conventions, add_months, build_schedule
from sla.calendar import RegionCalendar

D = Decimal


def test_the_published_equal_instalment_example_matches_to_the_cent():
    # 100,000 at 12% a year (1% a month) over 12 months: payment 8,884.88.
    rows = build_schedule(
        amount=D("100000"),
        annual_rate=D("12"),
        term_months=12,
        method="equal_instalments",
        start=date(2026, 1, 15),
    )
    assert len(rows) == 12
    assert all(row.total == D("8884.88") for row in rows[:-1])
    assert rows[0].interest == D("1000.00")
    assert rows[0].principal == D("7884.88")
    assert rows[0].opening_balance == D("100000.00")
    assert rows[0].closing_balance == D("92115.12")
    assert rows[1].interest == D("921.15")
    # The last instalment takes the rounding left over.
    assert rows[-1].principal == D("8796.88")
    assert rows[-1].interest == D("87.97")
    assert rows[-1].total == D("8884.85")
    assert rows[-1].closing_balance == D("0.00")
    assert sum(row.principal for row in rows) == D("100000.00")


def test_the_published_equal_principal_example_matches_to_the_cent():
    # 120,000 at 6% over 12 months: 10,000 principal a month, interest falling by 50.
    rows = build_schedule(
        amount=D("120000"),
        annual_rate=D("6"),
        term_months=12,
        method="equal_principal",
        start=date(2026, 1, 15),
    )
    assert rows[0].total == D("10600.00")
    assert rows[0].interest == D("600.00")
    assert rows[1].total == D("10550.00")
    assert rows[-1].total == D("10050.00")
    assert all(row.principal == D("10000.00") for row in rows)


def test_interest_only_then_bullet_repays_everything_at_the_end():
    rows = build_schedule(
        amount=D("500000"),
        annual_rate=D("4.35"),
        term_months=6,
        method="interest_only_bullet",
        start=date(2026, 3, 10),
    )
    assert [row.principal for row in rows[:-1]] == [D("0.00")] * 5
    assert all(row.interest == D("1812.50") for row in rows)
    assert rows[-1].principal == D("500000.00")
    assert rows[-1].total == D("501812.50")


def test_due_dates_keep_the_day_of_month_clamped_to_the_month_end():
    rows = build_schedule(
        amount=D("30000"),
        annual_rate=D("5"),
        term_months=4,
        method="equal_principal",
        start=date(2027, 1, 31),
    )
    assert [row.due_date for row in rows] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)  # leap year
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


AMOUNTS = [
    D("0.01"),
    D("1.00"),
    D("999.99"),
    D("50000.00"),
    D("123456.78"),
    D("800000.00"),
    D("3333333.33"),
    D("5000000.00"),
    D("9999999.99"),
]
RATES = [D("0"), D("3.1"), D("4.35"), D("7.777"), D("12"), D("24")]
TERMS = [1, 2, 3, 7, 12, 13, 36, 60]


MONTHLY_METHODS = ("equal_instalments", "equal_principal", "interest_only_bullet")


@pytest.mark.parametrize("method", METHODS)
def test_principal_sums_exactly_to_the_amount_for_every_amount_rate_and_term(method):
    checked = 0
    for amount in AMOUNTS:
        for rate in RATES:
            for term in TERMS:
                rows = build_schedule(
                    amount=amount,
                    annual_rate=rate,
                    term_months=term,
                    method=method,
                    start=date(2026, 8, 31),
                )
                # Only instalments of 0.00 (tiny amounts, interest-free periods) are left out.
                if method in MONTHLY_METHODS and amount >= D("1000") and rate > 0:
                    assert len(rows) == term
                assert [row.number for row in rows] == list(range(1, len(rows) + 1))
                assert sum(row.principal for row in rows) == amount, (amount, rate, term)
                assert rows[-1].closing_balance == D("0.00")
                assert rows[-1].due_date == add_months(date(2026, 8, 31), term)
                for row in rows:
                    assert row.total == row.principal + row.interest
                    assert row.principal >= 0 and row.interest >= 0 and row.total > 0
                    assert row.closing_balance == row.opening_balance - row.principal
                    for value in (row.principal, row.interest, row.total):
                        assert value == value.quantize(D("0.01"))
                checked += 1
    assert checked == len(AMOUNTS) * len(RATES) * len(TERMS)


def test_equal_instalments_are_level_except_the_last():
    for amount, rate, term in [(D("800000"), D("4.35"), 12), (D("250000"), D("6.5"), 36)]:
        rows = build_schedule(
            amount=amount,
            annual_rate=rate,
            term_months=term,
            method="equal_instalments",
            start=date(2026, 5, 5),
        )
        assert len({row.total for row in rows[:-1]}) == 1
        assert abs(rows[-1].total - rows[0].total) <= D("0.01") * term


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": D("0")}, "amount"),
        ({"term_months": 0}, "term_months"),
        ({"annual_rate": D("-1")}, "annual_rate"),
        ({"method": "balloon"}, "method"),
        ({"conventions": Conventions(business_day="preceding")}, "convention"),
        ({"conventions": Conventions(day_count="actual_actual")}, "day count"),
        ({"conventions": Conventions(repayment_day=31)}, "repayment_day"),
    ],
)
def test_invalid_inputs_are_refused(kwargs, message):
    args = {
        "amount": D("1000"),
        "annual_rate": D("5"),
        "term_months": 12,
        "method": "equal_instalments",
        "start": date(2026, 1, 1),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        build_schedule(**args)


# --- No zero instalments -----------------------------------------------------------------------


def test_a_small_annuity_over_a_long_term_has_no_zero_instalment_and_is_not_repaid_early():
    # Rounded to the nearest cent, 2.03 a month repaid 134.40 at 18% two years early and left
    # 24 instalments of 0.00; the payment is lowered a cent and the last one takes the rest.
    rows = build_schedule(
        amount=D("134.40"),
        annual_rate=D("18"),
        term_months=360,
        method="equal_instalments",
        start=date(2026, 1, 5),
    )
    assert len(rows) == 360
    assert all(row.total == D("2.02") for row in rows[:-1])
    assert all(row.closing_balance > 0 for row in rows[:-1])
    assert rows[-1].total > D("2.02")
    assert sum(row.principal for row in rows) == D("134.40")


def test_a_level_principal_rounded_up_never_repays_early():
    # 10.00 over 360 months: 0.03 a month (rounded up from 0.0278) would be repaid after 334.
    rows = build_schedule(
        amount=D("10.00"),
        annual_rate=D("0"),
        term_months=360,
        method="equal_principal",
        start=date(2026, 1, 5),
    )
    assert len(rows) == 360
    assert all(row.principal == D("0.02") for row in rows[:-1])
    assert rows[-1].principal == D("2.82")


def test_an_interest_free_interest_only_loan_bills_only_its_bullet():
    rows = build_schedule(
        amount=D("60000"),
        annual_rate=D("0"),
        term_months=6,
        method="interest_only_bullet",
        start=date(2026, 3, 10),
    )
    assert [(row.number, row.due_date, row.total) for row in rows] == [
        (1, date(2026, 9, 10), D("60000.00"))
    ]


# --- Broken first periods and day counts ---------------------------------------------------------


def test_a_repayment_day_makes_a_broken_first_period_that_counts_its_days():
    # Paid out on 5 January, repaid on the 20th: the first period runs 46 days to 20 February.
    # Its interest counts the days (100,000 x 12% x 46 / 360); its principal is a whole month's.
    rows = build_schedule(
        amount=D("100000"),
        annual_rate=D("12"),
        term_months=12,
        method="equal_instalments",
        start=date(2026, 1, 5),
        conventions=Conventions(repayment_day=20),
    )
    assert [row.due_date.day for row in rows] == [20] * 12
    assert rows[0].due_date == date(2026, 2, 20) and rows[-1].due_date == date(2027, 1, 20)
    assert rows[0].interest == D("1533.33")
    assert rows[0].principal == D("7884.88")
    assert rows[0].total == D("9418.21")
    assert all(row.total == D("8884.88") for row in rows[1:-1])
    assert sum(row.principal for row in rows) == D("100000.00")


def test_on_the_repayment_day_itself_there_is_no_broken_period():
    plain = build_schedule(
        amount=D("100000"),
        annual_rate=D("12"),
        term_months=12,
        method="equal_instalments",
        start=date(2026, 1, 20),
    )
    fixed = build_schedule(
        amount=D("100000"),
        annual_rate=D("12"),
        term_months=12,
        method="equal_instalments",
        start=date(2026, 1, 20),
        conventions=Conventions(repayment_day=20),
    )
    assert fixed == plain


def test_interest_only_working_capital_counts_actual_days_over_360_or_365():
    def interest(day_count):
        rows = build_schedule(
            amount=D("500000"),
            annual_rate=D("4.35"),
            term_months=3,
            method="interest_only_bullet",
            start=date(2026, 1, 10),
            conventions=Conventions(day_count=day_count),
        )
        return [row.interest for row in rows]

    # 31, 28 and 31 days: 500,000 x 4.35% x days / 360 (or 365).
    assert interest("actual_360") == [D("1872.92"), D("1691.67"), D("1872.92")]
    assert interest("actual_365") == [D("1847.26"), D("1668.49"), D("1847.26")]
    assert interest("thirty_360") == [D("1812.50")] * 3


def test_quarterly_interest_falls_on_the_repayment_day_of_each_quarters_last_month():
    # 按季结息: interest on 20 March, June, September and December; principal at maturity.
    rows = build_schedule(
        amount=D("1000000"),
        annual_rate=D("3.65"),
        term_months=12,
        method="quarterly_interest_bullet",
        start=date(2026, 1, 5),
        conventions=Conventions(repayment_day=20, day_count="actual_360"),
    )
    assert [row.due_date for row in rows] == [
        date(2026, 3, 20),
        date(2026, 6, 20),
        date(2026, 9, 20),
        date(2026, 12, 20),
        date(2027, 1, 20),
    ]
    # 74, 92, 92, 91 and 31 days at 3.65% / 360 on 1,000,000.
    assert [row.interest for row in rows] == [
        D("7502.78"),
        D("9327.78"),
        D("9327.78"),
        D("9226.39"),
        D("3143.06"),
    ]
    assert [row.principal for row in rows] == [D("0.00")] * 4 + [D("1000000.00")]


def test_quarterly_interest_without_a_repayment_day_runs_in_quarters_from_the_value_date():
    rows = build_schedule(
        amount=D("120000"),
        annual_rate=D("6"),
        term_months=7,
        method="quarterly_interest_bullet",
        start=date(2026, 1, 31),
    )
    assert [row.due_date for row in rows] == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 8, 31),
    ]
    # Whole quarters and a last month at 30/360: 1,800, 1,800 and 600.
    assert [row.interest for row in rows] == [D("1800.00"), D("1800.00"), D("600.00")]


# --- Due dates on non-working days -------------------------------------------------------------

SPRING_FESTIVAL_2026 = {
    date(2026, 2, 16): "holiday",
    date(2026, 2, 17): "holiday",
    date(2026, 2, 18): "holiday",
    date(2026, 2, 19): "holiday",
    date(2026, 2, 20): "holiday",
    date(2026, 2, 23): "holiday",
    date(2026, 2, 14): "workday",
    date(2026, 2, 28): "workday",
}


def _calendar(exceptions=None) -> RegionCalendar:
    return RegionCalendar(
        region="CN",
        tz=ZoneInfo("Asia/Shanghai"),
        start=time(9),
        end=time(17),
        exceptions=dict(exceptions or {}),
    )


def _due_dates(start, term, business_day, exceptions=SPRING_FESTIVAL_2026, **conventions):
    rows = build_schedule(
        amount=D("120000"),
        annual_rate=D("6"),
        term_months=term,
        method="equal_principal",
        start=start,
        conventions=Conventions(
            business_day=business_day, calendar=_calendar(exceptions), **conventions
        ),
    )
    return [row.due_date for row in rows]


def test_a_due_date_in_the_spring_festival_moves_to_the_next_working_day():
    assert _due_dates(date(2026, 1, 17), 2, "following") == [date(2026, 2, 24), date(2026, 3, 17)]
    # A make-up working day (调休) on a Saturday is a working day.
    assert _due_dates(date(2026, 1, 28), 1, "following") == [date(2026, 2, 28)]
    assert _due_dates(date(2026, 1, 17), 1, "none") == [date(2026, 2, 17)]


def test_moving_a_due_date_never_changes_the_amounts():
    def rows(business_day):
        return build_schedule(
            amount=D("300000"),
            annual_rate=D("4.35"),
            term_months=12,
            method="interest_only_bullet",
            start=date(2026, 1, 17),
            conventions=Conventions(
                business_day=business_day,
                day_count="actual_360",
                calendar=_calendar(SPRING_FESTIVAL_2026),
            ),
        )

    moved, unmoved = rows("following"), rows("none")
    assert moved[0].due_date == date(2026, 2, 24) and unmoved[0].due_date == date(2026, 2, 17)
    assert [r.total for r in moved] == [r.total for r in unmoved]
    assert moved[0].interest == D("1123.75")  # 31 days, to the 17th


def test_modified_following_stays_in_the_month_by_moving_back():
    # 31 May 2026 is a Sunday: the next working day is in June, so the Friday before.
    assert _due_dates(date(2026, 3, 31), 2, "modified_following") == [
        date(2026, 4, 30),
        date(2026, 5, 29),
    ]
    assert _due_dates(date(2026, 3, 31), 2, "following") == [date(2026, 4, 30), date(2026, 6, 1)]
    # Inside a month it is the following convention.
    assert _due_dates(date(2026, 1, 17), 1, "modified_following") == [date(2026, 2, 24)]


def test_modified_following_never_moves_a_due_date_back_to_the_value_date():
    # With all of April closed, moving 30 April back would reach the value date, 31 March.
    april_closed = {date(2026, 4, day): "holiday" for day in range(1, 31)}
    assert _due_dates(date(2026, 3, 31), 1, "modified_following", exceptions=april_closed) == [
        date(2026, 5, 1)
    ]


def test_a_business_day_convention_needs_the_calendar():
    with pytest.raises(ValueError, match="calendar"):
        build_schedule(
            amount=D("1000"),
            annual_rate=D("5"),
            term_months=12,
            method="equal_instalments",
            start=date(2026, 1, 3),
            conventions=Conventions(business_day="following"),
        )


def test_terms_filed_before_the_conventions_existed_get_the_products_defaults():
    conventions = Conventions.of_terms({"code": "OLD"})
    assert conventions.business_day == "following"
    assert conventions.day_count == "thirty_360"
    assert conventions.repayment_day is None
    chosen = Conventions.of_terms(
        {"business_day_convention": "none", "day_count": "actual_365", "repayment_day": 21}
    )
    assert (chosen.business_day, chosen.day_count, chosen.repayment_day) == (
        "none",
        "actual_365",
        21,
    )
