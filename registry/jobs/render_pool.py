"""Rendering decision PDFs in child processes that are replaced every RECYCLE_AFTER documents.

WeasyPrint's memory grows by about half a megabyte per document (bench/documents.py) and a
render holds the CPU for a few hundred milliseconds: in a child process it neither grows the
worker that runs the jobs nor stops its event loop (mail keeps going out during a batch, and
a worker beside `registry serve` never slows the web). `spawn`, not `fork`: a child never
inherits the parent's database connections or threads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from registry.documents.decisions import render_decision
from registry.services.documents import Draft, Renderer

#: Documents one child renders before a fresh one takes over (peak RSS stays near 100 MB).
RECYCLE_AFTER = 50
#: Children render at a lower priority: on a machine that also serves the web, pages go first
#: (bench/issuing.py: search p95 rose 2-3.5x during a batch at the normal priority).
NICENESS = 10


_pools: dict[int, ProcessPoolExecutor] = {}


def renderer(workers: int) -> Renderer:
    """A services.documents.Renderer drawing `draft.document` in `workers` child processes."""
    if workers not in _pools:
        _pools[workers] = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            max_tasks_per_child=RECYCLE_AFTER,
            initializer=os.nice,
            initargs=(NICENESS,),
        )
    pool = _pools[workers]

    async def render(draft: Draft) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(
            pool, render_decision, draft.document
        )

    return render


def shut_down() -> None:
    """Stop the children (the worker process is stopping)."""
    while _pools:
        _, pool = _pools.popitem()
        pool.shutdown(cancel_futures=True)
