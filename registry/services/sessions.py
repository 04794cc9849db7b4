"""Server-side sessions in PostgreSQL, so any web process serves any user.

The cookie holds a random id; the table holds only its digest. A session is created only at
sign-in (never for anonymous visitors), always with a new id (no fixation), and ends on the
server at logout, on idle or absolute timeout, and when the account is disabled. A person sees
their own sessions (by row id, never the cookie's id) and may end the others; a periodic job
purges what has expired, with spent link tokens and long-quiet sign-in throttles.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from registry import database
from registry.domain.accounts import (
    ABSOLUTE_LIFETIME,
    Actor,
    EndReason,
    Grant,
    Origin,
    Role,
    idle_timeout,
    token_digest,
)
from registry.services import audit
from registry.services.queries import sessions as sql

#: last_seen_at is written at most this often, so reading pages does not write on every hit.
TOUCH_EVERY_SECONDS = 30


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    actor: Actor


async def grants_of(account_id: int) -> frozenset[Grant]:
    rows = await database.fetch(
        "SELECT role, coalesce(organisation, fund) AS scope_id FROM account_role "
        "WHERE account = $1 AND NOT pending",
        account_id,
    )
    return frozenset(Grant(Role(row["role"]), row["scope_id"]) for row in rows)


async def start(
    account_id: int,
    *,
    second_factor_done: bool,
    client_address: str | None,
    replacing: str | None = None,
) -> str:
    """A new session (new id) for `account_id`; the session `replacing` ends. Called at sign-in
    and at every privilege change (second factor given, enrolment, role change)."""
    grants = await grants_of(account_id)
    idle = idle_timeout(frozenset(g.role for g in grants))
    token = secrets.token_urlsafe(32)
    async with database.connection() as conn:
        if replacing:
            await conn.execute("DELETE FROM web_session WHERE digest = $1", token_digest(replacing))
        await conn.execute(
            "INSERT INTO web_session (digest, account, second_factor_done, idle_seconds, "
            "client_address) VALUES ($1, $2, $3, $4, $5)",
            token_digest(token),
            account_id,
            second_factor_done,
            int(idle.total_seconds()),
            client_address,
        )
    return token


async def load(token: str) -> Actor | None:
    """The actor of a live session, or None (unknown, expired, or account disabled).
    An expired session is deleted on sight."""
    if not token or len(token) > 100:
        return None
    digest = token_digest(token)
    row = await database.fetchrow(
        "SELECT s.id, s.account, s.second_factor_done, a.email, a.display_name, "
        "a.totp_enrolled_at IS NOT NULL AS totp_enrolled, a.must_choose_password, "
        "a.disabled_at IS NOT NULL "
        "OR s.last_seen_at + make_interval(secs => s.idle_seconds) <= now() "
        "OR s.created_at + $2::interval <= now() AS expired, "
        "s.last_seen_at < now() - make_interval(secs => $3) AS stale "
        "FROM web_session s JOIN account a ON a.id = s.account WHERE s.digest = $1",
        digest,
        ABSOLUTE_LIFETIME,
        TOUCH_EVERY_SECONDS,
    )
    if row is None:
        return None
    if row["expired"]:
        await database.fetchval("DELETE FROM web_session WHERE id = $1 RETURNING id", row["id"])
        return None
    if row["stale"]:
        await database.fetchval(
            "UPDATE web_session SET last_seen_at = now() WHERE id = $1 RETURNING id", row["id"]
        )
    return Actor(
        account_id=row["account"],
        email=row["email"],
        display_name=row["display_name"],
        grants=await grants_of(row["account"]),
        totp_enrolled=row["totp_enrolled"],
        second_factor_done=row["second_factor_done"],
        must_choose_password=row["must_choose_password"],
    )


async def offer_totp(token: str, sealed_seed: str) -> str:
    """The (encrypted) TOTP seed this session enrols with: the one it was offered before,
    else `sealed_seed`. Another session, even of the same account, never sees it."""
    return await database.fetchval(
        "UPDATE web_session SET totp_offered = coalesce(totp_offered, $2) WHERE digest = $1 "
        "RETURNING totp_offered",
        token_digest(token),
        sealed_seed,
    )


async def offered_totp(token: str, account_id: int) -> str | None:
    return await database.fetchval(
        "SELECT totp_offered FROM web_session WHERE digest = $1 AND account = $2",
        token_digest(token),
        account_id,
    )


async def end(token: str) -> None:
    await database.fetchval(
        "DELETE FROM web_session WHERE digest = $1 RETURNING id", token_digest(token)
    )


async def end_all(account_id: int, reason: EndReason | None = None) -> int:
    """End every session of an account (disabled, password changed); returns how many. With a
    `reason`, the sign-in page those browsers land on says why (`ended_reason`)."""
    rows = await database.fetch(
        "DELETE FROM web_session WHERE account = $1 RETURNING id, digest", account_id
    )
    await _note_ended(rows, reason)
    return len(rows)


async def _note_ended(rows: list[Any], reason: EndReason | None) -> None:
    if reason is not None and rows:
        await database.execute(sql.NOTE_ENDED, [row["digest"] for row in rows], str(reason))


async def ended_reason(token: str) -> EndReason | None:
    """Why the session of this (dead) cookie was ended by someone else's action, if it was."""
    if not token or len(token) > 100:
        return None
    reason = await database.fetchval(sql.ENDED_REASON, token_digest(token), ABSOLUTE_LIFETIME)
    return EndReason(reason) if reason in set(EndReason) else None


# One's own sessions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionView:
    """A live session as its owner sees it: the row id, never the cookie's id."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    client_address: str | None
    current: bool


async def list_own(actor: Actor, token: str) -> list[SessionView]:
    """The actor's live sessions, this one (`token`) first, then the most recently seen."""
    rows = await database.fetch(
        sql.OWN_LIVE_SESSIONS,
        ABSOLUTE_LIFETIME,
        actor.account_id,
        token_digest(token),
    )
    return [SessionView(**dict(row)) for row in rows]


async def end_own(actor: Actor, session_id: int, token: str, origin: Origin) -> bool:
    """End one of the actor's other sessions; False when it is not theirs, is this one (signing
    out ends that), or has ended already. Audited when it ends one."""
    async with database.transaction():
        ended = await database.fetchval(
            sql.END_OWN_SESSION,
            session_id,
            actor.account_id,
            token_digest(token),
        )
        if ended is None:
            return False
        await audit.record(
            "session.ended", actor.ref, actor=actor, origin=origin, after={"session": ended}
        )
    return True


async def end_others(actor: Actor, token: str, origin: Origin) -> int:
    """End every session of the actor but this one (`token`); audited; returns how many."""
    async with database.transaction():
        ended = await end_all_but(actor.account_id, token)
        await audit.record(
            "session.ended_others", actor.ref, actor=actor, origin=origin, after={"sessions": ended}
        )
    return ended


async def end_all_but(account_id: int, token: str, reason: EndReason | None = None) -> int:
    """End every session of the account but `token`'s, in the caller's transaction; returns
    how many (password change). With a `reason`, as `end_all`."""
    rows = await database.fetch(
        sql.END_ALL_BUT,
        account_id,
        token_digest(token),
    )
    await _note_ended(rows, reason)
    return len(rows)


# Purging what has expired ----------------------------------------------------------------------

#: A sign-in throttle row quiet this long is forgotten. The count then starts again, which gives
#: a guesser a few free tries a day: fewer than the 15-minute backoff lets through meanwhile.
THROTTLE_FORGOTTEN_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Purged:
    sessions: int
    tokens: int
    throttles: int


async def purge_expired() -> Purged:
    """Delete expired sessions, expired or used link tokens, and throttles neither blocking
    now nor touched for THROTTLE_FORGOTTEN_AFTER. Nothing here is audited: none of it is a
    change a person made, and the rows are dead already (`load` refuses them)."""
    async with database.transaction():
        ended = await database.fetch(sql.PURGE_SESSIONS, ABSOLUTE_LIFETIME)
        tokens = await database.fetch(sql.PURGE_TOKENS)
        throttles = await database.fetch(sql.PURGE_THROTTLES, THROTTLE_FORGOTTEN_AFTER)
        await database.fetch(sql.PURGE_ENDED, ABSOLUTE_LIFETIME)  # their cookies are dead too
    return Purged(len(ended), len(tokens), len(throttles))
