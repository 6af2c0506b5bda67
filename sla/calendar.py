"""Business-time arithmetic over a region's calendar.

A business day is Monday-Friday unless a CalendarDay row says holiday, or a weekend day a
CalendarDay row says workday (调休). Business time runs only inside the region's working
hours (default 09:00-17:00 Asia/Shanghai). A region's calendar is loaded once and cached in
the process; saving a CalendarDay or BusinessHours clears the cache (other processes reload
after CACHE_SECONDS).
"""

import threading
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

CACHE_SECONDS = 300
DEFAULT_REGION = "CN"
MAX_DAYS = 3660  # ten years: a safety stop for runaway loops


@dataclass(frozen=True)
class RegionCalendar:
    region: str
    tz: ZoneInfo
    start: time
    end: time
    exceptions: dict[date, str] = field(default_factory=dict)  # date -> "holiday"|"workday"

    @property
    def seconds_per_day(self) -> int:
        return (self.end.hour * 3600 + self.end.minute * 60 + self.end.second) - (
            self.start.hour * 3600 + self.start.minute * 60 + self.start.second
        )

    def is_business_day(self, day: date) -> bool:
        kind = self.exceptions.get(day)
        if kind == "holiday":
            return False
        if kind == "workday":
            return True
        return day.weekday() < 5

    def window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.tz),
            datetime.combine(day, self.end, tzinfo=self.tz),
        )


_cache: dict[str, tuple[float, RegionCalendar]] = {}
_lock = threading.Lock()


def clear_cache(**kwargs) -> None:
    with _lock:
        _cache.clear()


def cached_calendar(region: str = DEFAULT_REGION) -> RegionCalendar | None:
    """The region's calendar if this process holds a fresh copy (no query), else None."""
    hit = _cache.get(region or DEFAULT_REGION)
    return hit[1] if hit and _time.monotonic() - hit[0] < CACHE_SECONDS else None


def get_calendar(region: str = DEFAULT_REGION) -> RegionCalendar:
    region = region or DEFAULT_REGION
    cal = cached_calendar(region)
    if cal is not None:
        return cal
    from sla.models import BusinessHours, CalendarDay

    hours = BusinessHours.objects.filter(region=region).first()
    exceptions = dict(CalendarDay.objects.filter(region=region).values_list("date", "kind"))
    cal = RegionCalendar(
        region=region,
        tz=ZoneInfo(hours.timezone if hours else "Asia/Shanghai"),
        start=hours.start if hours else time(9, 0),
        end=hours.end if hours else time(17, 0),
        exceptions=exceptions,
    )
    with _lock:
        _cache[region] = (_time.monotonic(), cal)
    return cal


def _aware(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")
    return moment


def business_seconds_between(
    start: datetime,
    end: datetime,
    *,
    region: str = DEFAULT_REGION,
    calendar: RegionCalendar | None = None,
) -> int:
    """Business seconds from `start` to `end` (negative if end is before start).

    The first and last days count their overlap with the working hours; every day between them
    is a whole business day or none, so those are counted, not walked (a stage that stayed
    open for months costs what a day does)."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -business_seconds_between(end, start, region=region, calendar=calendar)
    cal = calendar or get_calendar(region)
    first = start.astimezone(cal.tz).date()
    last = end.astimezone(cal.tz).date()
    total = _overlap(cal, first, start, end)
    if last > first:
        total += _overlap(cal, last, start, end)
        total += cal.seconds_per_day * business_days(
            cal, first + timedelta(days=1), last - timedelta(days=1)
        )
    return int(total)


def _overlap(cal: RegionCalendar, day: date, start: datetime, end: datetime) -> float:
    """Seconds of `day`'s working hours between start and end."""
    if not cal.is_business_day(day):
        return 0.0
    open_, close = cal.window(day)
    if start <= open_ and close <= end:
        return float(cal.seconds_per_day)
    lo, hi = max(start, open_), min(end, close)
    return (hi - lo).total_seconds() if hi > lo else 0.0


def business_days(cal: RegionCalendar, first: date, last: date) -> int:
    """How many business days from `first` to `last`, both included: the weekdays, less the
    holidays that fall on one, plus the make-up working days that fall on a weekend."""
    if last < first:
        return 0
    weeks, rest = divmod((last - first).days + 1, 7)
    weekday = first.weekday()
    count = weeks * 5 + sum(1 for i in range(rest) if (weekday + i) % 7 < 5)
    for day, kind in cal.exceptions.items():
        if first <= day <= last:
            if kind == "holiday" and day.weekday() < 5:
                count -= 1
            elif kind == "workday" and day.weekday() >= 5:
                count += 1
    return count


def add_business_seconds(
    start: datetime,
    seconds: float,
    *,
    region: str = DEFAULT_REGION,
    calendar: RegionCalendar | None = None,
) -> datetime:
    """The moment `seconds` business seconds after `start` (before it, if negative).

    Landing exactly on the close of a day gives that close (17:00), not the next opening."""
    start = _aware(start)
    cal = calendar or get_calendar(region)
    if seconds == 0:
        return start
    local = start.astimezone(cal.tz)
    day = local.date()
    left = float(abs(seconds))
    forward = seconds > 0
    for _ in range(MAX_DAYS):
        if cal.is_business_day(day):
            open_, close = cal.window(day)
            if forward:
                lo = max(start, open_)
                if lo < close:
                    available = (close - lo).total_seconds()
                    if left <= available:
                        return (lo + timedelta(seconds=left)).astimezone(start.tzinfo)
                    left -= available
            else:
                hi = min(start, close)
                if hi > open_:
                    available = (hi - open_).total_seconds()
                    if left <= available:
                        return (hi - timedelta(seconds=left)).astimezone(start.tzinfo)
                    left -= available
        day += timedelta(days=1 if forward else -1)
    raise ValueError("no business time found within ten years; check the calendar")


def add_business_days(start: datetime, days: int, *, region: str = DEFAULT_REGION) -> datetime:
    cal = get_calendar(region)
    return add_business_seconds(start, days * cal.seconds_per_day, calendar=cal)
