"""Repayment schedules: Decimal to the cent, the last instalment absorbs the rounding."""

from datetime import date
from decimal import Decimal

import pytest

from disbursement.schedule import METHODS, add_months, build_schedule

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
                assert len(rows) == term
                assert sum(row.principal for row in rows) == amount, (amount, rate, term)
                assert rows[-1].closing_balance == D("0.00")
                for row in rows:
                    assert row.total == row.principal + row.interest
                    assert row.principal >= 0 and row.interest >= 0
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
