"""Post-loan watches a facility and its drawdowns together (issue 28): the facility's page and
API show its drawdown loans as post-loan keeps them, and the company's standing over all its
loans, an alert on any of them included."""

from decimal import Decimal

import pytest
from django.urls import reverse

from facilities.selectors import facility_monitoring
from postloan.models import Loan, WarningRule
from postloan.services import alert_raise
from tests import lifecycle
from tests.factories import make_loan

pytestmark = pytest.mark.django_db


def _draw(client, facility, amount, term_months=6):
    return client.post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": amount, "term_months": term_months},
        format="json",
    )


def test_the_facility_shows_its_drawdown_loans_and_the_companys_alerts_and_worst_class(
    api, client, staff, company, make_facility, django_assert_num_queries
):
    facility = make_facility()
    first = _draw(api(staff["rm"]), facility, "300000.00").data["application"]
    second = _draw(api(staff["rm"]), facility, "200000.00").data["application"]
    for pk in (first, second):
        lifecycle.sign_contract(api, staff, pk)
        lifecycle.disburse(api, staff, pk)
    behind = Loan.objects.get(application_id=second)
    Loan.objects.filter(pk=behind.pk).update(
        days_past_due=12, overdue_interest_unpaid=Decimal("41.10")
    )
    # A loan of the company outside the facility: its class and alert concern the facility.
    other = make_loan(company, outstanding="90000.00", status="active")
    Loan.objects.filter(pk=other.pk).update(classification="substandard")
    rule = WarningRule.objects.create(
        code="overdue-test", name="Overdue", kind=WarningRule.Kind.OVERDUE_INSTALMENT
    )
    alert, _task = alert_raise(loan=other, rule=rule, evidence={})
    on_drawdown = WarningRule.objects.create(
        code="tax-test", name="Tax arrears", kind=WarningRule.Kind.OVERDUE_INSTALMENT
    )
    alert_raise(loan=behind, rule=on_drawdown, evidence={})

    data = api(staff["risk"]).get(reverse("api-facility", args=[facility.pk])).data["monitoring"]
    # The drawdown loans with their alerts counted, the company's worst class, its alerts.
    with django_assert_num_queries(3):
        watched = facility_monitoring(facility=facility)
    assert (watched.worst_classification, len(watched.alerts)) == ("substandard", 2)

    assert data["outstanding_principal"] == "500000.00"
    assert data["overdue_interest_unpaid"] == "41.10"
    assert data["worst_days_past_due"] == 12
    assert data["worst_classification"] == "substandard"
    assert {row["application"]: row["open_alerts"] for row in data["loans"]} == {
        first: 0,
        second: 1,
    }
    assert {row["id"] for row in data["alerts"]} == {
        alert.pk,
        behind.alerts.get().pk,
    }
    assert other.application_id not in {row["application"] for row in data["loans"]}

    client.force_login(staff["risk"])
    page = client.get(reverse("facility-detail", args=[facility.pk])).content.decode()
    assert 'id="facility-monitoring"' in page
    assert reverse("postloan-alert", args=[alert.pk]) in page
    assert reverse("application-detail", args=[second]) in page


def test_a_facility_with_nothing_paid_out_has_nothing_to_watch(api, staff, make_facility):
    facility = make_facility()
    _draw(api(staff["rm"]), facility, "300000.00")  # approved, not paid out

    data = api(staff["rm"]).get(reverse("api-facility", args=[facility.pk])).data["monitoring"]

    assert (data["outstanding_principal"], data["worst_days_past_due"], data["loans"]) == (
        "0.00",
        0,
        [],
    )
    assert data["worst_classification"] == "normal"
