"""The near-duplicate check: the query submit used to run in its transaction (every version's
trigrams through the GIN index) against the bounded one the `proposals:flag_duplicates` job
runs now (the 50 nearest versions by the GiST trigram index, then the threshold), at N
submitted versions (default 2,000 and 20,000), with the same texts as bench/deadline.py.

The tables are the registry's `proposal` and `proposal_version` reduced to the columns the
check reads, with the same indexes; each run builds them afresh in its own database
(`registry_bench_duplicates`). Prints the median of each query over a sample of versions and
the new one's ratio to the old one measured in the same run.

    .venv/bin/python bench/duplicates.py [--sizes 2000 20000] [--samples 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

import asyncpg
from bench_database import prepare_database, stop_database
from deadline import _vocabulary, draft_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.services.queries.proposals import (  # noqa: E402
    DUPLICATE_CANDIDATES,
    NEAREST_PROPOSAL_DUPLICATES,
)

DATABASE = "registry_bench_duplicates"
EMBEDDED_PGDATA = ROOT / ".registry" / "duplicates-pgdata"
THRESHOLD = 0.5

#: What submit ran in its transaction before (its SELECT): every version the GIN index matches.
OLD = """
    SELECT v.proposal, round(similarity(v.fingerprint, me.fingerprint) * 100)
    FROM proposal_version me
    JOIN proposal_version v ON v.fingerprint % me.fingerprint AND v.proposal <> me.proposal
    JOIN proposal p ON p.id = v.proposal AND p.submitted_version = v.number
    WHERE me.id = $1
    ORDER BY similarity(v.fingerprint, me.fingerprint) DESC LIMIT 10"""

#: The other bound considered: the GIN index's `%` with a cap of 50 candidates.
CAPPED_GIN = """
    SELECT c.proposal, round(c.similarity * 100)
    FROM proposal_version me
    CROSS JOIN LATERAL (
        SELECT v.proposal, v.number, similarity(v.fingerprint, me.fingerprint) AS similarity
        FROM proposal_version v
        WHERE v.fingerprint % me.fingerprint AND v.proposal <> me.proposal LIMIT 50) c
    JOIN proposal p ON p.id = c.proposal AND p.submitted_version = c.number
    WHERE me.id = $1
    ORDER BY c.similarity DESC, c.proposal LIMIT 10"""
#: A proposal is resubmitted now and then: versions per proposal, about 1.3 on average.
RESUBMITTED = 0.3

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE OR REPLACE FUNCTION registry_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, lower($1)) $$;
DROP TABLE IF EXISTS proposal_version, proposal;
CREATE TABLE proposal (id int PRIMARY KEY, submitted_version int NOT NULL);
CREATE TABLE proposal_version (
    id int PRIMARY KEY, proposal int NOT NULL REFERENCES proposal, number int NOT NULL,
    fingerprint text NOT NULL);
"""
INDEXES = f"""
CREATE INDEX proposal_version_fingerprint ON proposal_version USING gin (fingerprint gin_trgm_ops);
{DUPLICATE_CANDIDATES}
ANALYZE proposal, proposal_version;
"""


async def build(conn: asyncpg.Connection, size: int) -> list[int]:
    """`size` versions of about size/1.3 proposals; the ids of a sample of latest versions."""
    rng, vocabulary = random.Random(size), _vocabulary()
    await conn.execute(SCHEMA)
    versions, proposals = [], []
    proposal = 0
    while len(versions) < size:
        proposal += 1
        number = 1 + (rng.random() < RESUBMITTED)
        for n in range(1, number + 1):
            text = draft_text(rng, vocabulary, len(versions))
            versions.append(
                (len(versions) + 1, proposal, n, f"{text.title} {' '.join(text.sentences)}")
            )
        proposals.append((proposal, number))
    await conn.copy_records_to_table("proposal", records=proposals)
    await conn.executemany(
        "INSERT INTO proposal_version VALUES ($1, $2, $3, registry_fold($4))", versions
    )
    await conn.execute(INDEXES)
    latest = [v[0] for v in versions if v[2] == dict(proposals)[v[1]]]
    return rng.sample(latest, 25)


async def median_ms(conn: asyncpg.Connection, query: str, versions: list[int]) -> float:
    times = []
    async with conn.transaction():
        await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {THRESHOLD}")
        for version in versions:
            start = time.perf_counter()
            await conn.fetch(query, version)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def same_flags(conn: asyncpg.Connection, versions: list[int]) -> int:
    agree = 0
    async with conn.transaction():
        await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {THRESHOLD}")
        for version in versions:
            before = {tuple(r) for r in await conn.fetch(OLD, version)}
            after = {tuple(r) for r in await conn.fetch(NEAREST_PROPOSAL_DUPLICATES, version)}
            agree += before == after
    return agree


async def run(url: str, sizes: list[int], samples: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        for size in sizes:
            sample = (await build(conn, size))[:samples]
            old = await median_ms(conn, OLD, sample)
            capped = await median_ms(conn, CAPPED_GIN, sample)
            new = await median_ms(conn, NEAREST_PROPOSAL_DUPLICATES, sample)
            agree = await same_flags(conn, sample)
            print(
                f"N={size:>6}: old (GIN %) {old:8.1f} ms | GIN % LIMIT 50 {capped:8.1f} ms "
                f"(ratio {capped / old:5.3f}) | new, GiST <-> LIMIT 50 {new:7.1f} ms "
                f"(ratio {new / old:5.3f}); same flags as old for {agree}/{len(sample)} versions",
                flush=True,
            )
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args(argv)
    db = prepare_database(DATABASE, EMBEDDED_PGDATA, fresh=False, refuse=("registry_test",))
    try:
        asyncio.run(run(db.url, args.sizes, args.samples))
    finally:
        stop_database(db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
