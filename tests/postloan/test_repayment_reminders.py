"""The nightly job reminds the SME owners of each instalment a few days before it is due and on
its first day overdue: in-app and by e-mail, in each owner's language, exactly once per
instalment and kind however often the job runs; an owner who muted reminders gets none."""

import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from notifications.models import EmailDelivery, Notification, NotificationMute
from postloan.models import RepaymentReminder
from postloan.services import repayment_record
from tests.conftest import api_for
from tests.factories import make_applicant

from .conftest import TODAY

pytestmark = pytest.mark.django_db

PRINCIPAL, INTEREST = Decimal("1000.00"), Decimal("100.00")


@pytest.fixture
def loan(make_loan, staff, owner, company):
    """Instalment 1 (40 days ago) paid; 2 was due yesterday and is unpaid; 3 is due in three
    days; 4 in a month. Owners: Olivia reads English, Zhang reads Chinese."""
    loan = make_loan(
        [
            (TODAY - timedelta(days=40), PRINCIPAL, INTEREST),
            (TODAY - timedelta(days=1), PRINCIPAL, INTEREST),
            (TODAY + timedelta(days=3), PRINCIPAL, INTEREST),
            (TODAY + timedelta(days=33), PRINCIPAL, INTEREST),
        ],
        start=TODAY - timedelta(days=70),
    )
    repayment_record(
        application_id=loan.application_id,
        actor=staff["rm"],
        amount=Decimal("1100.00"),
        value_date=TODAY - timedelta(days=40),
    )
    owner.applicant_profile.preferred_language = "en"
    owner.applicant_profile.save()
    zhang = make_applicant(company, username="zhang_owner")
    zhang.applicant_profile.preferred_language = "zh-hans"
    zhang.applicant_profile.save()
    return loan


def _nightly_job():
    call_command("postloan_daily", as_of=TODAY, stdout=StringIO())


def test_the_nightly_job_reminds_before_due_and_on_the_first_day_overdue_exactly_once(
    loan, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _nightly_job()
        _nightly_job()

    reminders = sorted(
        RepaymentReminder.objects.filter(loan=loan).values_list("instalment_number", "kind")
    )
    assert reminders == [(2, "first_day_overdue"), (3, "before_due")]
    mine = Notification.objects.filter(user=owner, kind="repayment").order_by("title")
    ref = loan.application.reference
    assert [(n.title, n.body) for n in mine] == [
        (
            f"Repayment due on {(TODAY + timedelta(days=3)).isoformat()}",
            f"Instalment 3 of loan {ref}, 1,100.00 CNY, is due on "
            f"{(TODAY + timedelta(days=3)).isoformat()}. Please make sure the money is in your "
            "repayment account by then.",
        ),
        (
            "Your repayment is overdue",
            f"Instalment 2 of loan {ref}, 1,100.00 CNY, was due on "
            f"{(TODAY - timedelta(days=1)).isoformat()} and has not been paid in full. Please "
            "pay it as soon as you can, or call your relationship manager.",
        ),
    ]
    assert all(n.url == f"/portal/applications/{loan.application_id}/" for n in mine)
    # The Chinese-reading owner hears it in Chinese, by e-mail as well.
    zhang = Notification.objects.filter(user__username="zhang_owner", kind="repayment")
    assert {n.title for n in zhang} == {
        f"还款将于 {(TODAY + timedelta(days=3)).isoformat()} 到期",
        "您的还款已逾期",
    }
    mails = EmailDelivery.objects.filter(notification__kind="repayment")
    assert mails.count() == 4
    assert {(m.user.username, m.language) for m in mails} == {
        ("olivia_owner", "en"),
        ("zhang_owner", "zh-hans"),
    }
    chinese = [m for m in mails if m.language == "zh-hans"]
    assert any("您的还款已逾期" in m.subject for m in chinese)
    assert any(f"贷款 {ref} 第 2 期，金额 1100.00 CNY，已于" in m.body for m in chinese)


def test_a_paid_instalment_is_not_reminded_and_tomorrow_brings_nothing_new(loan, staff):
    repayment_record(
        application_id=loan.application_id,
        actor=staff["rm"],
        amount=Decimal("2200.00"),
        value_date=TODAY,
    )
    _nightly_job()
    assert not RepaymentReminder.objects.exists()
    assert not Notification.objects.filter(kind="repayment").exists()


def test_an_owner_who_muted_repayment_reminders_gets_none_and_the_others_still_do(
    loan, owner, django_capture_on_commit_callbacks
):
    NotificationMute.objects.create(user=owner, kind="repayment")
    with django_capture_on_commit_callbacks(execute=False):
        _nightly_job()
    assert RepaymentReminder.objects.filter(loan=loan).count() == 2
    assert not Notification.objects.filter(user=owner, kind="repayment").exists()
    assert not EmailDelivery.objects.filter(user=owner).exists()
    assert Notification.objects.filter(user__username="zhang_owner", kind="repayment").count() == 2


def test_the_lead_days_are_a_setting(loan, settings):
    settings.LOANFLOW_REMINDER_DAYS_BEFORE = 2
    _nightly_job()
    assert list(RepaymentReminder.objects.values_list("instalment_number", "kind")) == [
        (2, "first_day_overdue")
    ]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(loan, owner):
    """Another run has recorded the overdue reminder and not committed yet: this run waits on
    it, then sends only the reminder that is its own."""
    import threading
    import time
    import uuid

    import psycopg
    from django.db import connections

    from postloan.reminders import repayment_reminders_send
    from tests.approvals.locking import psycopg_dsn

    table = RepaymentReminder._meta.db_table
    sent = []

    def run():
        try:
            sent.append(repayment_reminders_send(as_of=TODAY))
        finally:
            connections.close_all()

    dsn = psycopg_dsn()
    with psycopg.connect(**dsn) as other_run, psycopg.connect(**dsn) as probe:
        other_run.execute(
            f"INSERT INTO {table} (loan_id, instalment_number, due_date, kind, sent_on, run, "
            "created_at) VALUES (%s, 2, %s, 'first_day_overdue', %s, %s, now())",
            [loan.pk, TODAY - timedelta(days=1), TODAY, uuid.uuid4()],
        )
        this_run = threading.Thread(target=run)
        this_run.start()
        deadline = time.monotonic() + 10
        while not probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()[0]:
            probe.rollback()
            assert time.monotonic() < deadline, "this run never waited on the other"
            time.sleep(0.05)
        other_run.commit()
        this_run.join(timeout=30)

    assert sent == [1]
    assert RepaymentReminder.objects.filter(loan=loan).count() == 2
    assert list(
        Notification.objects.filter(user=owner, kind="repayment").values_list("title", flat=True)
    ) == [f"Repayment due on {(TODAY + timedelta(days=3)).isoformat()}"]


def _the_task():
    from postloan.tasks import daily_job

    return daily_job()  # the beat task's body, as the worker runs it


def _the_api(staff):
    response = api_for(staff["risk"]).post(reverse("api-postloan-daily-job"))
    assert response.status_code == 200, response.data
    return response.data


@pytest.mark.parametrize("entry", ["task", "command", "api"])
def test_the_nightly_task_the_command_and_the_run_now_api_all_send_the_reminders(
    loan, owner, staff, entry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        if entry == "task":
            counts = _the_task()
        elif entry == "command":
            out = StringIO()
            call_command("postloan_daily", stdout=out)
            counts = dict(re.findall(r"(\w+)=([\d.]+)", out.getvalue()))
        else:
            counts = _the_api(staff)
    assert int(counts["reminders_sent"]) == 2
    assert "clocks_started" in counts and "positions_updated" in counts
    assert sorted(
        RepaymentReminder.objects.filter(loan=loan).values_list("instalment_number", "kind")
    ) == [(2, "first_day_overdue"), (3, "before_due")]
    assert Notification.objects.filter(user=owner, kind="repayment").count() == 2
