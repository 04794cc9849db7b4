"""The procrastinate app with every task, and one worker running it (`registry worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

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
#: Longest wait between two starts of a worker that lost the database.
MAX_RESTART_PAUSE = 30.0
log = logging.getLogger(__name__)


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

    procrastinate stops its worker when the database goes away under it (a restart, a cut
    network): unless asked to stop, this one starts it again, waiting longer each time.
    """
    opened_pool = database.engine().pool is None
    await database.open_pool(settings)
    stopping = asyncio.Event()
    running: asyncio.Task[None] | None = None

    def stop() -> None:  # a signal: running jobs get SHUTDOWN_GRACE to finish
        stopping.set()
        if running is not None:
            running.cancel()

    loop = asyncio.get_running_loop()
    if signal_handlers:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
    try:
        pause = 1.0
        while not stopping.is_set():
            running = asyncio.create_task(_run_once(settings, wait=wait))
            try:
                await running
            except asyncio.CancelledError:
                if stopping.is_set():
                    return
                raise
            except Exception:  # the database refused the worker's connections
                if not wait:
                    raise
                log.warning("the worker could not reach the database", exc_info=True)
            else:
                if not wait:
                    return
            log.warning("the worker lost the database; starting it again in %.0f s", pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), pause)
            pause = min(pause * 2, MAX_RESTART_PAUSE)
    finally:
        if signal_handlers:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        render_pool.shut_down()
        if opened_pool:
            await database.close_pool()


async def _run_once(settings: Settings, *, wait: bool) -> None:
    with app.replace_connector(connector(settings)):
        async with app.open_async():
            await app.run_worker_async(
                concurrency=settings.worker_concurrency,
                wait=wait,
                additional_context={SETTINGS: settings},
                delete_jobs="successful",  # the outbox keeps the record of what was sent
                # A cancelled worker stops gracefully: the signals are run()'s to handle.
                shutdown_graceful_timeout=SHUTDOWN_GRACE,
                install_signal_handlers=False,
            )
