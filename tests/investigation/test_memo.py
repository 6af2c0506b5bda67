"""The credit memo: Chinese text, escaping, bundled assets only, versions and download."""

import io
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from investigation import services
from investigation.memo import BundledAssetFetcher, RefusedFetch, html_to_pdf
from investigation.models import CreditMemo
from tests.factories import make_staff
from tests.investigation.conftest import FIGURES


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def scored(application, actor):
    services.financials_save(application_id=application.pk, actor=actor, period="last_year",
                             figures=FIGURES)
    services.assessment_save(application_id=application.pk, actor=actor, changes={
        "repayment_record": "good", "tax_grade": "A", "industry_risk": "low",
        "opinion": "经营稳定，建议批准。"})
    services.investigation_score(application_id=application.pk, actor=actor)


def rendered(application, actor) -> CreditMemo:
    memo = services.memo_request(application_id=application.pk, actor=actor)
    assert memo.status == "pending"
    return services.memo_render(memo_id=memo.pk)


def test_the_memo_renders_chinese_text(investigating, staff, company):
    company.name = "北京市海淀区示例贸易有限公司"
    company.save()
    type(investigating).objects.filter(pk=investigating.pk).update(language="zh-hans")
    scored(investigating, staff["rm"])
    memo = rendered(investigating, staff["rm"])
    assert memo.status == "ready" and memo.render_ms > 0
    text = pdf_text(memo.file.read())
    assert "北京市海淀区示例贸易有限公司" in text
    assert "授信调查报告" in text  # the headings are translated too
    assert "经营稳定，建议批准。" in text


def test_the_memo_follows_an_english_application(investigating, staff):
    type(investigating).objects.filter(pk=investigating.pk).update(language="en")
    scored(investigating, staff["rm"])
    memo = rendered(investigating, staff["rm"])
    text = pdf_text(memo.file.read())
    assert "Credit memo" in text and "Beijing Acme Trading Co., Ltd." in text
    assert memo.file.name.startswith(f"investigation/memos/{investigating.pk}/memo-v1-")


def test_an_image_tag_in_the_company_name_is_printed_not_fetched(investigating, staff,
                                                                 company, monkeypatch):
    company.name = 'Evil <img src="file:///etc/passwd"> Ltd'
    company.save()
    fetchers: list[BundledAssetFetcher] = []

    class Spy(BundledAssetFetcher):
        def __init__(self):
            super().__init__()
            fetchers.append(self)

    monkeypatch.setattr("investigation.memo.BundledAssetFetcher", Spy)
    scored(investigating, staff["rm"])
    memo = rendered(investigating, staff["rm"])
    text = pdf_text(memo.file.read())
    assert "root:x:0:0" not in text
    assert 'Evil <img src="file:///etc/passwd"> Ltd' in text.replace("\n", "")
    # only the bundled stylesheet was fetched; nothing was even attempted elsewhere
    assert fetchers[0].served == ["memo-asset:memo.css"]
    assert fetchers[0].refused == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/x.css",
    "memo-asset:../../../../../../etc/passwd", "memo-asset:/etc/passwd",
    "data:text/plain,root:x:0:0",
])
def test_the_fetcher_refuses_anything_but_bundled_assets(url):
    fetcher = BundledAssetFetcher()
    with pytest.raises(RefusedFetch):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_raw_html_asking_for_local_files_gets_refused_by_the_renderer():
    fetcher = BundledAssetFetcher()
    html = ('<html><head><link rel="stylesheet" href="file:///etc/passwd"></head><body>'
            '<p>hello</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:9/a.png">'
            '<iframe src="file:///etc/passwd"></iframe></body></html>')
    text = pdf_text(html_to_pdf(html, fetcher=fetcher))
    assert "hello" in text and "root:x:0:0" not in text
    assert "file:///etc/passwd" in fetcher.refused
    assert "http://127.0.0.1:9/a.png" in fetcher.refused
    assert fetcher.served == []


def test_memos_are_versioned_and_downloaded_as_attachments_by_staff_in_scope(
        investigating, staff, other_branch, api, owner):
    scored(investigating, staff["rm"])
    first = rendered(investigating, staff["rm"])
    second = rendered(investigating, staff["rm"])
    assert (first.version, second.version) == (1, 2)
    assert first.file.name != second.file.name

    url = reverse("api-investigation-memo-download", args=[investigating.pk, second.pk])
    response = api(staff["approver"]).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")

    outsider = make_staff("approver", other_branch, username="mallory_sh")
    assert api(outsider).get(url).status_code == 404
    assert api(owner).get(url).status_code == 404


def test_a_pending_memo_stays_visible_and_can_be_retried(investigating, staff, api):
    scored(investigating, staff["rm"])
    memo = services.memo_request(application_id=investigating.pk, actor=staff["rm"])
    listing = api(staff["rm"]).get(reverse("api-investigation-memos", args=[investigating.pk]))
    assert listing.data[0]["status"] == "pending" and listing.data[0]["download_url"] == ""
    response = api(staff["rm"]).post(reverse("api-investigation-memo-retry",
                                             args=[investigating.pk, memo.pk]))
    assert response.status_code == 202
    services.memo_render(memo_id=memo.pk)
    again = api(staff["rm"]).post(reverse("api-investigation-memo-retry",
                                          args=[investigating.pk, memo.pk]))
    assert again.status_code == 409


def test_the_render_time_is_recorded(investigating, staff, company):
    """Measured: English ~0.3 s, Chinese ~1.5 s a memo (font subsetting)."""
    scored(investigating, staff["rm"])
    timings = {}
    for language in ("en", "zh-hans"):
        type(investigating).objects.filter(pk=investigating.pk).update(language=language)
        started = time.monotonic()
        memo = rendered(investigating, staff["rm"])
        timings[language] = time.monotonic() - started
        assert memo.render_ms <= timings[language] * 1000 + 1
    print("memo render seconds:", {k: round(v, 2) for k, v in timings.items()})
    assert Decimal(str(timings["en"])) < Decimal("20")
