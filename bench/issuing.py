"""Issuing a call's decision documents as a batch, with the public catalogue searched meanwhile.

Issue 14's speed figures: signed decisions per second per worker process, peak RSS per worker
(its render child processes included), and the catalogue search p95 while a batch of
--documents runs, against the idle p95 of the same run (target: within 1.5x).

A batch is issued twice: all documents in one fund's call (one fund's issues are serialised by
its counter lock, however many workers), then spread over two funds' calls (where a second
worker helps). Each time --workers `registry worker` processes (as the tests start them: run
until no job is due) issue the batch while wrk searches `/api/v1/search` in --window second
runs, one query after another. See bench/README.md.

    .venv/bin/python bench/issuing.py [--documents 1000] [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
# This checkout's registry and tests, here and in every process started (the venv's editable
# install may point at another checkout).
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))

from bench_database import Database, prepare_database, stop_database  # noqa: E402
from catalogue import Route, load_catalogue, quoted, run_wrk, sanity_check  # noqa: E402
from deadline import _process_tree, start_server, stop_server  # noqa: E402

RESULTS = ROOT / "bench" / "results"
EMBEDDED_PGDATA = ROOT / ".registry" / "issuing-pgdata"
DATABASE = "registry_bench_issuing"
NEVER_TOUCH = "registry_test"
FUNDS = ("nafosted", "natif")
QUERIES = ("trí tuệ nhân tạo", "ban dan", "đất hiếm")
#: Search p95 during a batch over the idle p95 of the same query (issue 14).
TARGET_RATIO = 1.5

#: `registry worker` as the tests run it (until no job is due), then its peak RSS and CPU, and
#: its reaped children's (the render processes): ru_maxrss of RUSAGE_CHILDREN is the largest
#: single child's, not a sum.
WORKER = (
    "import asyncio, resource; from registry.jobs import worker; "
    "from registry.settings import Settings; "
    "asyncio.run(worker.run(Settings.from_env(), wait=False, signal_handlers=False)); "
    "me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)); "
    "print('WORKER', me.ru_maxrss, kids.ru_maxrss, me.ru_utime + me.ru_stime, "
    "kids.ru_utime + kids.ru_stime, flush=True)"
)


# --------------------------------------------------------------------------------------------
# The calls: approved outcomes made as the tests make them


async def approved_calls(url: str, documents: int, funds: int) -> list[dict[str, Any]]:
    """Calls of the first `funds` FUNDS whose approved outcomes and call decisions make
    `documents` documents in all (tests.factories.approved_call: proposals and reviews
    inserted in SQL, the decision proposed and approved through services.decisions)."""
    from tests.factories import approved_call

    conn = await asyncpg.connect(url)
    try:
        calls = []
        outcomes = documents - funds  # each call's own decision is a document too
        for index, code in enumerate(FUNDS[:funds]):
            share = outcomes // funds + (index < outcomes % funds)
            calls.append(await approved_call(conn, url, share, fund=code))
        return calls
    finally:
        await conn.close()


async def start_batches(calls: list[dict[str, Any]]) -> None:
    from registry.domain.decision_documents import Signer
    from registry.services import document_batches
    from tests.factories import ORIGIN

    signer = Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Thị Minh Hằng")
    for call in calls:
        await document_batches.start(call["manager"], call["call_id"], signer, ORIGIN)


async def _execute(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# One batch: workers, the search load beside them, and what they used


@dataclass
class Window:
    query: str
    started: float  # seconds since the workers were started (negative: before)
    seconds: float
    p95_ms: float
    requests_per_s: float
    errors: int
    issued: int = 0  # documents issued during the window


@dataclass
class WorkerUse:
    peak_kb: int  # ru_maxrss of the worker process itself
    child_peak_kb: int  # the largest render child's
    tree_peak_kb: int  # the largest sum of the worker's and its children's RSS sampled
    cpu_s: float
    child_cpu_s: float


@dataclass
class BatchRun:
    name: str
    funds: int
    documents: int
    issued: int = 0
    seconds: float = 0.0
    steady_per_s: float = 0.0
    workers: list[WorkerUse] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    load_average: tuple[float, ...] = ()
    worker_errors: int = 0  # lines of the workers' log saying "error" (a job failed, retried)


def _rss_kb(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # ended meanwhile
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return total * os.sysconf("SC_PAGE_SIZE") // 1024


def _error_lines(log: Path) -> int:
    return sum("error" in line for line in log.read_text(errors="replace").lower().splitlines())


def _at_count(samples: list[tuple[float, int]], count: float) -> float:
    """When the polled count of issued documents first reached `count`."""
    return next(t for t, n in samples if n >= count)


async def run_batch(
    args: argparse.Namespace, db: Database, base: str, funds: int, idle: dict[str, float]
) -> BatchRun:
    calls = await approved_calls(db.url, args.documents, funds)
    call_ids = [c["call_id"] for c in calls]
    run = BatchRun(f"{funds} fund{'s' * (funds > 1)}", funds, args.documents)
    # Jobs an interrupted earlier run left behind would be run too, and timed.
    await _execute(db.url, "DELETE FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
    await start_batches(calls)

    data_dir = Path(tempfile.mkdtemp(prefix="registry-issuing-"))
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REGISTRY_DATA_DIR": str(data_dir),
        "WORKER_CONCURRENCY": str(args.concurrency),
        "PICCOLO_CONF": "registry.piccolo_conf",
    }
    log = (RESULTS / f"issuing-workers-{funds}.log").open("w")
    print(
        f"\n== {run.name}: {args.documents} documents, {args.workers} worker processes", flush=True
    )
    started = time.monotonic()
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        for _ in range(args.workers)
    ]  # fmt: skip
    peaks = {w.pid: 0 for w in workers}
    samples: list[tuple[float, int]] = [(0.0, 0)]
    finished = asyncio.Event()

    async def watch() -> None:
        conn = await asyncpg.connect(db.url)
        try:
            while any(w.returncode is None for w in workers):
                for w in workers:
                    if w.returncode is None:
                        peaks[w.pid] = max(peaks[w.pid], _rss_kb(_process_tree(w.pid)))
                count = await conn.fetchval(
                    "SELECT count(*) FROM decision_document WHERE call = ANY($1::bigint[])",
                    call_ids,
                )
                samples.append((time.monotonic() - started, count))
                if count >= args.documents:
                    finished.set()
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
            finished.set()

    async def search() -> None:
        turn = 0
        while not finished.is_set():
            query = QUERIES[turn % len(QUERIES)]
            turn += 1
            at = time.monotonic() - started
            wrk = await asyncio.to_thread(run_wrk, base, _route(query), args, args.window)
            run.windows.append(
                Window(query, at, args.window, wrk.p95_ms, wrk.requests_per_s, wrk.errors)
            )

    watcher = asyncio.create_task(watch())
    try:
        await search()
        outputs = [(await w.communicate())[0].decode() for w in workers]
        await watcher
    finally:
        for w in workers:  # interrupted: no worker left behind
            if w.returncode is None:
                w.terminate()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    run.worker_errors = _error_lines(Path(log.name))

    run.issued = samples[-1][1]
    if run.issued >= args.documents:
        run.seconds = _at_count(samples, args.documents)
        low = _at_count(samples, 0.1 * args.documents)
        high = _at_count(samples, 0.9 * args.documents)
        run.steady_per_s = 0.8 * args.documents / max(high - low, 1e-6)
    for window in run.windows:
        before = [n for t, n in samples if t <= window.started]
        after = [n for t, n in samples if t <= window.started + window.seconds]
        window.issued = after[-1] - before[-1] if before and after else 0
    for w, output in zip(workers, outputs, strict=True):
        line = next((x for x in output.splitlines() if x.startswith("WORKER ")), None)
        if line is None:
            raise SystemExit(f"a worker exited with {w.returncode}: see {log.name}")
        peak, child, cpu, child_cpu = line.split()[1:]
        run.workers.append(
            WorkerUse(int(peak), int(child), peaks[w.pid], float(cpu), float(child_cpu))
        )
    run.load_average = os.getloadavg()
    return run


def _route(query: str) -> Route:
    return Route(f"API search {query}", query, f"/api/v1/search?q={quoted(query)}")


def idle_search(args: argparse.Namespace, base: str) -> tuple[dict[str, float], list[Window]]:
    """Each query's p95 with no batch running: the median of --idle-rounds windows."""
    windows = []
    for _ in range(args.idle_rounds):
        for query in QUERIES:
            wrk = run_wrk(base, _route(query), args, args.window)
            windows.append(
                Window(query, 0.0, args.window, wrk.p95_ms, wrk.requests_per_s, wrk.errors)
            )
    medians = {q: statistics.median(w.p95_ms for w in windows if w.query == q) for q in QUERIES}
    return medians, windows


# --------------------------------------------------------------------------------------------
# The report


def _during(run: BatchRun) -> list[Window]:
    """Windows that ended before the last document was issued (the batch ran all along)."""
    end = run.seconds or float("inf")
    inside = [w for w in run.windows if w.started + w.seconds <= end]
    return inside or run.windows[:1]


def report(
    args: argparse.Namespace,
    idle: dict[str, float],
    idle_windows: list[Window],
    runs: list[BatchRun],
) -> bool:
    mb = 1024
    print(f"\nsearch p95 idle (median of {args.idle_rounds} x {args.window:g} s, wrk "
          f"-t{args.threads} -c{args.connections}):")  # fmt: skip
    for query in QUERIES:
        rps = statistics.median(w.requests_per_s for w in idle_windows if w.query == query)
        print(f"   {query!r:<22} p95 {idle[query]:7.1f} ms   {rps:6.0f} req/s")
    passed = True
    for run in runs:
        during = _during(run)
        ratios = [w.p95_ms / idle[w.query] for w in during]
        ratio = statistics.median(ratios)
        rates = [w.issued / w.seconds for w in during]
        complete = run.issued >= run.documents
        passed &= complete and ratio <= TARGET_RATIO
        print(f"\n{run.name}: {run.issued}/{run.documents} documents"
              + (f" in {run.seconds:.0f} s" if complete else " (INCOMPLETE)")
              + f", load average {run.load_average[0]:.1f} at the end; "
              f"{run.worker_errors} error lines in the workers' log")  # fmt: skip
        if complete:
            overall = run.documents / run.seconds
            print(
                f"   signed decisions/s: {overall:.2f} overall = {overall / args.workers:.2f} per "
                f"worker; {run.steady_per_s:.2f} between 10% and 90% done; median of "
                f"{len(rates)} windows {statistics.median(rates):.2f}"
                f"   (baseline: rendering alone, bench/documents.py, ~2 docs/s in one process)"
            )
        for index, w in enumerate(run.workers, 1):
            per_doc = (w.cpu_s + w.child_cpu_s) / max(run.issued / args.workers, 1)
            print(
                f"   worker {index}: peak RSS {w.peak_kb / mb:.0f} MB itself, largest render "
                f"child {w.child_peak_kb / mb:.0f} MB, worker + children sampled "
                f"{w.tree_peak_kb / mb:.0f} MB; CPU {w.cpu_s:.0f} s itself + {w.child_cpu_s:.0f} s "
                f"children (~{per_doc:.2f} s per document if shared evenly)"
            )
        print(f"   search p95 during the batch ({len(during)} windows of {args.window:g} s):")
        for query in QUERIES:
            mine = [w.p95_ms for w in during if w.query == query]
            if mine:
                busy = statistics.median(mine)
                print(f"      {query!r:<22} {busy:7.1f} ms vs idle {idle[query]:7.1f} ms "
                      f"= {busy / idle[query]:.2f}x")  # fmt: skip
        print(f"   {'PASS' if complete and ratio <= TARGET_RATIO else 'FAIL'}  median p95 ratio "
              f"{ratio:.2f}x (max {max(ratios):.2f}x), target <= {TARGET_RATIO}x idle")  # fmt: skip
    return passed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000, help="documents per batch")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="jobs (and render children) per worker"
    )
    parser.add_argument("--projects", type=int, default=20_000, help="demo projects searched")
    parser.add_argument("--window", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--idle-rounds", type=int, default=3, help="idle wrk runs per query")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--funds", type=int, nargs="+", default=[1, 2], choices=[1, 2], help="batches to run"
    )
    parser.add_argument("--quick", action="store_true", help="100 documents, 1 idle round")
    parser.add_argument("--fresh", action="store_true", help=f"drop {DATABASE} first")
    args = parser.parse_args(argv)
    if args.quick:
        args.documents, args.idle_rounds = 100, 1
    if args.documents < 2 * len(FUNDS) or args.workers < 1:
        parser.error(f"--documents must be at least {2 * len(FUNDS)}, --workers at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_at_start = os.getloadavg()
    db = prepare_database(DATABASE, EMBEDDED_PGDATA, fresh=args.fresh, refuse=(NEVER_TOUCH,))
    # The services that set up the calls read these (tests.factories runs them in this process).
    os.environ.update(DATABASE_URL=db.url, PICCOLO_CONF="registry.piccolo_conf")
    server = None
    try:
        load_catalogue(db, args.projects)
        server = start_server(db, RESULTS / "issuing-server.log")
        for query in QUERIES:
            if not sanity_check(server.base, _route(query))["ok"]:
                raise SystemExit(f"/api/v1/search?q={query} does not answer 200 JSON")
        idle, idle_windows = idle_search(args, server.base)
        runs = [asyncio.run(run_batch(args, db, server.base, funds, idle)) for funds in args.funds]
    finally:
        if server is not None:
            stop_server(server)
            shutil.rmtree(server.data_dir, ignore_errors=True)
        stop_database(db)
    print(f"\nload average at the start {load_at_start[0]:.1f} (2 cores shared with others)")
    passed = report(args, idle, idle_windows, runs)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    output = RESULTS / f"issuing-{stamp}.json"
    output.write_text(
        json.dumps(
            {
                "when": dt.datetime.now().isoformat(timespec="seconds"),
                "settings": vars(args),
                "load_average_at_start": load_at_start,
                "idle_p95_ms": idle,
                "idle_windows": [asdict(w) for w in idle_windows],
                "runs": [asdict(r) for r in runs],
            },
            indent=1,
            ensure_ascii=False,
        )
    )
    print(f"results written to {output.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
