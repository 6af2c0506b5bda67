"""A complaint's answer has a clock: it runs from receipt under the complaint_answer policy,
stops when the complaint is resolved or rejected, and when it runs out the sweep escalates
to the head of the company's branch with the complaint's reference and page. The process
figures (SLA breach rate) leave complaints' clocks out."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from analytics.selectors import _deadlines, analytics_filters
from complaints import services
from notifications.models import Notification
from org.roles import Role
from sla import services as sla_services
from sla.calendar import add_business_seconds, get_calendar
from sla.models import Deadline, SlaPolicy
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return SlaPolicy.objects.create(
        step="complaint_answer", target=10, unit="days", reminder_percent=50
    )


def _file(owner, application):
    return services.complaint_file(
        actor=owner, category="delay", text="Nobody called us.", application_id=application.pk
    )


def test_filing_starts_the_answer_clock_of_ten_working_days_for_the_manager(
    policy, owner, application, categories, staff
):
    complaint = _file(owner, application)
    deadline = Deadline.objects.get(subject_type="complaints.complaint", subject_id=complaint.pk)
    assert deadline.step == "complaint_answer" and deadline.status == "pending"
    assert deadline.owner == staff["rm"] and deadline.branch == complaint.branch
    assert deadline.application is None
    calendar = get_calendar(deadline.region)
    assert deadline.due_at == add_business_seconds(
        complaint.received_at, 10 * calendar.seconds_per_day, calendar=calendar
    )


def test_the_answer_stops_the_clock_and_a_rejection_too(
    policy, api, owner, application, categories, staff
):
    for action, field, text in (("resolve", "response", "Done"), ("reject", "reason", "No")):
        complaint = _file(owner, application)
        client = api(staff["rm"])
        assert (
            client.post(
                reverse("api-complaint-acknowledge", args=[complaint.pk]), {}, format="json"
            ).status_code
            == 200
        )
        answered = client.post(
            reverse(f"api-complaint-{action}", args=[complaint.pk]), {field: text}, format="json"
        )
        assert answered.status_code == 200, answered.data
        complaint.refresh_from_db()
        deadline = Deadline.objects.get(
            subject_type="complaints.complaint", subject_id=complaint.pk
        )
        assert deadline.status == "stopped" and deadline.stopped_at == complaint.answered_at


def test_an_unanswered_complaint_escalates_to_the_branch_head_naming_it(
    policy, owner, application, categories, staff
):
    complaint = _file(owner, application)
    Notification.objects.all().delete()
    with translation.override("en"):
        fired = sla_services.sla_sweep(now=timezone.now() + timedelta(days=30))
    assert fired >= 2  # the reminder and the escalation
    escalations = list(Notification.objects.filter(kind="escalation", user=staff["head"]))
    assert escalations
    for escalation in escalations:
        assert complaint.reference in escalation.title
        assert escalation.url == reverse("complaint-detail", args=[complaint.pk])
    reminder = Notification.objects.get(kind="reminder")
    assert reminder.user == staff["rm"]


def test_the_process_figures_leave_complaints_clocks_out(
    policy, api, owner, application, categories, staff, head_office
):
    viewer = make_staff(Role.BRANCH_HEAD, head_office, username="hana_head_office")
    complaint = _file(owner, application)
    sla_services.clock_stop(subject_type="complaints.complaint", subject_id=complaint.pk)
    today = timezone.localdate()
    f = analytics_filters(
        user=viewer,
        params={"date_from": (today - timedelta(days=1)).isoformat(), "date_to": today.isoformat()},
    )
    assert Deadline.objects.filter(subject_type="complaints.complaint", status="stopped").exists()
    assert not _deadlines(user=viewer, f=f).filter(step="complaint_answer").exists()
