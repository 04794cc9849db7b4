"""People and how they sign in: accounts, role grants, sessions, one-time tokens, login
throttles and the mail outbox.

Schema only. Secrets are never stored as given: passwords as Argon2id hashes, session ids,
link tokens and recovery codes as SHA-256 digests (`domain.accounts.token_digest`), TOTP
seeds encrypted with a key kept outside the database (`services.totp_seeds`).
"""

from piccolo.columns import (
    Array,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from registry.tables.catalogue import Fund, Organisation


class Account(Table, tablename="account"):
    #: Lower-cased, NFC (domain.accounts.normalise_email).
    email = Varchar(length=254, unique=True)
    display_name = Text()
    password_hash = Text()
    #: The organisation the person says they work for (grants make it count).
    organisation = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.restrict)
    orcid = Varchar(length=19, null=True, default=None)
    #: The language mail is written in: the one the person registered in.
    language = Varchar(length=2, default="vi")
    #: Reviewer's declared fields: technology ids.
    expertise = Array(base_column=Integer(), default=list)
    #: Reviewer's keywords, free text (NFC), matched against proposals for assignment.
    keywords = Text(default="")
    email_verified_at = Timestamptz(null=True, default=None)
    disabled_at = Timestamptz(null=True, default=None)
    #: Made with a password someone else chose (`registry create-user`): the person chooses
    #: their own before anything else.
    must_choose_password = Boolean(default=False)
    #: Encrypted (services.totp_seeds); set only when the person confirmed a code from it.
    totp_secret = Text(null=True, default=None)
    totp_enrolled_at = Timestamptz(null=True, default=None)
    #: The last 30-second step whose code was accepted: a code works once.
    totp_last_step = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AccountRole(Table, tablename="account_role"):
    """One role of one person; applicant grants name an organisation, manager grants a fund."""

    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20)
    organisation = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.cascade)
    fund = ForeignKey(references=Fund, null=True, on_delete=OnDelete.cascade)
    #: Asked for at registration, not yet confirmed by an administrator: grants nothing.
    pending = Boolean(default=False)
    granted_at = Timestamptz(default=TimestamptzNow())


class OrganisationRequest(Table, tablename="organisation_request"):
    """An applicant's request for an organisation the registry does not list yet. An
    administrator checks it (tax number, address) and approves it, which creates the
    organisation (confirmed) and the applicant's membership, or rejects it with a reason."""

    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    #: As the applicant typed them (NFC); the organisation is created from them on approval.
    name = Text()
    #: VN-TIN: 10 digits, or 13 for a branch (domain.accounts.tax_number_problem).
    tax_number = Varchar(length=14)
    address = Text()
    #: pending, approved or rejected.
    state = Varchar(length=10, default="pending")
    organisation = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.set_null)
    #: Why it was rejected, told to the applicant.
    reason = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class EndedSession(Table, tablename="ended_session"):
    """Sessions ended by someone else's action (a role change, a password changed elsewhere),
    kept by digest until they would have expired anyway, so the sign-in page the browser lands
    on can say why it was signed out."""

    digest = Varchar(length=64, unique=True)
    #: domain.accounts.EndReason.
    reason = Varchar(length=20)
    ended_at = Timestamptz(default=TimestamptzNow())


class RecoveryCode(Table, tablename="recovery_code"):
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    digest = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)


class AccountToken(Table, tablename="account_token"):
    """A single-use, expiring link token: e-mail verification or password reset."""

    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    purpose = Varchar(length=20)
    digest = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="web_session"):
    """A signed-in browser. Only signed-in visitors have one; the cookie holds the id, the
    table its digest."""

    digest = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    second_factor_done = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    idle_seconds = Integer()
    client_address = Varchar(length=64, null=True, default=None)
    #: The TOTP seed offered to this session for enrolment (encrypted), until confirmed: a
    #: seed shown to one session is never the one another session enrols.
    totp_offered = Text(null=True, default=None)


class LoginThrottle(Table, tablename="login_throttle"):
    """Consecutive failed logins per account and client address (blocking, backoff), per
    client address (slowing only, slowdown) and wrong second-factor codes per account,
    shared by all processes (domain.accounts). Keys never hold what someone typed."""

    key = Varchar(length=300, unique=True)
    failures = Integer(default=0)
    blocked_until = Timestamptz(null=True, default=None)
    last_failure_at = Timestamptz(default=TimestamptzNow())


class OutboxMail(Table, tablename="outbox_mail"):
    """Mail written in the same transaction as the action that sends it, delivered after."""

    recipient = Varchar(length=254)
    subject = Text()
    #: Links with a token stand here as markers (services.mail.Link): the token is made
    #: only when the mail is sent, so no replayable token is ever stored.
    body = Text()
    #: The links' "path nonce" pairs, in marker order (services.mail.Link).
    links = Array(base_column=Text(), default=list)
    #: Stored files sent with the message, as "sha256 filename" (services.mail.Attachment).
    attachments = Array(base_column=Text(), default=list)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
