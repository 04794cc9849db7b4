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


def one_run(path: Path, dry_run: bool) -> None:
    """In a child process: import `path` with the command's own function; print figures."""
    import asyncio

    from registry import cli

    started = time.perf_counter()
    ok = asyncio.run(
        cli.import_projects(path, fund=None, dry_run=dry_run, report=None, language="en")
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ok": ok, "seconds": seconds, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, args.dry_run)
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
    started = time.perf_counter()
    csv_path.write_bytes(files.as_csv(files.rows(word, args.rows)))
    xlsx_path.write_bytes(files.as_xlsx(files.rows(word + "x", args.rows)))
    sizes = [path.stat().st_size / 2**20 for path in (csv_path, xlsx_path)]
    made = time.perf_counter() - started
    print(f"files made in {made:.1f} s: CSV {sizes[0]:.1f} MB, XLSX {sizes[1]:.1f} MB")
    runs = [
        ("CSV, dry run", csv_path, True),
        ("CSV, imported (all new)", csv_path, False),
        ("CSV, imported again (unchanged)", csv_path, False),
        ("XLSX, imported (all new)", xlsx_path, False),
        ("XLSX, imported again (unchanged)", xlsx_path, False),
    ]
    print(f"| run ({args.rows:,} rows) | seconds | rows/s | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: |")
    for label, path, dry_run in runs:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(path), *(["--dry-run"] if dry_run else [])],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        assert figures["ok"], child.stdout + child.stderr
        rate = args.rows / figures["seconds"]
        print(f"| {label} | {figures['seconds']:.1f} | {rate:,.0f} | {figures['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
