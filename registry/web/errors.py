"""The one place where errors become HTTP answers: a localised page, or JSON under /api/.

Nothing here ever shows a traceback or an exception's own text to the caller; unexpected errors
are logged with their traceback and answered with a plain 500 page.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.response import Redirect, Template

from registry.domain.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    RegistryError,
    TooManyAttempts,
    Unavailable,
)
from registry.services.health import DATABASE_BUSY
from registry.web.auth import SecondFactorNeeded, current_actor, second_factor_path
from registry.web.i18n import current_language, gettext_, translate, use_request_language

log = logging.getLogger(__name__)

_STATUS_FOR = {
    NotFound: 404,
    InvalidInput: 400,
    Unavailable: 503,
    Conflict: 409,
    NotAllowed: 403,
    TooManyAttempts: 429,
}
_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    429: "too_many_attempts",
    405: "method_not_allowed",
    503: "unavailable",
    500: "internal_error",
}


def _titles() -> dict[int, str]:
    return {
        400: gettext_("This request cannot be answered"),
        401: gettext_("Please sign in"),
        403: gettext_("You do not have access to this page"),
        404: gettext_("Page not found"),
        409: gettext_("This cannot be done now"),
        413: gettext_("What you sent is too large"),
        429: gettext_("Too many attempts"),
        405: gettext_("This action is not allowed here"),
        503: gettext_("The service is temporarily unavailable"),
        500: gettext_("Something went wrong on our side"),
    }


def _default_message(status: int) -> str:
    return {
        400: gettext_("Some of what was sent cannot be used. Check the address and try again."),
        401: gettext_("Sign in to see this page."),
        403: gettext_(
            "Your account does not have the role this page needs, or the form had expired. "
            "Go back, reload the page and try again."
        ),
        409: gettext_("The action clashes with the current state. Reload the page and check."),
        413: gettext_("What you sent is larger than this page accepts."),
        429: gettext_("Please wait a little and try again."),
        404: gettext_("Nothing is published at this address. It may have moved or never existed."),
        405: gettext_("This address does not accept that kind of request."),
        503: gettext_(
            "The registry cannot reach its database right now. Please try again in a few minutes."
        ),
        500: gettext_("The error has been recorded. Please try again later."),
    }.get(status, gettext_("The request could not be completed."))


def _answer(
    request: Request,
    status: int,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error as JSON (web.schema.ERROR_BODY) or a page; `headers` keep what HTTP asks of
    the status, e.g. a 405's Allow."""
    if _is_api(request):
        body: dict[str, object] = {
            "error": {"code": _CODES.get(status, "error"), "message": message}
        }
        if field:
            body["error"]["field"] = field  # type: ignore[index]
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
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
        headers=headers,
    )


def _use_language(request: Request) -> None:
    # Errors raised before routing (an unknown path) skip before_request: choose here too.
    use_request_language(
        request.query_params, request.cookies, request.headers.get("accept-language")
    )


#: Where a busy database means the search itself was too broad.
_SEARCH_PATHS = ("/search", "/api/v1/search")
_READS = ("GET", "HEAD")


def _busy_message(request: Request) -> str:
    """A busy database, worded for what the person was doing."""
    if request.url.path in _SEARCH_PATHS:
        return gettext_("The search took too long. Try more specific words.")
    if request.method in _READS:
        return gettext_("The registry is busy and could not show this page. Try again in a moment.")
    return gettext_("The registry is busy; what you sent was not saved. Try again in a moment.")


def status_of(error: RegistryError) -> int:
    return next((code for kind, code in _STATUS_FOR.items() if isinstance(error, kind)), 400)


def registry_error(request: Request, error: RegistryError) -> Response:
    _use_language(request)
    status = status_of(error)
    field = getattr(error, "field", None)
    if isinstance(error, Unavailable) and error.message == DATABASE_BUSY:
        return _answer(request, status, _busy_message(request))
    return _answer(request, status, translate(error.message, error.params), field)


def is_autosave(request: Request) -> bool:
    """The editor's autosave (static/autosave.js marks its requests): it wants JSON."""
    return request.headers.get("x-autosave") == "1"


def _is_api(request: Request) -> bool:
    """JSON callers: the API, and the editor's autosave."""
    return request.url.path.startswith(("/api/", "/schema")) or is_autosave(request)


def http_error(request: Request, error: HTTPException) -> Response:
    _use_language(request)
    status = error.status_code
    if isinstance(error, NotAuthorizedException) and not _is_api(request):
        # A page that needs a signed-in person: go and sign in (or give the second factor),
        # then come back here.
        actor = current_actor(request)
        if isinstance(error, SecondFactorNeeded) and actor is not None:
            target = second_factor_path(actor, request.url.path)
        else:
            target = f"/login?next={quote(request.url.path, safe='/')}"
        return Redirect(target, status_code=303)
    if isinstance(error, NotFoundException):
        status = 404
    elif isinstance(error, ValidationException):
        status = 400
    if status >= 500:
        log.error("HTTP error %s on %s", status, request.url.path, exc_info=error)
    return _answer(request, status, _default_message(status), headers=error.headers)


def undecodable_body(request: Request, error: UnicodeDecodeError) -> Response:
    """Litestar's form parser decodes every non-file part as UTF-8 (before our handlers run):
    a body in another encoding is the sender's error, not ours."""
    _use_language(request)
    log.warning("undecodable request body on %s %s: %s", request.method, request.url.path, error)
    return _answer(request, 400, gettext_("The form was sent in an encoding other than UTF-8."))


def unexpected_error(request: Request, error: Exception) -> Response:
    _use_language(request)
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return _answer(request, 500, _default_message(500))


EXCEPTION_HANDLERS = {
    RegistryError: registry_error,
    HTTPException: http_error,
    UnicodeDecodeError: undecodable_body,
    Exception: unexpected_error,
}
