"""Secrets at rest: what a read-only copy of the database (or of the outbox folder) gives
away. Link tokens never lie in the database, mail files are the owner's alone, and TOTP seeds
are encrypted with keys kept outside the database, which can be rotated."""

from __future__ import annotations

import asyncio
import re
import secrets
import stat

import asyncpg
import pyotp
from cryptography.fernet import Fernet, MultiFernet

from registry import cli
from registry.domain.accounts import Origin
from registry.services import accounts, mail
from registry.services.accounts import Registration
from registry.settings import Settings
from tests.factories import TOTP_KEY

ORIGIN = Origin("198.51.100.9", "en")
PASSWORD = "a long enough passphrase for tests"


async def _delivered_link(conn: asyncpg.Connection, settings: Settings, email: str) -> str:
    """Deliver the newest mail to `email` as the worker would; the link it carries."""
    mail_id = await conn.fetchval(
        "SELECT id FROM outbox_mail WHERE recipient = $1 ORDER BY id DESC LIMIT 1", email
    )
    assert await mail.deliver(settings, mail_id)
    message = next(m for m in mail.read_outbox(settings) if m.recipient == email)  # newest
    return re.search(r"https://registry\.example\.vn(\S+)", message.body).group(1)


async def test_no_link_token_lies_in_the_database_or_in_readable_files(
    catalogue, database_url, tmp_path
):
    settings = Settings(data_dir=tmp_path, public_url="https://registry.example.vn")
    email = f"rest-{secrets.token_hex(4)}@example.vn"
    await accounts.register(
        Registration(email=email, password=PASSWORD, display_name="Thử"), ORIGIN, settings
    )
    conn = await asyncpg.connect(database_url)
    try:
        verify = await _delivered_link(conn, settings, email)
        await accounts.request_password_reset(email, ORIGIN, settings)
        reset = await _delivered_link(conn, settings, email)
        for link, path in ((verify, "/verify-email"), (reset, "/password-reset/confirm")):
            assert link.startswith(f"{path}?token=")
            token = link.split("token=", 1)[1]
            assert len(token) >= 43
            # Anywhere in the mail rows, sent or not: nothing to replay.
            found = await conn.fetchval(
                "SELECT count(*) FROM outbox_mail WHERE strpos(body || subject, $1) > 0", token
            )
            assert found == 0, f"the token of {path} is stored in outbox_mail"
        # The mailed links still work.
        await accounts.confirm_email(verify.split("token=", 1)[1], ORIGIN)
        await accounts.reset_password(
            reset.split("token=", 1)[1], "another long passphrase 2026", ORIGIN
        )
    finally:
        await conn.close()
    files = list(mail.outbox_dir(settings).glob("*.eml"))
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, oct(path.stat().st_mode)
    assert stat.S_IMODE(mail.outbox_dir(settings).stat().st_mode) & 0o077 == 0


async def _account_with_seed(conn: asyncpg.Connection, stored: str) -> int:
    return await conn.fetchval(
        "INSERT INTO account (email, display_name, password_hash, email_verified_at, "
        "totp_secret, totp_enrolled_at) VALUES ($1, 'Thử', 'x', now(), $2, now()) RETURNING id",
        f"seed-{secrets.token_hex(4)}@example.vn",
        stored,
    )


async def test_re_encrypt_seals_plaintext_seeds_and_rotates_old_keys(
    catalogue, database_url, monkeypatch, capsys
):
    old_key = Fernet.generate_key().decode()
    plain_seed, old_seed = pyotp.random_base32(), pyotp.random_base32()
    conn = await asyncpg.connect(database_url)
    plain_id = await _account_with_seed(conn, plain_seed)
    old_id = await _account_with_seed(conn, Fernet(old_key).encrypt(old_seed.encode()).decode())
    try:
        # The first key encrypts (the one every other test uses); the second still decrypts.
        monkeypatch.setenv("TOTP_KEY", f"{TOTP_KEY},{old_key}")
        assert await asyncio.to_thread(cli.main, ["totp", "re-encrypt"]) == 0
        assert "2 second-factor keys" in capsys.readouterr().out
        current = Fernet(TOTP_KEY.encode())
        stored = {
            row["id"]: row["totp_secret"]
            for row in await conn.fetch(
                "SELECT id, totp_secret FROM account WHERE id = ANY($1)", [plain_id, old_id]
            )
        }
        assert current.decrypt(stored[plain_id].encode()).decode() == plain_seed
        assert current.decrypt(stored[old_id].encode()).decode() == old_seed

        # Twice is harmless: nothing left to change.
        assert await asyncio.to_thread(cli.main, ["totp", "re-encrypt"]) == 0
        assert "0 second-factor keys" in capsys.readouterr().out
        again = await conn.fetch(
            "SELECT id, totp_secret FROM account WHERE id = ANY($1)", [plain_id, old_id]
        )
        assert {row["id"]: row["totp_secret"] for row in again} == stored
        assert MultiFernet([current]).decrypt(stored[old_id].encode()).decode() == old_seed
    finally:
        await conn.execute("DELETE FROM account WHERE id = ANY($1)", [plain_id, old_id])
        await conn.close()
