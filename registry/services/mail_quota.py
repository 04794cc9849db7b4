"""How many mails someone may cause to be sent to other people: password-reset and "already
registered" mails can be asked for by anyone, for anyone (domain.accounts.MAILS_PER_*).

Each allowed mail (or request, for a requester's key) leaves a row in `mail_quota` for the
window; rows older than the window are trimmed as new ones come. Callers say nothing when a
quota is used up, so the answer reveals neither the limit nor the account.
"""

from __future__ import annotations

from datetime import timedelta

from registry import database
from registry.domain.accounts import MAIL_WINDOW


def requester_key(client_address: str | None) -> str:
    return f"requester:{client_address or 'unknown'}"


def recipient_key(account_id: int) -> str:
    return f"recipient:account:{account_id}"


async def take(key: str, limit: int, window: timedelta = MAIL_WINDOW) -> bool:
    """Count one use of `key` in the caller's transaction when fewer than `limit` were counted
    in the last `window`; False (nothing counted) when the quota is used up."""
    async with database.connection() as conn, conn.transaction():
        # Serialises takers of one key, so two at once cannot both take the last use.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", key)
        await conn.execute("DELETE FROM mail_quota WHERE at < now() - $1::interval", window)
        used = await conn.fetchval(
            "SELECT count(*) FROM mail_quota WHERE key = $1 AND at >= now() - $2::interval",
            key,
            window,
        )
        if used >= limit:
            return False
        await conn.execute("INSERT INTO mail_quota (key) VALUES ($1)", key)
        return True
