"""Each early-warning rule fires at its threshold and not below; reruns never duplicate."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from postloan.daily import daily_run
from postloan.models import Alert, ClassificationChange, InspectionTask, WarningRule
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def _only(code: str) -> WarningRule:
    WarningRule.objects.exclude(code=code).update(is_active=False)
    return WarningRule.objects.get(code=code)


def _alerts(loan, rule):
    return Alert.objects.filter(loan=loan, rule=rule).count()


def _overdue_loan(make_loan, dpd):
    return make_loan(
        [
            (TODAY - timedelta(days=dpd), D("1000.00"), D("0.00")),
            (TODAY + timedelta(days=60), D("1000.00"), D("0.00")),
        ]
    )


@pytest.mark.parametrize(("code", "threshold"), [("overdue", 1), ("dpd-30", 30), ("dpd-90", 90)])
def test_a_days_past_due_rule_fires_at_its_threshold_and_not_below(make_loan, code, threshold):
    rule = _only(code)
    below = _overdue_loan(make_loan, threshold - 1)
    at = _overdue_loan(make_loan, threshold)
    daily_run()
    assert _alerts(below, rule) == 0
    assert _alerts(at, rule) == 1
    alert = Alert.objects.get(loan=at, rule=rule)
    assert alert.evidence["days_past_due"] == threshold
    assert alert.severity == rule.severity


def test_an_overdue_inspection_fires_at_its_threshold_and_not_below(make_loan):
    rule = _only("inspection-overdue")  # 7 days
    below = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    at = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    InspectionTask.objects.filter(loan=below).update(due_date=TODAY - timedelta(days=6))
    InspectionTask.objects.filter(loan=at).update(due_date=TODAY - timedelta(days=7))
    daily_run()
    assert _alerts(below, rule) == 0
    assert _alerts(at, rule) == 1


@pytest.mark.parametrize(
    ("flag", "code"), [("litigation", "litigation"), ("guarantor_trouble", "guarantor")]
)
def test_a_staff_flag_fires_its_rule_at_once_with_an_extra_inspection(
    make_loan, api, staff, flag, code
):
    rule = _only(code)
    loan = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    daily_run()
    assert _alerts(loan, rule) == 0
    response = api(staff["rm"]).post(
        reverse("api-postloan-flags", args=[loan.application_id]),
        {flag: True, "note": "Court notice received"},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert _alerts(loan, rule) == 1
    assert InspectionTask.objects.filter(loan=loan, kind="warning", alert__rule=rule).count() == 1


def _complete(api, user, task, **payload):
    body = {
        "findings": "Visited the site",
        "outcome": "neutral",
        "answers": {"use_of_funds": "Yes"},
        **payload,
    }
    return api(user).post(
        reverse("api-postloan-task-complete", args=[task.pk]), body, format="json"
    )


def test_a_negative_finding_fires_and_a_neutral_one_does_not(make_loan, api, staff):
    rule = _only("negative-finding")
    loan = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    other = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    assert _complete(api, staff["rm"], other.tasks.get()).status_code == 200
    assert _alerts(other, rule) == 0
    response = _complete(
        api,
        staff["rm"],
        loan.tasks.get(),
        outcome="negative",
        findings="Stock sold off, premises half empty",
    )
    assert response.status_code == 200, response.data
    assert _alerts(loan, rule) == 1


@pytest.mark.parametrize(("current", "fires"), [("70.01", False), ("70.00", True)])
def test_a_revenue_drop_fires_at_its_threshold_and_not_below(make_loan, api, staff, current, fires):
    rule = _only("revenue-drop-30")
    loan = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    response = _complete(
        api, staff["rm"], loan.tasks.get(), revenue_previous="100.00", revenue_current=current
    )
    assert response.status_code == 200, response.data
    assert _alerts(loan, rule) == (1 if fires else 0)


def test_running_the_daily_job_twice_creates_nothing_twice(make_loan):
    loans = [_overdue_loan(make_loan, dpd) for dpd in (5, 45, 120)]
    InspectionTask.objects.filter(loan=loans[0]).update(due_date=TODAY - timedelta(days=10))
    first = daily_run()
    assert first["alerts_raised"] > 0 and first["classifications_raised"] == 3
    counts = (
        Alert.objects.count(),
        InspectionTask.objects.count(),
        ClassificationChange.objects.count(),
    )
    second = daily_run()
    assert (
        Alert.objects.count(),
        InspectionTask.objects.count(),
        ClassificationChange.objects.count(),
    ) == counts
    assert second["positions_updated"] == 0
    assert second["alerts_raised"] == second["inspections_created"] == 0
    assert second["classifications_raised"] == 0


def test_a_closed_alert_may_fire_again_but_an_open_one_never_twice(make_loan, api, staff):
    rule = _only("dpd-30")
    loan = _overdue_loan(make_loan, 40)
    daily_run()
    daily_run()
    assert _alerts(loan, rule) == 1
    alert = Alert.objects.get(loan=loan, rule=rule)
    closed = api(staff["risk"]).post(
        reverse("api-postloan-alert-close", args=[alert.pk]),
        {"comment": "Restructuring agreed"},
        format="json",
    )
    assert closed.status_code == 200
    daily_run()
    assert Alert.objects.filter(loan=loan, rule=rule, status="open").count() == 1
    assert _alerts(loan, rule) == 2


def test_periodic_inspections_follow_the_classification(make_loan, api, staff):
    loan = make_loan(
        [(TODAY + timedelta(days=200), D("1000.00"), D("0.00"))], start=TODAY - timedelta(days=100)
    )
    first = loan.tasks.get()
    assert first.kind == "first_use_of_funds"
    assert _complete(api, staff["rm"], first).status_code == 200
    loan.refresh_from_db()
    assert loan.next_inspection_due == TODAY + timedelta(days=90)  # normal: every 90 days
    assert not loan.tasks.filter(status="open").exists()
    daily_run(as_of=TODAY + timedelta(days=83))
    periodic = loan.tasks.get(status="open")
    assert periodic.kind == "periodic" and periodic.due_date == TODAY + timedelta(days=90)
    assert periodic.questions  # the rule's form is copied onto the task
