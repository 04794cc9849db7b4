"""Accounts: the constraints and indexes Piccolo does not model.

Hand-written: partial and expression indexes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T08:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "account constraints and indexes"

FORWARDS = """
-- One grant per (person, role, scope); NULL scopes compare equal through coalesce.
CREATE UNIQUE INDEX account_role_grant
    ON account_role (account, role, coalesce(organisation, 0), coalesce(fund, 0));
ALTER TABLE account_role ADD CONSTRAINT account_role_known
    CHECK (role IN ('applicant', 'reviewer', 'fund_manager', 'admin'));
ALTER TABLE account_role ADD CONSTRAINT account_role_scope CHECK (
    (role = 'applicant') = (organisation IS NOT NULL)
    AND (role = 'fund_manager') = (fund IS NOT NULL));
CREATE UNIQUE INDEX recovery_code_digest ON recovery_code (account, digest);
CREATE INDEX outbox_mail_pending ON outbox_mail (id) WHERE sent_at IS NULL;
"""

BACKWARDS = """
DROP INDEX IF EXISTS outbox_mail_pending, recovery_code_digest, account_role_grant;
ALTER TABLE account_role DROP CONSTRAINT IF EXISTS account_role_scope,
    DROP CONSTRAINT IF EXISTS account_role_known;
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
