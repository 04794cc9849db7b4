"""uvicorn against granian on the catalogue routes: which production server the Procfile runs.

`.venv/bin/python bench/servers.py` (see --help). Both serve the same app (`registry.app:
create_app`, factory) with the same number of worker processes on a free 127.0.0.1 port, one
server at a time, taking turns round by round so background load on the machine falls on both;
wrk measures each route. Prints req/s and p95 (medians over the rounds) per server and route,
and which server is faster on most routes. bench/README.md ("Servers") has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench_database import prepare_database, stop_database
from catalogue import (
    EMBEDDED_PGDATA,
    HOST,
    ROOT,
    SELECTIVE_QUERY,
    Route,
    WrkRun,
    _fetchval,
    child_environment,
    free_port,
    listening,
    load_catalogue,
    quoted,
    run_wrk,
    sanity_check,
)

DATABASE = "registry_bench_servers"


def servers(workers: int) -> dict[str, list[str]]:
    """The two commands, as the Procfile would run them (no access log: wrk would measure the
    log writer)."""
    python = Path(sys.executable)
    return {
        "uvicorn": [
            str(python), "-m", "uvicorn", "registry.app:create_app", "--factory",
            "--workers", str(workers), "--no-access-log", "--log-level", "warning",
            "--no-server-header",
        ],
        "granian": [
            str(python.with_name("granian")), "--interface", "asgi", "--factory",
            "registry.app:create_app", "--workers", str(workers), "--no-access-log",
            "--log-level", "warning",
        ],
    }  # fmt: skip


def routes(ids: tuple[int, int]) -> list[Route]:
    s = quoted(SELECTIVE_QUERY)
    html = "text/html"
    return [
        Route("API /api/v1/search", "selective", f"/api/v1/search?q={s}"),
        Route("HTML /search", "selective", f"/search?q={s}", None, html),
        Route("API /api/v1/projects/{id}", "project", "/api/v1/projects/", ids),
        Route("HTML /projects/{id}", "project", "/projects/", ids, html),
        Route("API /api/v1/technologies", "list", "/api/v1/technologies"),
    ]


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with listening([*command, "--host", HOST, "--port", str(port)], port, env, log.open("a")):
        time.sleep(1)  # every worker up, not only the first to bind
        yield f"http://{HOST}:{port}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=20_000, help="demo projects loaded")
    parser.add_argument("--workers", type=int, default=2, help="processes per server")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server and route")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = prepare_database(DATABASE, EMBEDDED_PGDATA, fresh=False)
    log = ROOT / "bench" / "results" / "servers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        load_catalogue(db, args.projects)
        # This checkout's code, whichever checkout the venv was installed from.
        env = {**child_environment(db), "PYTHONPATH": str(ROOT)}
        low = asyncio.run(_fetchval(db.url, "SELECT min(id) FROM project WHERE is_demo"))
        high = asyncio.run(_fetchval(db.url, "SELECT max(id) FROM project WHERE is_demo"))
        measured = routes((low, high))
        commands = servers(args.workers)
        runs: dict[tuple[str, str], list[WrkRun]] = {}
        for round_no in range(1, args.rounds + 1):
            for name, command in commands.items():
                with server(command, env, log) as base:
                    print(f"round {round_no}: {name} at {base}", flush=True)
                    for route in measured:
                        if not sanity_check(base, route)["ok"]:
                            print(f"{name} {route.name} does not answer 200: see {log}")
                            return 1
                        run_wrk(base, route, args, 2)  # warm-up
                        runs.setdefault((name, route.name), []).append(
                            run_wrk(base, route, args, args.duration)
                        )
        return _report(args, commands, measured, runs)
    finally:
        stop_database(db)


def _report(args, commands, measured, runs) -> int:  # type: ignore[no-untyped-def]
    print(
        f"\n{args.workers} worker processes each, wrk -t{args.threads} -c{args.connections}, "
        f"medians of {args.rounds} x {args.duration:g} s, {args.projects:,} demo projects\n"
    )
    print(f"{'route':<28} {'server':<8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    wins = dict.fromkeys(commands, 0)
    for route in measured:
        best = max(
            commands, key=lambda n: statistics.median(r.requests_per_s for r in runs[n, route.name])
        )
        wins[best] += 1
        for name in commands:
            done = runs[name, route.name]
            print(
                f"{route.name:<28} {name:<8} "
                f"{statistics.median(r.requests_per_s for r in done):>8.0f} "
                f"{statistics.median(r.p50_ms for r in done):>8.1f} "
                f"{statistics.median(r.p95_ms for r in done):>8.1f} "
                f"{sum(r.errors for r in done):>7}"
            )
    chosen = max(wins, key=lambda n: wins[n])
    print(f"\nfaster on most routes (req/s): {chosen} ({wins[chosen]} of {len(measured)})")
    errors = sum(r.errors for done in runs.values() for r in done)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
