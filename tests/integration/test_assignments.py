"""Assigning reviewers to a call's proposals: the automatic plan never pairs a reviewer with a
proposal they have a conflict of interest with (same organisation, on the team by ORCID iD,
a declared relation, applied together in the last three years), even when that reviewer fits
it best; a conflicted assignment by hand is refused and writes nothing; each change is
audited and invites the reviewers; another fund's manager finds nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pytest

from registry.domain.accounts import Actor, Role
from registry.domain.conflicts import Reason
from registry.domain.errors import Conflict, ConflictOfInterestFound, InvalidInput, NotFound
from registry.domain.proposals import TeamMember
from registry.services import assignments
from tests.factories import (
    ORIGIN,
    complete_draft,
    empty_pool,
    fund_id,
    open_call,
    organisation_id,
    person,
    pool_reviewer,
    random_orcid,
    submitted_draft,
    technology_ids,
)

pytestmark = pytest.mark.integration

#: The fund whose pool the tests fill (the matrix and other tests use the other two).
FUND = "quy-dau-tu-khcn-dmst-cds"

#: Keywords that fit every proposal of the call: conflicted reviewers are the best fits, so
#: only the rules keep them away.
EXPERT = "trí tuệ nhân tạo, chẩn đoán hình ảnh y tế, dịch máy, nhận dạng tiếng nói"


@dataclass
class World:
    manager: Actor
    call_id: int
    proposals: dict[str, int]  # by organisation code
    reviewers: dict[str, int]  # by role in the story
    emails: dict[int, str]
    #: (proposal, reviewer) pairs that must never be assigned, and why.
    conflicted: dict[tuple[int, int], Reason]


async def _proposal(database_url, db, call_id, code, title, pi_name, pi_orcid="", team=()):
    applicant = await person(database_url, (Role.APPLICANT, code))
    draft = replace(
        complete_draft(tuple(await technology_ids()), title=title),
        # Unlike other tests' texts: their near-duplicate checks must not find these.
        abstract_vi=f"{title}. Nhóm của {pi_name} làm nguyên mẫu và thử nghiệm thực địa.",
        pi_name=pi_name,
        pi_orcid=pi_orcid,
        team=tuple(TeamMember(name, orcid, "") for name, orcid in team),
    )
    return await submitted_draft(applicant, call_id, await organisation_id(db, code), draft)


@pytest.fixture
async def world(db, database_url) -> World:
    fund = FUND
    await empty_pool(db, fund)  # this test's reviewers are the whole pool
    # ORCID iDs of this world only: BINH is on the team of the VAST proposal, CHAU its HCMUT
    # proposal's principal investigator, HUY the co-applicant reviewer's own.
    binh, chau, huy = random_orcid(), random_orcid(), random_orcid()
    manager = await person(database_url, (Role.FUND_MANAGER, fund))
    call_id = await open_call(manager, await fund_id(db, fund), reviewers_per_proposal=2)
    tech = (await technology_ids())[0]
    proposals = {
        "vast": await _proposal(
            database_url, db, call_id, "vast", "Trí tuệ nhân tạo chẩn đoán hình ảnh y tế",
            "Nguyễn Thị Hoa", team=[("Trần Văn Bình", binh)],
        ),
        "hcmut": await _proposal(
            database_url, db, call_id, "hcmut", "Dịch máy Việt – Anh cho văn bản hành chính",
            "Lê Minh Châu", chau,
        ),
        "vnu-hus": await _proposal(
            database_url, db, call_id, "vnu-hus", "Nhận dạng tiếng nói vùng Tây Nguyên",
            "Phạm Thu Dung", team=[("Hoàng Văn Em", "")],
        ),
        "agi": await _proposal(
            database_url, db, call_id, "agi", "Trí tuệ nhân tạo cho nông nghiệp",
            "Đỗ Quang Huy",
        ),
    }  # fmt: skip
    expert = {"expertise": (tech,), "keywords": EXPERT}
    made = {
        "same organisation": await pool_reviewer(
            db, fund, name="Vũ Thị Lan", organisation_code="vast", **expert
        ),
        "on the team": await pool_reviewer(db, fund, name="T. V. Bình", orcid=binh, **expert),
        "declared": await pool_reviewer(db, fund, name="Ngô Bảo Ngọc", **expert),
        "co-applicant": await pool_reviewer(db, fund, name="Đinh Huy", orcid=huy, **expert),
    }
    for number in range(4):
        made[f"free {number}"] = await pool_reviewer(db, fund, name=f"Chuyên gia {number}")
    reviewers = {key: p.id for key, p in made.items()}
    await db.execute(
        "INSERT INTO reviewer_relation (reviewer, organisation, person_name) "
        "VALUES ($1, $2, ''), ($1, NULL, 'Pham Thu Dung')",
        reviewers["declared"],
        await organisation_id(db, "hcmut"),
    )
    # Last year the co-applicant reviewer was the principal investigator of an AGI proposal
    # to another fund.
    other_manager = await person(database_url, (Role.FUND_MANAGER, "natif"))
    other_call = await open_call(other_manager, await fund_id(db, "natif"))
    await _proposal(database_url, db, other_call, "agi", "Cảm biến đất thông minh", "Đinh Huy", huy)
    conflicted = {
        (proposals["vast"], reviewers["same organisation"]): Reason.SAME_ORGANISATION,
        (proposals["vast"], reviewers["on the team"]): Reason.ON_THE_TEAM,
        (proposals["hcmut"], reviewers["declared"]): Reason.DECLARED_ORGANISATION,
        (proposals["vnu-hus"], reviewers["declared"]): Reason.DECLARED_PERSON,
        (proposals["agi"], reviewers["co-applicant"]): Reason.CO_APPLICANT,
    }
    emails = {p.id: p.email for p in made.values()}
    return World(manager, call_id, proposals, reviewers, emails, conflicted)


async def _assigned(db, call_id):
    return await db.fetch(
        "SELECT ra.proposal, ra.reviewer, ra.status, ra.affinity, ra.shared_terms, ra.source "
        "FROM review_assignment ra JOIN proposal p ON p.id = ra.proposal WHERE p.call = $1",
        call_id,
    )


async def test_every_conflict_of_the_story_is_found(world):
    for (proposal_id, reviewer_id), reason in world.conflicted.items():
        check = await assignments.check_candidate(world.manager, proposal_id, reviewer_id)
        assert [c.reason for c in check.conflicts] == [reason]
    free = await assignments.check_candidate(
        world.manager, world.proposals["vast"], world.reviewers["declared"]
    )
    assert free.conflicts == ()
    assert free.affinity.score > 500
    assert "trí tuệ nhân tạo chẩn đoán hình ảnh y tế" in free.affinity.shared


async def test_automatic_assignment_never_assigns_a_conflict(world, db):
    result = await assignments.auto_assign(world.manager, world.call_id, None, None, ORIGIN)

    rows = await _assigned(db, world.call_id)
    pairs = {(r["proposal"], r["reviewer"]) for r in rows}
    assert result.added == len(rows) == 8
    assert not pairs & set(world.conflicted)
    for proposal_id in world.proposals.values():
        assert len([p for p, _ in pairs if p == proposal_id]) == 2
    loads = [r for _, r in pairs]
    assert sorted(loads) == sorted(world.reviewers.values())  # balanced: 8 reviews, 8 reviewers
    # The experts fit best: each is on the proposals they are free for, with the reasons.
    expert_rows = [r for r in rows if r["reviewer"] == world.reviewers["declared"]]
    assert [r["proposal"] for r in expert_rows] in (
        [world.proposals["vast"]],
        [world.proposals["agi"]],
    )
    assert expert_rows[0]["source"] == "auto"
    assert expert_rows[0]["affinity"] > 500
    assert any("trí tuệ nhân tạo" in term for term in expert_rows[0]["shared_terms"])


async def test_automatic_assignment_is_audited_and_invites_each_reviewer_once(world, db):
    before = await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox_mail")
    await assignments.auto_assign(world.manager, world.call_id, 0, 2, ORIGIN)

    event = await db.fetchrow(
        "SELECT action, summary FROM audit.event WHERE object_ref = $1 ORDER BY seq DESC LIMIT 1",
        f"call:{world.call_id}",
    )
    assert event["action"] == "assignments.auto"
    added = json.loads(event["summary"])["after"]["added"]
    rows = await _assigned(db, world.call_id)
    assert sorted((p, r) for p, r, _ in added) == sorted(
        (r["proposal"], r["reviewer"]) for r in rows
    )
    mails = await db.fetch("SELECT recipient, subject, body FROM outbox_mail WHERE id > $1", before)
    invited = {world.emails[r["reviewer"]] for r in rows}
    assert sorted(m["recipient"] for m in mails) == sorted(invited)
    assert all("Hồ sơ cần đánh giá" in m["subject"] for m in mails)
    # References, never titles (a blind call shows the title only once accepted).
    assert not any("chẩn đoán hình ảnh y tế" in m["body"] for m in mails)
    assert any("QUY-DAU-TU-KHCN-DMST-CDS-" in m["body"] for m in mails)
    jobs = await db.fetchval(
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'mail:deliver' "
        "AND (args->>'mail_id')::int > $1",
        before,
    )
    assert jobs == len(mails)


async def test_assignments_made_and_declined_stay_and_only_what_is_missing_is_added(world, db):
    vast, agi = world.proposals["vast"], world.proposals["agi"]
    await assignments.assign(world.manager, vast, world.reviewers["free 0"], ORIGIN)
    await assignments.assign(world.manager, vast, world.reviewers["free 1"], ORIGIN)
    await assignments.assign(world.manager, agi, world.reviewers["declared"], ORIGIN)
    await db.execute(
        "UPDATE review_assignment SET status = 'declined' WHERE proposal = $1 AND reviewer = $2",
        agi,
        world.reviewers["declared"],
    )

    result = await assignments.auto_assign(world.manager, world.call_id, 0, 3, ORIGIN)

    rows = await _assigned(db, world.call_id)
    of_vast = sorted(r["reviewer"] for r in rows if r["proposal"] == vast)
    assert of_vast == sorted([world.reviewers["free 0"], world.reviewers["free 1"]])
    of_agi = [r for r in rows if r["proposal"] == agi]
    assert len([r for r in of_agi if r["status"] == "assigned"]) == 2
    assert world.reviewers["declared"] not in {
        r["reviewer"] for r in of_agi if r["status"] == "assigned"
    }
    assert result.added == 6  # vast kept its two; the others got two each


async def test_a_conflicted_assignment_by_hand_is_refused_and_writes_nothing(world, db):
    vast, same = world.proposals["vast"], world.reviewers["same organisation"]
    events = await db.fetchval("SELECT count(*) FROM audit.event")
    mails = await db.fetchval("SELECT count(*) FROM outbox_mail")

    with pytest.raises(ConflictOfInterestFound) as refused:
        await assignments.assign(world.manager, vast, same, ORIGIN)

    assert refused.value.params["name"] == "Vũ Thị Lan"
    assert [message for message, _ in refused.value.reasons] == [
        "The reviewer works for the applicant organisation."
    ]
    assert await _assigned(db, world.call_id) == []
    assert await db.fetchval("SELECT count(*) FROM audit.event") == events
    assert await db.fetchval("SELECT count(*) FROM outbox_mail") == mails


async def test_assigning_and_removing_by_hand_are_audited(world, db):
    vast, reviewer = world.proposals["vast"], world.reviewers["declared"]
    await assignments.assign(world.manager, vast, reviewer, ORIGIN)
    row = (await _assigned(db, world.call_id))[0]
    assert (row["source"], row["status"]) == ("manual", "assigned")
    assert row["affinity"] > 500

    with pytest.raises(Conflict):
        await assignments.assign(world.manager, vast, reviewer, ORIGIN)  # asked already
    await assignments.unassign(world.manager, vast, reviewer, ORIGIN)

    assert await _assigned(db, world.call_id) == []
    actions = await db.fetch(
        "SELECT action, summary FROM audit.event WHERE object_ref = $1 ORDER BY seq",
        f"proposal:{vast}",
    )
    assert [a["action"] for a in actions][-2:] == ["assignment.added", "assignment.removed"]
    assert json.loads(actions[-1]["summary"])["before"]["reviewer"] == reviewer


async def test_an_answered_assignment_is_not_removed(world, db):
    vast, reviewer = world.proposals["vast"], world.reviewers["free 2"]
    await assignments.assign(world.manager, vast, reviewer, ORIGIN)
    await db.execute(
        "UPDATE review_assignment SET status = 'declined' WHERE reviewer = $1", reviewer
    )
    with pytest.raises(Conflict):
        await assignments.unassign(world.manager, vast, reviewer, ORIGIN)
    assert len(await _assigned(db, world.call_id)) == 1


async def test_too_few_free_reviewers_names_the_proposal_and_writes_nothing(world, db):
    await db.execute(
        "UPDATE reviewer_pool SET status = 'declined' WHERE reviewer = ANY($1::int[])",
        [world.reviewers[f"free {n}"] for n in range(4)] + [world.reviewers["co-applicant"]],
    )  # the VAST proposal is left with one free reviewer ("declared") of the two it needs
    with pytest.raises(InvalidInput) as refused:
        await assignments.auto_assign(world.manager, world.call_id, 0, 4, ORIGIN)
    assert "Too few reviewers without a conflict" in refused.value.message
    reference = (await assignments.board(world.manager, world.call_id)).proposals
    vast_reference = next(
        p.reference for p in reference if p.proposal_id == world.proposals["vast"]
    )
    assert vast_reference in refused.value.params["proposals"]
    assert await _assigned(db, world.call_id) == []


async def test_another_funds_manager_finds_nothing(world, database_url):
    other = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    vast, reviewer = world.proposals["vast"], world.reviewers["declared"]
    for attempt in (
        assignments.board(other, world.call_id),
        assignments.auto_assign(other, world.call_id, None, None, ORIGIN),
        assignments.proposal_assignments(other, vast),
        assignments.check_candidate(other, vast, reviewer),
        assignments.assign(other, vast, reviewer, ORIGIN),
        assignments.unassign(other, vast, reviewer, ORIGIN),
    ):
        with pytest.raises(NotFound):
            await attempt


async def test_the_board_shows_each_assignment_with_its_affinity_and_reasons(world):
    await assignments.auto_assign(world.manager, world.call_id, None, None, ORIGIN)
    board = await assignments.board(world.manager, world.call_id)
    assert board.bounds == (1, 1)
    assert [p.missing for p in board.proposals] == [0, 0, 0, 0]
    experts = [
        a
        for p in board.proposals
        for a in p.assigned
        if a.reviewer_id == world.reviewers["declared"]
    ]
    assert experts[0].shared_terms
    assert experts[0].conflicts == ()
    assert sorted(r.load for r in board.pool) == [1] * 8
