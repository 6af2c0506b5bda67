"""PDF rendering with WeasyPrint, shared by the credit memo (investigation) and the offer letter
and repayment schedule (disbursement).

Nothing outside the bundle reaches the renderer. `LocalOnlyFetcher` serves the files of one
bundled asset directory, addressed as `<scheme><name>` (the memo's stylesheet is
`memo-asset:memo.css`), and, when asked, inline data: URIs; it refuses and records every other
URL (file://, http(s)://, ftp://, paths escaping the directory), so text from an application can
never make the renderer read a local file or reach the network. Applicant-supplied text reaches
the HTML only through Django's autoescaping.

Each thread keeps one WeasyPrint `FontConfiguration` for all its documents, and parses each
bundled stylesheet once. WeasyPrint otherwise builds a font configuration per document (it
reloads the fontconfig configuration and starts a new Pango font map, so every font is opened
and measured from cold again), and fetches and parses a linked stylesheet per document.
"""

import logging
import mimetypes
import threading
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

_local = threading.local()


class RefusedFetch(ValueError):
    """The renderer asked for a URL it may not load."""


class LocalOnlyFetcher(URLFetcher):
    """Serves `<scheme><name>` from `asset_root` (and data: URIs if `allow_data`); refuses
    everything else. `served` and `refused` list the URLs asked for, in order."""

    def __init__(
        self, *, asset_root: Path | None = None, scheme: str = "asset:", allow_data: bool = False
    ):
        super().__init__(
            allowed_protocols={"data"} if allow_data else (), allow_redirects=False, timeout=1
        )
        self.asset_root = asset_root.resolve() if asset_root else None
        self.scheme = scheme
        self.allow_data = allow_data
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if self.asset_root is not None and url.startswith(self.scheme):
            path = (self.asset_root / url[len(self.scheme) :].lstrip("/")).resolve()
            if path.is_relative_to(self.asset_root) and path.is_file():
                self.served.append(url)
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        elif self.allow_data and url[:5].lower() == "data:":
            self.served.append(url)
            return super().fetch(url, headers)
        self.refused.append(url)
        logger.warning("PDF renderer refused to fetch %s", url[:200])
        raise RefusedFetch(f"Only bundled assets may be loaded, not {url[:100]}")


def font_config() -> FontConfiguration:
    """This thread's font configuration (Pango font maps are not shared across threads)."""
    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


def bundled_stylesheet(asset_root: Path, scheme: str, name: str) -> CSS:
    """The stylesheet `<scheme><name>` from `asset_root`, parsed once per thread. It is loaded
    through a LocalOnlyFetcher, and so are its @import and @font-face URLs."""
    cache = _local.__dict__.setdefault("stylesheets", {})
    key = (asset_root, scheme + name)
    if key not in cache:
        fetcher = LocalOnlyFetcher(asset_root=asset_root, scheme=scheme)
        cache[key] = CSS(url=scheme + name, url_fetcher=fetcher, font_config=font_config())
    return cache[key]


def render_pdf(
    html: str,
    *,
    fetcher: LocalOnlyFetcher,
    base_url: str | None = None,
    stylesheets: tuple[CSS, ...] = (),
    **options,
) -> bytes:
    """The PDF of an HTML string styled by `stylesheets` (from bundled_stylesheet); `options`
    go to WeasyPrint's `write_pdf`."""
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(
        font_config=font_config(), stylesheets=list(stylesheets), **options
    )
