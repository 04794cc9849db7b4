"""Account services against the real database: password rehash, throttle rows, the outbox."""

from __future__ import annotations

import json
import secrets

import asyncpg
import pytest
from argon2 import PasswordHasher

from registry.domain.accounts import Origin
from registry.domain.errors import InvalidInput
from registry.services import accounts, audit, sign_in
from registry.settings import Settings
from tests.factories import organisation_id

PASSWORD = "a long enough passphrase for tests"
#: authenticate names unknown addresses by a digest keyed with the secret key.
SETTINGS = Settings(secret_key="service-tests-only-" + "0" * 32)


async def _account(conn: asyncpg.Connection, password_hash: str) -> str:
    email = f"svc-{secrets.token_hex(4)}@example.vn"
    await conn.execute(
        "INSERT INTO account (email, display_name, password_hash, email_verified_at) "
        "VALUES ($1, 'Thử', $2, now())",
        email,
        password_hash,
    )
    return email


async def test_old_hash_parameters_are_upgraded_at_sign_in(catalogue, database_url):
    conn = await asyncpg.connect(database_url)
    try:
        weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        email = await _account(conn, weak)
        await sign_in.authenticate(email, PASSWORD, Origin("192.0.2.1"), SETTINGS)
        stored = await conn.fetchval("SELECT password_hash FROM account WHERE email = $1", email)
        assert stored != weak
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        # Still the same password.
        await sign_in.authenticate(email, PASSWORD, Origin("192.0.2.1"), SETTINGS)
    finally:
        await conn.close()


async def test_password_is_not_truncated_or_case_folded(catalogue, database_url):
    conn = await asyncpg.connect(database_url)
    try:
        email = await _account(conn, PasswordHasher().hash(PASSWORD))
        for wrong in (PASSWORD + "x", PASSWORD.upper(), PASSWORD[:-1]):
            try:
                await sign_in.authenticate(email, wrong, Origin(f"192.0.2.{len(wrong)}"), SETTINGS)
            except InvalidInput:
                continue
            raise AssertionError(f"{wrong!r} was accepted")
    finally:
        await conn.close()


async def test_a_failed_action_sends_no_mail(catalogue, database_url, tmp_path):
    """Mail is queued in the action's transaction: a registration that fails after queuing its
    mail leaves no trace at all, the mail and its delivery job included.

    The failure comes from inside the service's transaction, at its last statement: a trigger
    the test adds to audit.event refuses this one registration's event (and reports what the
    transaction had done by then: the account's event and the mail queued to it). The trigger
    matches only this test's address and is dropped afterwards, so other actions and the
    chain are untouched; the refused insert rolls audit.head back with it (audit.chain())."""

    email = f"rollback-{secrets.token_hex(4)}@example.vn"
    tag = secrets.token_hex(4)
    function, trigger = f"public.test_refuse_registration_{tag}", f"zz_test_refuse_{tag}"
    conn = await asyncpg.connect(database_url)
    try:
        if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            pytest.skip("adding a trigger to audit.event needs a superuser connection")
        organisation = await organisation_id(conn, "vast")
        head_before = await conn.fetchrow("SELECT last_seq, last_hash FROM audit.head")
        mails_before = await conn.fetchval("SELECT count(*) FROM outbox_mail")
        jobs_before = await conn.fetchval("SELECT count(*) FROM procrastinate_jobs")
        await conn.execute(
            f"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.action = 'account.registered' AND EXISTS (
                    SELECT FROM public.account
                    WHERE 'account:' || id = NEW.object_ref AND email = TG_ARGV[0]
                ) THEN
                    RAISE EXCEPTION 'refused by the test' USING DETAIL = json_build_object(
                        'object_ref', NEW.object_ref,
                        'mail_ids', (SELECT coalesce(json_agg(id), '[]') FROM public.outbox_mail
                                     WHERE recipient = TG_ARGV[0]))::text;
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {trigger} AFTER INSERT ON audit.event
                FOR EACH ROW EXECUTE FUNCTION {function}('{email}');
            """
        )
        try:
            with pytest.raises(asyncpg.RaiseError, match="refused by the test") as refused:
                await accounts.register(
                    accounts.Registration(email, PASSWORD, "Tên", organisation_id=organisation),
                    Origin("192.0.2.9"),
                    Settings(data_dir=tmp_path),
                )
        finally:
            await conn.execute(f"DROP TRIGGER {trigger} ON audit.event; DROP FUNCTION {function}()")

        # Inside the transaction, when its event was refused, the account existed and its
        # verification mail was already queued.
        seen = json.loads(refused.value.detail)
        account_id = int(seen["object_ref"].removeprefix("account:"))
        assert len(seen["mail_ids"]) == 1, seen
        # Nothing of it survived.
        assert await conn.fetchval("SELECT count(*) FROM outbox_mail") == mails_before
        assert await conn.fetchval(
            "SELECT count(*) FROM outbox_mail WHERE recipient = $1 OR id = ANY($2::bigint[])",
            email,
            seen["mail_ids"],
        ) == 0  # fmt: skip
        assert await conn.fetchval("SELECT count(*) FROM procrastinate_jobs") == jobs_before
        assert await conn.fetchval(
            "SELECT count(*) FROM procrastinate_jobs WHERE (args->>'mail_id')::bigint = ANY($1)",
            seen["mail_ids"],
        ) == 0  # fmt: skip
        for query in (
            "SELECT count(*) FROM account WHERE id = $1",
            "SELECT count(*) FROM account_role WHERE account = $1",
            "SELECT count(*) FROM account_token WHERE account = $1",
        ):
            assert await conn.fetchval(query, account_id) == 0, query
        assert await conn.fetchval("SELECT count(*) FROM account WHERE email = $1", email) == 0
        assert await conn.fetchval(
            "SELECT count(*) FROM audit.event WHERE object_ref = $1", f"account:{account_id}"
        ) == 0  # fmt: skip
        assert await conn.fetchrow("SELECT last_seq, last_hash FROM audit.head") == head_before
        assert (await audit.verify(conn)).ok

        # The same registration without the trigger goes through: one mail, one event.
        await accounts.register(
            accounts.Registration(email, PASSWORD, "Tên", organisation_id=organisation),
            Origin("192.0.2.9"),
            Settings(data_dir=tmp_path),
        )
        assert await conn.fetchval(
            "SELECT count(*) FROM outbox_mail WHERE recipient = $1", email
        ) == 1  # fmt: skip
        assert (await audit.verify(conn)).ok
    finally:
        await conn.close()
