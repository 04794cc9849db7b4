"""TOTP seeds at rest: encrypted with keys kept outside the database (TOTP_KEY), so a copy
of the database alone cannot make anyone's codes.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) seals each seed; MultiFernet
decrypts with any configured key and encrypts with the first, which is how keys rotate: put
the new key first, run `registry totp re-encrypt`, then drop the old one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from registry import database
from registry.settings import Settings

#: How seeds were stored before they were encrypted: pyotp's base32.
_PLAINTEXT_SEED = re.compile(r"^[A-Z2-7]+=*$")


class SeedUnreadable(Exception):
    """No configured key opens a stored seed: TOTP_KEY differs from the one that sealed it."""


def _keys(settings: Settings) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.resolved_totp_keys()])


def seal(settings: Settings, seed: str) -> str:
    return _keys(settings).encrypt(seed.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    try:
        return _keys(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SeedUnreadable("no TOTP_KEY opens this seed") from None


@dataclass(frozen=True, slots=True)
class ReEncryption:
    changed: int
    #: Account ids whose seed no configured key opens (left as they are).
    unreadable: tuple[int, ...]


async def re_encrypt(settings: Settings) -> ReEncryption:
    """Encrypt plaintext seeds and re-encrypt seeds sealed with an older key, each with the
    first key. Seeds the first key already opens are left untouched, so running it again
    changes nothing."""
    keys = settings.resolved_totp_keys()
    newest, every = Fernet(keys[0].encode()), _keys(settings)
    changed, unreadable = 0, []
    async with database.connection() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT id, totp_secret FROM account WHERE totp_secret IS NOT NULL FOR UPDATE"
        )
        for row in rows:
            stored: str = row["totp_secret"]
            try:
                newest.decrypt(stored.encode())
                continue
            except InvalidToken:
                pass
            if _PLAINTEXT_SEED.match(stored):
                sealed = newest.encrypt(stored.encode()).decode()
            else:
                try:
                    sealed = every.rotate(stored.encode()).decode()
                except InvalidToken:
                    unreadable.append(row["id"])
                    continue
            await conn.execute(
                "UPDATE account SET totp_secret = $2 WHERE id = $1", row["id"], sealed
            )
            changed += 1
    return ReEncryption(changed, tuple(unreadable))
