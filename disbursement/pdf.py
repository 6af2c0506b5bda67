"""PDF rendering (WeasyPrint, through common.pdf) of the offer letter and the repayment schedule.

Only bundled content is rendered: the url_fetcher refuses every URL (file://, http(s)://,
anything) except inline data: URIs, so text from the application can never make the renderer
read local files or reach the network. Chinese documents use the WenQuanYi Micro Hei font.
"""

from django.template.loader import render_to_string
from django.utils import translation

from common.pdf import LocalOnlyFetcher, render_pdf
from disbursement.selectors import repayment_method_label


class BundledOnlyFetcher(LocalOnlyFetcher):
    """Serves data: URIs only; everything else is refused (and remembered, for tests)."""

    def __init__(self):
        super().__init__(allow_data=True)


def document_language(language: str) -> str:
    return "zh-hans" if (language or "").lower().startswith("zh") else "en"


def render_html(html: str, *, fetcher: BundledOnlyFetcher | None = None, **options) -> bytes:
    return render_pdf(html, fetcher=fetcher or BundledOnlyFetcher(), **options)


def offer_html(offer) -> str:
    application = offer.application
    language = document_language(offer.language)
    with translation.override(language):
        return render_to_string(
            "disbursement/pdf/offer.html",
            {
                "offer": offer,
                "application": application,
                "company": application.company,
                "rows": offer.schedule,
                "conditions": offer.conditions,
                "chinese": language == "zh-hans",
                "lang": language,
                "method_label": repayment_method_label(offer.repayment_method),
            },
        )


def render_offer(offer) -> bytes:
    return render_html(offer_html(offer))


def schedule_totals(rows: list[dict]) -> dict:
    from disbursement.selectors import schedule_totals as totals

    return totals(rows)


def schedule_html(application, rows: list[dict], *, fixed: bool) -> str:
    language = document_language(application.language)
    totals = schedule_totals(rows) if rows else None
    with translation.override(language):
        return render_to_string(
            "disbursement/pdf/schedule.html",
            {
                "application": application,
                "company": application.company,
                "rows": rows,
                "totals": totals,
                "fixed": fixed,
                "chinese": language == "zh-hans",
                "lang": language,
                "method_label": repayment_method_label(application.repayment_method),
            },
        )


def render_schedule(application, rows, *, fixed: bool) -> bytes:
    return render_html(schedule_html(application, rows, fixed=fixed))
