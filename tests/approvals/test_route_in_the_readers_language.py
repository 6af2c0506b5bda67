"""The route, its reason and its steps, and the timeline that records them, are shown in the
reader's language whoever fixed the route and in whatever language they worked."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from approvals.models import ApprovalRecord, ApprovalTask
from audit.models import AuditEvent


def _page(user, application, language: str) -> str:
    client = Client()
    client.force_login(user)
    # The language of the request must not outlive it (LocaleMiddleware activates it).
    with translation.override(None):
        response = client.get(
            reverse("application-detail", args=[application.pk]), HTTP_ACCEPT_LANGUAGE=language
        )
    assert response.status_code == 200
    return response.content.decode()


def _section(page: str, marker: str) -> str:
    return page[page.index(marker) :].split("</section>", 1)[0]


@pytest.fixture
def fixed_in_english(matrix, in_approval):
    """A 3.2M application whose route was fixed while the RM's interface was in English."""
    with translation.override("en"):
        return in_approval(amount="3200000", grade="B")


def test_a_chinese_reader_reads_the_route_reason_and_steps_in_chinese(fixed_in_english, staff):
    page = _page(staff["rm"], fixed_in_english, "zh-hans")
    panel = _section(page, 'id="approval-panel-title"')
    assert "二级审批：金额超过一级权限300万（矩阵 v1）：金额 3.2M 高于 3M 且不超过 10M。" in panel
    assert "授信审查 → 一级审批 → 二级审批" in panel
    assert "tier-1 limit" not in panel


def test_an_english_reader_reads_the_same_route_in_english(fixed_in_english, staff):
    with translation.override("zh-hans"):
        record = ApprovalRecord.objects.get(application=fixed_in_english)
        assert "金额 3.2M" in record.reason_display
    page = _page(staff["rm"], fixed_in_english, "en")
    panel = _section(page, 'id="approval-panel-title"')
    assert "Tier 2: amount above the tier-1 limit of 3M (matrix v1): amount 3.2M above 3M" in panel
    assert "Credit review → Tier-1 approval → Tier-2 approval" in panel


def test_the_timeline_is_written_in_the_readers_language(fixed_in_english, staff):
    zh = _section(_page(staff["rm"], fixed_in_english, "zh-hans"), 'id="timeline"')
    assert "已确定审批路径" in zh
    assert "金额 3.2M 高于 3M 且不超过 10M" in zh
    assert "Route fixed" not in zh and "tier-1 limit" not in zh
    en = _section(_page(staff["rm"], fixed_in_english, "en"), 'id="timeline"')
    assert "Approval route fixed" in en and "amount 3.2M above 3M and up to 10M" in en


def test_a_route_fixed_before_reasons_were_kept_as_codes_shows_its_stored_text(
    fixed_in_english, staff
):
    ApprovalRecord.objects.filter(application=fixed_in_english).update(
        reason="Old rule (matrix v1): amount above 3M.", reason_data={}
    )
    record = ApprovalRecord.objects.get(application=fixed_in_english)
    with translation.override("zh-hans"):
        assert record.reason_display == "Old rule (matrix v1): amount above 3M."
    event = AuditEvent.objects.get(application=fixed_in_english, action="route_fixed")
    assert event.data["reason"]["code"] == "rule"  # the new rows keep the codes


def test_the_queue_names_the_step_in_the_readers_language(fixed_in_english, staff, api):
    task = ApprovalTask.objects.get(application=fixed_in_english)
    assert (task.step_name, task.step_name_zh) == ("Credit review", "授信审查")
    client = api(staff["reviewer"])
    with translation.override(None):
        rows = client.get("/api/v1/approvals/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    names = [row["step_name"] for row in rows.get("results", rows)]
    assert names == ["授信审查"]


def test_the_systems_own_comment_on_a_transition_reads_in_the_readers_language(
    matrix, in_approval, staff
):
    from approvals.models import MatrixRule
    from approvals.services import approval_fast_track_decide

    application = in_approval(amount="200000", grade="A", route="fast_track")
    record = ApprovalRecord.objects.get(application=application)
    assert record.fast_track and MatrixRule.objects.get(pk=record.rule_id).name_zh
    with translation.override("en"):
        assert approval_fast_track_decide(application_id=application.pk)
    zh = _section(_page(staff["rm"], application, "zh-hans"), 'id="timeline"')
    assert "快速通道：小额、优质、数据完整的贷款" in zh
    assert "Approved automatically" not in zh
    en = _section(_page(staff["rm"], application, "en"), 'id="timeline"')
    assert "Approved automatically (fast track) by rule &#x27;Fast track: small" in en
