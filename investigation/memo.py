"""Credit memo rendering with WeasyPrint.

The fetcher serves only the bundled assets under investigation/static/investigation/memo/
(addressed as `memo-asset:<name>`) and refuses everything else: file://, http(s)://, data:
and so on. Applicant-supplied text reaches the HTML only through Django's autoescaping."""

import logging
import mimetypes
from pathlib import Path

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

ASSET_ROOT = (Path(__file__).resolve().parent / "static" / "investigation" / "memo")
ASSET_SCHEME = "memo-asset:"


class RefusedFetch(ValueError):
    pass


class BundledAssetFetcher(URLFetcher):
    """Serves `memo-asset:` URLs from ASSET_ROOT; records and refuses every other URL."""

    def __init__(self):
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(ASSET_SCHEME):
            name = url[len(ASSET_SCHEME):].lstrip("/")
            path = (ASSET_ROOT / name).resolve()
            if path.is_relative_to(ASSET_ROOT) and path.is_file():
                self.served.append(url)
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        self.refused.append(url)
        logger.warning("Memo renderer refused to fetch %s", url[:200])
        raise RefusedFetch(f"Only bundled assets may be loaded, not {url[:100]}")


def html_to_pdf(html: str, *, fetcher: BundledAssetFetcher | None = None) -> bytes:
    fetcher = fetcher or BundledAssetFetcher()
    return HTML(string=html, base_url=ASSET_SCHEME, url_fetcher=fetcher).write_pdf()
