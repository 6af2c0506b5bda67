"""Seed the CN calendar from the chinese_calendar package (holidays on weekdays and make-up
working days on weekends). The package ships only the years already published by the State
Council; missing years are reported, and can be entered in the admin."""

from datetime import date, timedelta

from sla.calendar import clear_cache
from sla.models import CalendarDay


def seed_calendar(*, years, region: str = "CN") -> list[tuple[int, int, str]]:
    import chinese_calendar

    results = []
    for year in years:
        try:
            chinese_calendar.is_holiday(date(year, 6, 1))
        except NotImplementedError:
            results.append(
                (
                    year,
                    0,
                    f"chinese_calendar {chinese_calendar.__version__} has no "
                    f"data for {year}: enter its holidays in the admin.",
                )
            )
            continue
        count = 0
        day = date(year, 1, 1)
        while day.year == year:
            try:
                holiday, name = chinese_calendar.get_holiday_detail(day)
            except NotImplementedError:
                break
            kind = None
            if holiday and day.weekday() < 5:
                kind = CalendarDay.Kind.HOLIDAY
            elif not holiday and day.weekday() >= 5:
                kind = CalendarDay.Kind.WORKDAY
            if kind:
                label = str(name or "")
                _obj, created = CalendarDay.objects.update_or_create(
                    region=region, date=day, defaults={"kind": kind, "name": label[:100]}
                )
                count += 1
            day += timedelta(days=1)
        results.append((year, count, ""))
    clear_cache()
    return results
