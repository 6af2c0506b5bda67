"""Seed the CN calendar from the chinese_calendar package (holidays on weekdays and make-up
working days on weekends). The package ships only the years already published by the State
Council; missing years are reported, and can be entered in the admin."""

import csv
from collections import Counter
from datetime import date, timedelta

from django.db import transaction

from sla.calendar import calendar_changed
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
    calendar_changed()
    return results


class CalendarImportError(ValueError):
    """A calendar file that cannot be imported, with the file line at fault."""


def import_calendar(lines, *, region: str = "CN", replace: bool = False) -> dict[int, int]:
    """Import holidays and make-up working days from CSV `lines` (date,kind,name; a header
    line is allowed): weekday holidays and weekend working days, as the State Council's
    schedule lists them. Every line is checked first (the error names its file line);
    then, in one transaction, the entries are written (with `replace`, after deleting the
    region's entries of the same years). Returns {year: entries imported}."""
    kinds = {CalendarDay.Kind.HOLIDAY.value, CalendarDay.Kind.WORKDAY.value}
    rows: dict[date, tuple[str, str]] = {}
    reader = csv.reader(lines)
    read = 0  # file lines read so far (a quoted field may span lines)
    for record in reader:
        first, read = read + 1, reader.line_num
        if not record or not "".join(record).strip():
            continue
        if first == 1 and record[0].strip().lower() == "date":
            continue
        if len(record) not in (2, 3):
            raise CalendarImportError(f"Line {first}: expected date,kind,name.")
        text, kind = record[0].strip(), record[1].strip().lower()
        name = record[2].strip() if len(record) == 3 else ""
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise CalendarImportError(
                f"Line {first}: {text!r} is not a date (YYYY-MM-DD)."
            ) from None
        if kind not in kinds:
            raise CalendarImportError(f"Line {first}: kind must be holiday or workday.")
        if kind == CalendarDay.Kind.HOLIDAY and day.weekday() >= 5:
            raise CalendarImportError(
                f"Line {first}: {day} is a weekend day; list holidays on weekdays only."
            )
        if kind == CalendarDay.Kind.WORKDAY and day.weekday() < 5:
            raise CalendarImportError(
                f"Line {first}: {day} is a weekday; list make-up working days on weekends only."
            )
        if day in rows:
            raise CalendarImportError(f"Line {first}: {day} is listed twice.")
        if len(name) > 100:
            raise CalendarImportError(f"Line {first}: the name is longer than 100 characters.")
        rows[day] = (kind, name)
    if not rows:
        raise CalendarImportError("The file lists no days.")
    years = sorted({day.year for day in rows})
    with transaction.atomic():
        if replace:
            CalendarDay.objects.filter(region=region, date__year__in=years).delete()
        for day, (kind, name) in sorted(rows.items()):
            CalendarDay.objects.update_or_create(
                region=region, date=day, defaults={"kind": kind, "name": name}
            )
    calendar_changed()
    return dict(Counter(day.year for day in rows))
