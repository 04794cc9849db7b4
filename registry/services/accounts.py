"""Accounts: registration, e-mail verification, sign-in with throttling, password reset,
the TOTP second factor, and role grants. One transaction per action, audited in it.

Answers never reveal whether an e-mail address has an account: registration and reset say
the same thing either way, and sign-in checks a dummy hash for unknown addresses.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from registry import database
from registry.domain.accounts import (
    ADDRESS_QUIET_RESET,
    SCOPED,
    Actor,
    Role,
    backoff,
    display_name_problem,
    email_problem,
    new_recovery_codes,
    new_totp_secret,
    normalise_email,
    normalise_recovery_code,
    orcid_problem,
    password_problem,
    raise_problems,
    token_digest,
    totp_step,
)
from registry.domain.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from registry.domain.text import clean
from registry.i18n import N_
from registry.services import audit, mail, passwords, sessions
from registry.settings import Settings

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 (a token purpose, not a secret)
TOKEN_LIFETIME = {VERIFY_EMAIL: timedelta(hours=48), RESET_PASSWORD: timedelta(hours=1)}
ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an action comes from: for the audit trail and the language of mail."""

    client_address: str | None
    language: str = "vi"


def _transaction():  # type: ignore[no-untyped-def]
    return database.engine().transaction()


async def _issue_token(account_id: int, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    await database.fetchval(
        "INSERT INTO account_token (account, purpose, digest, expires_at) "
        "VALUES ($1, $2, $3, now() + $4::interval) RETURNING id",
        account_id,
        purpose,
        token_digest(token),
        TOKEN_LIFETIME[purpose],
    )
    return token


async def _use_token(token: str, purpose: str) -> int:
    """Mark a link token used and return its account; refuse used or expired ones."""
    account_id = await database.fetchval(
        "UPDATE account_token SET used_at = now() WHERE digest = $1 AND purpose = $2 "
        "AND used_at IS NULL AND expires_at > now() RETURNING account",
        token_digest(token.strip()),
        purpose,
    )
    if account_id is None:
        raise Conflict("This link has expired or was already used. Ask for a new one.")
    return account_id


# Registration ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registration:
    email: str
    password: str
    display_name: str
    organisation_id: int | None = None
    orcid: str = ""


async def register(form: Registration, origin: Origin, settings: Settings) -> None:
    """Create an unverified account and mail a verification link. For an address that already
    has an account, mail its owner instead; the caller sees the same answer either way."""
    email = normalise_email(form.email)
    name = clean(form.display_name)
    orcid = form.orcid.strip()
    raise_problems(
        email_problem(email),
        display_name_problem(name),
        password_problem(form.password, email=email),
        orcid_problem(orcid),
    )
    if form.organisation_id is not None:
        known = await database.fetchval(
            "SELECT 1 FROM organisation WHERE id = $1", form.organisation_id
        )
        if not known:
            raise InvalidInput("Choose an organisation from the list.", field="organisation")
    password_hash = await passwords.hash_password(form.password)
    async with _transaction():
        account_id = await database.fetchval(
            "INSERT INTO account (email, display_name, password_hash, organisation, orcid, "
            "language) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (email) DO NOTHING RETURNING id",
            email,
            name,
            password_hash,
            form.organisation_id,
            orcid or None,
            origin.language,
        )
        if account_id is None:
            await mail.enqueue(
                email,
                origin.language,
                N_("Someone tried to register with your address"),
                N_(
                    "Someone (perhaps you) tried to create a Registry account with this "
                    "address, which already has one. To sign in, go to %(url)s/login. If you "
                    "forgot your password, reset it at %(url)s/password-reset. If it was not "
                    "you, you can ignore this message."
                ),
                {"url": settings.public_url},
            )
            return
        if form.organisation_id is not None:
            # Membership counts only once an administrator confirms it.
            await database.fetchval(
                "INSERT INTO account_role (account, role, organisation, pending) "
                "VALUES ($1, 'applicant', $2, true) RETURNING id",
                account_id,
                form.organisation_id,
            )
        token = await _issue_token(account_id, VERIFY_EMAIL)
        await mail.enqueue(
            email,
            origin.language,
            N_("Confirm your e-mail address"),
            N_(
                "Welcome to the Registry. To confirm your e-mail address, open this link "
                "within 48 hours:\n\n%(link)s\n\nIf you did not register, ignore this message."
            ),
            {"link": f"{settings.public_url}/verify-email?token={token}"},
        )
        await audit.record(
            "account.registered",
            f"account:{account_id}",
            actor=ANONYMOUS,
            client_address=origin.client_address,
            after={"organisation": form.organisation_id},
        )


async def confirm_email(token: str, origin: Origin) -> None:
    async with _transaction():
        account_id = await _use_token(token, VERIFY_EMAIL)
        await database.fetchval(
            "UPDATE account SET email_verified_at = coalesce(email_verified_at, now()) "
            "WHERE id = $1 RETURNING id",
            account_id,
        )
        await audit.record(
            "account.email_verified",
            f"account:{account_id}",
            actor=f"account:{account_id}",
            client_address=origin.client_address,
        )


# Sign-in --------------------------------------------------------------------------------------

WRONG_CREDENTIALS = N_("The e-mail address or password is not right.")


async def _throttled_until(keys: list[str]) -> datetime | None:
    return await database.fetchval(
        "SELECT max(blocked_until) FROM login_throttle WHERE key = ANY($1) "
        "AND blocked_until > now()",
        keys,
    )


async def _count_failure(keys: list[str]) -> list[str]:
    """Add one failure to each key; returns the keys this failure blocked."""
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
            delay = backoff(scope, failures)
            if delay is not None:
                await conn.execute(
                    "UPDATE login_throttle SET blocked_until = now() + $2::interval WHERE key = $1",
                    key,
                    delay,
                )
                newly_blocked.append(key)
    return newly_blocked


def _minutes_left(until: datetime) -> int:
    return max(1, -(-int((until - datetime.now(UTC)).total_seconds()) // 60))


async def authenticate(email: str, password: str, origin: Origin) -> int:
    """The account id when the password is right; otherwise a generic error, counted against
    both the address and the client. Throttled callers are refused before the hash is
    checked, with the same answer whether the account exists or not."""
    email = normalise_email(email)
    keys = [f"account:{email[:254]}", f"address:{origin.client_address or 'unknown'}"]
    until = await _throttled_until(keys)
    if until is not None:
        raise TooManyAttempts(
            "Too many failed sign-ins. Try again in %(minutes)s minutes, or reset your password.",
            minutes=_minutes_left(until),
        )
    account = await database.fetchrow(
        "SELECT id, password_hash, email_verified_at IS NOT NULL AS verified, "
        "disabled_at IS NOT NULL AS disabled FROM account WHERE email = $1",
        email,
    )
    stored = account["password_hash"] if account else None
    if not await passwords.verify_password(stored, password[:1024]):
        async with _transaction():
            blocked = await _count_failure(keys)
            subject = f"account:{account['id']}" if account else f"login:{email}"
            await audit.record(
                "login.locked" if blocked else "login.failed",
                subject,
                actor=ANONYMOUS,
                client_address=origin.client_address,
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
    async with _transaction():
        await database.fetchval("DELETE FROM login_throttle WHERE key = $1 RETURNING id", keys[0])
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
            client_address=origin.client_address,
        )
    return account["id"]


async def sign_in(account_id: int, origin: Origin, *, replacing: str | None) -> str:
    """A session after the password: the second factor, where needed, is still to come."""
    async with _transaction():
        return await sessions.start(
            account_id,
            second_factor_done=False,
            client_address=origin.client_address,
            replacing=replacing,
        )


async def sign_out(token: str, actor: Actor, origin: Origin) -> None:
    async with _transaction():
        await sessions.end(token)
        await audit.record(
            "logout", actor.ref, actor=actor.ref, client_address=origin.client_address
        )


# Second factor --------------------------------------------------------------------------------


async def begin_totp(actor: Actor) -> str:
    """The secret to enrol in an authenticator app; confirmed by `confirm_totp`."""
    if actor.totp_enrolled:
        raise Conflict("A second factor is already set up for this account.")
    # Keep an unconfirmed secret: the person may have scanned it already in another tab.
    return await database.fetchval(
        "UPDATE account SET totp_secret = coalesce(totp_secret, $2) "
        "WHERE id = $1 AND totp_enrolled_at IS NULL RETURNING totp_secret",
        actor.account_id,
        new_totp_secret(),
    )


async def confirm_totp(
    actor: Actor, code: str, token: str, origin: Origin
) -> tuple[str, list[str]]:
    """Check the first code from the authenticator app; on success the factor is enrolled,
    recovery codes are issued (shown once) and the session is replaced (new id)."""
    async with _transaction():
        row = await database.fetchrow(
            "SELECT totp_secret, totp_enrolled_at FROM account WHERE id = $1 FOR UPDATE",
            actor.account_id,
        )
        if row is None or row["totp_enrolled_at"] is not None or not row["totp_secret"]:
            raise Conflict("A second factor is already set up for this account.")
        step = totp_step(row["totp_secret"], code, datetime.now(UTC), None)
        if step is None:
            raise InvalidInput(
                "This code is not right. Check the time on your phone and type the newest "
                "6-digit code.",
                field="code",
            )
        codes = new_recovery_codes()
        async with database.connection() as conn:
            await conn.execute(
                "UPDATE account SET totp_enrolled_at = now(), totp_last_step = $2 WHERE id = $1",
                actor.account_id,
                step,
            )
            await conn.executemany(
                "INSERT INTO recovery_code (account, digest) VALUES ($1, $2)",
                [(actor.account_id, token_digest(normalise_recovery_code(c))) for c in codes],
            )
        new_token = await sessions.start(
            actor.account_id,
            second_factor_done=True,
            client_address=origin.client_address,
            replacing=token,
        )
        await audit.record(
            "totp.enrolled", actor.ref, actor=actor.ref, client_address=origin.client_address
        )
    return new_token, codes


async def give_second_factor(actor: Actor, code: str, token: str, origin: Origin) -> str:
    """Accept a TOTP code (each once) or an unused recovery code; returns the new session.
    Wrong codes are throttled like passwords: six digits must not be guessable at speed."""
    throttle = [f"code:{actor.account_id}"]
    until = await _throttled_until(throttle)
    if until is not None:
        raise TooManyAttempts(
            "Too many wrong codes. Try again in %(minutes)s minutes.",
            minutes=_minutes_left(until),
        )
    async with _transaction():
        row = await database.fetchrow(
            "SELECT totp_secret, totp_last_step FROM account "
            "WHERE id = $1 AND totp_enrolled_at IS NOT NULL FOR UPDATE",
            actor.account_id,
        )
        if row is None:
            raise Conflict("Set up a second factor first.")
        step = totp_step(row["totp_secret"], code, datetime.now(UTC), row["totp_last_step"])
        if step is not None:
            await database.fetchval(
                "UPDATE account SET totp_last_step = $2 WHERE id = $1 RETURNING id",
                actor.account_id,
                step,
            )
            method = "totp"
        else:
            used = await database.fetchval(
                "UPDATE recovery_code SET used_at = now() WHERE account = $1 AND digest = $2 "
                "AND used_at IS NULL RETURNING id",
                actor.account_id,
                token_digest(normalise_recovery_code(code)),
            )
            method = "recovery_code" if used else None
    if method is None:
        async with _transaction():
            await _count_failure(throttle)
            await audit.record(
                "login.second_factor_failed",
                actor.ref,
                actor=actor.ref,
                client_address=origin.client_address,
            )
        raise InvalidInput(
            "This code is not right, or was already used. Type the newest 6-digit code.",
            field="code",
        )
    async with _transaction():
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
            actor=actor.ref,
            client_address=origin.client_address,
            after={"second_factor": method},
        )
    return new_token


# Password reset -------------------------------------------------------------------------------


async def request_password_reset(email: str, origin: Origin, settings: Settings) -> None:
    """Mail a single-use link valid for one hour; the same answer for unknown addresses.
    Works while sign-in is throttled, so nobody can keep the owner out by failing on purpose."""
    email = normalise_email(email)
    raise_problems(email_problem(email))
    async with _transaction():
        account = await database.fetchrow(
            "SELECT id, language FROM account WHERE email = $1 AND disabled_at IS NULL", email
        )
        if account is None:
            return
        token = await _issue_token(account["id"], RESET_PASSWORD)
        await mail.enqueue(
            email,
            account["language"],
            N_("Reset your Registry password"),
            N_(
                "To choose a new password, open this link within one hour:\n\n%(link)s\n\n"
                "The link works once. If you did not ask for it, ignore this message: your "
                "password stays as it is."
            ),
            {"link": f"{settings.public_url}/password-reset/confirm?token={token}"},
        )
        await audit.record(
            "password.reset_requested",
            f"account:{account['id']}",
            actor=ANONYMOUS,
            client_address=origin.client_address,
        )


async def reset_password(token: str, new_password: str, origin: Origin) -> None:
    """Set a new password; every open session of the account ends and the throttle clears.
    The second factor is still asked at the next sign-in."""
    if not token:
        raise Conflict("This link has expired or was already used. Ask for a new one.")
    email = await database.fetchval(
        "SELECT a.email FROM account_token t JOIN account a ON a.id = t.account "
        "WHERE t.digest = $1",
        token_digest(token.strip()),
    )
    raise_problems(password_problem(new_password, email=email or ""))
    password_hash = await passwords.hash_password(new_password)
    async with _transaction():
        account_id = await _use_token(token, RESET_PASSWORD)
        await database.fetchval(
            "UPDATE account SET password_hash = $2, email_verified_at = "
            "coalesce(email_verified_at, now()) WHERE id = $1 RETURNING id",
            account_id,
            password_hash,
        )
        await sessions.end_all(account_id)
        await database.fetchval(
            "DELETE FROM login_throttle WHERE key = $1 RETURNING id", f"account:{email}"
        )
        await audit.record(
            "password.reset",
            f"account:{account_id}",
            actor=f"account:{account_id}",
            client_address=origin.client_address,
        )


# Administration -------------------------------------------------------------------------------


async def create_user(email: str, password: str, display_name: str, roles: list[Role]) -> int:
    """Bootstrap from the command line: a verified account with `roles` (unscoped ones only)."""
    email = normalise_email(email)
    raise_problems(email_problem(email), password_problem(password, email=email))
    for role in roles:
        if role in SCOPED:
            raise InvalidInput(
                "The role %(role)s needs an organisation or fund; grant it on the site.",
                role=role.value,
            )
    password_hash = await passwords.hash_password(password)
    async with _transaction():
        account_id = await database.fetchval(
            "INSERT INTO account (email, display_name, password_hash, email_verified_at) "
            "VALUES ($1, $2, $3, now()) ON CONFLICT (email) DO NOTHING RETURNING id",
            email,
            clean(display_name) or email,
            password_hash,
        )
        if account_id is None:
            raise Conflict("An account with this e-mail address already exists.")
        for role in roles:
            await database.fetchval(
                "INSERT INTO account_role (account, role) VALUES ($1, $2) RETURNING id",
                account_id,
                role.value,
            )
        await audit.record(
            "account.created",
            f"account:{account_id}",
            actor="system:cli",
            client_address=None,
            after={"roles": sorted(r.value for r in roles)},
        )
    return account_id


def require_admin(actor: Actor) -> None:
    # Guards check this before the handler runs; repeated here so no caller can forget.
    if not actor.has(Role.ADMIN) or not actor.fully_signed_in:
        raise NotFound("Nothing is published at this address.")


# Profile --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    display_name: str
    orcid: str
    #: Declared fields of expertise: technology ids (reviewers are matched on them).
    expertise: frozenset[int]


async def profile(actor: Actor) -> Profile:
    row = await database.fetchrow(
        "SELECT display_name, coalesce(orcid, '') AS orcid, expertise FROM account WHERE id = $1",
        actor.account_id,
    )
    if row is None:
        raise NotFound("Nothing is published at this address.")
    return Profile(row["display_name"], row["orcid"], frozenset(row["expertise"] or ()))


async def update_profile(actor: Actor, form: Profile, origin: Origin) -> None:
    name = clean(form.display_name)
    orcid = form.orcid.strip()
    raise_problems(display_name_problem(name), orcid_problem(orcid))
    known = await database.fetchval(
        "SELECT count(*) FROM technology WHERE id = ANY($1::int[])", sorted(form.expertise)
    )
    if known != len(form.expertise):
        raise InvalidInput("Choose fields from the list.", field="expertise")
    async with _transaction():
        before = await profile(actor)
        await database.fetchval(
            "UPDATE account SET display_name = $2, orcid = $3, expertise = $4::int[] "
            "WHERE id = $1 RETURNING id",
            actor.account_id,
            name,
            orcid or None,
            sorted(form.expertise),
        )
        await audit.record(
            "account.profile_changed",
            actor.ref,
            actor=actor.ref,
            client_address=origin.client_address,
            before={"orcid": before.orcid or None, "expertise": sorted(before.expertise)},
            after={"orcid": orcid or None, "expertise": sorted(form.expertise)},
        )
