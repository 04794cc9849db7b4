"""Limits on mail that anyone may ask for on someone else's behalf (password reset, "already
registered"), and the sign-in throttle's new keys.

`mail_quota` holds one row per such mail sent (or asked for, per client address) in the last
hour: `requester:<address>` and `recipient:account:<id>`. registry.services.mail_quota counts
and trims it; nothing else reads it.

The throttle now counts failures per account and client address (`account:<id>@<address>`,
or `account:unknown-<keyed digest>@<address>` for an address with no account) and only slows
addresses down. Rows of the old form kept the typed e-mail address, sometimes a password
typed in the wrong field: they are deleted, and no address stays blocked.

Hand-written, like the other raw-SQL tables: only services SQL touches it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T11:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mail_quota for reset and registration mail; sign-in throttle keys without text"

FORWARDS = r"""
CREATE TABLE mail_quota (
    id bigserial PRIMARY KEY,
    key text NOT NULL CHECK (key <> ''),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_quota_key_at ON mail_quota (key, at);
CREATE INDEX mail_quota_at ON mail_quota (at);
-- Default privileges (migration …t09_00…) would also give UPDATE.
REVOKE ALL ON mail_quota FROM registry_app;
GRANT SELECT, INSERT, DELETE ON mail_quota TO registry_app;

DELETE FROM login_throttle
 WHERE key LIKE 'account:%' AND key !~ '^account:([0-9]+|unknown-[0-9a-f]{20})@';
UPDATE login_throttle SET blocked_until = NULL WHERE key LIKE 'address:%';
"""

BACKWARDS = """
DROP TABLE IF EXISTS mail_quota;
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        async with connection() as conn:
            await conn.execute(FORWARDS)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
