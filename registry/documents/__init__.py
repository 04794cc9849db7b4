"""Documents: Jinja templates rendered to PDF with WeasyPrint, without a request.

The web layer (a receipt downloaded as PDF) and jobs (batches of decision documents) render
through here alike: `render(template, language=..., **context)`. The language is explicit,
so a job renders a document in its recipient's language. Documents never read tables: they
are given the domain values to show. A document fetches nothing from outside (pdf.py).
"""

from __future__ import annotations

from typing import Any

from registry.documents.pdf import render_pdf
from registry.documents.templates import environment
from registry.i18n import speaking

__all__ = ["render", "render_html"]


def render_html(template: str, *, language: str, **context: Any) -> str:
    with speaking(language):
        return environment().get_template(template).render(**context)


async def render(template: str, *, language: str, **context: Any) -> bytes:
    """The PDF of `template` with `context`, in `language`."""
    # The HTML is rendered here, where the language is set; WeasyPrint runs in a thread.
    return await render_pdf(render_html(template, language=language, **context))
