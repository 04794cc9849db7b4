"""The procrastinate app with every task, and one worker running it (`registry worker`)."""

from __future__ import annotations

from procrastinate import App, PsycopgConnector

from registry import database
from registry.jobs import (
    accounts,
    catalogue,
    documents,
    imports,
    mail,
    proposals,
    render_pool,
    reviews,
    storage,
    upkeep,
)
from registry.jobs.context import SETTINGS
from registry.settings import Settings

#: Tasks are registered once, here; each run gets its own connector (`connect`).
app = App(connector=PsycopgConnector())
app.add_tasks_from(mail.tasks, namespace="mail")
app.add_tasks_from(accounts.tasks, namespace="accounts")
app.add_tasks_from(upkeep.tasks, namespace="upkeep")
app.add_tasks_from(proposals.tasks, namespace="proposals")
app.add_tasks_from(storage.tasks, namespace="storage")
app.add_tasks_from(reviews.tasks, namespace="reviews")
app.add_tasks_from(documents.tasks, namespace="documents")
app.add_tasks_from(catalogue.tasks, namespace="catalogue")
app.add_tasks_from(imports.tasks, namespace="imports")

#: Seconds a stopping worker lets running jobs finish before it abandons them (they are then
#: retried as stalled jobs).
SHUTDOWN_GRACE = 30
# The worker's own connections: one listens for new jobs, a few fetch and finish them.
SPARE_CONNECTIONS = 3


def connector(settings: Settings) -> PsycopgConnector:
    """procrastinate's connections, acting as the same role as the web's (DATABASE_ROLE)."""
    options = f"-c role={settings.database_role}" if settings.database_role else ""
    return PsycopgConnector(
        conninfo=database.app_url(settings),
        kwargs={"options": options} if options else {},
        min_size=1,
        max_size=settings.worker_concurrency + SPARE_CONNECTIONS,
    )


async def run(settings: Settings, *, wait: bool = True, signal_handlers: bool = True) -> None:
    """Run jobs until stopped (SIGINT, SIGTERM); with `wait=False`, until none is due.

    Services reach the database through the same pool as in a web process (DATABASE_ROLE,
    statement timeout); each job runs in its own asyncio task, so what one job leaves in its
    context (a transaction on a dead connection) never reaches the next.
    """
    opened_pool = database.engine().pool is None
    await database.open_pool(settings)
    try:
        with app.replace_connector(connector(settings)):
            async with app.open_async():
                await app.run_worker_async(
                    concurrency=settings.worker_concurrency,
                    wait=wait,
                    additional_context={SETTINGS: settings},
                    delete_jobs="successful",  # the outbox keeps the record of what was sent
                    shutdown_graceful_timeout=SHUTDOWN_GRACE,
                    install_signal_handlers=signal_handlers,
                )
    finally:
        render_pool.shut_down()
        if opened_pool:
            await database.close_pool()
