"""Is the database there?"""

from __future__ import annotations

from registry import database
from registry.domain.errors import Unavailable


async def database_answers() -> bool:
    try:
        return await database.fetchval("SELECT 1") == 1
    except Unavailable:
        return False
