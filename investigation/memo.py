"""Credit memo rendering (WeasyPrint, through common.pdf).

The fetcher serves only the bundled assets under investigation/static/investigation/memo/
(addressed as `memo-asset:<name>`) and refuses everything else: file://, http(s)://, data:
and so on. Applicant-supplied text reaches the HTML only through Django's autoescaping.

The memo's stylesheet (memo.css, which explains what keeps the rendering cheap) is applied by
the renderer, parsed once per worker thread, rather than linked from the HTML: fetching and
parsing it for every memo cost about a tenth of the rendering."""

from pathlib import Path

from common.pdf import LocalOnlyFetcher, RefusedFetch, bundled_stylesheet, render_pdf

__all__ = ["ASSET_ROOT", "ASSET_SCHEME", "BundledAssetFetcher", "RefusedFetch", "html_to_pdf"]

ASSET_ROOT = Path(__file__).resolve().parent / "static" / "investigation" / "memo"
ASSET_SCHEME = "memo-asset:"


class BundledAssetFetcher(LocalOnlyFetcher):
    """Serves `memo-asset:` URLs from ASSET_ROOT; records and refuses every other URL."""

    def __init__(self):
        super().__init__(asset_root=ASSET_ROOT, scheme=ASSET_SCHEME)


def html_to_pdf(html: str, *, fetcher: BundledAssetFetcher | None = None) -> bytes:
    return render_pdf(
        html,
        fetcher=fetcher or BundledAssetFetcher(),
        base_url=ASSET_SCHEME,
        stylesheets=(bundled_stylesheet(ASSET_ROOT, ASSET_SCHEME, "memo.css"),),
    )
