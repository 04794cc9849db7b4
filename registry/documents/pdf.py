"""HTML to PDF with WeasyPrint, fetching nothing from outside.

The only resources a document may load are `data:` URLs written into the template; any other
URL (file:, http:, a cloud metadata address) is refused, so a value someone typed into a
proposal can never make the server read a local file or call the network.
"""

from __future__ import annotations

from datetime import datetime

import anyio
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher


def _fetcher() -> URLFetcher:
    return URLFetcher(allowed_protocols=["data"], allow_redirects=False)


def _render(html: str) -> bytes:
    return HTML(string=html, url_fetcher=_fetcher(), base_url="data:,").write_pdf()


def render_pdf_sync(
    html: str,
    *,
    pdf_variant: str | None = None,
    attachment: tuple[str, bytes, str, datetime] | None = None,
) -> bytes:
    """The PDF of `html`, in a PDF variant (e.g. "pdf/a-3b"), with one attached file
    `(name, content, description, date)` whose relationship to the document is Data."""
    fetcher = _fetcher()
    attachments = []
    if attachment is not None:
        name, content, description, stamp = attachment
        attachments.append(
            Attachment(
                string=content,
                base_url="data:,",
                url_fetcher=fetcher,
                name=name,
                description=description,
                created=stamp,
                modified=stamp,
                relationship="Data",
            )
        )
    document = HTML(string=html, url_fetcher=fetcher, base_url="data:,")
    return document.write_pdf(pdf_variant=pdf_variant, attachments=attachments or None)


async def render_pdf(html: str) -> bytes:
    """The PDF of `html`, rendered off the event loop (WeasyPrint is CPU-bound)."""
    return await anyio.to_thread.run_sync(_render, html)
