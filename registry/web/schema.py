"""The OpenAPI schema at /schema: the JSON of the API (/api/...) only, and a viewer made of our
own static files, so it works offline and under the site's CSP (Litestar's viewers load their
scripts from CDNs, which the CSP blocks)."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import QueryParameter

from registry.web.i18n import current_language, gettext_

API_PREFIX = "/api/"

#: A whole-number query parameter that the handler checks itself (web.forms: its range and a
#: message naming it, in vi and en), documented as the integer it must be, not as any text;
#: empty, as a form's unchosen filter sends it, means none.
WholeNumber = Annotated[
    str | None,
    QueryParameter(
        schema_extra={
            "one_of": [
                Schema(type=OpenAPIType.INTEGER),
                Schema(type=OpenAPIType.STRING, max_length=0),
                Schema(type=OpenAPIType.NULL),
            ]
        }
    ),
]

#: A facet's values, repeatable (`technology=3&technology=5`: either), each a whole number
#: checked as WholeNumber is.
WholeNumbers = Annotated[
    list[str] | None,
    QueryParameter(
        schema_extra={
            "one_of": [
                Schema(type=OpenAPIType.INTEGER),
                Schema(type=OpenAPIType.STRING, max_length=0),
                Schema(
                    type=OpenAPIType.ARRAY,
                    items=Schema(
                        one_of=[
                            Schema(type=OpenAPIType.INTEGER),
                            Schema(type=OpenAPIType.STRING, max_length=0),
                        ]
                    ),
                ),
                Schema(type=OpenAPIType.NULL),
            ]
        }
    ),
]

#: The body of every error answer under /api/ (web.errors._answer writes it).
ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, e.g. `not_found`"},
                "message": {"type": "string", "description": "For people, in vi or en"},
                "field": {"type": "string", "description": "The parameter at fault"},
            },
        }
    },
}
#: The errors any API operation may answer, declared once for all of them (Litestar documents
#: only its own validation error, with a body we never send).
ERROR_ANSWERS = {
    "400": "A parameter cannot be used: unknown, malformed or out of range",
    "404": "Nothing at this address",
    "503": "The database cannot be reached or is busy; try again later",
}


def _error_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERROR_REFS = {status: {"$ref": f"#/components/responses/{status}"} for status in ERROR_ANSWERS}
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _with_error_answers(item: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {**value, "responses": {**value.get("responses", {}), **_ERROR_REFS}}
        if key in _METHODS
        else value
        for key, value in item.items()
    }


def api_only(openapi_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without the HTML pages and forms (they are not an API anyone should call),
    with the error answers every operation may give."""
    paths = openapi_schema.get("paths", {})
    components = openapi_schema.get("components", {})
    return {
        **openapi_schema,
        "paths": {
            path: _with_error_answers(item)
            for path, item in paths.items()
            if path.startswith(API_PREFIX)
        },
        "components": {
            **components,
            "schemas": {**components.get("schemas", {}), "Error": ERROR_BODY},
            "responses": {
                **components.get("responses", {}),
                **{status: _error_answer(text) for status, text in ERROR_ANSWERS.items()},
            },
        },
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
