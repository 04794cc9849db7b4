"""Issued documents' rules the ORM does not state: numbers unique per fund and year and
positive, one counter row per fund and year, one document per (outcome or call, kind) that
nothing replaced, the kinds, and documents that never change except to name their replacement
(the web role may not delete them or update any other column). A correction marks the old
document replaced before inserting the new one, so `replaced_by`'s key is checked at commit.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "decision documents: unique numbers, one live document per outcome, immutability"

FORWARDS = r"""
CREATE UNIQUE INDEX decision_number_fund_year ON decision_number (fund, year);
ALTER TABLE decision_number ADD CONSTRAINT decision_number_last CHECK (last >= 0);
CREATE UNIQUE INDEX decision_document_number ON decision_document (fund, year, number);
CREATE UNIQUE INDEX decision_document_live_outcome ON decision_document (outcome, kind)
    WHERE outcome IS NOT NULL AND replaced_by IS NULL;
CREATE UNIQUE INDEX decision_document_live_call ON decision_document (call, kind)
    WHERE outcome IS NULL AND replaced_by IS NULL;
ALTER TABLE decision_document ADD CONSTRAINT decision_document_kind
    CHECK (kind IN ('call_decision', 'funding', 'reserve', 'rejection'));
ALTER TABLE decision_document ADD CONSTRAINT decision_document_number_positive
    CHECK (number > 0);
ALTER TABLE decision_document ADD CONSTRAINT decision_document_outcome_kind
    CHECK ((kind = 'call_decision') = (outcome IS NULL));
ALTER TABLE decision_document ADD CONSTRAINT decision_document_code
    CHECK (verification_code ~ '^[0-9A-HJKMNP-TV-Z]{10}$');
ALTER TABLE decision_document ADD CONSTRAINT decision_document_sha256
    CHECK (sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE decision_document ALTER CONSTRAINT decision_document_replaced_by_fkey
    DEFERRABLE INITIALLY DEFERRED;
REVOKE UPDATE, DELETE, TRUNCATE ON decision_document FROM registry_app;
GRANT UPDATE (replaced_by) ON decision_document TO registry_app;
REVOKE DELETE, TRUNCATE ON decision_number FROM registry_app;
"""

BACKWARDS = """
DROP INDEX IF EXISTS decision_number_fund_year;
DROP INDEX IF EXISTS decision_document_number;
DROP INDEX IF EXISTS decision_document_live_outcome;
DROP INDEX IF EXISTS decision_document_live_call;
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
