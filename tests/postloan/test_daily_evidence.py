"""What each early-warning alert of the nightly job records as its evidence, as the alert page
and the API show it: days as integers, dates as ISO dates, amounts and thresholds as decimal
strings (as the inspection-based rules write theirs)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from postloan.daily import daily_run
from postloan.models import Alert, InspectionTask, Loan, WarningRule
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def _only(code: str) -> WarningRule:
    WarningRule.objects.exclude(code=code).update(is_active=False)
    return WarningRule.objects.get(code=code)


@pytest.mark.parametrize(("code", "threshold"), [("overdue", "1.00"), ("dpd-30", "30.00")])
def test_a_days_past_due_alert_records_the_days_the_oldest_due_date_and_what_is_owed(
    make_loan, code, threshold
):
    rule = _only(code)
    oldest = TODAY - timedelta(days=45)
    loan = make_loan(
        [(oldest, D("1000.00"), D("50.00")), (TODAY + timedelta(days=30), D("2000.00"), D("50.00"))]
    )
    daily_run()
    alert = Alert.objects.get(loan=loan, rule=rule)
    assert alert.evidence == {
        "days_past_due": 45,
        "oldest_unpaid_due": oldest.isoformat(),
        "threshold": threshold,
        "outstanding_principal": "3000.00",
    }


@pytest.mark.parametrize(
    ("code", "flag"), [("litigation", "litigation_flag"), ("guarantor", "guarantor_trouble_flag")]
)
def test_a_flag_alert_records_the_flag_and_its_note(make_loan, code, flag):
    rule = _only(code)
    loan = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    Loan.objects.filter(pk=loan.pk).update(**{flag: True}, flags_note="Court notice")
    daily_run()
    alert = Alert.objects.get(loan=loan, rule=rule)
    assert alert.evidence == {"flag": rule.kind, "note": "Court notice"}


def test_an_overdue_inspection_alert_records_the_oldest_open_inspection(make_loan):
    rule = _only("inspection-overdue")
    loan = make_loan([(TODAY + timedelta(days=60), D("1000.00"), D("0.00"))])
    first = InspectionTask.objects.get(loan=loan)
    oldest = InspectionTask.objects.create(
        loan=loan,
        kind=InspectionTask.Kind.WARNING,
        owner_id=loan.relationship_manager_id,
        due_date=TODAY - timedelta(days=20),
    )
    # The task created later has the lower due date: the evidence names that one.
    InspectionTask.objects.filter(pk=first.pk).update(due_date=TODAY - timedelta(days=10))
    daily_run()
    alert = Alert.objects.get(loan=loan, rule=rule)
    assert alert.evidence == {
        "task": oldest.pk,
        "due_date": (TODAY - timedelta(days=20)).isoformat(),
        "days_overdue": 20,
        "threshold": "7.00",
    }
