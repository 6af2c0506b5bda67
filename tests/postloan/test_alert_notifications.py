"""A new early-warning alert tells the loan's relationship manager and the risk officers whose
branch scope covers the loan, each in their language, in one batch per daily run; it runs a
warning_review clock until a risk officer triages it, and escalates when left alone."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.models import Notification
from org.models import StaffProfile
from org.roles import Role
from postloan import services as postloan_services
from postloan.daily import alerts_without_clock, clocks_catch_up, daily_run
from postloan.models import Alert, WarningRule
from sla import services as sla_services
from sla.models import Deadline
from sla.selectors import deadline_for
from tests.factories import make_staff
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
SUBJECT = "postloan.alert"


@pytest.fixture
def one_rule(rules):
    WarningRule.objects.exclude(code="dpd-30").update(is_active=False)
    return WarningRule.objects.get(code="dpd-30")


def _overdue_loan(make_loan, dpd=40):
    return make_loan(
        [
            (TODAY - timedelta(days=dpd), Decimal("1000.00"), Decimal("0.00")),
            (TODAY + timedelta(days=60), Decimal("1000.00"), Decimal("0.00")),
        ]
    )


def test_an_alert_notifies_the_rm_and_the_risk_officers_whose_scope_covers_the_loan(
    make_loan, one_rule, staff, branch, other_branch
):
    shanghai_risk = make_staff(Role.RISK_OFFICER, other_branch, username="sam_risk_sh")
    beijing_risk = make_staff(Role.RISK_OFFICER, branch, username="bea_risk_bj")
    loan = _overdue_loan(make_loan)
    daily_run()
    alert = Alert.objects.get(loan=loan)
    notified = Notification.objects.filter(url=reverse("postloan-alert", args=[alert.pk]))
    assert {n.user for n in notified} == {staff["rm"], staff["risk"], beijing_risk}
    assert shanghai_risk not in {n.user for n in notified}
    assert {n.application_id for n in notified} == {loan.application_id}


def test_each_recipient_reads_the_alert_in_their_language(make_loan, one_rule, staff):
    StaffProfile.objects.filter(user=staff["rm"]).update(preferred_language="en")
    StaffProfile.objects.filter(user=staff["risk"]).update(preferred_language="zh-hans")
    loan = _overdue_loan(make_loan)
    daily_run()
    reference = loan.application.reference
    english = Notification.objects.get(user=staff["rm"])
    chinese = Notification.objects.get(user=staff["risk"])
    assert english.title == f"Early warning on {reference}: {one_rule.get_kind_display()}"
    assert chinese.title.startswith(f"{reference} 预警")


def test_the_daily_job_notifies_all_its_alerts_in_one_batch(make_loan, one_rule, monkeypatch):
    batches = []
    real_notify_many = postloan_services.notify_many

    def spy(messages, **kwargs):
        batches.append(list(messages))
        return real_notify_many(batches[-1], **kwargs)

    monkeypatch.setattr(postloan_services, "notify_many", spy)
    loans = [_overdue_loan(make_loan, dpd) for dpd in (35, 50, 70)]
    counts = daily_run()
    assert counts["alerts_raised"] == 3
    assert len(batches) == 1
    assert {m.application.pk for m in batches[0]} == {loan.application_id for loan in loans}
    assert counts["alert_notifications"] == len(batches[0]) == 6  # the RM and heidi, thrice


def test_a_triaged_alert_stops_its_clock(make_loan, one_rule, api, staff):
    loan = _overdue_loan(make_loan)
    daily_run()
    alert = Alert.objects.get(loan=loan)
    deadline = deadline_for(SUBJECT, alert.pk)
    assert (deadline.step, deadline.role) == ("warning_review", "risk_officer")
    response = api(staff["risk"]).post(
        reverse("api-postloan-alert-acknowledge", args=[alert.pk]), {}, format="json"
    )
    assert response.status_code == 200, response.data
    assert Deadline.objects.get(pk=deadline.pk).status == "stopped"


def test_an_alert_left_untriaged_escalates_to_the_branch_head(
    make_loan, one_rule, staff, django_capture_on_commit_callbacks
):
    loan = _overdue_loan(make_loan)
    daily_run()
    deadline = deadline_for(SUBJECT, Alert.objects.get(loan=loan).pk)
    with django_capture_on_commit_callbacks(execute=True):
        sla_services.sla_sweep(now=deadline.due_at + timedelta(minutes=1))
    escalation = deadline.events.get(kind="escalation", level=1)
    assert escalation.recipients == [staff["head"].pk]
    assert Notification.objects.filter(kind="escalation", user=staff["head"]).exists()


def test_open_alerts_without_a_clock_get_one_from_the_catch_up(make_loan, one_rule):
    _overdue_loan(make_loan)
    daily_run()
    Deadline.objects.filter(subject_type=SUBJECT).delete()
    assert len(alerts_without_clock()) == 1
    assert clocks_catch_up() == 1
    assert alerts_without_clock() == []
