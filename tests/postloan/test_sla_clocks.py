"""Every post-loan task runs an SLA clock (escalation is the SLA engine's job); completing the
task stops it; the daily job's tasks get clocks too, and a catch-up starts any missing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from postloan.daily import clocks_catch_up, daily_run, tasks_without_clock
from postloan.models import InspectionTask
from sla.models import Deadline
from sla.selectors import deadline_for
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
SUBJECT = "postloan.inspectiontask"


def test_the_first_check_runs_a_clock_that_completion_stops(make_loan, api, staff):
    loan = make_loan([(TODAY + timedelta(days=60), Decimal("1000.00"), Decimal("0.00"))])
    task = loan.tasks.get()
    deadline = deadline_for(SUBJECT, task.pk)
    assert deadline is not None and deadline.step == "first_check"
    assert deadline.owner == staff["rm"]
    response = api(staff["rm"]).post(
        reverse("api-postloan-task-complete", args=[task.pk]),
        {
            "findings": "Funds paid to the supplier as planned",
            "outcome": "positive",
            "answers": {"use_of_funds": "Yes"},
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert deadline_for(SUBJECT, task.pk) is None
    assert Deadline.objects.get(pk=deadline.pk).status == "stopped"


def test_tasks_created_by_the_daily_job_get_clocks_and_missing_ones_are_caught_up(make_loan):
    loan = make_loan([(TODAY - timedelta(days=40), Decimal("1000.00"), Decimal("0.00"))])
    daily_run()
    warning_task = InspectionTask.objects.get(loan=loan, kind="warning")
    assert deadline_for(SUBJECT, warning_task.pk).step == "warning_review"
    Deadline.objects.filter(subject_type=SUBJECT).delete()
    assert len(tasks_without_clock()) == 2
    assert clocks_catch_up() == 2
    assert tasks_without_clock() == []
    assert clocks_catch_up() == 0
