"""The migrations that fill the Chinese of the shipped configuration into a database seeded
before it had any: the rows LoanFlow shipped get it, a bank's own words are kept."""

import importlib

import pytest
from django.apps import apps
from django.utils import translation

from approvals.models import DeclineReason, MatrixStep, MatrixVersion
from intake.models import DocumentType, PrescreenRule
from postloan.models import InspectionRule, WarningRule

pytestmark = pytest.mark.django_db


def _fill(module: str) -> None:
    importlib.import_module(module).fill_chinese(apps, None)


def test_the_shipped_rows_get_their_chinese_and_a_banks_own_is_kept():
    version = MatrixVersion.objects.create(number=7)
    step = MatrixStep.objects.create(version=version, code="tier1", name="Tier-1", role="approver")
    own = MatrixStep.objects.create(
        version=version, code="committee", name="Committee", name_zh="本行贷审会", role="approver"
    )
    reason = DeclineReason.objects.create(
        code="high_leverage", label="Debt too high", applicant_text="-"
    )
    rule = PrescreenRule.objects.create(name="Not on the negative list", kind="negative_list")
    licence = DocumentType.objects.create(
        code="business_licence", name="Business licence", description="A scan."
    )
    warning = WarningRule.objects.create(
        code="dpd-30", name="30 days past due", kind="dpd_threshold"
    )
    inspection = InspectionRule.objects.create(
        name="Periodic inspection, normal: every 90 days",
        kind="periodic",
        classification="normal",
        days=90,
        questions=[{"key": "operations", "label": "Are operations normal?"}],
    )
    for module in (
        "approvals.migrations.0011_chinese_texts",
        "intake.migrations.0003_chinese_texts",
        "postloan.migrations.0004_chinese_texts",
    ):
        _fill(module)
    for row in (step, own, reason, rule, licence, warning, inspection):
        row.refresh_from_db()
    with translation.override("zh-hans"):
        assert step.display_name == "一级审批"
        assert own.display_name == "本行贷审会"
        assert reason.display_label == "负债过高"
        assert rule.display_name == "不在负面清单上"
        assert (licence.display_name, licence.display_description) == (
            "营业执照",
            "营业执照扫描件。",
        )
        assert warning.display_name == "逾期30天"
        assert inspection.display_name == "定期检查，正常类：每90天"
    assert inspection.questions[0]["label_zh"] == "经营是否正常（场地、人员、库存）？"
