"""The dashboard's labels mean what they say in Chinese too."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_the_analytics_end_date_is_labelled_as_an_end_date_in_chinese(staff):
    client = Client()
    client.force_login(staff["head"])
    with translation.override(None):
        page = client.get(reverse("analytics-dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<label>至 <input type="date" name="before_to"' in html
    assert "新状态" not in html


def test_decline_reasons_are_counted_under_their_labels_in_the_readers_language(staff, branch):
    from django.utils import timezone

    from applications.models import Status
    from approvals.models import DeclineReason
    from approvals.selectors import decline_reason_labels
    from tests.factories import ApplicationFactory, CompanyFactory

    DeclineReason.objects.create(
        code="high_leverage", label="Debt too high", label_zh="负债过高", applicant_text="-"
    )
    ApplicationFactory(
        company=CompanyFactory(home_branch=branch),
        status=Status.DECLINED,
        decline_reasons=["high_leverage"],
        submitted_at=timezone.now(),
    )
    with translation.override("zh-hans"):
        assert decline_reason_labels(["high_leverage", "Not a code."]) == {
            "high_leverage": "负债过高",
            "Not a code.": "Not a code.",
        }
    client = Client()
    client.force_login(staff["head"])
    with translation.override(None):
        html = client.get(
            reverse("analytics-figure-section", args=["decline-reasons"]),
            HTTP_ACCEPT_LANGUAGE="zh-hans",
            HTTP_X_REQUESTED_WITH="fetch",
        )
    assert "<li>负债过高: 1</li>" in html.content.decode()
