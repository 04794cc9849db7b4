"""Approved funded outcomes become catalogue projects, in the approval's own transaction:
found by search at once (with or without diacritics), carrying what was submitted and what was
approved, and nothing from the reviews; a proposed-but-not-approved decision publishes nothing."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string

import pytest

from registry.domain.accounts import Role
from registry.domain.catalogue import Kind
from registry.domain.clock import VIETNAM
from registry.domain.decisions import Choice
from registry.domain.public_record import add_months
from registry.domain.reviews import OutcomeKind
from registry.domain.search import Filters
from registry.services import catalogue, decisions, search
from tests.factories import ORIGIN, add_review, close_now, inserted_proposals, open_call, person

pytestmark = pytest.mark.integration

BILLION = 1_000_000_000
SECRET_COMMENT = "Nhận xét kín của chuyên gia 7Q"


def _token() -> str:
    """A made-up word, so each test's projects are the only ones its searches find."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


@pytest.fixture
async def approved_call(db, database_url, make_person):  # type: ignore[no-untyped-def]
    """A call whose two best proposals are funded (the first at a reduced amount with a
    reason) and the third rejected, proposed by one manager; not yet approved."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    proposer = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    approver = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    call_id = await open_call(proposer, fund_id, budget_vnd=3 * BILLION)
    token = _token()
    ids = await inserted_proposals(
        db,
        call_id,
        organisation,
        applicant.account_id,
        [BILLION, BILLION, BILLION],
        title=f"Cảm biến lượng tử {token}",
    )
    await close_now(db, call_id)
    reviewers = [await make_person((Role.REVIEWER, None)) for _ in range(3)]
    for proposal, marks in zip(ids, ([45, 45, 45], [40, 40, 40], [50, 20, 50]), strict=True):
        for reviewer in reviewers:
            await add_review(
                db, proposal, reviewer.id, marks, comments=[SECRET_COMMENT, "Tốt", "Ổn"]
            )
    choices = [
        Choice(ids[0], OutcomeKind.FUNDED, 900_000_000, "Giảm thiết bị"),
        Choice(ids[1], OutcomeKind.FUNDED, BILLION),
        Choice(ids[2], OutcomeKind.REJECTED),
    ]
    decision_id = await decisions.propose(proposer, call_id, choices, ORIGIN)
    return {
        "call_id": call_id,
        "fund_id": fund_id,
        "decision_id": decision_id,
        "approver": approver,
        "proposals": ids,
        "reviewers": reviewers,
        "token": token,
    }


async def _search(text: str) -> set[int]:
    results = await search.search(text, Filters(kind=Kind.PROJECT), candidate_cap=500)
    return {hit.id for hit in results.hits}


async def test_approving_creates_the_funded_projects_found_at_once(approved_call, db) -> None:  # type: ignore[no-untyped-def]
    call = approved_call
    count = "SELECT count(*) FROM project WHERE call = $1"
    assert await db.fetchval(count, call["call_id"]) == 0  # proposed only: nothing public
    assert await _search(f"cam bien luong tu {call['token']}") == set()

    await decisions.approve(call["approver"], call["call_id"], call["decision_id"], ORIGIN)

    rows = await db.fetch(
        "SELECT id, proposal, amount_vnd, starts_on, ends_on, fund, code, title_vi, abstract_vi"
        " FROM project WHERE call = $1 ORDER BY amount_vnd",
        call["call_id"],
    )
    first, second, _rejected = call["proposals"]
    assert [(r["proposal"], r["amount_vnd"]) for r in rows] == [
        (first, 900_000_000),
        (second, BILLION),
    ]
    approved_at = await db.fetchval(
        "SELECT approved_at FROM call_decision WHERE id = $1", call["decision_id"]
    )
    start = approved_at.astimezone(VIETNAM).date()
    assert {r["starts_on"] for r in rows} == {start}
    # 24 months from the proposal: the day before the same date two years on.
    assert rows[0]["ends_on"] == add_months(start, 24) - dt.timedelta(days=1)
    assert rows[0]["ends_on"].year == start.year + 2
    assert all(r["fund"] == call["fund_id"] for r in rows)
    assert rows[0]["code"].startswith("TEST-2027-")

    ids = {r["id"] for r in rows}
    audited = await db.fetchval(
        "SELECT summary->'after' FROM audit.event WHERE action = 'decision.approved' "
        "AND object_ref = $1",
        f"call_decision:{call['decision_id']}",
    )
    assert set(json.loads(audited)["projects"]) == ids
    # Unaccented, indexed in the approval's transaction.
    assert await _search(f"cam bien luong tu {call['token']}") == ids
    assert await _search(f"Cảm biến lượng tử {call['token']}") == ids

    project = await catalogue.get_project(rows[0]["id"])
    assert project.call is not None
    assert project.call.id == call["call_id"]
    assert project.fund.id == call["fund_id"]
    assert project.technologies  # the submitted technology
    shown = repr(project)
    assert SECRET_COMMENT not in shown
    assert "Giảm thiết bị" not in shown
    names = await db.fetch(
        "SELECT display_name FROM account WHERE id = ANY($1::int[])",
        [r.id for r in call["reviewers"]],
    )
    assert names
    assert all(n["display_name"] not in shown for n in names)


async def test_a_failed_approval_publishes_nothing(approved_call, db) -> None:  # type: ignore[no-untyped-def]
    call = approved_call
    await db.execute("CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$BEGIN RAISE EXCEPTION 'audit down'; END$$")  # fmt: skip
    await db.execute("CREATE TRIGGER fail BEFORE INSERT ON project_technology "
                     "FOR EACH ROW EXECUTE FUNCTION fail()")  # fmt: skip
    try:
        with pytest.raises(Exception, match="audit down"):
            await decisions.approve(call["approver"], call["call_id"], call["decision_id"], ORIGIN)
    finally:
        await db.execute("DROP TRIGGER fail ON project_technology; DROP FUNCTION fail()")
    assert await db.fetchval("SELECT count(*) FROM project WHERE call = $1", call["call_id"]) == 0
    status = "SELECT status FROM call_decision WHERE id = $1"
    assert await db.fetchval(status, call["decision_id"]) == "proposed"
    assert await _search(f"cam bien luong tu {call['token']}") == set()


async def test_a_catalogue_project_with_the_same_code_does_not_block_approval(  # type: ignore[no-untyped-def]
    approved_call, db
) -> None:
    """A historic project (imported, or in the catalogue) may already use a proposal's
    reference as its code: the funded project gets a code of its own, and both stay."""
    call = approved_call
    first = call["proposals"][0]
    reference = await db.fetchval(
        "SELECT v.content->>'reference' FROM proposal p JOIN proposal_version v"
        " ON v.proposal = p.id AND v.number = p.submitted_version WHERE p.id = $1",
        first,
    )
    historic = await db.fetchval(
        "INSERT INTO project (code, title_vi, fund, sort_key, is_demo)"
        " VALUES ($1, 'Đề tài cũ', $2, 'de tai cu', false) RETURNING id",
        reference,
        call["fund_id"],
    )

    await decisions.approve(call["approver"], call["call_id"], call["decision_id"], ORIGIN)

    codes = dict(
        await db.fetch("SELECT proposal, code FROM project WHERE call = $1", call["call_id"])
    )
    assert len(codes) == 2
    assert codes[first] != reference
    assert codes[first].startswith(reference)
    assert await db.fetchval("SELECT code FROM project WHERE id = $1", historic) == reference


async def test_the_catalogue_totals_count_the_funded_projects_once_the_job_ran(  # type: ignore[no-untyped-def]
    approved_call, db, tmp_path, database_url
) -> None:
    from registry.settings import Settings
    from tests.factories import drain_jobs

    call = approved_call
    totals = "SELECT project_count, funded_total FROM fund_funding WHERE fund_id = $1"
    await db.execute("REFRESH MATERIALIZED VIEW fund_funding")  # other tests' projects
    before = await db.fetchrow(totals, call["fund_id"])

    await decisions.approve(call["approver"], call["call_id"], call["decision_id"], ORIGIN)
    await drain_jobs(Settings(database_url=database_url, data_dir=tmp_path))

    after = await db.fetchrow(totals, call["fund_id"])
    count_before = before["project_count"] if before else 0
    funded_before = before["funded_total"] if before else 0
    assert after["project_count"] == count_before + 2
    assert after["funded_total"] == funded_before + 900_000_000 + BILLION
