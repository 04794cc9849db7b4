"""The one place where errors become HTTP answers: a localised page, or JSON under /api/.

Nothing here ever shows a traceback or an exception's own text to the caller; unexpected errors
are logged with their traceback and answered with a plain 500 page.
"""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Template

from registry.domain.errors import InvalidInput, NotFound, RegistryError, Unavailable
from registry.web.i18n import current_language, gettext_, translate, use_request_language

log = logging.getLogger(__name__)

_STATUS_FOR = {NotFound: 404, InvalidInput: 400, Unavailable: 503}
_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    503: "unavailable",
    500: "internal_error",
}


def _titles() -> dict[int, str]:
    return {
        400: gettext_("This request cannot be answered"),
        404: gettext_("Page not found"),
        405: gettext_("This action is not allowed here"),
        503: gettext_("The service is temporarily unavailable"),
        500: gettext_("Something went wrong on our side"),
    }


def _default_message(status: int) -> str:
    return {
        400: gettext_("Some of what was sent cannot be used. Check the address and try again."),
        404: gettext_("Nothing is published at this address. It may have moved or never existed."),
        405: gettext_("This address does not accept that kind of request."),
        503: gettext_(
            "The registry cannot reach its database right now. Please try again in a few minutes."
        ),
        500: gettext_("The error has been recorded. Please try again later."),
    }.get(status, gettext_("The request could not be completed."))


def _answer(request: Request, status: int, message: str, field: str | None = None) -> Response:
    if request.url.path.startswith("/api/") or request.url.path.startswith("/schema"):
        body: dict[str, object] = {
            "error": {"code": _CODES.get(status, "error"), "message": message}
        }
        if field:
            body["error"]["field"] = field  # type: ignore[index]
        return Response(body, status_code=status, media_type=MediaType.JSON)
    return Template(
        template_name="errors/error.html",
        context={
            "status": status,
            "title": _titles().get(status, message),
            "message": message,
            "language": current_language(),
        },
        status_code=status,
        media_type=MediaType.HTML,
    )


def _use_language(request: Request) -> None:
    # Errors raised before routing (an unknown path) skip before_request: choose here too.
    use_request_language(
        request.query_params, request.cookies, request.headers.get("accept-language")
    )


def registry_error(request: Request, error: RegistryError) -> Response:
    _use_language(request)
    status = next((code for kind, code in _STATUS_FOR.items() if isinstance(error, kind)), 400)
    field = getattr(error, "field", None)
    return _answer(request, status, translate(error.message, error.params), field)


def http_error(request: Request, error: HTTPException) -> Response:
    _use_language(request)
    status = error.status_code
    if isinstance(error, NotFoundException):
        status = 404
    elif isinstance(error, ValidationException):
        status = 400
    if status >= 500:
        log.error("HTTP error %s on %s", status, request.url.path, exc_info=error)
    return _answer(request, status, _default_message(status))


def unexpected_error(request: Request, error: Exception) -> Response:
    _use_language(request)
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return _answer(request, 500, _default_message(500))


EXCEPTION_HANDLERS = {
    RegistryError: registry_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
