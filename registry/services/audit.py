"""The audit trail: recording events, recomputing the hash chain, the head shown to the public.

Write an event in the same transaction as the change it records, as that transaction's last
statement: adding an event locks the chain's head until commit, so every audited action waits
for the one before it to commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.audit import ChainCheck, ChainHead, ChainWalker
from registry.domain.errors import NotFound

if TYPE_CHECKING:
    import asyncpg

#: The hashed text of an event, as audit.chain() builds it (migration 2026-11-24T09:00).
CANONICAL = """jsonb_build_array(
    seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
    actor, action, object_ref, client_address, summary)::text"""
VERIFY_BATCH = 1000
MAX_SEQ = 2**63 - 1


async def record(
    action: str,
    object_ref: str,
    *,
    actor: Actor | str,
    origin: Origin | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> int:
    """Append one event and return its seq; it joins the caller's open transaction.

    `actor` is the signed-in person, or a reference such as "account:12", "anonymous" or
    "system:cli" (see domain.audit); `origin` gives the client address. `before` and `after`
    summarise the object's state around the change: the fields that changed, never
    passwords, tokens or file contents.
    """
    summary = {
        key: dict(value)
        for key, value in (("before", before), ("after", after))
        if value is not None
    }
    async with database.connection() as conn:
        return await conn.fetchval(
            "INSERT INTO audit.event (actor, action, object_ref, client_address, summary)"
            " VALUES ($1, $2, $3, $4, $5::text::jsonb) RETURNING seq",
            actor.ref if isinstance(actor, Actor) else actor,
            action,
            object_ref,
            origin.client_address if origin else None,
            json.dumps(summary, ensure_ascii=False, default=str),
        )


async def verify(conn: asyncpg.Connection | None = None) -> ChainCheck:
    """Recompute every event's hash and link in seq order, then compare the head.

    On `conn` when given (inside its open transaction, if any, so a test can tamper, verify and
    roll back); otherwise on a connection of its own, in one snapshot.
    """
    if conn is not None:
        return await _verify_on(conn)
    async with database.connection() as own:
        return await _verify_on(own)


async def _verify_on(conn: asyncpg.Connection) -> ChainCheck:
    if conn.is_in_transaction():
        return await _walk(conn)
    # One snapshot for the head and all events: writers committing meanwhile cannot make a
    # sound chain look broken.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _walk(conn)


async def _walk(conn: asyncpg.Connection) -> ChainCheck:
    head = await conn.fetchrow("SELECT last_seq, last_hash FROM audit.head WHERE id = 1")
    walker = ChainWalker()
    rows = conn.cursor(
        f"SELECT seq, prev_hash, row_hash, {CANONICAL} AS canonical FROM audit.event ORDER BY seq",
        prefetch=VERIFY_BATCH,
    )
    async for row in rows:
        if not walker.add(row["seq"], row["prev_hash"], row["row_hash"], row["canonical"]):
            break
    if head is None:  # only a superuser bypassing the triggers can remove it
        return walker.result(None, None)
    return walker.result(head["last_seq"], head["last_hash"])


async def head() -> ChainHead:
    """The newest event's seq, hash and time (seq 0 while the trail is empty)."""
    row = await database.fetchrow(
        "SELECT h.last_seq, h.last_hash, e.at FROM audit.head h"
        " LEFT JOIN audit.event e ON e.seq = h.last_seq WHERE h.id = 1"
    )
    if row is None:  # only a superuser bypassing the triggers can remove it
        raise RuntimeError("audit.head is missing")
    return ChainHead(seq=row["last_seq"], hash_hex=row["last_hash"].hex(), at=row["at"])


async def digest(seq: int) -> ChainHead:
    """The chain as it stood after event `seq`: compare with a hash noted back then."""
    row = None
    if 1 <= seq <= MAX_SEQ:
        row = await database.fetchrow(
            "SELECT seq, row_hash, at FROM audit.event WHERE seq = $1", seq
        )
    if row is None:
        raise NotFound("No audit event has this number.")
    return ChainHead(seq=row["seq"], hash_hex=row["row_hash"].hex(), at=row["at"])
