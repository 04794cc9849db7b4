"""Near-duplicate flags written by a job after the submission (registry.jobs.proposals):

- a trigram GiST index on the versions' fingerprints, walked nearest first, so the check
  compares a version with its 50 nearest versions instead of every one the GIN index matches
  (figures in registry/services/queries/proposals.py, NEAREST_PROPOSAL_DUPLICATES);
- one flag per version and other proposal or project, so a job run twice cannot add a flag
  twice.

Hand-written: Piccolo does not model operator-class options or partial unique indexes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "near-duplicate check: GiST trigram index, one flag per pair"

FORWARDS = """
CREATE INDEX proposal_version_fingerprint_nearest ON proposal_version
    USING gist (fingerprint gist_trgm_ops(siglen = 256));

DELETE FROM duplicate_flag d USING duplicate_flag e
 WHERE e.version = d.version AND e.id < d.id
   AND (e.other_proposal = d.other_proposal OR e.other_project = d.other_project);
CREATE UNIQUE INDEX duplicate_flag_proposal ON duplicate_flag (version, other_proposal)
    WHERE other_proposal IS NOT NULL;
CREATE UNIQUE INDEX duplicate_flag_project ON duplicate_flag (version, other_project)
    WHERE other_project IS NOT NULL;
"""

BACKWARDS = """
DROP INDEX IF EXISTS duplicate_flag_project, duplicate_flag_proposal,
    proposal_version_fingerprint_nearest;
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
