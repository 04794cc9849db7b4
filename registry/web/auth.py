"""Who is calling: the session cookie, the middleware that turns it into an Actor, the guards
every non-public route declares, and the Origin / Fetch-Metadata check on unsafe requests.

Litestar's own server-side sessions keep whatever id a client sends and store a record for
every visitor, so sessions are ours (services/sessions.py): created only at sign-in, always
with a fresh id.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote, urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.domain.accounts import ABSOLUTE_LIFETIME, Actor, Origin, Role
from registry.services import clock, sessions
from registry.settings import Settings
from registry.web.i18n import current_language

GuardType = Callable[[ASGIConnection, BaseRouteHandler], None]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Pages whose answers depend on who asks or carry form tokens: never stored by caches.
RECEIVED_AT = "registry.received_at"
#: Why the request's session was ended by someone else (services.sessions.ended_reason).
SESSION_ENDED = "registry.session_ended"
PRIVATE_PREFIXES = (
    "/login", "/logout", "/register", "/verify-email", "/password-reset", "/account",
    "/admin", "/manage", "/organisations", "/dev", "/proposals", "/review",
)  # fmt: skip


def cookie_name(settings: Settings) -> str:
    # __Host-: the browser refuses it unless Secure, Path=/ and no Domain, so a sibling
    # subdomain cannot plant or overwrite it.
    return "__Host-sid" if settings.secure_cookies else "sid"


def session_cookie(settings: Settings, token: str | None) -> Cookie:
    """The cookie that carries a new session id, or removes it (token None)."""
    return Cookie(
        key=cookie_name(settings),
        value=token or "",
        max_age=int(ABSOLUTE_LIFETIME.total_seconds()) if token else 0,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


class SecondFactorNeeded(NotAuthorizedException):
    """Signed in with the password; the second factor (or its enrolment) is still due."""


def session_middleware(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    name = cookie_name(settings)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith("/static/"):
                await app(scope, receive, send)
                return
            token = ASGIConnection(scope).cookies.get(name, "")
            actor = await sessions.load(token) if token else None
            scope["user"] = actor
            scope["auth"] = token if actor else None
            if token and actor is None:  # a dead cookie: the sign-in page says why, if known
                reason = await sessions.ended_reason(token)
                scope.setdefault("state", {})[SESSION_ENDED] = reason  # type: ignore[typeddict-item]
            await app(scope, receive, send)

        return middleware

    return wrap


def arrival_stamp(app: ASGIApp) -> ASGIApp:
    """Note when a request reached the server, before anything can make it wait (a database
    connection, the session lookup): every deadline is judged by the moment the request was
    received (domain.clock)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[RECEIVED_AT] = clock.now()
        await app(scope, receive, send)

    return middleware


def session_ended(connection: ASGIConnection) -> str | None:
    return connection.scope.get("state", {}).get(SESSION_ENDED)  # type: ignore[union-attr]


def received_at(connection: ASGIConnection) -> datetime:
    return connection.scope["state"][RECEIVED_AT]  # type: ignore[typeddict-item]


def origin_check(app: ASGIApp) -> ASGIApp:
    """Refuse unsafe requests another site started (Fetch Metadata, else Origin), on top of
    the CSRF token: defence in depth, as the OWASP CSRF cheat sheet advises."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = ASGIConnection(scope).headers
            fetch_site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            if fetch_site is not None:
                cross = fetch_site not in ("same-origin", "none")
            else:
                # "null" is an opaque origin (sandboxed frame, data: URL): never one of our
                # pages. No Origin at all is a non-browser client, which CSRF cannot abuse.
                cross = origin is not None and (
                    origin == "null" or urlsplit(origin).netloc != headers.get("host")
                )
            if cross:
                raise PermissionDeniedException("cross-site request refused")
        await app(scope, receive, send)

    return middleware


class FormCsrfMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, setting the token's cookie only on an answer that carries the
    token (a page with a form): a visitor who only reads the catalogue gets no cookie, so
    shared caches may keep those pages and no cookie is made for nothing.

    The answer's start is held until its first body part shows whether the token is in it.
    A body sent in several parts (a download, an export) sets it, as before."""

    def create_send_wrapper(self, send: Send, token: str, csrf_cookie: str | None) -> Send:
        if csrf_cookie is not None:
            return send
        start: Message | None = None
        carried = token.encode()

        async def send_wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is not None:
                if message.get("more_body") or carried in message.get("body", b""):
                    self._set_cookie_if_needed(start, token)  # type: ignore[arg-type]
                await send(start)
                start = None
            await send(message)

        return send_wrapper


# Guards -----------------------------------------------------------------------------------


def current_actor(connection: ASGIConnection) -> Actor | None:
    return connection.scope.get("user")


def guarded_actor(connection: ASGIConnection) -> Actor:
    """The actor of a route whose guard already let only signed-in people through."""
    actor = current_actor(connection)
    assert actor is not None
    return actor


def second_factor_path(actor: Actor, next_path: str) -> str:
    """Where someone signed in with the password alone goes next: the code, choosing their
    own password (accounts made from the command line), or enrolment."""
    if actor.second_factor_due:
        return f"/login/code?next={quote(next_path, safe='/')}"
    if actor.must_choose_password:
        return f"/account/password?next={quote(next_path, safe='/')}"
    return "/account/second-factor"


def password_given(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Signed in with a password, second factor or not: for the second-factor pages."""
    if current_actor(connection) is None:
        raise NotAuthorizedException()


def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    actor = current_actor(connection)
    if actor is None:
        raise NotAuthorizedException()
    if not actor.fully_signed_in:
        raise SecondFactorNeeded()


def has_role(*roles: Role) -> GuardType:
    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        signed_in(connection, handler)
        actor = current_actor(connection)
        assert actor is not None
        if not any(actor.has(role) for role in roles):
            raise PermissionDeniedException()

    guard.__name__ = "has_role_" + "_".join(role.value for role in roles)
    return guard


#: Where the app keeps the token that opens development pages (`development_token`).
DEVELOPMENT_TOKEN = "dev_outbox_token"  # noqa: S105 (a state key, not the token)


def development_token(settings: Settings) -> str | None:
    """A new token at each start, printed on the server's console, that opens development
    pages (the outbox lists everyone's reset links); None outside DEBUG."""
    if not settings.debug:
        return None
    token = secrets.token_urlsafe(24)
    logging.getLogger(__name__).warning(
        "Development mail outbox (this machine only): %s/dev/outbox?token=%s",
        settings.public_url,
        token,
    )
    return token


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def development_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """DEBUG, a request from this machine, and the token printed at start; otherwise the same
    404 as in production, so nobody elsewhere on the network reads the outbox."""
    settings: Settings = connection.app.state.settings
    token = connection.app.state.get(DEVELOPMENT_TOKEN)
    given = connection.query_params.get("token", "")
    host = connection.client.host if connection.client else ""
    if not (
        settings.debug
        and token
        and _loopback(host)
        and secrets.compare_digest(given.encode(), token.encode())
    ):
        raise NotFoundException()


def origin_of(request: Request) -> Origin:
    """Who sent the request from where, in which language, and when it arrived."""
    return Origin(
        client_address=request.client.host if request.client else None,
        language=current_language(),
        at=received_at(request),
    )
