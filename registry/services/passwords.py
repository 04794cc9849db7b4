"""Argon2id hashing, run off the event loop on a small pool of its own.

Each hash costs about 64 MiB and tens of milliseconds of CPU (RFC 9106 low-memory profile,
argon2-cffi's defaults); a burst of logins must not stall every other request, nor take
unbounded memory, so at most `HASHING_THREADS` run at once.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHING_THREADS = 4
_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


async def _off_loop(function, *args):  # type: ignore[no-untyped-def]
    return await asyncio.get_running_loop().run_in_executor(_pool, function, *args)


async def hash_password(password: str) -> str:
    return await _off_loop(_hasher.hash, password)


def _matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches. With no stored hash (unknown e-mail) a dummy hash is
    checked anyway, so known and unknown addresses take the same time."""
    return await _off_loop(_matches, stored or _dummy_hash(), password) and stored is not None


def needs_rehash(stored: str) -> bool:
    """The hash was made with other parameters than today's: replace it at this login."""
    return _hasher.check_needs_rehash(stored)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))
