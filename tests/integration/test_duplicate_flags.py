"""Near-duplicate flags come from a job after the submission, not from the submission's own
transaction: a submission at the deadline does not wait for the comparison, the flags appear
once the job ran, match what the old in-transaction check flagged, and a job run twice does
not flag anything twice."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from registry.domain.accounts import Role
from registry.jobs import worker
from registry.services import call_dashboard, proposals, submissions
from registry.settings import Settings
from tests.factories import ORIGIN, complete_draft, open_call, person, technology_ids

pytestmark = pytest.mark.integration

#: What submit used to insert in its transaction, as a SELECT: the expected pairs.
OLD_CHECK = """
    SELECT v.proposal
    FROM proposal_version me
    JOIN proposal_version v ON similarity(v.fingerprint, me.fingerprint) >= 0.5
        AND v.proposal <> me.proposal
    JOIN proposal p ON p.id = v.proposal AND p.submitted_version = v.number
    WHERE me.id = $1
    ORDER BY similarity(v.fingerprint, me.fingerprint) DESC LIMIT 10"""

FLAGS = """
    SELECT other_proposal, other_project FROM duplicate_flag d
    JOIN proposal_version v ON v.id = d.version WHERE v.proposal = $1"""


@pytest.fixture
async def alike(db, database_url):
    """A manager's open call and three submitted proposals titled alike (one resubmitted,
    one unlike the others): (manager, call id, proposal ids)."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    call_id = await open_call(manager, fund_id)
    draft = complete_draft(tuple(await technology_ids()))
    made = []
    titles = (
        draft.title_vi,
        draft.title_vi + " mới",
        "Giống lúa chịu mặn cho đồng bằng sông Cửu Long",
    )
    for code, title in zip(("vast", "hcmut", "vast"), titles, strict=True):
        applicant = await person(database_url, (Role.APPLICANT, code))
        organisation = await db.fetchval("SELECT id FROM organisation WHERE code = $1", code)
        proposal_id = await proposals.start(applicant, call_id, organisation, ORIGIN)
        abstract = draft.abstract_vi if title != titles[2] else "Chọn tạo giống lúa mới " * 8
        await proposals.save_draft(
            applicant, proposal_id, replace(draft, title_vi=title, abstract_vi=abstract), 1, ORIGIN
        )
        await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)
        made.append(proposal_id)
    return manager, call_id, made


async def _versions(db, proposal_ids):
    return await db.fetch(
        "SELECT v.id, v.proposal FROM proposal_version v JOIN proposal p ON p.id = v.proposal "
        "AND p.submitted_version = v.number WHERE v.proposal = ANY($1::int[]) ORDER BY v.id",
        proposal_ids,
    )


async def test_flags_appear_only_after_the_job_ran(alike, db, database_url, tmp_path):
    manager, call_id, (first, copy, other) = alike
    assert await db.fetch(FLAGS, copy) == [], "submit flagged in its own transaction"
    queued = await db.fetchval(
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'proposals:flag_duplicates' "
        "AND (args->>'version_id')::int = ANY($1::int[])",
        [v["id"] for v in await _versions(db, [first, copy, other])],
    )
    assert queued == 3
    board = await call_dashboard.dashboard(manager, call_id)
    assert not [d for d in board.duplicates if d.proposal_id in (first, copy, other)]

    settings = Settings(database_url=database_url, data_dir=tmp_path, worker_concurrency=1)
    await worker.run(settings, wait=False, signal_handlers=False)

    board = await call_dashboard.dashboard(manager, call_id)
    pairs = {(d.proposal_id, d.other_id) for d in board.duplicates if d.other_kind == "proposal"}
    assert (copy, first) in pairs
    assert (first, copy) in pairs
    assert not any(other in pair for pair in pairs)


async def test_the_job_flags_what_the_old_check_flagged_once_however_often_it_runs(alike, db):
    _, _, made = alike
    for version in await _versions(db, made):
        await submissions.flag_duplicates(version["id"])
        await submissions.flag_duplicates(version["id"])
        flagged = await db.fetch(
            "SELECT other_proposal FROM duplicate_flag WHERE version = $1 "
            "AND other_proposal IS NOT NULL",
            version["id"],
        )
        expected = {r["proposal"] for r in await db.fetch(OLD_CHECK, version["id"])}
        assert sorted(r["other_proposal"] for r in flagged) == sorted(expected)
    total, distinct = await db.fetchrow(
        "SELECT count(*), count(DISTINCT (version, other_proposal, other_project)) "
        "FROM duplicate_flag WHERE version = ANY($1::int[])",
        [v["id"] for v in await _versions(db, made)],
    )
    assert total == distinct
