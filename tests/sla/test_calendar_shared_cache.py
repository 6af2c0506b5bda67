"""The calendar lives in Django's cache (Redis) under a version that every edit bumps: another
process's edit reaches this one within RECHECK_SECONDS, a process that starts takes the calendar
from Redis rather than the database, and business time still computes while Redis is down."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from sla import calendar
from sla.calendar import VERSION_KEY, add_business_seconds
from sla.models import CalendarDay
from tests.hung import HungServer

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
DAY = 8 * 3600
FRIDAY_16 = datetime(2026, 11, 20, 16, tzinfo=SH)


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def shared_cache(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    settings.CACHES = redis_cache(settings.REDIS_URL)
    calendar.calendar_changed()
    yield cache
    calendar.calendar_changed()


def add_holiday_as_another_process_would(day: date) -> None:
    """The row written and the version bumped, with no signal in this process."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CalendarDay._meta.db_table} (region, date, kind, name) "
            "VALUES ('CN', %s, 'holiday', '')",
            [day],
        )
    cache.incr(VERSION_KEY)


def test_an_edit_by_another_process_is_seen_after_the_recheck_interval(shared_cache, monkeypatch):
    assert add_business_seconds(FRIDAY_16, 3 * DAY) == datetime(2026, 11, 25, 16, tzinfo=SH)
    add_holiday_as_another_process_would(date(2026, 11, 24))
    # Within RECHECK_SECONDS this process computes with the copy it holds...
    assert add_business_seconds(FRIDAY_16, 3 * DAY) == datetime(2026, 11, 25, 16, tzinfo=SH)
    # ...then reads the version once, finds it bumped, and loads the new calendar.
    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0)
    assert add_business_seconds(FRIDAY_16, 3 * DAY) == datetime(2026, 11, 26, 16, tzinfo=SH)


def test_a_starting_process_takes_the_calendar_from_the_cache_not_the_database(
    shared_cache, django_assert_num_queries
):
    CalendarDay.objects.create(region="CN", date=date(2026, 11, 24), kind="holiday")
    with django_assert_num_queries(2):  # hours, days: then stored in Redis
        calendar.get_calendar("CN")
    calendar._held.clear()  # what a process that has just started holds
    with django_assert_num_queries(0):
        cal = calendar.get_calendar("CN")
    assert cal.exceptions == {date(2026, 11, 24): "holiday"}


def test_an_unchanged_version_keeps_the_held_copy(shared_cache, monkeypatch):
    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0)
    first = calendar.get_calendar("CN")
    assert calendar.get_calendar("CN") is first
    cache.incr(VERSION_KEY)
    assert calendar.get_calendar("CN") is not first


def test_saving_or_deleting_a_calendar_day_bumps_the_shared_version(shared_cache):
    before = cache.get(VERSION_KEY) or 0
    day = CalendarDay.objects.create(region="CN", date=date(2026, 11, 24), kind="holiday")
    after_save = cache.get(VERSION_KEY)
    assert after_save > before
    day.delete()
    assert cache.get(VERSION_KEY) > after_save


def test_importing_and_seeding_the_calendar_bump_the_shared_version(shared_cache, tmp_path):
    calendar.get_calendar("CN")
    version = cache.get(VERSION_KEY)
    schedule = tmp_path / "2027.csv"
    schedule.write_text("date,kind,name\n2027-01-01,holiday,New Year\n", encoding="utf-8")
    call_command("sla_import_calendar", str(schedule), stdout=io.StringIO())
    assert cache.get(VERSION_KEY) > version
    assert calendar.get_calendar("CN").exceptions[date(2027, 1, 1)] == "holiday"
    version = cache.get(VERSION_KEY)
    call_command("sla_seed_calendar", "--year", "2026", stdout=io.StringIO())
    assert cache.get(VERSION_KEY) > version


def test_a_lost_version_key_starts_again_from_a_new_number(shared_cache, monkeypatch):
    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0)
    first = calendar.get_calendar("CN")
    cache.delete(VERSION_KEY)  # Redis restarted without its data
    assert calendar.get_calendar("CN") is not first
    assert cache.get(VERSION_KEY) is not None


def test_business_time_computes_while_redis_hangs(settings, monkeypatch):
    server, working = HungServer(), settings.CACHES
    try:
        settings.CACHES = redis_cache(f"redis://127.0.0.1:{server.port}/0")
        CalendarDay.objects.create(region="CN", date=date(2026, 11, 24), kind="holiday")
        calendar._held.clear()
        # From the database when nothing is held; then the held copy, without asking the
        # hung cache again for RETRY_AFTER_CACHE_ERROR_SECONDS.
        assert add_business_seconds(FRIDAY_16, 3 * DAY) == datetime(2026, 11, 26, 16, tzinfo=SH)
        monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0)
        assert add_business_seconds(FRIDAY_16, 3 * DAY) == datetime(2026, 11, 26, 16, tzinfo=SH)
        held = calendar._held["CN"]
        assert held.version is None
    finally:
        settings.CACHES = working  # before the suite's teardown bumps the version
        server.close()
        calendar._held.clear()


def test_an_edit_inside_a_transaction_bumps_the_version_again_at_commit(
    shared_cache, django_capture_on_commit_callbacks
):
    version = cache.get(VERSION_KEY) or 0
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(region="CN", date=date(2026, 11, 24), kind="holiday")
        during = cache.get(VERSION_KEY)
        assert during > version
    # A process that loaded the calendar before the commit loads it again.
    assert cache.get(VERSION_KEY) > during


def test_the_deploy_check_warns_when_each_process_keeps_its_own_cache(settings):
    from sla.checks import cache_shared_between_processes

    working = settings.CACHES
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in cache_shared_between_processes(None)] == ["sla.W002"]
    settings.CACHES = redis_cache("redis://127.0.0.1:6379/1")  # configured, never connected
    assert cache_shared_between_processes(None) == []
    settings.CACHES = working
