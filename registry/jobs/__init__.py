"""Background jobs on procrastinate, PostgreSQL's own queue: no other server, and any number
of workers (`registry worker`) on any number of machines.

Jobs call services and nothing above them: never `registry.web`, Litestar or Jinja.
Services, tables and domain never import this package (import-linter checks both). They
defer jobs through `registry.services.queue`, which writes the job with procrastinate's SQL
function in the caller's own transaction; that module holds the task names these tasks are
registered under. So the seam is a name and JSON arguments, not an import.

Deferring in the action's transaction, rather than after its commit, is what keeps mail from
being lost: a rolled-back action queues nothing, a committed one always has its job, and no
periodic sweeper has to find rows whose job never came. A job whose worker died mid-run
(no heartbeat) is put back by the `upkeep:retry_stalled` periodic task.

This module imports nothing, so importing a task module stays cheap.
"""
