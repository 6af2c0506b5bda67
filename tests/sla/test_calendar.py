"""Business-time arithmetic: 09:00-17:00 Asia/Shanghai, Monday-Friday, with holidays and
make-up working days (调休). Friday 2026-11-20 is the reference day."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import add_business_seconds, business_seconds_between
from sla.models import CalendarDay

SH = ZoneInfo("Asia/Shanghai")
H = 3600
DAY = 8 * H
MON_HOLIDAY = [("2026-11-23", "holiday")]
SAT_WORKDAY = [("2026-11-21", "workday")]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def make_days(rows):
    for day, kind in rows:
        CalendarDay.objects.create(region="CN", date=date.fromisoformat(day), kind=kind)


ADD_CASES = [
    # (description, exceptions, start, business seconds, expected)
    ("3 business days after Friday 16:00", [], "2026-11-20 16:00", 3 * DAY, "2026-11-25 16:00"),
    (
        "an hour before Friday's close ends at the close",
        [],
        "2026-11-20 16:00",
        H,
        "2026-11-20 17:00",
    ),
    (
        "one second past Friday's close is Monday morning",
        [],
        "2026-11-20 17:00",
        1,
        "2026-11-23 09:00:01",
    ),
    ("from Saturday, time starts on Monday", [], "2026-11-21 10:00", H, "2026-11-23 10:00"),
    ("before opening, time starts at 09:00", [], "2026-11-23 07:00", H, "2026-11-23 10:00"),
    (
        "a Monday holiday pushes the due day",
        MON_HOLIDAY,
        "2026-11-20 16:00",
        3 * DAY,
        "2026-11-26 16:00",
    ),
    ("a make-up Saturday counts", SAT_WORKDAY, "2026-11-20 16:00", 3 * DAY, "2026-11-24 16:00"),
    (
        "make-up Saturday and Monday holiday",
        SAT_WORKDAY + MON_HOLIDAY,
        "2026-11-20 16:00",
        3 * DAY,
        "2026-11-25 16:00",
    ),
    ("backwards over a weekend", [], "2026-11-23 09:30", -H, "2026-11-20 16:30"),
    ("backwards over a holiday", MON_HOLIDAY, "2026-11-24 09:30", -H, "2026-11-20 16:30"),
    ("zero is the start itself", [], "2026-11-21 03:00", 0, "2026-11-21 03:00"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("description", "exceptions", "start", "seconds", "expected"),
    ADD_CASES,
    ids=[c[0] for c in ADD_CASES],
)
def test_it_adds_business_time(description, exceptions, start, seconds, expected):
    make_days(exceptions)
    assert add_business_seconds(at(start), seconds) == at(expected)


BETWEEN_CASES = [
    (
        "Friday 16:00 to Monday 10:00 is two hours",
        [],
        "2026-11-20 16:00",
        "2026-11-23 10:00",
        2 * H,
    ),
    ("a Monday holiday does not count", MON_HOLIDAY, "2026-11-20 16:00", "2026-11-24 10:00", 2 * H),
    (
        "a make-up Saturday counts in full",
        SAT_WORKDAY,
        "2026-11-20 16:00",
        "2026-11-23 10:00",
        2 * H + DAY,
    ),
    ("a whole weekend is nothing", [], "2026-11-21 00:00", "2026-11-23 00:00", 0),
    ("the night does not count", [], "2026-11-23 16:30", "2026-11-24 09:30", H),
    ("a full week is five days", [], "2026-11-23 00:00", "2026-11-30 00:00", 5 * DAY),
    ("reversed gives a negative", [], "2026-11-23 10:00", "2026-11-20 16:00", -2 * H),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("description", "exceptions", "start", "end", "expected"),
    BETWEEN_CASES,
    ids=[c[0] for c in BETWEEN_CASES],
)
def test_it_counts_business_time_between(description, exceptions, start, end, expected):
    make_days(exceptions)
    assert business_seconds_between(at(start), at(end)) == expected


@pytest.mark.django_db
def test_adding_and_counting_agree_across_holidays_and_make_up_days():
    make_days(SAT_WORKDAY + MON_HOLIDAY)
    start = at("2026-11-19 11:17")
    for seconds in (1, 59, H, 7 * H, DAY, DAY + 1, 4 * DAY + 123, 17 * DAY):
        end = add_business_seconds(start, seconds)
        assert business_seconds_between(start, end) == seconds


@pytest.mark.django_db
def test_editing_the_calendar_takes_effect_at_once():
    start = at("2026-11-20 16:00")
    assert add_business_seconds(start, 3 * DAY) == at("2026-11-25 16:00")
    CalendarDay.objects.create(region="CN", date=date(2026, 11, 24), kind="holiday")
    assert add_business_seconds(start, 3 * DAY) == at("2026-11-26 16:00")


@pytest.mark.django_db
def test_the_calendar_is_loaded_once_per_process(django_assert_num_queries):
    add_business_seconds(at("2026-11-20 16:00"), DAY)
    with django_assert_num_queries(0):
        for _ in range(20):
            add_business_seconds(at("2026-11-20 16:00"), 30 * DAY)
            business_seconds_between(at("2026-01-01 00:00"), at("2026-12-31 00:00"))


@pytest.mark.django_db
def test_seeding_from_chinese_calendar_records_holidays_and_make_up_days():
    from sla.seeding import seed_calendar

    results = seed_calendar(years=[2026, 2099])
    assert results[0][0] == 2026 and results[0][1] > 0
    assert results[1][1] == 0 and "no data for 2099" in results[1][2]
    national_day = CalendarDay.objects.get(region="CN", date=date(2026, 10, 1))
    assert national_day.kind == "holiday"
    # 2026-02-14 is a Saturday worked to make up for the Spring Festival holiday.
    assert CalendarDay.objects.get(date=date(2026, 2, 14)).kind == "workday"
    # Seeding twice changes nothing.
    count = CalendarDay.objects.count()
    seed_calendar(years=[2026])
    assert CalendarDay.objects.count() == count


def _walked_business_seconds(cal, start: datetime, end: datetime) -> int:
    """The definition, day by day: each business day's working hours between start and end."""
    from datetime import timedelta

    total, day = 0.0, start.astimezone(cal.tz).date()
    while day <= end.astimezone(cal.tz).date():
        if cal.is_business_day(day):
            open_, close = cal.window(day)
            lo, hi = max(start, open_), min(end, close)
            total += max(0.0, (hi - lo).total_seconds())
        day += timedelta(days=1)
    return int(total)


def test_counting_business_time_over_months_agrees_with_walking_it_day_by_day():
    import random
    from datetime import time, timedelta

    from sla.calendar import RegionCalendar, business_days

    rng = random.Random(20261129)
    origin = at("2026-01-01 00:00")
    exceptions = {}
    for _ in range(40):
        day = (origin + timedelta(days=rng.randrange(500))).date()
        exceptions[day] = "workday" if day.weekday() >= 5 else "holiday"
    cal = RegionCalendar(region="CN", tz=SH, start=time(9), end=time(17), exceptions=exceptions)
    for _ in range(400):
        start = origin + timedelta(minutes=rng.randrange(500 * 24 * 60))
        end = start + timedelta(
            minutes=rng.choice([rng.randrange(3 * 24 * 60), rng.randrange(300 * 24 * 60)])
        )
        expected = _walked_business_seconds(cal, start, end)
        assert business_seconds_between(start, end, calendar=cal) == expected, (start, end)
        assert business_seconds_between(end, start, calendar=cal) == -expected
    first, last = date(2026, 11, 16), date(2026, 11, 29)  # two whole weeks
    assert business_days(cal, first, last) == 10 + sum(
        1 if kind == "workday" else -1 for day, kind in exceptions.items() if first <= day <= last
    )
    assert business_days(cal, last, first) == 0
