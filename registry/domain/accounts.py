"""Who may act: roles, the signed-in actor, and the rules for passwords, e-mail, timeouts,
login backoff and one-time codes. Pure: no database, no web."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import pyotp

from registry.domain.errors import InvalidForm, InvalidInput
from registry.domain.identifiers import is_valid_orcid, is_valid_tax_number
from registry.domain.text import nfc


class Role(StrEnum):
    APPLICANT = "applicant"  # scoped to an organisation
    REVIEWER = "reviewer"
    FUND_MANAGER = "fund_manager"  # scoped to a fund
    ADMIN = "admin"


#: Roles that reach other people's proposals or decisions: a second factor is required.
PRIVILEGED = frozenset({Role.REVIEWER, Role.FUND_MANAGER, Role.ADMIN})
#: Roles whose grant names the object it applies to.
SCOPED = {Role.APPLICANT: "organisation", Role.FUND_MANAGER: "fund"}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where and when an action comes from: the audit trail's client address, the language
    of the mail it sends, and the instant its request arrived (`domain.clock`'s rule; None
    when the action starts outside a request, and the clock is read then)."""

    client_address: str | None
    language: str = "vi"
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    scope_id: int | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a request, as their session and grants say."""

    account_id: int
    email: str
    display_name: str
    grants: frozenset[Grant]
    totp_enrolled: bool
    #: The second factor was given in this session (or the account has none to give).
    second_factor_done: bool
    #: The password was chosen by someone else (`registry create-user`): the person must
    #: choose their own before anything else.
    must_choose_password: bool = False

    def has(self, role: Role) -> bool:
        return any(grant.role == role for grant in self.grants)

    def scopes(self, role: Role) -> frozenset[int]:
        return frozenset(
            g.scope_id for g in self.grants if g.role == role and g.scope_id is not None
        )

    @property
    def needs_second_factor(self) -> bool:
        return self.totp_enrolled or any(g.role in PRIVILEGED for g in self.grants)

    @property
    def second_factor_due(self) -> bool:
        """An enrolled second factor not yet given in this session: it comes before anything,
        even choosing a password (the password alone must not change a protected account)."""
        return self.totp_enrolled and not self.second_factor_done

    @property
    def fully_signed_in(self) -> bool:
        """Password (one the person chose) and, where required, an enrolled and given second
        factor."""
        return not self.must_choose_password and (
            not self.needs_second_factor or (self.totp_enrolled and self.second_factor_done)
        )

    @property
    def ref(self) -> str:
        return f"account:{self.account_id}"


# Sessions ------------------------------------------------------------------------------------

APPLICANT_IDLE = timedelta(minutes=30)
PRIVILEGED_IDLE = timedelta(minutes=15)
ABSOLUTE_LIFETIME = timedelta(hours=12)


def idle_timeout(roles: set[Role] | frozenset[Role]) -> timedelta:
    """Reviewers and managers hold other people's work: their sessions expire sooner."""
    return PRIVILEGED_IDLE if roles & PRIVILEGED else APPLICANT_IDLE


# Passwords -----------------------------------------------------------------------------------

PASSWORD_MIN = 12
PASSWORD_MAX = 128
_COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")


@cache
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords (list from Django, BSD licence), lower-cased."""
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, *, email: str = "") -> InvalidInput | None:
    """Why a new password cannot be used, or None. Length only, no composition rules
    (NIST SP 800-63B); compared as typed, never truncated or case-folded when stored."""
    if len(password) < PASSWORD_MIN:
        return InvalidInput(
            "Use at least %(count)s characters.", field="password", count=PASSWORD_MIN
        )
    if len(password) > PASSWORD_MAX:
        return InvalidInput(
            "Use at most %(count)s characters.", field="password", count=PASSWORD_MAX
        )
    if _easy_to_guess(password.lower(), email.partition("@")[0].lower()):
        return InvalidInput(
            "This password is too easy to guess. Try a few unrelated words.", field="password"
        )
    return None


def _easy_to_guess(lowered: str, local_part: str) -> bool:
    """On the common list, a common password repeated or followed by digits and signs
    ("password2026!"), very few distinct characters, or the person's own address."""
    common = common_passwords()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    for size in range(1, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered == lowered[:size] * (len(lowered) // size):
            stem = min(stem, lowered[:size], key=len)
            break
    return (
        lowered in common
        or stem in common
        or len(stem) < 4
        or len(set(lowered)) < 5
        or (len(local_part) >= 4 and local_part in lowered)
    )


# E-mail --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_email(value: str) -> str:
    return nfc(value).strip().lower()


def email_problem(email: str) -> InvalidInput | None:
    if not email:
        return InvalidInput("Enter your e-mail address.", field="email")
    if len(email) > 254 or not _EMAIL.match(email):
        return InvalidInput("Enter an e-mail address like name@example.vn.", field="email")
    return None


NAME_MAX = 200


def display_name_problem(name: str) -> InvalidInput | None:
    if not name:
        return InvalidInput("Enter your name.", field="display_name")
    if len(name) > NAME_MAX:
        return InvalidInput(
            "Use at most %(count)s characters.", field="display_name", count=NAME_MAX
        )
    return None


def orcid_problem(orcid: str) -> InvalidInput | None:
    """An ORCID iD is optional; when given, its check digit must hold."""
    if orcid and not is_valid_orcid(orcid):
        return InvalidInput(
            "This ORCID iD is not valid (format 0000-0002-1825-0097).", field="orcid"
        )
    return None


ORGANISATION_NAME_MAX = 300
ADDRESS_MAX = 500


def organisation_request_problems(
    name: str, tax_number: str, address: str
) -> list[InvalidInput | None]:
    """What is wrong with a request for a new organisation: the administrator checks the name
    against the tax number and address, so all three are needed."""
    return [
        InvalidInput("Enter the organisation's full name.", field="org_name")
        if not name
        else InvalidInput(
            "Use at most %(count)s characters.", field="org_name", count=ORGANISATION_NAME_MAX
        )
        if len(name) > ORGANISATION_NAME_MAX
        else None,
        None
        if is_valid_tax_number(tax_number)
        else InvalidInput(
            "Enter the tax number: 10 digits, or 13 for a branch (0101234567-001).",
            field="org_tax_number",
        ),
        InvalidInput("Enter the organisation's address.", field="org_address")
        if not address
        else InvalidInput(
            "Use at most %(count)s characters.", field="org_address", count=ADDRESS_MAX
        )
        if len(address) > ADDRESS_MAX
        else None,
    ]


class EndReason(StrEnum):
    """Why someone else's action ended a person's sessions; the sign-in page says it."""

    ROLE_CHANGED = "role_changed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a password)


def raise_problems(*problems: InvalidInput | None) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise InvalidForm(found)


# Login backoff -------------------------------------------------------------------------------

#: Failures allowed before each further one is refused for a while. "account" counts one
#: account's failures from one client address (the key names both), so only the address that
#: failed waits: nobody elsewhere can keep the owner out. "code" counts wrong second-factor
#: codes of one account.
FREE_FAILURES = {"account": 5, "code": 5}
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(minutes=15)


def backoff(scope: str, failures: int) -> timedelta | None:
    """How long to refuse attempts after `failures` consecutive failures: doubling from 30 s,
    never more than 15 min. Never a permanent lock, so nobody can lock another person out for
    good by guessing wrong on purpose (and password reset still works meanwhile)."""
    extra = failures - FREE_FAILURES[scope]
    if extra <= 0:
        return None
    return min(FIRST_DELAY * 2 ** min(extra - 1, 16), LONGEST_DELAY)


#: Failures from one client address, over all accounts, before its sign-ins are slowed down.
#: Only slowed, never refused: offices, universities and every client behind a load balancer
#: that hides addresses share one, and their right passwords must keep working.
ADDRESS_FREE_FAILURES = 20
#: An address's count starts again after this long without failures, so old typos are forgotten.
#: The per-account count ends only with a success (or a password reset).
ADDRESS_QUIET_RESET = timedelta(hours=1)
FIRST_SLOWDOWN = timedelta(milliseconds=250)
LONGEST_SLOWDOWN = timedelta(seconds=4)


def slowdown(address_failures: int) -> timedelta:
    """How long every sign-in from an address waits before its password is checked, after
    that many recent failures there: doubling from 250 ms, never more than 4 s."""
    extra = address_failures - ADDRESS_FREE_FAILURES
    if extra <= 0:
        return timedelta(0)
    return min(FIRST_SLOWDOWN * 2 ** min(extra - 1, 16), LONGEST_SLOWDOWN)


def throttle_key(subject: str, client_address: str | None) -> str:
    """The per-(account, address) key of `backoff("account", ...)`; `subject` is account:<id>
    or the keyed digest of an address that has no account (never the typed text)."""
    return f"account:{subject.removeprefix('account:')}@{client_address or 'unknown'}"


def identifier_mark(typed: str, secret_key: str) -> str:
    """How the audit trail and the throttle name what someone typed as an e-mail address that
    has no account: people type passwords there, and the trail keeps everything for ever. A
    keyed hash (HMAC-SHA-256 with the app's secret key, 80 bits) still tells repeated attempts
    at the same text apart from others, and cannot be reversed by guessing without the key."""
    digest = hmac.new(secret_key.encode(), typed.encode(), hashlib.sha256).hexdigest()
    return f"unknown-{digest[:20]}"


# Mail to other people ------------------------------------------------------------------------

#: Password-reset and "already registered" mails, which anyone may ask for on anyone's behalf:
#: at most this many to one account, and this many asked from one client address, in any
#: `MAIL_WINDOW`. Past either, nothing is sent and the answer stays the same.
MAILS_PER_RECIPIENT = 5
MAILS_PER_REQUESTER = 50
MAIL_WINDOW = timedelta(hours=1)


# One-time codes ------------------------------------------------------------------------------

TOTP_ISSUER = "Registry"
RECOVERY_CODES = 10


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, at: datetime, last_step: int | None) -> int | None:
    """The 30-second step `code` belongs to (one step of clock drift either way), or None.
    A step at or before `last_step` is refused: each code works once."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for step in (now_step - 1, now_step, now_step + 1):
        if (last_step is None or step > last_step) and secrets.compare_digest(
            totp.generate_otp(step), code
        ):
            return step
    return None


_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
#: 24 letters of 31: 118 bits, so a stolen SHA-256 digest cannot be reversed by trying codes
#: (NIST SP 800-63B asks 112 bits of a secret kept as a fast hash).
RECOVERY_CODE_GROUPS = 6


def new_recovery_codes() -> list[str]:
    return [
        "-".join(
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4))
            for _ in range(RECOVERY_CODE_GROUPS)
        )
        for _ in range(RECOVERY_CODES)
    ]


def token_digest(token: str) -> str:
    """What is stored for a session id, link token or recovery code: a leaked table cannot
    be replayed. These tokens are random and long, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    """The letters of a code as people type them: with or without dashes or spaces, in any
    case. The stored digest is of this form."""
    return "".join(ch for ch in code.lower() if ch.isascii() and ch.isalnum())


def recovery_code_digests(code: str) -> list[str]:
    """The digests `code` may be stored under: its letters, or, for codes issued before
    dashes were optional (three groups of four), the dashed form they were stored in."""
    letters = normalise_recovery_code(code)
    digests = [token_digest(letters)]
    if len(letters) == 12:
        digests.append(token_digest("-".join(letters[i : i + 4] for i in range(0, 12, 4))))
    return digests
