"""The risk officer's queue: overdue tasks worst first, open alerts, portfolio and NPL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from postloan.daily import daily_run
from postloan.models import InspectionTask, Loan
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def test_overdue_tasks_come_worst_first_and_the_portfolio_shows_the_npl_ratio(
    api, staff, make_loan, django_assert_max_num_queries
):
    small = make_loan([(TODAY + timedelta(days=30), D("1000.00"), D("0.00"))])
    big = make_loan([(TODAY + timedelta(days=30), D("9000.00"), D("0.00"))])
    bad = make_loan([(TODAY - timedelta(days=100), D("4000.00"), D("0.00"))])
    late = make_loan([(TODAY + timedelta(days=30), D("2000.00"), D("0.00"))])
    InspectionTask.objects.filter(loan__in=[small, big, bad]).update(
        due_date=TODAY - timedelta(days=3)
    )
    InspectionTask.objects.filter(loan=late).update(due_date=TODAY - timedelta(days=9))
    daily_run()
    client = api(staff["risk"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api-postloan-queue"))
    assert response.status_code == 200
    order = [row["application"] for row in response.data["overdue_tasks"]]
    # Most days overdue; then worst classification (bad is substandard); then exposure.
    assert order == [
        late.application_id,
        bad.application_id,
        big.application_id,
        small.application_id,
    ]
    portfolio = response.data["portfolio"]
    assert portfolio["total_outstanding"] == "16000.00"
    assert portfolio["npl_outstanding"] == "4000.00"
    assert portfolio["npl_ratio"] == "25.00"
    assert response.data["alerts"]


def test_the_queue_page_lists_overdue_tasks_and_alerts(client, staff, make_loan):
    loan = make_loan([(TODAY - timedelta(days=40), D("1000.00"), D("0.00"))])
    daily_run()
    client.force_login(staff["risk"])
    page = client.get(reverse("postloan-queue"))
    assert page.status_code == 200
    body = page.content.decode()
    assert loan.application.reference in body
    assert "30 days past due" in body


def test_the_application_panel_renders_for_staff(client, staff, make_loan):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    loan = make_loan()
    request = RequestFactory().get("/applications/1/")
    request.user = staff["rm"]
    html = render_to_string(
        "postloan/application_panel.html",
        {"application": loan.application, "request": request, "user": staff["rm"]},
    )
    assert 'id="postloan-panel"' in html
    assert "Record repayment" in html


def test_staff_of_another_branch_see_no_loans(api, staff, make_loan, other_branch):
    from org.roles import Role
    from tests.factories import make_staff

    loan = make_loan()
    stranger = make_staff(Role.RISK_OFFICER, other_branch, username="mallory_risk")
    assert (
        api(stranger).get(reverse("api-postloan-loan", args=[loan.application_id])).status_code
        == 404
    )
    assert api(stranger).get(reverse("api-postloan-loans")).data["count"] == 0
    assert Loan.objects.count() == 1


def test_the_postloan_api_is_in_the_schema_without_warnings(capsys):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/postloan/")]
    assert len(paths) >= 20
    captured = capsys.readouterr()
    assert "postloan" not in captured.err, captured.err
