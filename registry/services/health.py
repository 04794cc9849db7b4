"""Is the database there?"""

from __future__ import annotations

from registry import database
from registry.domain.errors import Unavailable

#: The message of `Unavailable` for a database too busy to answer in time (the web layer
#: words it for the page or action at hand).
DATABASE_BUSY = database.BUSY


async def database_answers() -> bool:
    """The pool hands out a connection and a query answers, each within its timeout (so a
    used-up pool or a frozen server makes readiness fail instead of hang)."""
    try:
        return await database.fetchval("SELECT 1") == 1
    except Unavailable:
        return False
