"""Signing in: the password (throttled per account and address), the session, the TOTP
second factor with its enrolment and recovery codes, and signing out. One transaction per
action, audited in it.

Answers never reveal whether an e-mail address has an account: registration and reset say
the same thing either way, and sign-in checks a dummy hash for unknown addresses.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from registry import database
from registry.domain.accounts import (
    ADDRESS_QUIET_RESET,
    Actor,
    Origin,
    backoff,
    identifier_mark,
    new_recovery_codes,
    new_totp_secret,
    normalise_email,
    normalise_recovery_code,
    recovery_code_digests,
    slowdown,
    throttle_key,
    token_digest,
    totp_step,
)
from registry.domain.audit import ANONYMOUS
from registry.domain.errors import Conflict, InvalidInput, TooManyAttempts
from registry.i18n import N_
from registry.services import audit, clock, mail, passwords, sessions, totp_seeds
from registry.settings import Settings

# Sign-in --------------------------------------------------------------------------------------

WRONG_CREDENTIALS = N_("The e-mail address or password is not right.")


async def _throttled_until(keys: list[str]) -> datetime | None:
    return await database.fetchval(
        "SELECT max(blocked_until) FROM login_throttle WHERE key = ANY($1) "
        "AND blocked_until > now()",
        keys,
    )


async def _count_failure(keys: list[str]) -> list[str]:
    """Add one failure to each key; returns the keys this failure blocked. Address keys are
    only counted (they slow sign-ins down, `_address_slowdown`), never blocked."""
    newly_blocked = []
    async with database.connection() as conn:
        for key in keys:
            scope = key.partition(":")[0]
            failures = await conn.fetchval(
                "INSERT INTO login_throttle (key, failures, last_failure_at) "
                "VALUES ($1, 1, now()) ON CONFLICT (key) DO UPDATE SET "
                "failures = CASE WHEN $2::interval IS NOT NULL "
                "AND login_throttle.last_failure_at < now() - $2::interval THEN 1 "
                "ELSE login_throttle.failures + 1 END, last_failure_at = now() "
                "RETURNING failures",
                key,
                ADDRESS_QUIET_RESET if scope == "address" else None,
            )
            delay = None if scope == "address" else backoff(scope, failures)
            if delay is not None:
                await conn.execute(
                    "UPDATE login_throttle SET blocked_until = now() + $2::interval WHERE key = $1",
                    key,
                    delay,
                )
                newly_blocked.append(key)
    return newly_blocked


async def _address_slowdown(address_key: str) -> float:
    failures = await database.fetchval(
        "SELECT failures FROM login_throttle WHERE key = $1 "
        "AND last_failure_at >= now() - $2::interval",
        address_key,
        ADDRESS_QUIET_RESET,
    )
    return slowdown(failures or 0).total_seconds()


def _minutes_left(until: datetime) -> int:
    return max(1, -(-int((until - clock.now()).total_seconds()) // 60))


async def authenticate(email: str, password: str, origin: Origin, settings: Settings) -> int:
    """The account id when the password is right; otherwise a generic error, the same whether
    the account exists or not. Failures count per account and client address together (only
    that address is then refused for a while) and per address (all its sign-ins slow down a
    little, none refused): nobody's failures can keep another person out. What was typed is
    never stored: an address without an account is named by its keyed digest."""
    email = normalise_email(email)
    account = await database.fetchrow(
        "SELECT id, password_hash, email_verified_at IS NOT NULL AS verified, "
        "disabled_at IS NOT NULL AS disabled FROM account WHERE email = $1",
        email,
    )
    subject = (
        f"account:{account['id']}"
        if account
        else identifier_mark(email[:254], settings.resolved_secret_key())
    )
    pair = throttle_key(subject, origin.client_address)
    address = f"address:{origin.client_address or 'unknown'}"
    until = await _throttled_until([pair])
    if until is not None:
        raise TooManyAttempts(
            "Too many failed sign-ins. Try again in %(minutes)s minutes, or reset your password.",
            minutes=_minutes_left(until),
        )
    await asyncio.sleep(await _address_slowdown(address))
    stored = account["password_hash"] if account else None
    if not await passwords.verify_password(stored, password[:1024]):
        async with database.transaction():
            blocked = await _count_failure([pair, address])
            await audit.record(
                "login.locked" if blocked else "login.failed",
                subject if account else f"login:{subject}",
                actor=ANONYMOUS,
                origin=origin,
                after={"blocked": blocked} if blocked else None,
            )
        raise InvalidInput(WRONG_CREDENTIALS, field="password")
    assert account is not None
    if account["disabled"]:
        raise InvalidInput("This account is disabled. Contact the registry's administrators.")
    if not account["verified"]:
        raise InvalidInput(
            "Confirm your e-mail address first: open the link we sent you.", field="email"
        )
    async with database.transaction():
        await database.fetchval("DELETE FROM login_throttle WHERE key = $1 RETURNING id", pair)
        if passwords.needs_rehash(account["password_hash"]):
            await database.fetchval(
                "UPDATE account SET password_hash = $2 WHERE id = $1 RETURNING id",
                account["id"],
                await passwords.hash_password(password),
            )
        await audit.record(
            "login.password_accepted",
            f"account:{account['id']}",
            actor=f"account:{account['id']}",
            origin=origin,
        )
    return account["id"]


async def sign_in(account_id: int, origin: Origin, *, replacing: str | None) -> str:
    """A session after the password: the second factor, where needed, is still to come."""
    async with database.transaction():
        return await sessions.start(
            account_id,
            second_factor_done=False,
            client_address=origin.client_address,
            replacing=replacing,
        )


async def sign_out(token: str, actor: Actor, origin: Origin) -> None:
    async with database.transaction():
        await sessions.end(token)
        await audit.record("logout", actor.ref, actor=actor, origin=origin)


# Second factor --------------------------------------------------------------------------------


async def begin_totp(
    actor: Actor, token: str, settings: Settings, *, replacing: bool = False
) -> str:
    """The secret to enrol in an authenticator app, confirmed by `confirm_totp` (or, to
    replace the one enrolled, `replace_totp`). A new one for each session, kept on the session
    (encrypted) until confirmed: whoever sees it in one session (say, someone else who knew
    the password) can never pass with it later."""
    if actor.totp_enrolled and not replacing:
        raise Conflict("A second factor is already set up for this account.")
    # The same secret for the whole session: the person may have scanned it in another tab.
    sealed = await sessions.offer_totp(token, totp_seeds.seal(settings, new_totp_secret()))
    return totp_seeds.unseal(settings, sealed)


async def confirm_totp(
    actor: Actor, code: str, token: str, origin: Origin, settings: Settings
) -> tuple[str, list[str]]:
    """Check the first code from the authenticator app against the secret this session was
    shown; on success it becomes the account's, recovery codes are issued (shown once) and
    the session is replaced (new id)."""
    if actor.must_choose_password:
        raise Conflict("Choose your own password first.")
    async with database.transaction():
        enrolled = await database.fetchval(
            "SELECT totp_enrolled_at IS NOT NULL FROM account WHERE id = $1 FOR UPDATE",
            actor.account_id,
        )
        offered = await sessions.offered_totp(token, actor.account_id)
        if enrolled is not False:
            raise Conflict("A second factor is already set up for this account.")
        if offered is None:
            raise Conflict("Open the set-up page again: it shows the key to scan.")
        step = totp_step(totp_seeds.unseal(settings, offered), code, clock.now(), None)
        if step is None:
            raise InvalidInput(
                "This code is not right. Check the time on your phone and type the newest "
                "6-digit code.",
                field="code",
            )
        await _enrol(actor.account_id, offered, step)
        codes = await _issue_recovery_codes(actor.account_id)
        new_token = await sessions.start(
            actor.account_id,
            second_factor_done=True,
            client_address=origin.client_address,
            replacing=token,
        )
        await audit.record("totp.enrolled", actor.ref, actor=actor, origin=origin)
    return new_token, codes


async def _enrol(account_id: int, sealed_seed: str, step: int) -> None:
    await database.fetchval(
        "UPDATE account SET totp_secret = $3, totp_enrolled_at = now(), totp_last_step = $2 "
        "WHERE id = $1 RETURNING id",
        account_id,
        step,
        sealed_seed,
    )


async def _issue_recovery_codes(account_id: int) -> list[str]:
    """Ten new recovery codes, shown once; the account's earlier ones stop working."""
    codes = new_recovery_codes()
    async with database.connection() as conn:
        await conn.execute("DELETE FROM recovery_code WHERE account = $1", account_id)
        await conn.executemany(
            "INSERT INTO recovery_code (account, digest) VALUES ($1, $2)",
            [(account_id, token_digest(normalise_recovery_code(c))) for c in codes],
        )
    return codes


async def _require_password(actor: Actor, password: str) -> None:
    """The current password, asked again before the second factor changes: a session left
    open on someone's desk must not be enough to take over the account's factor."""
    stored = await database.fetchval(
        "SELECT password_hash FROM account WHERE id = $1", actor.account_id
    )
    if not await passwords.verify_password(stored, password[:1024]):
        raise InvalidInput("The current password is not right.", field="current_password")


async def _tell_owner(
    actor: Actor, subject: str, body: str, origin: Origin, settings: Settings
) -> None:
    language = await database.fetchval(
        "SELECT language FROM account WHERE id = $1", actor.account_id
    )
    await mail.enqueue(
        actor.email,
        language or "vi",
        subject,
        body,
        {"address": origin.client_address or "?", "url": settings.public_url},
    )


async def renew_recovery_codes(
    actor: Actor, password: str, origin: Origin, settings: Settings
) -> list[str]:
    """New recovery codes for a signed-in person who gives their password; the old ones stop
    working. The owner is told by mail."""
    if not actor.totp_enrolled:
        raise Conflict("Set up a second factor first.")
    await _require_password(actor, password)
    async with database.transaction():
        codes = await _issue_recovery_codes(actor.account_id)
        await _tell_owner(
            actor,
            N_("New Registry recovery codes"),
            N_(
                "New recovery codes were made for your Registry account from the account page "
                "(address %(address)s); the earlier ones no longer work. If this was not you, "
                "reset your password at once at %(url)s/password-reset and tell an administrator."
            ),
            origin,
            settings,
        )
        await audit.record("totp.recovery_codes_renewed", actor.ref, actor=actor, origin=origin)
    return codes


async def replace_totp(
    actor: Actor, password: str, code: str, token: str, origin: Origin, settings: Settings
) -> tuple[str, list[str]]:
    """Move the second factor to a new authenticator app (a new phone): the password, then a
    code from the new app for the secret this session was shown (`begin_totp`). The old app
    and recovery codes stop working, every other session ends, this one is replaced (new id)
    and the owner is told by mail. Returns the new session and the new recovery codes."""
    if not actor.totp_enrolled:
        raise Conflict("Set up a second factor first.")
    await _require_password(actor, password)
    async with database.transaction():
        offered = await sessions.offered_totp(token, actor.account_id)
        if offered is None:
            raise Conflict("Open the set-up page again: it shows the key to scan.")
        step = totp_step(totp_seeds.unseal(settings, offered), code, clock.now(), None)
        if step is None:
            raise InvalidInput(
                "This code is not right. Check the time on your phone and type the newest "
                "6-digit code.",
                field="code",
            )
        await _enrol(actor.account_id, offered, step)
        codes = await _issue_recovery_codes(actor.account_id)
        ended = await sessions.end_all_but(actor.account_id, token)
        new_token = await sessions.start(
            actor.account_id,
            second_factor_done=True,
            client_address=origin.client_address,
            replacing=token,
        )
        await _tell_owner(
            actor,
            N_("Your Registry second factor was replaced"),
            N_(
                "The authenticator app of your Registry account was replaced from the account "
                "page (address %(address)s), new recovery codes were made and every other "
                "sign-in was ended. If this was not you, reset your password at once at "
                "%(url)s/password-reset and tell an administrator."
            ),
            origin,
            settings,
        )
        await audit.record(
            "totp.replaced", actor.ref, actor=actor, origin=origin, after={"sessions_ended": ended}
        )
    return new_token, codes


async def give_second_factor(
    actor: Actor, code: str, token: str, origin: Origin, settings: Settings
) -> str:
    """Accept a TOTP code (each once) or an unused recovery code; returns the new session.
    Wrong codes are throttled like passwords: six digits must not be guessable at speed."""
    throttle = [f"code:{actor.account_id}"]
    until = await _throttled_until(throttle)
    if until is not None:
        raise TooManyAttempts(
            "Too many wrong codes. Try again in %(minutes)s minutes.",
            minutes=_minutes_left(until),
        )
    async with database.transaction():
        row = await database.fetchrow(
            "SELECT totp_secret, totp_last_step FROM account "
            "WHERE id = $1 AND totp_enrolled_at IS NOT NULL FOR UPDATE",
            actor.account_id,
        )
        if row is None:
            raise Conflict("Set up a second factor first.")
        secret = totp_seeds.unseal(settings, row["totp_secret"])
        step = totp_step(secret, code, clock.now(), row["totp_last_step"])
        if step is not None:
            await database.fetchval(
                "UPDATE account SET totp_last_step = $2 WHERE id = $1 RETURNING id",
                actor.account_id,
                step,
            )
            method = "totp"
        else:
            used = await database.fetchval(
                "UPDATE recovery_code SET used_at = now() WHERE id = (SELECT id FROM "
                "recovery_code WHERE account = $1 AND digest = ANY($2) AND used_at IS NULL "
                "LIMIT 1) RETURNING id",
                actor.account_id,
                recovery_code_digests(code),
            )
            method = "recovery_code" if used else None
    if method is None:
        async with database.transaction():
            await _count_failure(throttle)
            await audit.record(
                "login.second_factor_failed",
                actor.ref,
                actor=actor,
                origin=origin,
            )
        raise InvalidInput(
            "This code is not right, or was already used. Type the newest 6-digit code.",
            field="code",
        )
    async with database.transaction():
        await database.fetchval(
            "DELETE FROM login_throttle WHERE key = $1 RETURNING id", throttle[0]
        )
        new_token = await sessions.start(
            actor.account_id,
            second_factor_done=True,
            client_address=origin.client_address,
            replacing=token,
        )
        await audit.record(
            "login.succeeded",
            actor.ref,
            actor=actor,
            origin=origin,
            after={"second_factor": method},
        )
    return new_token
