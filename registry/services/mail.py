"""Outgoing mail through an outbox table: written in the transaction of the action that sends
it, together with the job that delivers it (services.queue), so a rolled-back action sends
nothing and a committed one always has its delivery queued.

`deliver` sends one message; the `mail:deliver` job (registry.jobs.mail) calls it in a worker
and retries with backoff when it raises. Delivery is by SMTP when SMTP_URL is set, else as
.eml files under `data_dir/outbox` (listed at /dev/outbox in development).

Links that carry a token (e-mail verification, password reset) are never stored with it: the
body holds a marker for each `Link`, and the token is made when the message is sent, as an
HMAC of the link's random nonce under SECRET_KEY (`link_token`). The database keeps only the
nonce and the token's digest (account_token), useless without the key; every process that
sends or checks links needs the same SECRET_KEY. Outbox files are readable by their owner
only.

At most one worker sends a message at a time (its row stays locked until the delivery is
recorded; others skip it) and a message recorded as sent is never sent again. A process that
dies between sending and recording leaves the message unsent, so it is sent again: at least
once, as SMTP itself is.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.errors import NotFound
from registry.domain.permissions import is_admin
from registry.i18n import translate_in
from registry.services import audit, queue, scopes
from registry.services.storage import read_all, storage_from
from registry.settings import Settings

log = logging.getLogger(__name__)
#: Most messages one visit to /dev/outbox delivers.
BATCH = 100


class MailNotDelivered(Exception):
    """The server refused or could not be reached; the error is recorded on the message."""


@dataclass(frozen=True, slots=True)
class Link:
    """A link to `PUBLIC_URL + path + token`, the token made at delivery from `nonce`."""

    #: The path up to the token, e.g. "/verify-email?token=".
    path: str
    #: Random, stored in outbox_mail.links; the token is link_token(settings, nonce).
    nonce: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored file sent with a message: only its SHA-256 and name are queued, the bytes are
    read from storage when the message is sent."""

    sha256: str
    #: ASCII, as mail clients show it ("QD-07-NAFOSTED.pdf").
    filename: str
    content_type: str = "application/pdf"

    def stored(self) -> str:
        return f"{self.sha256} {self.content_type} {self.filename}"

    @classmethod
    def from_stored(cls, value: str) -> Attachment:
        sha256, content_type, filename = value.split(" ", 2)
        return cls(sha256, filename, content_type)


_LINK_MARKER = "⟦link:{}⟧"
_LINK_MARKERS = re.compile(r"⟦link:(\d+)⟧")


def link_token(settings: Settings, nonce: str) -> str:
    """The token a link carries: only a holder of SECRET_KEY can make it from the nonce."""
    mac = hmac.new(
        settings.resolved_secret_key().encode(), b"mail link\0" + nonce.encode(), hashlib.sha256
    )
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def new_link(path: str) -> Link:
    return Link(path, secrets.token_urlsafe(24))


def page_link(path: str) -> Link:
    """A link to a page of the registry, without a token (the public address is the
    sender's setting, so it too is filled in at delivery)."""
    return Link(path, "")


async def enqueue(
    recipient: str,
    language: str,
    subject: str,
    body: str,
    params: Mapping[str, object] | None = None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Queue one message and its delivery job, in the caller's transaction (if any);
    `subject` and `body` are msgids translated into `language`. A `Link` among the params
    is stored as a marker, its token made only at delivery. `attachments` are stored files
    (a blob row names each, so they outlive the message)."""
    links = [value for value in (params or {}).values() if isinstance(value, Link)]
    if params:
        params = {
            key: _LINK_MARKER.format(links.index(value)) if isinstance(value, Link) else value
            for key, value in params.items()
        }
    async with database.connection() as conn, conn.transaction():
        mail_id = await conn.fetchval(
            "INSERT INTO outbox_mail (recipient, subject, body, links, attachments) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            recipient,
            translate_in(language, subject, params),
            translate_in(language, body, params),
            [f"{link.nonce} {link.path}" for link in links],
            [a.stored() for a in attachments],
        )
        await queue.defer(conn, queue.MAIL_QUEUE, queue.DELIVER_MAIL, mail_id=mail_id)


def _with_links(settings: Settings, body: str, links: list[str]) -> str:
    """The body with each marker replaced by its link; markers of links this message does
    not have (typed by someone into a field the mail quotes) are left as they are."""

    def link(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(links):
            return match.group(0)
        nonce, _, path = links[index].partition(" ")
        if not nonce:  # page_link: no token
            return f"{settings.public_url}{path}"
        return f"{settings.public_url}{path}{link_token(settings, nonce)}"

    return _LINK_MARKERS.sub(link, body)


#: Python folds a long non-ASCII header into encoded words at 78 characters and, doing so, can
#: drop the space between two of them ("của bạnđã", one subject in five measured): lines of
#: up to 998 characters (RFC 5322's limit) keep a subject in one encoded word.
MESSAGE_POLICY = default_policy.clone(max_line_length=998)


def _message(settings: Settings, row: Mapping[str, object]) -> EmailMessage:
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = settings.mail_from
    message["To"] = str(row["recipient"])
    message["Subject"] = str(row["subject"])
    message["Date"] = format_datetime(row["created_at"])  # type: ignore[arg-type]
    message["Message-ID"] = make_msgid(domain="registry.localhost")
    message.set_content(_with_links(settings, str(row["body"]), list(row["links"] or ())))
    return message


async def _attach(settings: Settings, message: EmailMessage, stored: Sequence[str]) -> None:
    storage = storage_from(settings)
    for value in stored:
        attachment = Attachment.from_stored(value)
        maintype, _, subtype = attachment.content_type.partition("/")
        data = await read_all(await storage.open(attachment.sha256))
        message.add_attachment(data, maintype, subtype, filename=attachment.filename)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    implicit_tls = parts.scheme == "smtps"
    port = parts.port or (465 if implicit_tls else 587)
    context = ssl.create_default_context()
    server: smtplib.SMTP = (
        smtplib.SMTP_SSL(parts.hostname or "", port, context=context, timeout=30)
        if implicit_tls
        else smtplib.SMTP(parts.hostname or "", port, timeout=30)
    )
    with server:
        if not implicit_tls and server.has_extn("starttls"):
            server.starttls(context=context)
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


def outbox_dir(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def _write_file(settings: Settings, mail_id: int, message: EmailMessage) -> None:
    """Owner-only folder and files: the messages carry working sign-in links."""
    folder = outbox_dir(settings)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # also a folder an earlier version made world-readable
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{mail_id:08d}.eml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(bytes(message))


async def _transmit(settings: Settings, mail_id: int, message: EmailMessage) -> None:
    if settings.smtp_url:
        await asyncio.to_thread(_send_smtp, settings.smtp_url, message)
    else:
        _write_file(settings, mail_id, message)


async def deliver(settings: Settings, mail_id: int) -> bool:
    """Send one queued message. True: sent now. False: already sent, or another worker is
    sending it. Raises `MailNotDelivered` after recording the error, for the job to retry.

    Uses its own connection and asyncpg's transaction rather than Piccolo's: when the
    connection dies mid-delivery, Piccolo's transaction fails its rollback and leaves itself
    as the task's current transaction, so every later query would reuse the dead connection.
    """
    async with database.connection() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT id, recipient, subject, body, links, attachments, created_at FROM outbox_mail "
            "WHERE id = $1 AND sent_at IS NULL FOR UPDATE SKIP LOCKED",
            mail_id,
        )
        if row is None:
            return False
        try:
            message = _message(settings, row)
            await _attach(settings, message, row["attachments"] or ())
            await _transmit(settings, mail_id, message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("mail %s not delivered: %s", mail_id, error)
            failure = error
            await conn.execute(
                "UPDATE outbox_mail SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                mail_id,
                str(error)[:500] or type(error).__name__,
            )
        else:
            await conn.execute(
                "UPDATE outbox_mail SET sent_at = now(), attempts = attempts + 1 WHERE id = $1",
                mail_id,
            )
            return True
    raise MailNotDelivered(f"mail {mail_id}: {failure}") from failure


async def deliver_pending(settings: Settings) -> int:
    """Deliver what is queued now, without waiting for a worker (the development outbox page);
    returns how many were sent. The jobs queued for these messages then find them sent."""
    pending = await database.fetch(
        "SELECT id FROM outbox_mail WHERE sent_at IS NULL ORDER BY id LIMIT $1", BATCH
    )
    sent = 0
    for row in pending:
        try:
            sent += await deliver(settings, row["id"])
        except MailNotDelivered:
            continue  # recorded on the message; its job retries it
    return sent


@dataclass(frozen=True, slots=True)
class OutboxFile:
    name: str
    recipient: str
    subject: str
    date: str
    body: str


def read_outbox(settings: Settings, limit: int = 50) -> list[OutboxFile]:
    """The newest .eml files written in file mode, newest first."""
    folder = outbox_dir(settings)
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=default_policy)
    messages = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        message = parser.parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",))
        messages.append(
            OutboxFile(
                name=path.name,
                recipient=str(message["To"]),
                subject=str(message["Subject"]),
                date=str(message["Date"]),
                body=body.get_content() if body is not None else "",
            )
        )
    return messages


# Undelivered mail, for administrators ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Undelivered:
    id: int
    recipient: str
    subject: str
    created_at: datetime
    attempts: int
    last_error: str
    #: Its delivery job stopped retrying: nothing sends it unless an administrator asks.
    gave_up: bool


_UNDELIVERED = """
    SELECT m.id, m.recipient, m.subject, m.created_at, m.attempts,
           coalesce(m.last_error, '') AS last_error,
           NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
                        WHERE j.task_name = 'mail:deliver' AND j.status IN ('todo', 'doing')
                          AND (j.args->>'mail_id')::bigint = m.id) AS gave_up
      FROM outbox_mail m
     WHERE m.sent_at IS NULL AND m.attempts > 0
     ORDER BY m.created_at DESC
     LIMIT $1"""


async def undelivered(actor: Actor, limit: int = 200) -> list[Undelivered]:
    """Messages that failed at least once and are not sent, newest first (administrators)."""
    scopes.require(is_admin, actor)
    return [Undelivered(**dict(row)) for row in await database.fetch(_UNDELIVERED, limit)]


async def retry(actor: Actor, mail_id: int, origin: Origin) -> None:
    """Queue one more delivery of an unsent message whose job gave up (administrators)."""
    scopes.require(is_admin, actor)
    # One transaction for the job and its audit event (audit.record joins the transaction
    # that database.transaction() opens, not a bare asyncpg one).
    async with database.transaction():
        unsent = await database.fetchval(
            "SELECT id FROM outbox_mail WHERE id = $1 AND sent_at IS NULL FOR UPDATE", mail_id
        )
        if unsent is None:
            raise NotFound()
        async with database.connection() as conn:
            await queue.defer(conn, queue.MAIL_QUEUE, queue.DELIVER_MAIL, mail_id=mail_id)
        await audit.record("mail.retried", f"outbox_mail:{mail_id}", actor=actor, origin=origin)
