"""Background jobs: procrastinate's queue tables and functions, and deliveries for mail that
was queued before jobs existed.

Hand-written. The schema is procrastinate 3.10.0's own `schema.sql`, kept beside this file
(`procrastinate_3_10_0_schema.sql`) so this migration never changes when the package does;
`tests/unit/test_jobs_schema.py` fails when the installed procrastinate ships another schema,
which then needs a migration running procrastinate's `sql/migrations/` files for the step.

`registry_app` (what web connections act as) defers jobs from inside their own transactions
(registry.services.queue), and workers act as it too: it gets the queue's tables and
sequences. Its functions and types are usable by PUBLIC, as PostgreSQL creates them.
"""

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "procrastinate job queue; deliveries for mail already queued"

SCHEMA = Path(__file__).resolve().parent / "procrastinate_3_10_0_schema.sql"

GRANTS = """
GRANT SELECT, INSERT, UPDATE, DELETE
    ON procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers,
       procrastinate_workers
    TO registry_app;
GRANT USAGE, SELECT
    ON SEQUENCE procrastinate_jobs_id_seq, procrastinate_events_id_seq,
       procrastinate_periodic_defers_id_seq
    TO registry_app;
"""

# Before this migration each web process polled the outbox; mail still waiting gets its job
# (registry.services.queue.DELIVER_MAIL). 8 was the poller's last attempt.
PENDING_MAIL = """
SELECT procrastinate_defer_jobs_v1(array_agg(
    ROW('mail', 'mail:deliver', 0, NULL, NULL, jsonb_build_object('mail_id', id), NULL)
    ::procrastinate_job_to_defer_v1 ORDER BY id))
FROM outbox_mail WHERE sent_at IS NULL AND attempts < 8;
"""

BACKWARDS = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DROP FUNCTION IF EXISTS procrastinate_defer_jobs_v1, procrastinate_defer_periodic_job_v2,
    procrastinate_fetch_job_v2, procrastinate_finish_job_v1, procrastinate_cancel_job_v1,
    procrastinate_retry_job_v1, procrastinate_retry_job_v2,
    procrastinate_notify_queue_job_inserted_v1, procrastinate_notify_queue_abort_job_v1,
    procrastinate_trigger_function_status_events_insert_v1,
    procrastinate_trigger_function_status_events_update_v1,
    procrastinate_trigger_function_scheduled_events_v1,
    procrastinate_trigger_abort_requested_events_procedure_v1,
    procrastinate_unlink_periodic_defers_v1, procrastinate_register_worker_v1,
    procrastinate_unregister_worker_v1, procrastinate_update_heartbeat_v1,
    procrastinate_prune_stalled_workers_v1;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status;
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        async with connection() as conn:
            await conn.execute(SCHEMA.read_text(encoding="utf-8"))
            await conn.execute(GRANTS)
            await conn.execute(PENDING_MAIL)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
