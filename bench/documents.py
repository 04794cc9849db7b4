"""Decision documents rendered per second in one process, and that process's peak RSS.

Renders the sample documents of the tests (tests/decision_samples.py) through
`registry.documents.decisions.render_decision` (PDF/A-3b, JSON attached, QR code): a project
decision (2 pages), a call decision with a 12-row annex (4 pages, the annex landscape) and a
rejection notice, round after round, in this one process as a worker would. Prints, per kind,
the median seconds per document over --runs renders after one warm-up (wall clock, and CPU
time, steadier on a shared machine), documents per second (1 / median) and the file size;
then the whole batch's rate, and the process's peak RSS (ru_maxrss) with the RSS before the
first render, so the growth per document shows.

No signature, storage or queue here (issue 14's later parts); no target: the figures go to
bench/README.md.

    .venv/bin/python bench/documents.py [--runs 20] [--annex 12]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.documents.decisions import render_decision  # noqa: E402
from tests.decision_samples import call_document, notice_document, project_document  # noqa: E402


def rss_mb() -> float:
    """The current resident set (Linux /proc), in MB."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="renders of each kind (median)")
    parser.add_argument("--annex", type=int, default=12, help="rows in the call's annex")
    args = parser.parse_args()

    kinds = {
        "project decision": project_document(),
        f"call decision, {args.annex}-row annex": call_document(count=args.annex),
        "rejection notice": notice_document(reserve=False),
    }
    started_rss = rss_mb()
    for document in kinds.values():  # warm-up: fonts, templates, WeasyPrint's caches
        render_decision(document)
    warm_rss = rss_mb()

    times: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    sizes: dict[str, int] = {}
    batch_start = time.perf_counter()
    for _ in range(args.runs):
        for name, document in kinds.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            sizes[name] = len(render_decision(document))
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    batch = time.perf_counter() - batch_start
    count = args.runs * len(kinds)

    print(f"decision documents, PDF/A-3b, one process, {args.runs} renders of each after a warm-up")
    print(
        f"{'document':<32} {'median s':>9} {'min-max s':>11} {'docs/s':>7} {'CPU s':>6} {'KB':>5}"
    )
    for name, values in times.items():
        median = statistics.median(values)
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(
            f"{name:<32} {median:>9.3f} {spread:>11} {1 / median:>7.2f}"
            f" {statistics.median(cpu[name]):>6.3f} {sizes[name] / 1024:>5.1f}"
        )
    print(f"batch: {count} documents in {batch:.1f} s = {count / batch:.2f} docs/s")
    print(
        f"RSS: {started_rss:.0f} MB after import, {warm_rss:.0f} MB after the warm-up,"
        f" {rss_mb():.0f} MB now, peak {peak_mb():.0f} MB"
        f" ({(rss_mb() - warm_rss) / count * 1024:.0f} KB per document since the warm-up)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
