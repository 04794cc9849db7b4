"""The manager's ranking desk at scale: a call with 2,000 submitted proposals x 3 submitted
reviews x 5 criteria from 300 reviewers, the ranking page rendered through the app, and the
funding line and what-if on 10,000 candidates (pure functions).

    .venv/bin/python bench/review.py [--proposals 2000] [--reviewers 300] [--repeats 15]
                                     [--candidates 10000] [--fresh]

Prints medians, the page's number of SQL queries, and ratios against baselines measured in
the same run: the call's public page through the same app (one query, a small template) and a
plain sort of the candidates' scores. Exits 1 if a target is missed: page < 300 ms, funding
line and what-if < 200 ms each (issue 13). See bench/README.md ("Review desk benchmark").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from bench_database import prepare_database, stop_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.domain.accounts import token_digest  # noqa: E402
from registry.domain.catalogue import Localized  # noqa: E402
from registry.domain.scoring import (  # noqa: E402
    WEIGHT_ONE,
    Aggregation,
    Candidate,
    Criteria,
    Criterion,
    FundingPolicy,
    ReviewScores,
    Scenario,
    TieBreak,
    criteria_to_json,
    funding_line,
    rank,
    what_if,
)

DATABASE = "registry_bench_review"
EMBEDDED_PGDATA = ROOT / ".registry" / "review-pgdata"
RESULTS = ROOT / "bench" / "results"
NEVER_TOUCH = "registry_test"
HOST = "bench.local"
SESSION_COOKIE = "__Host-sid"
FUND = "nafosted"
ORGANISATIONS = ("vast", "hcmut", "vast-ibt", "vast-ims", "vnu-hus", "agi")
#: The Fernet key of the bench's TOTP seeds (registry commands and the app read it).
TOTP_KEY = "YmVuY2gtb25seS10b3RwLWtleS0wMDAwMDAwMDAwMDA="
TARGET_PAGE_MS = 300.0
TARGET_PURE_MS = 200.0

CRITERIA = Criteria(
    items=tuple(
        Criterion(Localized(vi, en), Localized(f"Hướng dẫn: {vi}.", None), threshold=30, weight=w)
        for vi, en, w in (
            ("Tính xuất sắc", "Excellence", WEIGHT_ONE),
            ("Tác động", "Impact", 1500),
            ("Tổ chức thực hiện", "Implementation", WEIGHT_ONE),
            ("Năng lực nhóm", "Team", WEIGHT_ONE),
            ("Tính khả thi của kinh phí", "Budget feasibility", 500),
        )
    ),
    overall_threshold=160,
    tie_breaks=(
        TieBreak.UNCOVERED_TOPICS_FIRST,
        TieBreak.CRITERION_ORDER,
        TieBreak.EARLIER_SUBMISSION,
    ),
    tie_break_order=(0, 1, 2, 3, 4),
)
WORDS = (
    "trí tuệ nhân tạo",
    "bán dẫn",
    "vật liệu mới",
    "năng lượng tái tạo",
    "dữ liệu lớn",
    "y sinh",
    "lượng tử",
    "robot công nghiệp",
    "an ninh mạng",
    "nông nghiệp thông minh",
)


def registry_command(env: dict[str, str], *args: str) -> None:
    registry = Path(sys.executable).with_name("registry")
    done = subprocess.run([str(registry), *args], env=env, cwd=ROOT, check=False, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"registry {' '.join(args)} failed (try --fresh)")


def mark(rng: random.Random, quality: float, bias: float) -> int:
    """A reviewer's mark in tenths on the 0-5 scale in steps of 0.5."""
    points = quality + bias + rng.gauss(0, 0.45)
    return int(min(50, max(0, round(points * 2) * 5)))


# --------------------------------------------------------------------------------------------
# The call, built with bulk SQL


async def build(url: str, proposals: int, reviewers: int, seed: int) -> dict[str, Any]:
    """A fresh published and closed call with `proposals` submitted proposals, 3 submitted
    reviews each from `reviewers` reviewers, a few consensus marks, and a manager's session.
    Earlier runs' calls are removed first (this database is the script's own)."""
    rng = random.Random(seed)
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "TRUNCATE review, review_consensus, review_assignment, proposal_outcome, "
            "call_decision, duplicate_flag, attachment, proposal_version, proposal, "
            "call_criteria, call"
        )
        fund_id = await conn.fetchval("SELECT id FROM fund WHERE code = $1", FUND)
        organisations = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM organisation WHERE code = ANY($1::text[])", list(ORGANISATIONS)
            )
        ]
        technologies = [r["id"] for r in await conn.fetch("SELECT id FROM technology LIMIT 40")]
        if fund_id is None or not organisations or not technologies:
            raise SystemExit("reference data missing (registry load-fixtures?)")

        async def accounts(emails: list[str], names: list[str]) -> list[int]:
            rows = await conn.fetch(
                "INSERT INTO account (email, display_name, password_hash, email_verified_at) "
                "SELECT e, n, 'not-a-password', now() FROM unnest($1::text[], $2::text[]) "
                "AS t(e, n) ON CONFLICT (email) DO UPDATE SET display_name = EXCLUDED.display_name "
                "RETURNING id, email",
                emails,
                names,
            )
            by_email = {r["email"]: r["id"] for r in rows}
            return [by_email[e] for e in emails]

        (manager,) = await accounts(["review-manager@bench.example.vn"], ["Quản lý quỹ (bench)"])
        (applicant,) = await accounts(["review-applicant@bench.example.vn"], ["Người nộp (bench)"])
        panel = await accounts(
            [f"review-{i:04d}@bench.example.vn" for i in range(reviewers)],
            [f"Chuyên gia {i:04d}" for i in range(reviewers)],
        )
        # Managers must have a second factor: enrolled (never asked: the session has it given).
        from registry.services.totp_seeds import seal
        from registry.settings import Settings

        await conn.execute(
            "UPDATE account SET totp_secret = $2, totp_enrolled_at = now() WHERE id = $1",
            manager,
            seal(Settings(totp_key=TOTP_KEY), secrets.token_hex(10)),
        )
        await conn.execute(
            "INSERT INTO account_role (account, role, fund) VALUES ($1, 'fund_manager', $2) "
            "ON CONFLICT DO NOTHING",
            manager,
            fund_id,
        )
        await conn.execute(
            "INSERT INTO account_role (account, role) SELECT unnest($1::int[]), 'reviewer' "
            "ON CONFLICT DO NOTHING",
            panel,
        )
        now = datetime.now(UTC)
        criteria_json = json.dumps(criteria_to_json(CRITERIA), ensure_ascii=False)
        call_technologies = technologies[:12]
        call_id = await conn.fetchval(
            "INSERT INTO call (fund, title_vi, title_en, technologies, opens_at, closes_at, "
            "budget_vnd, min_request_vnd, max_request_vnd, reviewers_per_proposal, criteria, "
            "criteria_version, published_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, "
            "500000000, 3000000000, 3, $8::jsonb, 1, $5, $9) RETURNING id",
            fund_id,
            f"Đợt xét chọn quy mô lớn (bench {now:%Y-%m-%d %H:%M})",
            "Ranking desk benchmark call",
            call_technologies,
            now - timedelta(days=40),
            now - timedelta(days=10),
            10**15,  # set below, once the requests are known
            criteria_json,
            manager,
        )
        await conn.execute(
            "INSERT INTO call_criteria (call, version, criteria) VALUES ($1, 1, $2::jsonb)",
            call_id,
            criteria_json,
        )
        ids = [
            r[0]
            for r in await conn.fetch(
                "SELECT nextval(pg_get_serial_sequence('proposal', 'id')) "
                "FROM generate_series(1, $1)",
                proposals,
            )
        ]
        proposal_rows, version_rows = [], []
        quality: dict[int, float] = {}
        requested_total = 0
        for index, proposal_id in enumerate(ids):
            quality[proposal_id] = min(4.8, max(1.0, rng.gauss(3.4, 0.7)))
            requested = rng.randrange(500, 3001, 10) * 1_000_000
            requested_total += requested
            topic = rng.choice(WORDS)
            title = f"Nghiên cứu {topic} ứng dụng cho {rng.choice(WORDS)} số {index}"
            draft = {
                "title_vi": title,
                "title_en": "",
                "abstract_vi": " ".join(f"Phát triển {rng.choice(WORDS)}." for _ in range(40)),
                "abstract_en": "",
                "technologies": [rng.choice(call_technologies)],
                "pi_name": "Nguyễn Văn A",
                "pi_orcid": "",
                "team": [],
                "budget": [{"category": "personnel", "requested": requested, "own": 0}],
                "duration_months": 24,
                "milestones": [],
            }
            reference = f"NAFOSTED-{now.year}-{proposal_id:06d}"
            content = {
                "reference": reference,
                "call": call_id,
                "criteria_version": 1,
                "organisation": organisations[index % len(organisations)],
                "proposal": draft,
                "files": [],
            }
            proposal_rows.append(
                (
                    proposal_id,
                    call_id,
                    organisations[index % len(organisations)],
                    applicant,
                    "submitted",
                    json.dumps(draft, ensure_ascii=False),
                    requested,
                    draft["technologies"],
                    1,
                )
            )
            version_rows.append(
                (
                    proposal_id,
                    1,
                    uuid.uuid4(),
                    json.dumps(content, ensure_ascii=False),
                    secrets.token_hex(32),
                    1,
                    now - timedelta(days=11, seconds=index * 7),
                    f"{reference}-V1",
                    applicant,
                    title.lower(),
                )
            )
        await conn.copy_records_to_table(
            "proposal",
            records=proposal_rows,
            columns=[
                "id", "call", "organisation", "created_by", "status", "draft",
                "requested_vnd", "technologies", "submitted_version",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "proposal_version",
            records=version_rows,
            columns=[
                "proposal", "number", "submit_key", "content", "content_sha256",
                "criteria_version", "received_at", "receipt_no", "submitted_by", "fingerprint",
            ],
        )  # fmt: skip
        budget = requested_total // 4 // 1_000_000 * 1_000_000
        await conn.execute("UPDATE call SET budget_vnd = $2 WHERE id = $1", call_id, budget)

        # Three reviews per proposal from distinct reviewers, each with a bias of their own.
        bias = {reviewer: rng.gauss(0, 0.35) for reviewer in panel}
        assignment_ids = [
            r[0]
            for r in await conn.fetch(
                "SELECT nextval(pg_get_serial_sequence('review_assignment', 'id')) "
                "FROM generate_series(1, $1)",
                proposals * 3,
            )
        ]
        assignment_rows, review_rows = [], []
        submitted_at = now - timedelta(days=2)
        for proposal_id in ids:
            for reviewer in rng.sample(panel, 3):
                assignment_id = assignment_ids[len(assignment_rows)]
                assignment_rows.append(
                    (assignment_id, proposal_id, reviewer, "accepted", 500, "auto", submitted_at)
                )
                marks = [mark(rng, quality[proposal_id], bias[reviewer]) for _ in CRITERIA.items]
                comments = [
                    f"Nhận xét về tiêu chí {i + 1}: " + " ".join(rng.sample(WORDS, 4))
                    for i in range(len(marks))
                ]
                review_rows.append(
                    (
                        assignment_id,
                        1,
                        1,
                        json.dumps(marks),
                        json.dumps(comments, ensure_ascii=False),
                        "Đánh giá chung: đề xuất có cơ sở khoa học.",
                        "submitted",
                        submitted_at,
                    )
                )
        await conn.copy_records_to_table(
            "review_assignment",
            records=assignment_rows,
            columns=[
                "id", "proposal", "reviewer", "status", "affinity", "source", "answered_at",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "review",
            records=review_rows,
            columns=[
                "assignment", "version", "criteria_version", "marks", "comments",
                "overall_comment", "status", "submitted_at",
            ],
        )  # fmt: skip
        consensus = rng.sample(ids, max(1, proposals // 100))
        await conn.executemany(
            "INSERT INTO review_consensus (proposal, marks, justification, entered_by) "
            "VALUES ($1, $2::jsonb, 'Hội đồng thống nhất.', $3)",
            [(p, json.dumps([40, 40, 35, 40, 30]), manager) for p in consensus],
        )
        token = secrets.token_urlsafe(32)
        await conn.execute(
            "INSERT INTO web_session (digest, account, second_factor_done, idle_seconds, "
            "client_address) VALUES ($1, $2, true, 86400, '127.0.0.1')",
            token_digest(token),
            manager,
        )
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()
    return {
        "call_id": call_id,
        "manager": manager,
        "token": token,
        "budget_vnd": budget,
        "requested_vnd": requested_total,
        "build_seconds": time.perf_counter() - started,
        "proposals": proposals,
    }


# --------------------------------------------------------------------------------------------
# The page, through the app


def counted() -> tuple[list[str], Callable[[], None]]:
    """Count the statements asyncpg runs with parameters (every connection) until undone."""
    run: list[str] = []
    original = asyncpg.connection.Connection._execute

    async def counting(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        run.append(query)
        return await original(self, query, *args, **kwargs)

    asyncpg.connection.Connection._execute = counting  # type: ignore[method-assign]

    def undo() -> None:
        asyncpg.connection.Connection._execute = original  # type: ignore[method-assign]

    return run, undo


async def interleaved(
    fetches: dict[str, Callable[[], Awaitable[Any]]], repeats: int, warm: int = 2
) -> dict[str, list[float]]:
    """Each fetch timed `repeats` times, taking turns, so a page and its baseline meet the
    same load from the rest of the machine (it is shared)."""
    for _ in range(warm):
        for fetch in fetches.values():
            await fetch()
    times: dict[str, list[float]] = {name: [] for name in fetches}
    for _ in range(repeats):
        for name, fetch in fetches.items():
            start = time.perf_counter()
            await fetch()
            times[name].append((time.perf_counter() - start) * 1000)
    return times


async def measure_pages(url: str, built: dict[str, Any], repeats: int) -> dict[str, Any]:
    from litestar.testing import AsyncTestClient

    from registry.app import create_app
    from registry.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="review-bench-"))
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        public_url=f"https://{HOST}",
        totp_key=TOTP_KEY,
        secret_key=secrets.token_hex(32),
        statement_timeout_ms=30_000,
        database_query_timeout_ms=60_000,
    )
    call_id = built["call_id"]
    ranking_path = f"/manage/calls/{call_id}/ranking"
    async with AsyncTestClient(app=create_app(settings), base_url=f"https://{HOST}") as client:
        client.follow_redirects = False
        client.cookies.set(SESSION_COOKIE, built["token"], domain=HOST)

        async def page(path: str) -> str:
            answer = await client.get(path)
            if answer.status_code != 200:
                raise SystemExit(f"GET {path}: {answer.status_code}\n{answer.text[:2000]}")
            return answer.text

        every = await page(ranking_path + "?page=all")
        rows = every.count('<tr class="funded"') + every.count('<tr class="reserve"')
        rows += every.count('<tr class="eliminated"') + every.count('<tr class="awaiting"')
        if 'class="funding-line"' not in every or rows != built["proposals"]:
            raise SystemExit(f"the ranking shows {rows} rows, or lacks its funding line")
        run, undo = counted()
        try:
            text = await page(ranking_path)
        finally:
            undo()
        what_if_path = (
            f"/manage/calls/{call_id}/ranking/what-if?criterion-1-weight=1&budget_vnd="
            f"{built['budget_vnd'] * 9 // 10}"
        )
        timed = await interleaved(
            {
                "public": lambda: page(f"/calls/{call_id}"),
                "ranking": lambda: page(ranking_path),
                "what_if": lambda: page(what_if_path),
            },
            repeats,
        )
        all_rows = (await interleaved({"all": lambda: page(ranking_path + "?page=all")}, 3))["all"]

        async def loader() -> None:
            from registry.domain.accounts import Actor, Grant, Role
            from registry.services import ranking

            fund = await asyncpg_fund(url)
            actor = Actor(
                built["manager"], "m@bench", "m", frozenset({Grant(Role.FUND_MANAGER, fund)}),
                True, True,
            )  # fmt: skip
            times: dict[str, list[float]] = {"load": [], "rank": [], "line": [], "calibrate": []}
            for n in range(repeats + 3):
                start = time.perf_counter()
                review = await ranking.call_review(actor, call_id, reviews=False)
                loaded = time.perf_counter()
                review.ranked  # noqa: B018 (computed on first use: timed here)
                ranked = time.perf_counter()
                review.line  # noqa: B018
                lined = time.perf_counter()
                review.calibrated_rank  # noqa: B018
                done = time.perf_counter()
                if n >= 3:
                    for name, begin, end in (
                        ("load", start, loaded),
                        ("rank", loaded, ranked),
                        ("line", ranked, lined),
                        ("calibrate", lined, done),
                    ):
                        times[name].append((end - begin) * 1000)
            return times

        service = await asyncio.to_thread(client.blocking_portal.call, loader)
    return {
        "queries": len(run),
        "page_kb": len(text.encode()) / 1024,
        "ranking_ms": timed["ranking"],
        "all_rows_ms": all_rows,
        "all_rows_kb": len(every.encode()) / 1024,
        "public_call_ms": timed["public"],
        "what_if_ms": timed["what_if"],
        "service_ms": service,
    }


async def asyncpg_fund(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT id FROM fund WHERE code = $1", FUND)
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# The pure functions on 10,000 candidates


def candidates(count: int, seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    bias = [rng.gauss(0, 0.35) for _ in range(max(300, count // 7))]
    start = datetime(2027, 1, 1, tzinfo=UTC)
    made = []
    for proposal in range(1, count + 1):
        quality = min(4.8, max(1.0, rng.gauss(3.4, 0.7)))
        reviews = tuple(
            ReviewScores(r, tuple(mark(rng, quality, bias[r]) for _ in CRITERIA.items))
            for r in rng.sample(range(len(bias)), 3)
        )
        made.append(
            Candidate(
                proposal=proposal,
                requested_vnd=rng.randrange(500, 3001, 10) * 1_000_000,
                submitted_at=start + timedelta(seconds=rng.randrange(10**6)),
                technologies=frozenset({rng.randrange(40)}),
                reviews=reviews,
            )
        )
    return made


def measure_pure(count: int, repeats: int, seed: int) -> dict[str, list[float]]:
    """rank, funding_line and what_if on `count` candidates, and the plain sort baseline,
    taking turns (the machine is shared)."""
    made = candidates(count, seed)
    requested = {c.proposal: c.requested_vnd for c in made}
    budget = sum(requested.values()) // 4
    ranked = rank(CRITERIA, made, Aggregation.MEDIAN)
    scenario = Scenario(weights=(1000, 1000, 3000, 1000, 1000), budget_vnd=budget * 9 // 10)
    plain = [(sum(r.marks[0] for r in c.reviews), c.proposal) for c in made]
    work: dict[str, Callable[[], Any]] = {
        "plain_sort_ms": lambda: sorted(plain, reverse=True),
        "rank_ms": lambda: rank(CRITERIA, made, Aggregation.MEDIAN),
        "funding_line_ms": lambda: funding_line(ranked, requested, budget, FundingPolicy.SKIP),
        "what_if_ms": lambda: what_if(
            CRITERIA, made, Aggregation.MEDIAN, budget, FundingPolicy.STOP, scenario
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in work}
    for turn in range(repeats + 1):
        for name, run in work.items():
            start = time.perf_counter()
            run()
            if turn:  # the first turn warms up
                times[name].append((time.perf_counter() - start) * 1000)
    return times


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proposals", type=int, default=2000)
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=57)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)

    load = os.getloadavg()
    print(f"pure: {args.candidates} candidates x 3 reviews x {len(CRITERIA.items)} criteria")
    pure = measure_pure(args.candidates, args.repeats, args.seed)
    db = prepare_database(DATABASE, EMBEDDED_PGDATA, fresh=args.fresh, refuse=(NEVER_TOUCH,))
    try:
        env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "PICCOLO_CONF": "registry.piccolo_conf",
            "TOTP_KEY": TOTP_KEY,
        }
        registry_command(env, "migrate")
        registry_command(env, "load-fixtures")
        built = asyncio.run(build(db.url, args.proposals, args.reviewers, args.seed))
        print(
            f"call {built['call_id']}: {args.proposals} proposals x 3 reviews x "
            f"{len(CRITERIA.items)} criteria, {args.reviewers} reviewers, built in "
            f"{built['build_seconds']:.1f} s"
        )
        os.environ["DATABASE_URL"] = db.url  # the services' own connections (Piccolo's engine)
        pages = asyncio.run(measure_pages(db.url, built, args.repeats))
    finally:
        stop_database(db)

    service = pages["service_ms"]
    public, plain = pages["public_call_ms"], pure["plain_sort_ms"]
    rows = [
        ("ranking page (GET, first 250 rows)", pages["ranking_ms"], TARGET_PAGE_MS, public),
        ("  of which: load (call_review, 4 queries)", service["load"], None, public),
        ("            rank", service["rank"], None, public),
        ("            funding line", service["line"], None, public),
        ("            calibration", service["calibrate"], None, public),
        ("ranking page, all rows on one page", pages["all_rows_ms"], None, public),
        ("what-if page (GET, through the app)", pages["what_if_ms"], None, public),
        (f"rank, {args.candidates:,} candidates", pure["rank_ms"], None, plain),
        (f"funding line, {args.candidates:,} candidates", pure["funding_line_ms"],
         TARGET_PURE_MS, plain),
        (f"what-if, {args.candidates:,} candidates", pure["what_if_ms"], TARGET_PURE_MS, plain),
    ]  # fmt: skip
    failed = False
    print(f"\n{'measure':<44} {'median ms':>9} {'min ms':>8} {'target':>7} {'x baseline':>10}")
    for name, values, target, base in rows:
        value = statistics.median(values)
        verdict = ""
        if target is not None:
            ok = value < target
            failed |= not ok
            verdict = "PASS" if ok else "FAIL"
        target_text = f"<{target:.0f}" if target else ""
        ratio = value / statistics.median(base)
        print(
            f"{name:<44} {value:>9.1f} {min(values):>8.1f} {target_text:>7} {ratio:>9.1f}x "
            f"{verdict}"
        )
    print(
        f"\nbaselines (medians): public call page {statistics.median(public):.1f} ms (through "
        f"the same app), plain sort of {args.candidates:,} scores {statistics.median(plain):.2f} ms"
    )
    print(
        f"ranking page: {pages['queries']} SQL statements (whatever the number of proposals), "
        f"{pages['page_kb']:.0f} KB of HTML ({pages['all_rows_kb']:.0f} KB with all rows)"
    )
    print(f"load average (1 min) at start and end: {load[0]:.1f}, {os.getloadavg()[0]:.1f}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"review-{stamp}.json"
    built.pop("token")
    out.write_text(json.dumps({"args": vars(args), "built": built, "pages": pages, "pure": pure},
                              default=str, indent=1))  # fmt: skip
    print(f"written to {out.relative_to(ROOT)}")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
