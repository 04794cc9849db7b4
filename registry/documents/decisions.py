"""Decision documents (Decree 30 layout, templates/pdf/) as PDF/A-3b.

`render_decision(document)` lays out a `domain.decision_documents.DecisionDocument` with the one
print stylesheet (templates/pdf/decision.css), prints the verification code and a QR code to
the verify page, and embeds the document's data as `decision.json` (AFRelationship Data), so a
machine reads the decision without parsing the layout. Fonts are the system's Liberation Serif,
embedded as subsets. Rendering is CPU-bound and synchronous: call it from a worker process (a
job) or through `render_decision_async`, never on the event loop.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from functools import cache

import anyio
from jinja2 import Environment

from registry.documents.pdf import render_pdf_sync
from registry.documents.qr import qr_data_uri
from registry.documents.templates import TEMPLATES, base_environment
from registry.domain.decision_documents import DecisionDocument, document_data
from registry.domain.documents import DocumentKind
from registry.domain.money import group_thousands
from registry.domain.vietnamese import formal_amount

TEMPLATE = {
    DocumentKind.CALL_DECISION: "pdf/call_decision.html",
    DocumentKind.FUNDING: "pdf/project_decision.html",
    DocumentKind.RESERVE: "pdf/notice.html",
    DocumentKind.REJECTION: "pdf/notice.html",
}
ATTACHMENT_NAME = "decision.json"
STYLESHEET = TEMPLATES / "pdf" / "decision.css"
#: Vietnam's offset (no daylight saving): document dates are the day in Vietnam.
VIETNAM = timezone(timedelta(hours=7))


@cache
def _environment() -> Environment:
    env = base_environment()
    env.filters.update(
        dots=lambda amount: group_thousands(amount, "."), formal_amount=formal_amount
    )
    return env


@cache
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def decision_html(document: DecisionDocument) -> str:
    """The document's HTML, stylesheet inlined (a document loads nothing from outside)."""
    template = _environment().get_template(TEMPLATE[document.kind])
    return template.render(doc=document, css=_stylesheet(), qr=qr_data_uri(document.verify_url))


def decision_json(document: DecisionDocument) -> bytes:
    return json.dumps(document_data(document), ensure_ascii=False, indent=1).encode("utf-8")


def render_decision(document: DecisionDocument) -> bytes:
    """The PDF/A-3b of `document`, its data attached as JSON."""
    # Every date in the file is the issue date (no clock): one document renders the same bytes.
    # WeasyPrint writes an attachment's dates as UTC ("Z") whatever their zone: give it UTC.
    stamp = datetime.combine(document.issued_on, time(), tzinfo=VIETNAM).astimezone(UTC)
    return render_pdf_sync(
        decision_html(document),
        pdf_variant="pdf/a-3b",
        attachment=(ATTACHMENT_NAME, decision_json(document), "Dữ liệu của văn bản (JSON)", stamp),
    )


async def render_decision_async(document: DecisionDocument) -> bytes:
    """`render_decision` off the event loop, for a web request that must render one."""
    return await anyio.to_thread.run_sync(render_decision, document)
