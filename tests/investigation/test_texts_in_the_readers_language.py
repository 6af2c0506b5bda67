"""What the investigation writes (flags, the score's factor values, the memo) is kept as codes
and figures and worded in the reader's language; the memo in the application's."""

import io
from decimal import Decimal

from django.utils import translation
from pypdf import PdfReader

from disbursement.pdf import render_schedule
from investigation import services
from investigation.models import Flag
from investigation.selectors import score_current, score_rows
from tests.factories import ApplicationFactory
from tests.investigation.conftest import FIGURES


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _scored_with_a_flag(application, actor):
    """Scored while the investigator works in English, with a revenue-bank gap flag."""
    with translation.override("en"):
        services.financials_save(
            application_id=application.pk,
            actor=actor,
            period="last_year",
            figures={**FIGURES, "bank_inflows_12m": Decimal("1000000")},
        )
        services.assessment_save(
            application_id=application.pk,
            actor=actor,
            changes={"repayment_record": "good", "tax_grade": "A", "industry_risk": "low"},
        )
        services.investigation_score(application_id=application.pk, actor=actor)


def test_a_flag_raised_in_english_reads_in_chinese_to_a_chinese_reader(investigating, staff):
    _scored_with_a_flag(investigating, staff["rm"])
    flag = Flag.objects.get(application=investigating, code="revenue_bank_gap")
    assert flag.message.startswith("Declared revenue differs from bank inflows by 83.3%")
    assert flag.params == {"gap": "83.3", "limit": "30.00"}
    with translation.override("zh-hans"):
        assert flag.text == "申报收入与银行流入相差 83.3%（允许 30.00%）。"
    with translation.override("en"):
        assert flag.text == flag.message


def test_a_flag_raised_before_codes_were_kept_shows_its_stored_message(investigating, staff):
    _scored_with_a_flag(investigating, staff["rm"])
    Flag.objects.filter(application=investigating).update(params=None, message="旧的提示")
    flag = Flag.objects.get(application=investigating, code="revenue_bank_gap")
    with translation.override("en"):
        assert flag.text == "旧的提示"


def test_the_factor_values_are_words_and_figures_in_the_readers_language(investigating, staff):
    _scored_with_a_flag(investigating, staff["rm"])
    score = score_current(application=investigating)
    raw = {row["factor"]: row["value"] for row in score.breakdown}
    assert (raw["repayment_record"], raw["debt_ratio"]) == ("good", "0.4000")
    with translation.override("zh-hans"):
        shown = {row["factor"]: row["value"] for row in score_rows(score)}
        assert shown["repayment_record"] == "一贯按时还款"
        assert shown["industry_risk"] == "低"
    with translation.override("en"):
        shown = {row["factor"]: row["value"] for row in score_rows(score)}
        assert shown["repayment_record"] == "Always repaid on time"
        assert shown["debt_ratio"] == "40.0%"
        assert shown["revenue"] == "6,000,000.00"


def test_the_memo_is_written_in_the_applications_language_not_the_requests(investigating, staff):
    type(investigating).objects.filter(pk=investigating.pk).update(language="zh-hans")
    services.answers_save(
        application_id=investigating.pk,
        actor=staff["rm"],
        answers={"premises": "owned", "other_bank_loans": "no"},
    )
    _scored_with_a_flag(investigating, staff["rm"])
    with translation.override("en"):  # the investigator's interface is English
        memo = services.memo_request(application_id=investigating.pk, actor=staff["rm"])
        memo = services.memo_render(memo_id=memo.pk)
    text = pdf_text(memo.file.read())
    assert "授信调查报告" in text
    assert "小微流动资金贷款" in text  # the product's Chinese name
    assert "一贯按时还款" in text  # a factor's value in words
    assert "申报收入与银行流入相差" in text  # the flag
    assert "经营场所是自有还是租赁？ 自有" in text  # a question and its chosen answer
    assert "企业在其他银行是否有贷款？ 否" in text
    assert "Always repaid on time" not in text and "Declared revenue" not in text


def test_the_schedule_is_written_in_the_applications_language_not_the_requests(staff, company):
    chinese = ApplicationFactory(company=company, filed_by=staff["rm"], language="zh-hans")
    english = ApplicationFactory(company=company, filed_by=staff["rm"], language="en")
    with translation.override("en"):
        assert "还款计划" in pdf_text(render_schedule(chinese, [], fixed=False))
    with translation.override("zh-hans"):
        text = pdf_text(render_schedule(english, [], fixed=False))
    assert "Repayment schedule" in text and "还款计划" not in text
