"""Importing 100,000 historic projects from CSV and XLSX (`registry import projects`): rows/s
and peak memory of each run, in its own process.

    .venv/bin/python bench/import.py [--rows 100000] [--fresh]

Uses its own database (`registry_bench_import`, see bench_database.py). The files are made
here: every row has a title, an English title, an organisation (half known by name, the rest
new ones by tax number), an amount written one of five ways, dates, a province named before
the 2025 merger and one or two technologies. Runs: a dry run of the CSV, the CSV imported
(100,000 new projects), the same CSV again (nothing changes), and an XLSX of 100,000 other
projects imported, then again.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_database import prepare_database  # noqa: E402

from tests import import_files as files  # noqa: E402

NAME = "registry_bench_import"


def one_run(path: Path, dry_run: bool, job: bool) -> None:
    """In a child process: import `path` with the command's own function, or (`job`) as the
    upload page does (stored, then the job's service on a worker's pool, as the application's
    role, with its statement and query timeouts); print figures."""
    import asyncio

    from registry import cli, database
    from registry.services import project_import  # noqa: F401 (imported before the clock starts)

    database.engine()
    started = time.perf_counter()
    if job:
        ok = asyncio.run(_as_the_page_does(path))
    else:
        ok = asyncio.run(
            cli.import_projects(path, fund=None, dry_run=dry_run, report=None, language="en")
        )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ok": ok, "seconds": seconds, "peak_mb": peak_mb}))


async def _as_the_page_does(path: Path) -> bool:
    from registry import database
    from registry.domain.accounts import Actor, Grant, Origin, Role
    from registry.services import project_import
    from registry.services.storage import PostgresStorage
    from registry.settings import Settings

    account = await database.fetchval(
        "INSERT INTO account (email, display_name, password_hash) VALUES"
        " ('bench-' || gen_random_uuid() || '@example.vn', 'Bench', 'x') RETURNING id"
    )
    await database.open_pool(Settings.from_env())
    try:
        admin = Actor(account, "bench@example.vn", "Bench", frozenset({Grant(Role.ADMIN)}),
                      True, True)  # fmt: skip
        store = PostgresStorage()
        import_id = await project_import.start(
            admin, path.name, path.read_bytes(), None, dry_run=False, store=store,  # noqa: ASYNC240
            origin=Origin(None, "en"),
        )  # fmt: skip
        await project_import.run_queued(import_id, store)
        run = await project_import.get(admin, import_id)
        return run.state == "done"
    finally:
        await database.close_pool()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--job", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, args.dry_run, args.job)
        return
    db = prepare_database(NAME, ROOT / ".registry" / "bench-import-pgdata", fresh=args.fresh)
    env = {**os.environ, "DATABASE_URL": db.url, "PICCOLO_CONF": "registry.piccolo_conf"}
    for command in (["migrate"], ["load-fixtures"]):
        subprocess.run(
            [sys.executable, "-m", "registry.cli", *command], env=env, cwd=ROOT, check=True,
            capture_output=True,
        )  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    word = files.token()
    csv_path, xlsx_path = folder / "projects.csv", folder / "projects.xlsx"
    page_csv, page_xlsx = folder / "page.csv", folder / "page.xlsx"
    started = time.perf_counter()
    csv_path.write_bytes(files.as_csv(files.rows(word, args.rows)))
    xlsx_path.write_bytes(files.as_xlsx(files.rows(word + "x", args.rows)))
    page_csv.write_bytes(files.as_csv(files.rows(word + "p", args.rows)))
    page_xlsx.write_bytes(files.as_xlsx(files.rows(word + "q", args.rows)))
    sizes = [path.stat().st_size / 2**20 for path in (csv_path, xlsx_path)]
    made = time.perf_counter() - started
    print(f"files made in {made:.1f} s: CSV {sizes[0]:.1f} MB, XLSX {sizes[1]:.1f} MB")
    runs = [
        ("CSV, dry run", csv_path, ["--dry-run"]),
        ("CSV, imported (all new)", csv_path, []),
        ("CSV, imported again (unchanged)", csv_path, []),
        ("XLSX, imported (all new)", xlsx_path, []),
        ("XLSX, imported again (unchanged)", xlsx_path, []),
        ("page's job: CSV (all new)", page_csv, ["--job"]),
        ("page's job: XLSX (all new)", page_xlsx, ["--job"]),
    ]
    print(f"| run ({args.rows:,} rows) | seconds | rows/s | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: |")
    for label, path, flags in runs:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(path), *flags],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        assert figures["ok"], child.stdout + child.stderr
        rate = args.rows / figures["seconds"]
        print(f"| {label} | {figures['seconds']:.1f} | {rate:,.0f} | {figures['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
