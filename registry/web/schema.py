"""The OpenAPI schema at /schema: the JSON of the API (/api/...) only, and a viewer made of our
own static files, so it works offline and under the site's CSP (Litestar's viewers load their
scripts from CDNs, which the CSP blocks)."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin

from registry.web.i18n import current_language, gettext_

API_PREFIX = "/api/"


def api_only(openapi_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without the HTML pages and forms: they are not an API anyone should call."""
    paths = openapi_schema.get("paths", {})
    return {
        **openapi_schema,
        "paths": {path: item for path, item in paths.items() if path.startswith(API_PREFIX)},
    }


class ApiJsonPlugin(JsonRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, api_only(openapi_schema))


class SchemaViewerPlugin(OpenAPIRenderPlugin):
    """A page listing each endpoint; /static/schema.js fills it in from the JSON."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        json_url = escape(self.get_openapi_json_route(request))
        loading = escape(gettext_("Loading the list of endpoints…"))
        raw = escape(gettext_("The schema as JSON (OpenAPI)"))
        return f"""<!DOCTYPE html>
<html lang="{current_language()}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/registry.css">
<script src="/static/schema.js" defer></script>
</head>
<body>
<main id="schema" data-spec="{json_url}">
<h1>{title}</h1>
<p><a href="{json_url}">{raw}</a></p>
<p id="schema-status" class="muted">{loading}</p>
</main>
</body>
</html>
""".encode()
