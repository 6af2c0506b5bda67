"""The holiday calendar must cover this year and the next: the system check, the daily job,
the admin's banner, the seeding command and the import of the State Council's schedule say
so when it does not."""

import io
import logging
from datetime import date

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from sla import tasks
from sla.calendar import add_business_seconds
from sla.models import CalendarDay
from sla.seeding import CalendarImportError, import_calendar, seed_calendar

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year
NEXT_YEAR = THIS_YEAR + 1


def _calendar_warnings():
    return [m for m in run_checks(databases=["default"]) if m.id == "sla.W001"]


def _enter_year(year: int) -> None:
    # A weekday holiday in that year: the first weekday of May (Labour Day's holiday week).
    day = date(year, 5, 1)
    while day.weekday() >= 5:
        day = day.replace(day=day.day + 1)
    CalendarDay.objects.create(region="CN", date=day, kind="holiday", name="劳动节")


def test_the_system_check_names_each_year_without_holidays_until_it_is_entered(branch):
    messages = sorted(str(m.msg) for m in _calendar_warnings())
    assert len(messages) == 2
    assert str(THIS_YEAR) in messages[0] and "CN" in messages[0]
    assert str(NEXT_YEAR) in messages[1]
    _enter_year(THIS_YEAR)
    _enter_year(NEXT_YEAR)
    assert _calendar_warnings() == []


def test_a_branch_on_another_calendar_region_needs_its_own_holidays(branch):
    _enter_year(THIS_YEAR)
    _enter_year(NEXT_YEAR)
    branch.region = "HK"
    branch.save()
    messages = [str(m.msg) for m in _calendar_warnings()]
    assert len(messages) == 2 and all("HK" in m for m in messages)


def test_the_daily_job_logs_and_tells_each_administrator_in_their_language(staff, caplog):
    _enter_year(THIS_YEAR)
    admin = staff["admin"]
    admin.staff_profile.preferred_language = "zh-hans"
    admin.staff_profile.save()
    with caplog.at_level(logging.WARNING, logger="sla.services"):
        assert tasks.calendar_coverage() == 1
    assert any(str(NEXT_YEAR) in r.getMessage() for r in caplog.records)
    notice = Notification.objects.get(kind="system")
    assert notice.user == admin
    assert str(NEXT_YEAR) in notice.title and "节假日" in notice.title
    assert notice.url == "/admin/sla/calendarday/"
    # Nobody else hears of it, and once the year is entered the job is silent.
    assert Notification.objects.filter(kind="system").count() == 1
    _enter_year(NEXT_YEAR)
    assert tasks.calendar_coverage() == 0
    assert Notification.objects.filter(kind="system").count() == 1


def test_the_admin_shows_a_banner_while_a_year_is_missing(staff):
    client = Client()
    client.force_login(staff["admin"])
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"No holiday data for calendar region CN in {NEXT_YEAR}" in page
    _enter_year(THIS_YEAR)
    _enter_year(NEXT_YEAR)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No holiday data" not in page


def test_seeding_names_the_years_it_could_not_seed_and_fails_for_the_current_year(
    monkeypatch,
):
    err = io.StringIO()
    call_command(
        "sla_seed_calendar", "--year", "2026", "--year", "2099", stderr=err, stdout=io.StringIO()
    )
    assert "2099: not seeded" in err.getvalue() and "2026" not in err.getvalue()
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2099, 3, 1))
    with pytest.raises(CommandError, match="current year \\(2099\\)"):
        call_command("sla_seed_calendar", stderr=io.StringIO(), stdout=io.StringIO())


def test_the_state_councils_schedule_is_imported_and_business_time_skips_it(tmp_path):
    # New Year's Day 2027 is a Friday: with the year entered, Thursday 16:00 plus two
    # business hours is Monday 10:00, not Friday 10:00.
    before = add_business_seconds(timezone.make_aware(timezone.datetime(2026, 12, 31, 16)), 7200)
    assert before.astimezone(timezone.get_current_timezone()).date() == date(2027, 1, 1)
    path = tmp_path / "2027.csv"
    path.write_text(
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-20,workday,春节调休\n", encoding="utf-8"
    )
    out = io.StringIO()
    call_command("sla_import_calendar", str(path), stdout=out)
    assert "CN 2027: 2 days imported" in out.getvalue()
    assert CalendarDay.objects.get(date=date(2027, 2, 20)).kind == "workday"
    after = add_business_seconds(timezone.make_aware(timezone.datetime(2026, 12, 31, 16)), 7200)
    local = after.astimezone(timezone.get_current_timezone())
    assert (local.date(), local.hour) == (date(2027, 1, 4), 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,kind,name\n\n2027-01-02,holiday,周六\n", "Line 3: 2027-01-02 is a weekend day"),
        ('2027-01-01,holiday,"元\n旦"\n2027-13-01,holiday,x\n', "Line 3: '2027-13-01' is not"),
        ("2027-01-01,holiday\n2027-01-04,rest,x\n", "Line 2: kind must be holiday or workday"),
        ("2027-01-01,holiday,a\n2027-01-01,holiday,b\n", "Line 2: 2027-01-01 is listed twice"),
        ("2027-01-01,holiday,a,extra\n", "Line 1: expected date,kind,name"),
        ("date,kind,name\n", "lists no days"),
    ],
)
def test_an_import_with_a_bad_line_names_its_file_line_and_writes_nothing(text, message):
    with pytest.raises(CalendarImportError, match=message.replace("(", "\\(")):
        import_calendar(io.StringIO(text))
    assert not CalendarDay.objects.exists()


def test_an_import_with_replace_drops_the_years_earlier_entries():
    seed_calendar(years=[2026])
    assert CalendarDay.objects.filter(date__year=2026).count() > 10
    import_calendar(io.StringIO("2026-10-01,holiday,国庆节\n"), replace=True)
    assert list(CalendarDay.objects.filter(date__year=2026).values_list("date", flat=True)) == [
        date(2026, 10, 1)
    ]
