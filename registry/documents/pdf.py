"""HTML to PDF with WeasyPrint, fetching nothing from outside.

The only resources a document may load are `data:` URLs written into the template; any other
URL (file:, http:, a cloud metadata address) is refused, so a value someone typed into a
proposal can never make the server read a local file or call the network.
"""

from __future__ import annotations

import anyio
from weasyprint import HTML
from weasyprint.urls import URLFetcher


def _render(html: str) -> bytes:
    fetcher = URLFetcher(allowed_protocols=["data"], allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").write_pdf()


async def render_pdf(html: str) -> bytes:
    """The PDF of `html`, rendered off the event loop (WeasyPrint is CPU-bound)."""
    return await anyio.to_thread.run_sync(_render, html)
