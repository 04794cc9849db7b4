"""Calls and proposals: the rules the tables must keep whatever code writes to them, and the
trigram indexes near-duplicate detection reads.

Hand-written: Piccolo does not model composite unique keys, CHECK constraints or expression
indexes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "call and proposal constraints, near-duplicate indexes"

FORWARDS = """
ALTER TABLE call
    ADD CONSTRAINT call_window CHECK (opens_at < closes_at),
    ADD CONSTRAINT call_amounts CHECK (
        0 <= min_request_vnd AND min_request_vnd <= max_request_vnd AND max_request_vnd <= budget_vnd),
    ADD CONSTRAINT call_cofunding CHECK (cofunding_permille BETWEEN 0 AND 999),
    ADD CONSTRAINT call_reviewers CHECK (reviewers_per_proposal BETWEEN 1 AND 20);
CREATE INDEX call_open ON call (closes_at) WHERE published_at IS NOT NULL;
CREATE UNIQUE INDEX call_criteria_version ON call_criteria (call, version);

ALTER TABLE proposal
    ADD CONSTRAINT proposal_status CHECK (status IN ('draft', 'submitted', 'withdrawn')),
    ADD CONSTRAINT proposal_amounts CHECK (requested_vnd >= 0 AND own_vnd >= 0);
CREATE UNIQUE INDEX proposal_version_number ON proposal_version (proposal, number);
CREATE UNIQUE INDEX proposal_version_key ON proposal_version (proposal, submit_key);
CREATE INDEX proposal_version_fingerprint ON proposal_version USING gin (fingerprint gin_trgm_ops);
CREATE INDEX attachment_blob ON attachment (sha256);

-- Near-duplicates against funded projects compare folded titles.
CREATE INDEX project_title_trigram ON project USING gin (registry_fold(title_vi) gin_trgm_ops);

-- Versions are a record of what was received: nobody edits or deletes one, whatever code runs.
CREATE FUNCTION proposal_version_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'proposal versions are read-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER proposal_version_read_only BEFORE UPDATE OR DELETE ON proposal_version
    FOR EACH ROW EXECUTE FUNCTION proposal_version_read_only();
CREATE TRIGGER call_criteria_read_only BEFORE UPDATE OR DELETE ON call_criteria
    FOR EACH ROW EXECUTE FUNCTION proposal_version_read_only();
"""

BACKWARDS = """
DROP TRIGGER IF EXISTS call_criteria_read_only ON call_criteria;
DROP TRIGGER IF EXISTS proposal_version_read_only ON proposal_version;
DROP FUNCTION IF EXISTS proposal_version_read_only();
DROP INDEX IF EXISTS project_title_trigram, attachment_blob, proposal_version_fingerprint,
    proposal_version_key, proposal_version_number, call_criteria_version, call_open;
ALTER TABLE proposal DROP CONSTRAINT IF EXISTS proposal_amounts,
    DROP CONSTRAINT IF EXISTS proposal_status;
ALTER TABLE call DROP CONSTRAINT IF EXISTS call_reviewers, DROP CONSTRAINT IF EXISTS call_cofunding,
    DROP CONSTRAINT IF EXISTS call_amounts, DROP CONSTRAINT IF EXISTS call_window;
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
