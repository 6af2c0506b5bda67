"""The contracts' text and PDFs (WeasyPrint through disbursement.pdf, which serves no URL but
data: URIs; Chinese in WenQuanYi Micro Hei). A template version's text is a Django template
filled with autoescaping from the approved offer, the parties, the guarantor or collateral
and the conditions; the filled text is kept on the contract, so its PDF can be produced
again from what was agreed, whatever later versions of the template say."""

from django.template import Context, Engine
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import CSS

from common.pdf import font_config
from disbursement.pdf import document_language, render_html
from disbursement.selectors import repayment_method_label

# The engine that fills a template's text: the built-in tags and filters only, so a
# template's author can reach no other template or tag library.
_engine = Engine(autoescape=True, libraries={}, builtins=[])


def contract_context(*, application, offer, number: str, guarantor=None, collateral=None) -> dict:
    return {
        "application": application,
        "company": application.company,
        "offer": offer,
        "number": number,
        "guarantor": guarantor,
        "collateral": collateral,
        "guarantors": list(application.guarantors.all()),
        "collateral_items": list(application.collateral.all()),
        "conditions": offer.conditions,
        "today": timezone.localdate(),
    }


def contract_text(*, template, context: dict) -> str:
    """The template version's text filled from `context` (HTML), in its language."""
    with translation.override(template.language):
        context = dict(
            context, method_label=repayment_method_label(context["offer"].repayment_method)
        )
        return _engine.from_string(template.body).render(Context(context))


def _page(contract, *, signatures=None) -> str:
    language = document_language(contract.language)
    with translation.override(language):
        return render_to_string(
            "contracts/pdf/contract.html",
            {
                "contract": contract,
                "application": contract.application,
                "lang": language,
                "chinese": language == "zh-hans",
                "signatures": signatures,
            },
        )


# The signature page starts a page; hashes and seals wrap anywhere (the index's too).
_SIGNATURE_CSS = (
    ".signature-page { page-break-before: always; } "
    "code { font-size: 7.5pt; word-break: break-all; }"
)


def _stylesheet() -> CSS:
    return CSS(string=_SIGNATURE_CSS, font_config=font_config())


def render_contract(contract) -> bytes:
    """The contract's PDF as the parties sign it: its filled text."""
    return render_html(_page(contract), stylesheets=(_stylesheet(),))


def render_signed(contract, signatures) -> bytes:
    """The signed contract: its text and a signature page listing every signature with the
    SHA-256 of the PDF each signed."""
    return render_html(_page(contract, signatures=list(signatures)), stylesheets=(_stylesheet(),))
