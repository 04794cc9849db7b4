"""Outgoing mail through an outbox table: written in the transaction of the action that sends
it (so a rolled-back action sends nothing), delivered afterwards by `deliver_pending`.

Delivery is by SMTP when SMTP_URL is set, else as .eml files under `data_dir/outbox` (listed
at /dev/outbox in development).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from registry import database
from registry.i18n import translate_in
from registry.settings import Settings

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BATCH = 20


async def enqueue(
    recipient: str,
    language: str,
    subject: str,
    body: str,
    params: Mapping[str, object] | None = None,
) -> None:
    """Queue one message; `subject` and `body` are msgids translated into `language`."""
    await database.fetchval(
        "INSERT INTO outbox_mail (recipient, subject, body) VALUES ($1, $2, $3) RETURNING id",
        recipient,
        translate_in(language, subject, params),
        translate_in(language, body, params),
    )


def _message(settings: Settings, row: Mapping[str, object]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = str(row["recipient"])
    message["Subject"] = str(row["subject"])
    message["Date"] = format_datetime(row["created_at"])  # type: ignore[arg-type]
    message["Message-ID"] = make_msgid(domain="registry.localhost")
    message.set_content(str(row["body"]))
    return message


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
    folder = outbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (folder / f"{stamp}-{mail_id:08d}.eml").write_bytes(bytes(message))


async def deliver_pending(settings: Settings) -> int:
    """Deliver queued mail; returns how many were sent. Safe to run in several processes at
    once: each message is locked by the one delivering it (SKIP LOCKED)."""
    sent = 0
    while True:
        async with database.engine().transaction(), database.connection() as conn:
            rows = await conn.fetch(
                "SELECT id, recipient, subject, body, created_at FROM outbox_mail "
                "WHERE sent_at IS NULL AND attempts < $1 ORDER BY id "
                "LIMIT $2 FOR UPDATE SKIP LOCKED",
                MAX_ATTEMPTS,
                BATCH,
            )
            for row in rows:
                message = _message(settings, row)
                try:
                    if settings.smtp_url:
                        await asyncio.to_thread(_send_smtp, settings.smtp_url, message)
                    else:
                        _write_file(settings, row["id"], message)
                except (OSError, smtplib.SMTPException) as error:
                    log.warning("mail %s not delivered: %s", row["id"], error)
                    await conn.execute(
                        "UPDATE outbox_mail SET attempts = attempts + 1, last_error = $2 "
                        "WHERE id = $1",
                        row["id"],
                        str(error)[:500],
                    )
                    continue
                await conn.execute(
                    "UPDATE outbox_mail SET sent_at = now(), attempts = attempts + 1 WHERE id = $1",
                    row["id"],
                )
                sent += 1
        if len(rows) < BATCH:
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
