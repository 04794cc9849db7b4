"""Load-test the public catalogue against a bare asyncpg baseline on a million demo projects.

`make bench` (or `.venv/bin/python bench/catalogue.py --help`). See bench/README.md for what is
measured and why. Everything runs on 127.0.0.1; every server started here is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
from bench_database import Database, prepare_database, stop_database

from registry.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
WRK_SCRIPT = BENCH / "wrk_report.lua"
EMBEDDED_PGDATA = ROOT / ".registry" / "bench-pgdata"
DATABASE = "registry_bench"
HOST = "127.0.0.1"  # the only host this script ever sends requests to

#: Default queries, chosen on the realistic demo set (seed 57, fold twins in every abstract);
#: the script prints their real match counts every run. `perovskite` is one topic of one
#: technology (~0.4%); `"lượng tử"` (quantum, quoted as a user would for a two-syllable word)
#: ~10%; `dat hiem` (rare earth, unaccented) ~7%, its folded syllable `dat` in over a third.
SELECTIVE_QUERY = "perovskite"
BROAD_QUERY = '"lượng tử"'
UNACCENTED_QUERY = "dat hiem"
#: Broad, phrase, unaccented and mixed queries whose first pages --agreement checks.
AGREEMENT_QUERIES = (
    "nghiên cứu", "đất hiếm", "dat hiem", '"lượng tử"', "Đà Nẵng", "da nang",
    "bán dẫn hà nội", "hòa", '"tiết kiệm năng lượng" -đất', "perovskite",
)  # fmt: skip

#: Session settings of the app's pool (registry/database.py) that change search plans.
APP_SETTINGS = {"plan_cache_mode": "force_custom_plan", "jit": "off"}

TARGET_SELECTIVE_P95_MS = 100.0
TARGET_BROAD_P95_MS = 300.0
TARGET_HTML_RATIO = 0.6


# --------------------------------------------------------------------------------------------
# The database: its own, loaded once


def child_environment(db: Database) -> dict[str, str]:
    # PYTHONPATH: the shared venv's `registry` script would otherwise import the main checkout.
    return {
        **os.environ,
        "DATABASE_URL": db.url,
        "PICCOLO_CONF": "registry.piccolo_conf",
        "PYTHONPATH": str(ROOT),
    }


def registry_command(env: dict[str, str], *args: str, timeout: float) -> None:
    """Run the `registry` CLI of this venv; its output goes straight to the console."""
    registry = Path(sys.executable).with_name("registry")
    subprocess.run([str(registry), *args], env=env, cwd=ROOT, check=True, timeout=timeout)


async def _fetchval(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def load_catalogue(db: Database, projects: int) -> dict[str, Any]:
    """Migrate, load the reference fixtures and (unless already there) `projects` demo projects.

    The demo load is skipped when exactly that many demo projects are present: it is the slow
    part (COPY + building the search index), and repeating it tells nothing new. Its timing is
    kept in bench/results/load.json so a skipped run can still show the last one.
    """
    env = child_environment(db)
    registry_command(env, "migrate", timeout=600)
    registry_command(env, "load-fixtures", timeout=1800)
    present = asyncio.run(_fetchval(db.url, "SELECT count(*) FROM project WHERE is_demo"))
    record = RESULTS / f"load-{projects}.json"
    if present == projects:
        print(f"{present:,} demo projects already loaded: demo load skipped")
        last = json.loads(record.read_text()) if record.exists() else {}
        return {"skipped": True, "projects": projects, "last_load": last}
    print(f"loading {projects:,} demo projects (found {present:,}) ...", flush=True)
    started = time.monotonic()
    registry_command(env, "demo", "--projects", str(projects), timeout=4 * 3600)
    load_s = time.monotonic() - started
    # A fresh bulk load has no statistics and no hint bits; settle both now so autovacuum does
    # not wake up in the middle of a measurement and the planner sees the real table.
    started = time.monotonic()
    asyncio.run(_vacuum_analyze(db.url))
    vacuum_s = time.monotonic() - started
    report = {
        "projects": projects,
        "load_seconds": round(load_s, 1),
        "projects_per_second": round(projects / load_s) if load_s else None,
        "vacuum_analyze_seconds": round(vacuum_s, 1),
        "when": dt.datetime.now().isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(report, indent=2))
    print(
        f"demo load: {projects:,} projects in {load_s:,.0f} s "
        f"({report['projects_per_second']:,}/s, COPY + search index + summaries); "
        f"VACUUM ANALYZE {vacuum_s:,.0f} s"
    )
    return {"skipped": False, **report}


async def _vacuum_analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# What to ask for


@dataclass
class QueryCheck:
    query: str
    projects_matched: int
    share_of_projects: float
    #: The search statement alone, one connection, warm: median of 5 runs (the route's floor).
    sql_ms: float


async def _check_queries(url: str, queries: list[str]) -> tuple[list[QueryCheck], int, int]:
    from registry.domain.search import PAGE_SIZE, Filters
    from registry.domain.terms import parse_query
    from registry.services.search import statement

    cap = Settings.from_env().search_candidate_cap  # SEARCH_CANDIDATE_CAP, as the servers read
    conn = await asyncpg.connect(url, server_settings=APP_SETTINGS)
    try:
        low, high = await conn.fetchrow("SELECT min(id), max(id) FROM project WHERE is_demo")
        total = await conn.fetchval("SELECT count(*) FROM project")
        checks = []
        for query in queries:
            parsed = parse_query(query)
            assert parsed is not None, query
            matched = await conn.fetchval(
                "SELECT count(*) FROM search_entry WHERE kind = 'project' "
                "AND terms @@ $1::tsquery",
                parsed.match,
            )
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                sql, arguments = statement(query, Filters(), None, cap, PAGE_SIZE)
                await conn.fetchrow(sql, *arguments)
                timings.append((time.perf_counter() - started) * 1000)
            checks.append(
                QueryCheck(
                    query, matched, matched / total if total else 0.0, statistics.median(timings)
                )
            )
        return checks, low, high
    finally:
        await conn.close()


async def _agreement(url: str, queries: tuple[str, ...]) -> dict[str, Any]:
    """For each query, the first two pages as served against the full ranking of every match
    (services.search.ranked_statement), and the sizes of the search table beside the raw text."""
    from registry.domain.search import PAGE_SIZE, Cursor, Filters
    from registry.services.search import ranked_statement, statement

    conn = await asyncpg.connect(url, server_settings=APP_SETTINGS)
    try:
        results = {}
        for query in queries:
            ranked_sql, ranked_arguments = ranked_statement(query, None)
            everything = [r["id"] for r in await conn.fetch(ranked_sql, *ranked_arguments)]
            pages: list[int] = []
            cursor = None
            for _ in range(2):
                sql, arguments = statement(query, Filters(), cursor, 0, PAGE_SIZE)
                row = await conn.fetchrow(sql, *arguments)
                hits = json.loads(row["hits"])[:PAGE_SIZE]
                pages += [h[11] for h in hits]
                cursor = (
                    Cursor("relevance", False, 2, hits[-1][10], hits[-1][11]) if hits else None
                )
            agrees = pages == everything[: 2 * PAGE_SIZE]
            results[query] = {"matches": len(everything), "agrees": agrees}
            print(f"agreement {query!r}: {len(everything):,} matches, pages agree: {agrees}")
        sizes = dict(
            await conn.fetchrow(
                """SELECT pg_total_relation_size('search_entry') AS search_table,
                          pg_total_relation_size('search_term') AS search_terms,
                          (SELECT sum(octet_length(concat_ws(' ', p.title_vi, p.title_en,
                                      p.abstract_vi, p.abstract_en)))
                           FROM project p)::bigint AS raw_text"""
            )
        )
        ratio = (sizes["search_table"] + sizes["search_terms"]) / max(sizes["raw_text"], 1)
        print(
            f"search tables {sizes['search_table'] / 2**20:,.0f} MiB + terms "
            f"{sizes['search_terms'] / 2**20:,.0f} MiB = {ratio:.2f}x the raw text "
            f"({sizes['raw_text'] / 2**20:,.0f} MiB; target <= 2x)"
        )
        return {"queries": results, "sizes": sizes, "size_ratio": round(ratio, 2)}
    finally:
        await conn.close()


@dataclass(frozen=True)
class Route:
    name: str
    #: Which query (or "project") it is, so app and baseline rows can be paired for the ratio.
    subject: str
    path: str
    #: Random project ids in [low, high] are appended to `path` when set.
    id_range: tuple[int, int] | None = None
    expect_type: str = "application/json"
    #: Every request a query of its own (wrk_report.lua's `fresh`): counts kept by the server
    #: from earlier requests cannot answer it.
    fresh: bool = False


#: The order routes are measured in within a round: a query's app and baseline routes together.
SUBJECT_ORDER = (
    "selective", "broad", "unaccented", "selective, new", "broad, new", "unaccented, new",
    "project",
)  # fmt: skip


def quoted(query: str) -> str:
    return urllib.parse.quote(query, safe="")


def app_routes(selective: str, broad: str, unaccented: str, ids: tuple[int, int]) -> list[Route]:
    html = "text/html"
    s, b, u = quoted(selective), quoted(broad), quoted(unaccented)
    return [
        Route("app HTML /search (selective)", "selective", f"/search?q={s}", None, html),
        Route("app API /api/v1/search (selective)", "selective", f"/api/v1/search?q={s}"),
        Route("app HTML /search (broad)", "broad", f"/search?q={b}", None, html),
        Route("app API /api/v1/search (broad)", "broad", f"/api/v1/search?q={b}"),
        Route("app API /api/v1/search (unaccented)", "unaccented", f"/api/v1/search?q={u}"),
        *fresh_routes("app API /api/v1/search", "/api/v1/search", selective, broad, unaccented),
        Route("app HTML /projects/{id}", "project", "/projects/", ids, html),
        Route("app API /api/v1/projects/{id}", "project", "/api/v1/projects/", ids),
    ]


def fresh_routes(
    name: str, path: str, selective: str, broad: str, unaccented: str
) -> list[Route]:
    """Each query asked anew by every request: what a server pays to count its matches."""
    return [
        Route(f"{name} ({subject}, new)", f"{subject}, new", f"{path}?q={quoted(q)}", fresh=True)
        for subject, q in (("selective", selective), ("broad", broad), ("unaccented", unaccented))
    ]


def baseline_routes(
    selective: str, broad: str, unaccented: str, ids: tuple[int, int]
) -> list[Route]:
    return [
        Route("baseline /search (selective)", "selective", f"/search?q={quoted(selective)}"),
        Route("baseline /search (broad)", "broad", f"/search?q={quoted(broad)}"),
        Route("baseline /search (unaccented)", "unaccented", f"/search?q={quoted(unaccented)}"),
        *fresh_routes("baseline /search", "/search", selective, broad, unaccented),
        Route("baseline /projects/{id}", "project", "/projects/", ids),
    ]


# --------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(
    label: str, target: list[str], env: dict[str, str], log: Path, workers: int
) -> Iterator[tuple[str, int]]:
    """One uvicorn server (`workers` processes, uvloop, httptools, no access log) on a free
    local port; yields (base URL, pid) and always stops it."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", *target,
        "--host", HOST, "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with listening(command, port, env, log.open("w")) as process:
        print(f"\n== {label}: http://{HOST}:{port} (pid {process.pid})", flush=True)
        yield f"http://{HOST}:{port}", process.pid


@contextlib.contextmanager
def listening(
    command: list[str], port: int, env: dict[str, str], output: IO[bytes] | IO[str]
) -> Iterator[subprocess.Popen[bytes]]:
    """A server started with `command`, once it listens on `port`; always stopped after."""
    with output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)
        try:
            _wait_until_listening(process, port, timeout=60)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    # uvicorn binds only after the lifespan (the database pool) has started.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see its log")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"server not listening on {port} after {timeout:.0f} s")


def sanity_check(base: str, route: Route) -> dict[str, Any]:
    """One request first: wrk counts only >= 400 as errors, so make sure this answers 200 with
    the expected content (a redirect or an empty page would otherwise be measured as fast)."""
    path = route.path + (str(route.id_range[0]) if route.id_range else "")
    try:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            body = response.read()
            status, content_type = response.status, response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        body, status, content_type = error.read(), error.code, error.headers.get("content-type")
    ok = status == 200 and route.expect_type in (content_type or "")
    if not ok:
        print(f"   ! {route.name}: {status} {content_type} {body[:200]!r}")
    return {"status": status, "content_type": content_type, "bytes": len(body), "ok": ok}


# --------------------------------------------------------------------------------------------
# Load with wrk


@dataclass
class WrkRun:
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    #: HTTP status >= 400 plus socket errors and timeouts.
    errors: int
    server_cpu: float | None = None
    postgres_cpu: float | None = None


_BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def run_wrk(base: str, route: Route, args: argparse.Namespace, seconds: float) -> WrkRun:
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency",
        # Longer than the server's statement timeout, so slow answers are measured, not dropped.
        "--timeout", "10s", "-s", str(WRK_SCRIPT),
    ]  # fmt: skip
    if route.id_range:
        low, high = route.id_range
        command += [base + route.path + str(low), "--", route.path, str(low), str(high)]
    elif route.fresh:
        command += [base + route.path, "--", "fresh"]
    else:
        command.append(base + route.path)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    match = _BENCH_LINE.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    values = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    errors = sum(values[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkRun(
        requests_per_s=values["requests"] / (values["duration_us"] / 1e6),
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        errors=errors,
    )


def _cpu_ticks(pids: set[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def _cpu_used(before: dict[int, int], after: dict[int, int]) -> int:
    # Per process: backends come and go during a run (a new one started from zero).
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items())


def _process_tree(root: int) -> set[int]:
    """`root` and its descendants (PostgreSQL's backends are children of the postmaster)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    tree = {root}
    for _ in range(8):  # the postmaster's tree is two levels deep; 8 is plenty
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        if grown == tree:
            break
        tree = grown
    return tree


def _postmaster_pid(db: Database) -> int | None:
    if db.pgdata is None:
        return None  # a server behind DATABASE_URL may not even be on this machine
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((db.pgdata / "postmaster.pid").read_text().split()[0])
    return None


def prepare_route(base: str, route: Route, args: argparse.Namespace) -> dict[str, Any]:
    """One checked request, then a warm-up: the route is ready to measure."""
    check = sanity_check(base, route)
    if not check["ok"]:
        # Measuring an error page would only produce nonsense ratios. A 500 right after the
        # code changed usually means a stale bench schema: run again with --fresh.
        raise RuntimeError(f"{route.name} answered {check['status']}, not a 200 page")
    run_wrk(base, route, args, args.warmup)
    return check


def measure_run(
    base: str, server_pid: int, db: Database, route: Route, args: argparse.Namespace
) -> WrkRun:
    """One wrk run; the CPU each side used is read from /proc around it."""
    postmaster = _postmaster_pid(db)
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    server_before = _cpu_ticks(_process_tree(server_pid))  # workers are children
    pg_before = _cpu_ticks(_process_tree(postmaster)) if postmaster else {}
    started = time.monotonic()
    run = run_wrk(base, route, args, args.duration)
    elapsed = time.monotonic() - started
    server_ticks = _cpu_used(server_before, _cpu_ticks(_process_tree(server_pid)))
    run.server_cpu = round(server_ticks / ticks_per_s / elapsed, 2)
    if postmaster:
        pg_ticks = _cpu_used(pg_before, _cpu_ticks(_process_tree(postmaster)))
        run.postgres_cpu = round(pg_ticks / ticks_per_s / elapsed, 2)
    return run


def summary_row(route: Route, check: dict[str, Any], runs: list[WrkRun]) -> dict[str, Any]:
    """A route's row: every run, and the median of each figure over them."""
    median = WrkRun(
        requests_per_s=statistics.median(r.requests_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p95_ms=statistics.median(r.p95_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),  # all runs: one error in any of them matters
        server_cpu=_median_or_none([r.server_cpu for r in runs]),
        postgres_cpu=_median_or_none([r.postgres_cpu for r in runs]),
    )
    print(
        f"   {route.name:<38} {median.requests_per_s:8,.0f} req/s  p50 {median.p50_ms:7.1f} ms"
        f"  p95 {median.p95_ms:7.1f} ms  errors {median.errors}",
        flush=True,
    )
    return {
        "route": asdict(route),
        "check": check,
        "runs": [asdict(r) for r in runs],
        "median": asdict(median),
    }


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


# --------------------------------------------------------------------------------------------
# Report


@dataclass
class Verdict:
    target: str
    measured: str
    passed: bool


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def find(self, name: str) -> dict[str, Any]:
        return next(row for row in self.rows if row["route"]["name"] == name)

    def ratio(self, row: dict[str, Any]) -> float | None:
        """App req/s over the baseline's for the same subject (query or project detail)."""
        if row["route"]["name"].startswith("baseline"):
            return None
        baseline = next(
            (
                r
                for r in self.rows
                if r["route"]["name"].startswith("baseline")
                and r["route"]["subject"] == row["route"]["subject"]
            ),
            None,
        )
        if baseline is None or not baseline["median"]["requests_per_s"]:
            return None
        return row["median"]["requests_per_s"] / baseline["median"]["requests_per_s"]

    def verdicts(self) -> list[Verdict]:
        verdicts = []
        # Each query asked again (counts kept) and asked anew by every request (counted).
        for subject, target in (
            ("selective", TARGET_SELECTIVE_P95_MS),
            ("broad", TARGET_BROAD_P95_MS),
            ("unaccented", TARGET_BROAD_P95_MS),
            ("selective, new", TARGET_SELECTIVE_P95_MS),
            ("broad, new", TARGET_BROAD_P95_MS),
            ("unaccented, new", TARGET_BROAD_P95_MS),
        ):
            median = self.find(f"app API /api/v1/search ({subject})")["median"]
            verdicts.append(
                Verdict(
                    f"API search p95 < {target:.0f} ms ({subject})",
                    f"{median['p95_ms']:.1f} ms",
                    median["p95_ms"] < target and median["errors"] == 0,
                )
            )
        for subject in ("selective", "broad"):
            ratio = self.ratio(self.find(f"app HTML /search ({subject})"))
            verdicts.append(
                Verdict(
                    f"HTML search >= {TARGET_HTML_RATIO}x baseline req/s ({subject})",
                    f"{ratio:.2f}x" if ratio is not None else "n/a",
                    ratio is not None and ratio >= TARGET_HTML_RATIO,
                )
            )
        return verdicts

    def print_table(self) -> None:
        header = (
            f"{'route':<38} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6} {'vs base':>7} {'srv CPU':>7} {'PG CPU':>7}"
        )
        print("\n" + header + "\n" + "-" * len(header))
        for row in self.rows:
            m, ratio = row["median"], self.ratio(row)
            print(
                f"{row['route']['name']:<38} {m['requests_per_s']:8,.0f} {m['p50_ms']:8.1f} "
                f"{m['p95_ms']:8.1f} {m['p99_ms']:8.1f} {m['errors']:6d} "
                f"{(f'{ratio:.2f}x' if ratio is not None else '-'):>7} "
                f"{_cores(m['server_cpu']):>7} {_cores(m['postgres_cpu']):>7}"
            )


def _cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=1_000_000, help="demo projects to load")
    parser.add_argument("--selective", default=SELECTIVE_QUERY, help="a query matching << 1%%")
    parser.add_argument("--broad", default=BROAD_QUERY, help="a query matching about 10%%")
    parser.add_argument("--unaccented", default=UNACCENTED_QUERY, help="a broad unaccented one")
    parser.add_argument("--database", default=DATABASE, help="the bench database's name")
    parser.add_argument(
        "--agreement", action="store_true", help="check the first pages against full rankings"
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per route")
    parser.add_argument("--repeats", type=int, default=3, help="runs per route (median kept)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes for both the app and the baseline (the Procfile uses 2)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop the bench database first and load it again"
    )
    args = parser.parse_args(argv)
    if args.projects < 1 or args.repeats < 1 or args.duration <= 0:
        parser.error("--projects, --repeats and --duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    db = prepare_database(args.database, EMBEDDED_PGDATA, fresh=args.fresh)
    try:
        load = load_catalogue(db, args.projects)
        agreement = asyncio.run(_agreement(db.url, AGREEMENT_QUERIES)) if args.agreement else None
        queries = [args.selective, args.broad, args.unaccented]
        checks, low, high = asyncio.run(_check_queries(db.url, queries))
        for check in checks:
            print(
                f"query {check.query!r}: {check.projects_matched:,} projects "
                f"({check.share_of_projects:.2%}); search statement alone {check.sql_ms:.1f} ms"
            )
        env = child_environment(db)
        report = Report()
        servers = [
            ("app", ["registry.app:create_app", "--factory"], app_routes),
            ("baseline", ["bench.baseline_app:app"], baseline_routes),
        ]
        planned: list[tuple[str, int, Route]] = []
        with contextlib.ExitStack() as running:
            for label, target, routes in servers:
                log = RESULTS / f"{label}-server.log"
                base, pid = running.enter_context(
                    uvicorn_server(label, target, env, log, args.workers)
                )
                for route in routes(args.selective, args.broad, args.unaccented, (low, high)):
                    planned.append((base, pid, route))
            # Both servers stay up (the one not measured is idle) and each round runs every
            # route once, a query's app routes beside its baseline route: a ratio compares
            # runs minutes apart at most, not one server's whole turn with the other's, which
            # on a shared machine differed by a third for the same code.
            planned.sort(key=lambda plan: SUBJECT_ORDER.index(plan[2].subject))
            sanity = {route.name: prepare_route(base, route, args) for base, _, route in planned}
            runs: dict[str, list[WrkRun]] = {route.name: [] for _, _, route in planned}
            for round_number in range(1, args.repeats + 1):
                print(f"-- round {round_number} of {args.repeats}", flush=True)
                for base, pid, route in planned:
                    runs[route.name].append(measure_run(base, pid, db, route, args))
            print("-- medians")
            for _, _, route in planned:
                report.rows.append(summary_row(route, sanity[route.name], runs[route.name]))
    finally:
        stop_database(db)

    report.print_table()
    verdicts = report.verdicts()
    print()
    for verdict in verdicts:
        print(f"{'PASS' if verdict.passed else 'FAIL'}  {verdict.target}: {verdict.measured}")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    output = RESULTS / f"catalogue-{stamp}.json"
    output.write_text(
        json.dumps(
            {
                "when": dt.datetime.now().isoformat(timespec="seconds"),
                "settings": vars(args),
                "search_candidate_cap": Settings.from_env().search_candidate_cap,
                "cpus": os.cpu_count(),
                "load": load,
                "agreement": agreement,
                "queries": [asdict(c) for c in checks],
                "project_ids": [low, high],
                "results": report.rows,
                "verdicts": [asdict(v) for v in verdicts],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nresults written to {output.relative_to(ROOT)}")
    return 0 if all(v.passed for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
