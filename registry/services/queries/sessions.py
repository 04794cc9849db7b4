"""SQL of one's own sessions and of the purge of expired sign-in rows (services/sessions.py).

A session is live while neither its idle timeout (`idle_seconds` after `last_seen_at`) nor its
absolute lifetime (a parameter: domain.accounts.ABSOLUTE_LIFETIME) has passed."""

#: ($1 lifetime, $2 account, $3 digest of this session's id): this one first, then by last use.
OWN_LIVE_SESSIONS = """
    SELECT id, created_at, last_seen_at, client_address, digest = $3 AS current
    FROM web_session
    WHERE account = $2
      AND last_seen_at + make_interval(secs => idle_seconds) > now()
      AND created_at + $1::interval > now()
    ORDER BY digest = $3 DESC, last_seen_at DESC, id DESC"""

#: ($1 row id, $2 account, $3 digest of this session's id): never another account's, nor this.
END_OWN_SESSION = """
    DELETE FROM web_session WHERE id = $1 AND account = $2 AND digest <> $3 RETURNING id"""

END_ALL_BUT = """
    DELETE FROM web_session WHERE account = $1 AND digest <> $2 RETURNING id, digest"""

#: ($1 digests, $2 reason) Sessions someone else's action ended: why, for the sign-in page.
NOTE_ENDED = """
    INSERT INTO ended_session (digest, reason) SELECT unnest($1::text[]), $2
    ON CONFLICT (digest) DO UPDATE SET reason = excluded.reason, ended_at = now()"""

#: ($1 digest, $2 absolute lifetime) Why this session ended, while the cookie could be alive.
ENDED_REASON = """
    SELECT reason FROM ended_session WHERE digest = $1 AND ended_at > now() - $2::interval"""

PURGE_ENDED = "DELETE FROM ended_session WHERE ended_at <= now() - $1::interval RETURNING id"

PURGE_SESSIONS = """
    DELETE FROM web_session
    WHERE last_seen_at + make_interval(secs => idle_seconds) <= now()
       OR created_at + $1::interval <= now()
    RETURNING id"""

#: Expired or used: a link token is single-use, so a used one is only clutter.
PURGE_TOKENS = """
    DELETE FROM account_token WHERE expires_at <= now() OR used_at IS NOT NULL RETURNING id"""

#: ($1 quiet period) Not blocking now, and no failure for that long.
PURGE_THROTTLES = """
    DELETE FROM login_throttle
    WHERE (blocked_until IS NULL OR blocked_until <= now())
      AND last_failure_at <= now() - $1::interval
    RETURNING id"""
