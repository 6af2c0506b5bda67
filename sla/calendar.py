"""Business-time arithmetic over a region's calendar.

A business day is Monday-Friday unless a CalendarDay row says holiday, or a weekend day a
CalendarDay row says workday (调休). Business time runs only inside the region's working
hours (default 09:00-17:00 Asia/Shanghai).

Every web process and worker must compute with the same calendar, and business time is on hot
paths (the SLA sweep, each approval decision), so a region's calendar is kept at two levels:
- in Django's cache (Redis with CACHE_URL), under a key that carries the calendar's version;
  saving or deleting a CalendarDay or BusinessHours row (the admin, sla_seed_calendar,
  sla_import_calendar) bumps the version, so every process loads the new calendar;
- in this process, for RECHECK_SECONDS at a time: after that the next computation reads the
  version (one Redis GET) and reuses its copy while the version is unchanged.
A change therefore reaches every process within RECHECK_SECONDS. Both levels also expire after
CACHE_SECONDS, a safety net for edits made around the models (SQL, a restore: seen within twice
that) and for a per-process cache (no CACHE_URL), where the version cannot travel. Measured
costs are in docs/performance.md.
"""

import contextlib
import logging
import threading
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

CACHE_SECONDS = 300
RECHECK_SECONDS = 1.0
RETRY_AFTER_CACHE_ERROR_SECONDS = 30  # a hung Redis costs one socket timeout per 30 s, not per call
DEFAULT_REGION = "CN"
MAX_DAYS = 3660  # ten years: a safety stop for runaway loops
VERSION_KEY = "sla:calendar:version"

logger = logging.getLogger(__name__)


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


@dataclass
class _Held:
    version: int | None
    loaded_at: float
    checked_at: float
    calendar: RegionCalendar


_held: dict[str, _Held] = {}
_lock = threading.Lock()


def _shared_key(region: str, version: int) -> str:
    return f"sla:calendar:{region}:{version}"


def _shared_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # First use, or Redis lost its data: start from the clock, never from a number an
        # older copy may still carry.
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _fresh_version() -> int:
    return _time.time_ns() // 1000


def _bump_shared_version() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (or Redis lost it)
            cache.add(VERSION_KEY, _fresh_version(), timeout=None)
    except RedisError:
        logger.warning(
            "Could not tell other processes that the calendar changed (cache unavailable); "
            "they reload it within %s s.",
            CACHE_SECONDS,
            exc_info=True,
        )


def calendar_changed(**kwargs) -> None:
    """The calendar's rows changed: drop this process's copies and bump the shared version
    now (this transaction computes with the change) and, inside a transaction, again after
    commit (a process that loaded the calendar in between read it before the commit)."""
    with _lock:
        _held.clear()
    _bump_shared_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump_shared_version)


def cached_calendar(region: str = DEFAULT_REGION) -> RegionCalendar | None:
    """The region's calendar if this process holds a copy checked within RECHECK_SECONDS
    (no query, no cache round trip), else None."""
    held = _held.get(region or DEFAULT_REGION)
    if held is None:
        return None
    now = _time.monotonic()
    if now - held.checked_at < RECHECK_SECONDS and now - held.loaded_at < CACHE_SECONDS:
        return held.calendar
    return None


def get_calendar(region: str = DEFAULT_REGION) -> RegionCalendar:
    region = region or DEFAULT_REGION
    cal = cached_calendar(region)
    if cal is not None:
        return cal
    now = _time.monotonic()
    held = _held.get(region)
    try:
        version = _shared_version()
    except RedisError:
        # Without the cache, compute with this process's copy (or the database's rows) rather
        # than fail a decision, and ask the cache again only after a while.
        logger.warning("Calendar version unavailable (cache down); using this process's copy.")
        if held is not None and now - held.loaded_at < CACHE_SECONDS:
            held.checked_at = now + RETRY_AFTER_CACHE_ERROR_SECONDS - RECHECK_SECONDS
            return held.calendar
        version = None
    if held is not None and version == held.version and now - held.loaded_at < CACHE_SECONDS:
        held.checked_at = now
        return held.calendar
    cal = None
    if version is not None:
        try:
            cal = cache.get(_shared_key(region, version))
        except RedisError:
            version = None
    if cal is None:
        cal = _load_calendar(region)
        if version is not None:
            with contextlib.suppress(RedisError):  # the next process loads it again
                cache.set(_shared_key(region, version), cal, timeout=CACHE_SECONDS)
    with _lock:
        _held[region] = _Held(version=version, loaded_at=now, checked_at=now, calendar=cal)
    return cal


def _load_calendar(region: str) -> RegionCalendar:
    from sla.models import BusinessHours, CalendarDay

    hours = BusinessHours.objects.filter(region=region).first()
    exceptions = dict(CalendarDay.objects.filter(region=region).values_list("date", "kind"))
    return RegionCalendar(
        region=region,
        tz=ZoneInfo(hours.timezone if hours else "Asia/Shanghai"),
        start=hours.start if hours else time(9, 0),
        end=hours.end if hours else time(17, 0),
        exceptions=exceptions,
    )


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
