"""Accounts: registration, e-mail verification, password reset, accounts made from the
command line, and the profile. Signing in is `sign_in.py`; roles are `people.py`. One
transaction per action, audited in it.

Answers never reveal whether an e-mail address has an account: registration and reset say
the same thing either way, and sign-in checks a dummy hash for unknown addresses.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import timedelta

from registry import database
from registry.domain.accounts import (
    MAILS_PER_RECIPIENT,
    MAILS_PER_REQUESTER,
    SCOPED,
    Actor,
    EndReason,
    Origin,
    Role,
    display_name_problem,
    email_problem,
    normalise_email,
    orcid_problem,
    organisation_request_problems,
    password_problem,
    raise_problems,
    token_digest,
)
from registry.domain.audit import ANONYMOUS
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.domain.reviews import KEYWORDS_MAX
from registry.domain.text import clean
from registry.i18n import N_
from registry.services import audit, mail, mail_quota, onboarding, passwords, queue, sessions
from registry.settings import Settings

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 (a token purpose, not a secret)
TOKEN_LIFETIME = {VERIFY_EMAIL: timedelta(hours=48), RESET_PASSWORD: timedelta(hours=1)}


async def _issue_token(account_id: int, purpose: str, path: str, settings: Settings) -> mail.Link:
    """A single-use link for a mail: only its token's digest is stored, and the token itself
    is made when the mail is sent (services.mail.Link), so nothing here can be replayed."""
    link = mail.new_link(path)
    token = mail.link_token(settings, link.nonce)
    await database.fetchval(
        "INSERT INTO account_token (account, purpose, digest, expires_at) "
        "VALUES ($1, $2, $3, now() + $4::interval) RETURNING id",
        account_id,
        purpose,
        token_digest(token),
        TOKEN_LIFETIME[purpose],
    )
    return link


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
    #: An organisation the registry does not list yet, for an administrator to check.
    new_organisation: onboarding.NewOrganisation | None = None


async def _may_mail_existing(email: str, origin: Origin) -> bool:
    """Whether the quotas of the client address and of the account allow one more mail that
    someone else asked for."""
    existing = await database.fetchval("SELECT id FROM account WHERE email = $1", email)
    return await mail_quota.take(
        mail_quota.requester_key(origin.client_address), MAILS_PER_REQUESTER
    ) and await mail_quota.take(mail_quota.recipient_key(existing), MAILS_PER_RECIPIENT)


async def register(form: Registration, origin: Origin, settings: Settings) -> None:
    """Create an unverified account and mail a verification link. For an address that already
    has an account, mail its owner instead; the caller sees the same answer either way."""
    email = normalise_email(form.email)
    name = clean(form.display_name)
    orcid = form.orcid.strip()
    new_organisation = form.new_organisation and form.new_organisation.cleaned()
    raise_problems(
        email_problem(email),
        display_name_problem(name),
        password_problem(form.password, email=email),
        orcid_problem(orcid),
        *(organisation_request_problems(*astuple(new_organisation)) if new_organisation else ()),
        InvalidInput(
            "Choose an organisation from the list or ask for a new one, not both.",
            field="organisation",
        )
        if new_organisation and form.organisation_id is not None
        else None,
    )
    if form.organisation_id is not None:
        known = await database.fetchval(
            "SELECT 1 FROM organisation WHERE id = $1", form.organisation_id
        )
        if not known:
            raise InvalidInput("Choose an organisation from the list.", field="organisation")
    password_hash = await passwords.hash_password(form.password)
    async with database.transaction():
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
            if not await _may_mail_existing(email, origin):
                return
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
        if new_organisation:
            await onboarding.insert_request(account_id, new_organisation, origin)
        link = await _issue_token(account_id, VERIFY_EMAIL, "/verify-email?token=", settings)
        await mail.enqueue(
            email,
            origin.language,
            N_("Confirm your e-mail address"),
            N_(
                "Welcome to the Registry. To confirm your e-mail address, open this link "
                "within 48 hours:\n\n%(link)s\n\nIf you did not register, ignore this message."
            ),
            {"link": link},
        )
        await audit.record(
            "account.registered",
            f"account:{account_id}",
            actor=ANONYMOUS,
            origin=origin,
            after={"organisation": form.organisation_id},
        )


async def confirm_email(token: str, origin: Origin) -> None:
    async with database.transaction():
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
            origin=origin,
        )


# Password reset -------------------------------------------------------------------------------


async def ask_password_reset(email: str, origin: Origin) -> None:
    """Answer a reset request. The same work whether the address has an account or not, so
    the time taken tells nothing: count the request against the client address and queue the
    lookup and the mail (`request_password_reset`, in a job). Past the address's quota,
    nothing is queued, silently."""
    email = normalise_email(email)
    raise_problems(email_problem(email))
    async with database.transaction():
        if not await mail_quota.take(
            mail_quota.requester_key(origin.client_address), MAILS_PER_REQUESTER
        ):
            return
        async with database.connection() as conn:
            await queue.defer(
                conn,
                queue.MAIL_QUEUE,
                queue.PASSWORD_RESET,
                email=email,
                language=origin.language,
                client_address=origin.client_address,
            )


async def request_password_reset(email: str, origin: Origin, settings: Settings) -> None:
    """Mail a single-use link valid for one hour (run in a job, after the answer, so it may
    take its time); nothing for unknown addresses, nor past the account's mail quota. Works
    while sign-in is throttled, so nobody can keep the owner out by failing on purpose."""
    async with database.transaction():
        account = await database.fetchrow(
            "SELECT id, language FROM account WHERE email = $1 AND disabled_at IS NULL", email
        )
        if account is None or not await mail_quota.take(
            mail_quota.recipient_key(account["id"]), MAILS_PER_RECIPIENT
        ):
            return
        link = await _issue_token(
            account["id"], RESET_PASSWORD, "/password-reset/confirm?token=", settings
        )
        await mail.enqueue(
            email,
            account["language"],
            N_("Reset your Registry password"),
            N_(
                "To choose a new password, open this link within one hour:\n\n%(link)s\n\n"
                "The link works once. If you did not ask for it, ignore this message: your "
                "password stays as it is."
            ),
            {"link": link},
        )
        await audit.record(
            "password.reset_requested",
            f"account:{account['id']}",
            actor=ANONYMOUS,
            origin=origin,
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
    async with database.transaction():
        account_id = await _use_token(token, RESET_PASSWORD)
        await database.fetchval(
            "UPDATE account SET password_hash = $2, must_choose_password = false, "
            "email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1 RETURNING id",
            account_id,
            password_hash,
        )
        await sessions.end_all(account_id, EndReason.PASSWORD_CHANGED)
        await database.execute(  # the account's waits at every address end
            "DELETE FROM login_throttle WHERE key LIKE 'account:' || $1::text || '@%'",
            str(account_id),
        )
        await audit.record(
            "password.reset",
            f"account:{account_id}",
            actor=f"account:{account_id}",
            origin=origin,
        )


# Administration -------------------------------------------------------------------------------


async def create_user(
    email: str, password: str, display_name: str, roles: list[Role], *, fund_code: str = ""
) -> int:
    """Bootstrap from the command line: a verified account with `roles`; a fund manager's role
    names its fund by code (applicants ask to join an organisation on the site). Whoever typed
    the password may not be the person: they choose their own at the first sign-in
    (`choose_first_password`), before anything else."""
    email = normalise_email(email)
    raise_problems(email_problem(email), password_problem(password, email=email))
    fund_id = None
    for role in roles:
        if role == Role.FUND_MANAGER:
            fund_id = await database.fetchval("SELECT id FROM fund WHERE code = $1", fund_code)
            if fund_id is None:
                raise InvalidInput(
                    "A fund manager needs the code of an existing fund (--fund CODE).",
                    field="fund",
                )
        elif role in SCOPED:
            raise InvalidInput(
                "The role %(role)s needs an organisation or fund; grant it on the site.",
                role=role.value,
            )
    password_hash = await passwords.hash_password(password)
    async with database.transaction():
        account_id = await database.fetchval(
            "INSERT INTO account (email, display_name, password_hash, email_verified_at, "
            "must_choose_password) VALUES ($1, $2, $3, now(), true) "
            "ON CONFLICT (email) DO NOTHING RETURNING id",
            email,
            clean(display_name) or email,
            password_hash,
        )
        if account_id is None:
            raise Conflict("An account with this e-mail address already exists.")
        for role in roles:
            await database.fetchval(
                "INSERT INTO account_role (account, role, fund) VALUES ($1, $2, $3) RETURNING id",
                account_id,
                role.value,
                fund_id if role == Role.FUND_MANAGER else None,
            )
        await audit.record(
            "account.created",
            f"account:{account_id}",
            actor="system:cli",
            after={"roles": sorted(r.value for r in roles), "fund": fund_id},
        )
    return account_id


NOT_YOUR_OWN = N_("Choose a password other than the one you were given.")


async def choose_first_password(actor: Actor, password: str, origin: Origin) -> str:
    """Replace the password someone else chose for this account; every session of the
    account ends (one may have been opened by whoever knew the old password) and a new one
    starts, with the second factor as it was. Returns the new session."""
    if not actor.must_choose_password or actor.second_factor_due:
        raise Conflict("Your password is already your own.")
    raise_problems(password_problem(password, email=actor.email))
    current = await database.fetchval(
        "SELECT password_hash FROM account WHERE id = $1", actor.account_id
    )
    if await passwords.verify_password(current, password[:1024]):
        raise InvalidInput(NOT_YOUR_OWN, field="password")
    password_hash = await passwords.hash_password(password)
    async with database.transaction():
        changed = await database.fetchval(
            "UPDATE account SET password_hash = $2, must_choose_password = false "
            "WHERE id = $1 AND must_choose_password RETURNING id",
            actor.account_id,
            password_hash,
        )
        if changed is None:
            raise Conflict("Your password is already your own.")
        await sessions.end_all(actor.account_id)
        token = await sessions.start(
            actor.account_id,
            second_factor_done=actor.second_factor_done,
            client_address=origin.client_address,
        )
        await audit.record("password.first_chosen", actor.ref, actor=actor, origin=origin)
    return token


# Profile --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    display_name: str
    orcid: str
    #: Declared fields of expertise: technology ids (reviewers are matched on them).
    expertise: frozenset[int]
    #: Reviewers' keywords, matched against proposals; None leaves them as they are.
    keywords: str | None = None


async def profile(actor: Actor) -> Profile:
    row = await database.fetchrow(
        "SELECT display_name, coalesce(orcid, '') AS orcid, expertise, keywords "
        "FROM account WHERE id = $1",
        actor.account_id,
    )
    if row is None:
        raise NotFound()
    return Profile(
        row["display_name"], row["orcid"], frozenset(row["expertise"] or ()), row["keywords"]
    )


async def update_profile(actor: Actor, form: Profile, origin: Origin) -> None:
    name = clean(form.display_name)
    orcid = form.orcid.strip()
    keywords = None if form.keywords is None else clean(form.keywords)
    raise_problems(
        display_name_problem(name),
        orcid_problem(orcid),
        InvalidInput("Use at most %(count)s characters.", field="keywords", count=KEYWORDS_MAX)
        if keywords is not None and len(keywords) > KEYWORDS_MAX
        else None,
    )
    known = await database.fetchval(
        "SELECT count(*) FROM technology WHERE id = ANY($1::int[])", sorted(form.expertise)
    )
    if known != len(form.expertise):
        raise InvalidInput("Choose fields from the list.", field="expertise")
    async with database.transaction():
        before = await profile(actor)
        await database.fetchval(
            "UPDATE account SET display_name = $2, orcid = $3, expertise = $4::int[], "
            "keywords = coalesce($5, keywords) WHERE id = $1 RETURNING id",
            actor.account_id,
            name,
            orcid or None,
            sorted(form.expertise),
            keywords,
        )
        await audit.record(
            "account.profile_changed",
            actor.ref,
            actor=actor,
            origin=origin,
            before={
                "orcid": before.orcid or None,
                "expertise": sorted(before.expertise),
                "keywords": before.keywords,
            },
            after={
                "orcid": orcid or None,
                "expertise": sorted(form.expertise),
                "keywords": before.keywords if keywords is None else keywords,
            },
        )


# Password change ------------------------------------------------------------------------------


async def change_password(
    actor: Actor,
    current_password: str,
    new_password: str,
    token: str,
    origin: Origin,
    settings: Settings,
) -> int:
    """Replace a signed-in person's password: the current one first (a borrowed or stolen
    session is not enough), then the usual rules for the new one. Every other session of the
    account ends (this one, `token`, stays) and the owner is told by mail, so a change they
    did not make does not go unnoticed. Returns how many sessions ended."""
    account = await database.fetchrow(
        "SELECT email, language, password_hash FROM account WHERE id = $1", actor.account_id
    )
    if account is None:
        raise NotFound()
    if not await passwords.verify_password(account["password_hash"], current_password):
        raise InvalidInput("The current password is not right.", field="current_password")
    raise_problems(password_problem(new_password, email=account["email"]))
    password_hash = await passwords.hash_password(new_password)
    async with database.transaction():
        await database.fetchval(
            "UPDATE account SET password_hash = $2 WHERE id = $1 RETURNING id",
            actor.account_id,
            password_hash,
        )
        ended = await sessions.end_all_but(actor.account_id, token, EndReason.PASSWORD_CHANGED)
        await mail.enqueue(
            account["email"],
            account["language"],
            N_("Your Registry password was changed"),
            N_(
                "The password of your Registry account was changed from the account page "
                "(address %(address)s), and every other sign-in was ended. If this was not "
                "you, reset your password at once at %(url)s/password-reset and tell an "
                "administrator."
            ),
            {"address": origin.client_address or "?", "url": settings.public_url},
        )
        await audit.record(
            "password.changed",
            actor.ref,
            actor=actor,
            origin=origin,
            after={"other_sessions_ended": ended},
        )
    return ended
