"""Configuration, read once from the environment at start and passed down.

Every environment variable the application reads is a field here (and a row in README's table).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAIL_FROM = "Registry <no-reply@registry.localhost>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_DATABASE_ROLE = "registry_app"
#: Where uploaded files are kept (registry.services.storage).
STORAGE_CHOICES = ("postgres", "folder")
#: Stands in for the publisher prefix 360Giving assigns on registration (`360G-` + a code):
#: open data published for real must set GIVING_PREFIX to the assigned one.
DEFAULT_GIVING_PREFIX = "360G-PLACEHOLDER"


class SettingsError(ValueError):
    """A setting has a value the application cannot use."""


def _integer(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _flag(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _fernet_keys(environ: Mapping[str, str], name: str) -> str:
    """Comma-separated Fernet keys (32 bytes, URL-safe base64 each), or empty."""
    raw = environ.get(name, "").strip()
    for key in filter(None, (part.strip() for part in raw.split(","))):
        try:
            decoded = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            decoded = b""
        if len(decoded) != 32:
            raise SettingsError(
                f"{name} must be Fernet keys (32 bytes in URL-safe base64), comma-separated"
            )
    return raw


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, the first when unset."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _giving_prefix(environ: Mapping[str, str]) -> str:
    raw = environ.get("GIVING_PREFIX", "").strip()
    if not raw:
        return DEFAULT_GIVING_PREFIX
    if not raw.startswith("360G-") or len(raw) <= len("360G-"):
        raise SettingsError(f"GIVING_PREFIX must start with 360G- and a code, got {raw!r}")
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    #: PostgreSQL URL; when empty an embedded server is started in `data_dir/pgdata`.
    database_url: str = ""
    #: Folder for local state: the embedded database, the mail outbox, the generated secret key.
    data_dir: Path = Path(".registry")
    host: str = "127.0.0.1"
    port: int = 8000
    #: Development mode: detailed logs on the console (never in pages).
    debug: bool = False
    #: Connections per web process; PostgreSQL's max_connections bounds processes x this.
    database_pool_size: int = 10
    #: How long a request waits for a free database connection before answering 503.
    database_acquire_timeout_ms: int = 5000
    #: The application's own bound on one query (the statement timeout is the server's): a
    #: database that stops answering gives 503 after this long instead of a request that hangs.
    database_query_timeout_ms: int = 6000
    #: Any single web query is cancelled after this long, so a burst of expensive searches
    #: cannot pile up behind each other.
    statement_timeout_ms: int = 3000
    #: Every match is ranked; counts are exact up to this many matches or about 10,000
    #: (services.search.SAMPLE_MIN and SAMPLES), whichever is larger, and estimated from a
    #: sample beyond, labelled "about" (bench/README.md).
    search_candidate_cap: int = 500
    #: Signs CSRF tokens. Empty: a random key is kept in `data_dir/secret_key`, shared by every
    #: process that uses the same data folder.
    secret_key: str = ""
    #: Outgoing mail server (smtp://user:password@host:port, smtps:// for TLS). Empty: mail is
    #: written as .eml files under `data_dir/outbox`.
    smtp_url: str = ""
    #: Sender address of outgoing mail.
    mail_from: str = DEFAULT_MAIL_FROM
    #: Address of the site as users reach it; links in e-mails start with it (never taken from
    #: the request's Host header, which a client controls).
    public_url: str = DEFAULT_PUBLIC_URL
    #: Cookies carry Secure and the __Host- prefix. Browsers accept Secure cookies from
    #: http://localhost and http://127.0.0.1, so only plain-HTTP access from elsewhere needs false.
    secure_cookies: bool = True
    #: The database role the web application's connections act as (SET ROLE); it can insert
    #: into the audit trail but never change or remove an event. Empty: the login role itself.
    database_role: str = DEFAULT_DATABASE_ROLE
    #: Jobs one worker process runs at once (mail waits on SMTP, so a few overlap usefully).
    worker_concurrency: int = 2
    #: Where uploaded files live: `postgres` (every process on any host sees them) or `folder`
    #: (`data_dir/blobs` on this machine's disk: one host only).
    storage: str = "postgres"
    #: Keys TOTP seeds are encrypted with (Fernet keys, comma-separated): the first encrypts,
    #: any decrypts, so a new key goes first and an old one stays until `registry totp
    #: re-encrypt` has run. Empty: one key kept in `data_dir/totp_key`, like the secret key.
    totp_key: str = ""
    #: The PKCS#12 file (key and certificate) decision PDFs are signed with; `{fund}` in the
    #: path becomes the issuing fund's code. Empty: a local test CA and per-fund test
    #: certificates are made under `data_dir/signing` (services.signing), for development.
    signing_pkcs12: str = ""
    #: Passphrase of the PKCS#12 files (empty: unencrypted).
    signing_passphrase: str = ""
    #: PEM file of the CA certificates /verify trusts. Empty: the local test CA (only when
    #: SIGNING_PKCS12 is empty too).
    signing_trust_roots: str = ""
    #: RFC 3161 timestamp authority added to every signature; empty: no timestamp.
    tsa_url: str = ""
    #: The 360Giving publisher prefix every grant id in /api/v1/grants.json starts with.
    giving_prefix: str = DEFAULT_GIVING_PREFIX

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL", "").strip(),
            data_dir=Path(env.get("REGISTRY_DATA_DIR", "").strip() or ".registry"),
            host=env.get("HOST", "").strip() or "127.0.0.1",
            port=_integer(env, "PORT", 8000, minimum=1),
            debug=_flag(env, "DEBUG", default=False),
            database_pool_size=_integer(env, "DATABASE_POOL_SIZE", 10, minimum=1),
            database_acquire_timeout_ms=_integer(
                env, "DATABASE_ACQUIRE_TIMEOUT_MS", 5000, minimum=50
            ),
            database_query_timeout_ms=_integer(env, "DATABASE_QUERY_TIMEOUT_MS", 6000, minimum=100),
            statement_timeout_ms=_integer(env, "STATEMENT_TIMEOUT_MS", 3000, minimum=100),
            search_candidate_cap=_integer(env, "SEARCH_CANDIDATE_CAP", 500, minimum=100),
            secret_key=env.get("SECRET_KEY", "").strip(),
            smtp_url=env.get("SMTP_URL", "").strip(),
            mail_from=env.get("MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM,
            public_url=(env.get("PUBLIC_URL", "").strip() or _local_url(env)).rstrip("/"),
            secure_cookies=_flag(env, "SECURE_COOKIES", default=True),
            database_role=env.get("DATABASE_ROLE", DEFAULT_DATABASE_ROLE).strip(),
            worker_concurrency=_integer(env, "WORKER_CONCURRENCY", 2, minimum=1),
            storage=_choice(env, "STORAGE", STORAGE_CHOICES),
            totp_key=_fernet_keys(env, "TOTP_KEY"),
            signing_pkcs12=env.get("SIGNING_PKCS12", "").strip(),
            signing_passphrase=env.get("SIGNING_PASSPHRASE", ""),
            signing_trust_roots=env.get("SIGNING_TRUST_ROOTS", "").strip(),
            tsa_url=env.get("TSA_URL", "").strip(),
            giving_prefix=_giving_prefix(env),
        )

    def resolved_secret_key(self) -> str:
        """SECRET_KEY, else the key kept in the data folder (created on first use)."""
        return self.secret_key or self._kept_key("secret_key", lambda: secrets.token_hex(32))

    def resolved_totp_keys(self) -> list[str]:
        """TOTP_KEY's keys, newest first, else the one kept in the data folder."""
        raw = self.totp_key or self._kept_key(
            "totp_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        )
        return [key.strip() for key in raw.split(",") if key.strip()]

    def _kept_key(self, name: str, make: Callable[[], str]) -> str:
        return kept_file(self.data_dir / name, lambda: make().encode()).decode().strip()


def kept_file(path: Path, make: Callable[[], bytes], *, folder_mode: int = 0o777) -> bytes:
    """The file at `path`, made once with `make()` and readable by its owner only (it holds a
    key). Atomic: when several processes start at once, the first link wins for all."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=folder_mode)
        # Unique per maker (threads of one process too): a shared name would let one maker
        # rewrite the file another already linked into place.
        candidate = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
        candidate.write_bytes(make())
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_bytes()


#: Addresses that mean "every interface" when listened on: not an address a link can name.
ANY_INTERFACE = frozenset({"0.0.0.0", "::", "[::]"})  # noqa: S104 (recognised, not bound)


def _local_url(env: Mapping[str, str]) -> str:
    """Without PUBLIC_URL (development): this machine at the address and port the server
    listens on, so links in development mail reach it whatever PORT says."""
    host = env.get("HOST", "").strip() or "127.0.0.1"
    if host in ANY_INTERFACE:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{_integer(env, 'PORT', 8000, minimum=1)}"
