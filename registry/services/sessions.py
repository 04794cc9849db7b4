"""Server-side sessions in PostgreSQL, so any web process serves any user.

The cookie holds a random id; the table holds only its digest. A session is created only at
sign-in (never for anonymous visitors), always with a new id (no fixation), and ends on the
server at logout, on idle or absolute timeout, and when the account is disabled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from registry import database
from registry.domain.accounts import (
    ABSOLUTE_LIFETIME,
    Actor,
    Grant,
    Role,
    idle_timeout,
    token_digest,
)

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


async def end_all(account_id: int) -> int:
    """End every session of an account (disabled, password changed); returns how many."""
    rows = await database.fetch(
        "DELETE FROM web_session WHERE account = $1 RETURNING id", account_id
    )
    return len(rows)
