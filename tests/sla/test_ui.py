from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from sla import services
from sla.models import CalendarDay, SlaPolicy
from tests import lifecycle


@pytest.mark.django_db
def test_the_badge_shows_due_time_and_remaining_business_time(branch):
    deadline = services.clock_start(
        subject_type="tests.task", subject_id=1, step="tier1", branch=branch
    )
    html = Template("{% load sla %}{% deadline_badge d %}").render(Context({"d": deadline}))
    assert "left" in html and "sla-overdue" not in html
    assert "business day" in html or " h" in html


@pytest.mark.django_db
def test_the_badge_marks_overdue_work(branch):
    deadline = services.clock_start(
        subject_type="tests.task",
        subject_id=2,
        step="tier1",
        branch=branch,
        started_at=timezone.now() - timedelta(days=40),
    )
    html = Template("{% load sla %}{% deadline_badge d %}").render(Context({"d": deadline}))
    assert "sla-overdue" in html and "overdue by" in html


@pytest.mark.django_db
def test_the_application_page_shows_its_clocks(staff, company, product, api, client):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    client.force_login(staff["rm"])
    assert client.get(reverse("application-detail", args=[pk])).status_code == 200
    panel = Template('{% include "sla/application_panel.html" %}').render(
        Context({"application": LoanApplication.objects.get(pk=pk)})
    )
    assert "Intake check" in panel and "left" in panel


@pytest.mark.django_db
def test_the_demo_configuration_is_idempotent():
    from sla.demo import seed

    seed()
    seed()
    assert SlaPolicy.objects.filter(product__isnull=True, step="investigation").count() == 1
    assert CalendarDay.objects.filter(date__year=2026, kind="holiday").exists()
