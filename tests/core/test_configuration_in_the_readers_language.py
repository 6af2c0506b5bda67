"""Configuration carries both languages and shows the reader's: the Chinese to a Chinese
reader, the English to an English one, and the English when the Chinese was not written.
One helper (common.i18n) does it for every configuration model."""

import pytest
from django.utils import translation

from applications.models import Product
from approvals.models import ApprovalTask, DeclineReason, MatrixRule, MatrixStep, route_step_name
from common.i18n import in_language
from intake.models import DocumentType, PrescreenRule
from investigation.models import Question
from postloan.models import InspectionRule, WarningRule

# (model, English field, its display, English, Chinese)
CASES = [
    (Product, "name", "display_name", "SME working capital loan", "小微企业流动资金贷款"),
    (Product, "description", "display_description", "For stock.", "用于备货。"),
    (DocumentType, "name", "display_name", "Business licence", "营业执照"),
    (DocumentType, "description", "display_description", "A scan.", "扫描件。"),
    (PrescreenRule, "name", "display_name", "Not on the negative list", "不在负面清单上"),
    (MatrixStep, "name", "display_name", "Tier-1 approval", "一级审批"),
    (MatrixRule, "name", "display_name", "Tier 1: up to 3M", "一级审批：300万及以下"),
    (DeclineReason, "label", "display_label", "Debt too high", "负债过高"),
    (WarningRule, "name", "display_name", "30 days past due", "逾期30天"),
    (InspectionRule, "name", "display_name", "First check (15 days)", "首次检查（15天内）"),
]


def _row(model, field, english, chinese):
    # Unsaved rows: the display needs no database.
    return model(**{field: english, f"{field}_zh": chinese})


@pytest.mark.parametrize("model, field, display, english, chinese", CASES)
def test_a_chinese_reader_sees_the_chinese_and_an_english_reader_the_english(
    model, field, display, english, chinese
):
    row = _row(model, field, english, chinese)
    with translation.override("zh-hans"):
        assert getattr(row, display) == chinese
    with translation.override("en"):
        assert getattr(row, display) == english


@pytest.mark.parametrize("model, field, display, english, chinese", CASES)
def test_a_chinese_reader_sees_the_english_when_no_chinese_was_written(
    model, field, display, english, chinese
):
    row = _row(model, field, english, "")
    with translation.override("zh-hans"):
        assert getattr(row, display) == english


def test_names_printed_as_text_follow_the_reader_too():
    product = Product(code="SME-WC", name="SME working capital loan", name_zh="小微流动资金贷款")
    rule = WarningRule(name="30 days past due", name_zh="逾期30天")
    with translation.override("zh-hans"):
        assert (str(product), str(rule)) == ("SME-WC 小微流动资金贷款", "逾期30天")
    with translation.override("en"):
        assert (str(product), str(rule)) == ("SME-WC SME working capital loan", "30 days past due")


def test_the_applicant_text_of_a_decline_reason_follows_the_asked_language():
    reason = DeclineReason(applicant_text="Debt is high.", applicant_text_zh="负债较高。")
    assert reason.text_for("zh-hans") == "负债较高。"
    assert reason.text_for("en") == "Debt is high."
    with translation.override("zh-hans"):
        assert reason.text_for() == "负债较高。"


def test_a_questions_choices_keep_their_value_and_show_the_readers_words():
    question = Question(
        text="Premises owned or rented?",
        text_zh="经营场所是自有还是租赁？",
        choices=["owned", "rented"],
        choices_zh=["自有"],  # the second was not translated
    )
    with translation.override("zh-hans"):
        assert question.label() == "经营场所是自有还是租赁？"
        assert question.choice_options() == [("owned", "自有"), ("rented", "rented")]
    with translation.override("en"):
        assert question.choice_options() == [("owned", "owned"), ("rented", "rented")]


def test_a_route_step_shows_its_chinese_name_or_the_known_steps_translation():
    snapshot = {"code": "tier1", "name": "Tier-1 approval", "name_zh": "一级审批"}
    older = {"code": "tier1", "name": "Tier-1 approval"}  # fixed before routes carried Chinese
    unknown = {"code": "regional_desk", "name": "Regional desk"}
    with translation.override("zh-hans"):
        assert route_step_name(snapshot) == "一级审批"
        assert route_step_name(older) == "一级审批"
        assert route_step_name(unknown) == "Regional desk"
        task = ApprovalTask(kind="step", step="tier1", step_name="Tier-1 approval")
        assert task.step_display == "一级审批"
        review = ApprovalTask(kind="post_review", step="post_review", step_name="Review")
        assert review.step_display == "自动审批事后复核"
    with translation.override("en"):
        assert route_step_name(snapshot) == "Tier-1 approval"
        assert route_step_name(older) == "Tier-1 approval"


def test_in_language_is_told_the_language_or_reads_the_active_one():
    assert in_language("Loan", "贷款", "zh-hans") == "贷款"
    assert in_language("Loan", "贷款", "en") == "Loan"
    with translation.override("zh-hans"):
        assert in_language("Loan", "贷款") == "贷款"


@pytest.mark.django_db
def test_the_shipped_configuration_has_its_chinese():
    from approvals import demo as approvals_demo
    from intake import demo as intake_demo
    from investigation import demo as investigation_demo
    from postloan import demo as postloan_demo

    intake_demo.seed()
    investigation_demo.seed()
    approvals_demo.seed()
    postloan_demo.seed()
    for model, field in [
        (Product, "name_zh"),
        (DocumentType, "name_zh"),
        (PrescreenRule, "name_zh"),
        (MatrixStep, "name_zh"),
        (MatrixRule, "name_zh"),
        (DeclineReason, "label_zh"),
        (DeclineReason, "applicant_text_zh"),
        (WarningRule, "name_zh"),
        (InspectionRule, "name_zh"),
        (Question, "text_zh"),
    ]:
        assert model.objects.exists(), model
        assert not model.objects.filter(**{field: ""}).exists(), (model, field)
    premises = Question.objects.filter(code="premises").first()
    assert premises.choices_zh == ["自有", "租赁"]
    for rule in InspectionRule.objects.all():
        assert all(q.get("label_zh") for q in rule.questions), rule
