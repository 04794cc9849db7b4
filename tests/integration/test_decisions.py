"""A call's decision against the real database: a manager proposes outcomes from the funding
line, the same manager cannot approve them, a second manager can, approved outcomes are final;
bad outcomes are refused with nothing saved; a ranking that changed after proposing blocks
approval; the exports carry every per-criterion mark and comment."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from registry.documents.spreadsheets import Sheet, to_csv, to_xlsx
from registry.domain.accounts import Role
from registry.domain.decisions import Choice
from registry.domain.errors import Conflict, InvalidForm, NotAllowed, NotFound
from registry.domain.reviews import DecisionStatus, OutcomeKind
from registry.services import decisions, ranking, review_export
from tests.factories import (
    ORIGIN,
    inserted_proposals,
    open_call,
    person,
    reviewed_proposals,
)

pytestmark = pytest.mark.integration

BILLION = 1_000_000_000
FUNDED, RESERVE, REJECTED = OutcomeKind.FUNDED, OutcomeKind.RESERVE, OutcomeKind.REJECTED

#: Requested amounts and three reviewers' marks (Horizon RIA: thresholds 3 and 10 overall),
#: under a budget of 3 billion: "first" and "second" are funded, "third" is the reserve,
#: "weak" fails Impact.
PLAN = {
    "first": (1_500_000_000, [[50, 45, 40]] * 3),
    "second": (BILLION, [[40, 40, 40]] * 3),
    "third": (BILLION, [[35, 35, 35]] * 3),
    "weak": (500_000_000, [[50, 20, 50]] * 3),
}


@pytest.fixture
async def call(db, database_url, make_person):  # type: ignore[no-untyped-def]
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    proposer = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    approver = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    call_id = await open_call(proposer, fund_id, budget_vnd=3 * BILLION)
    reviewers = [(await make_person((Role.REVIEWER, None))).id for _ in range(3)]
    proposal = await reviewed_proposals(
        db, call_id, organisation, applicant.account_id, PLAN, reviewers,
        comments=["=cmd|' /C calc'!A0", "Tốt", "Ổn"],
    )  # fmt: skip
    return {
        "call_id": call_id,
        "proposer": proposer,
        "approver": approver,
        "applicant": applicant,
        "proposal": proposal,
        "reviewers": reviewers,
    }


def choices(call, **changed: Choice) -> list[Choice]:  # type: ignore[no-untyped-def]
    p = call["proposal"]
    base = {
        "first": Choice(p["first"], FUNDED, 1_500_000_000),
        "second": Choice(p["second"], FUNDED, BILLION),
        "third": Choice(p["third"], RESERVE),
        "weak": Choice(p["weak"], REJECTED),
    }
    return list((base | changed).values())


async def test_the_desk_starts_from_the_funding_line(call) -> None:  # type: ignore[no-untyped-def]
    desk = await decisions.desk(call["proposer"], call["call_id"])
    assert desk.decision is None
    assert desk.unranked == ()
    assert desk.suggested() == tuple(choices(call))


async def test_propose_then_a_second_manager_approves_and_it_is_final(call, db) -> None:  # type: ignore[no-untyped-def]
    call_id = call["call_id"]
    decision_id = await decisions.propose(call["proposer"], call_id, choices(call), ORIGIN)

    with pytest.raises(NotAllowed):
        await decisions.approve(call["proposer"], call_id, decision_id, ORIGIN)
    assert await db.fetchval("SELECT status FROM call_decision WHERE id = $1", decision_id) == (
        "proposed"
    )

    await decisions.approve(call["approver"], call_id, decision_id, ORIGIN)
    desk = await decisions.desk(call["approver"], call_id)
    assert desk.decision is not None
    assert desk.decision.status == DecisionStatus.APPROVED
    assert desk.decision.preview.funded_vnd == 2_500_000_000
    assert desk.decision.approved_by_name == call["approver"].display_name
    actions = await db.fetch(
        "SELECT action, actor FROM audit.event WHERE object_ref = $1 ORDER BY seq",
        f"call_decision:{decision_id}",
    )
    assert [(a["action"], a["actor"]) for a in actions] == [
        ("decision.proposed", call["proposer"].ref),
        ("decision.approved", call["approver"].ref),
    ]

    with pytest.raises(Conflict, match="approved and final"):
        await decisions.propose(call["approver"], call_id, choices(call), ORIGIN)
    with pytest.raises(Conflict):
        await decisions.withdraw(call["proposer"], call_id, decision_id, ORIGIN)


async def test_wrong_outcomes_are_refused_and_nothing_is_saved(call, db) -> None:  # type: ignore[no-untyped-def]
    p = call["proposal"]
    wrong = choices(
        call,
        third=Choice(p["third"], FUNDED, BILLION, "Ưu tiên"),  # 3.5 billion > 3 billion
        weak=Choice(p["weak"], FUNDED, 100_000_000, "Vùng khó khăn"),  # below a threshold
    )
    with pytest.raises(InvalidForm) as error:
        await decisions.propose(call["proposer"], call["call_id"], wrong, ORIGIN)
    assert any("did not pass the thresholds" in m.message for m in error.value.problems)
    count = "SELECT count(*) FROM call_decision WHERE call = $1"
    assert await db.fetchval(count, call["call_id"]) == 0


async def test_a_reduced_amount_with_a_reason_funds_the_reserve(call) -> None:  # type: ignore[no-untyped-def]
    p = call["proposal"]
    adjusted = choices(
        call,
        first=Choice(p["first"], FUNDED, BILLION, "Giảm thiết bị"),
        third=Choice(p["third"], FUNDED, BILLION, "Đủ ngân sách sau khi giảm"),
    )
    decision_id = await decisions.propose(call["proposer"], call["call_id"], adjusted, ORIGIN)
    desk = await decisions.desk(call["proposer"], call["call_id"])
    assert desk.decision is not None
    assert desk.decision.id == decision_id
    assert desk.decision.preview.funded_vnd == 3 * BILLION
    assert desk.decision.preview.departures == {p["first"], p["third"]}


async def test_approval_is_refused_when_the_ranking_changed(call, db) -> None:  # type: ignore[no-untyped-def]
    call_id = call["call_id"]
    decision_id = await decisions.propose(call["proposer"], call_id, choices(call), ORIGIN)
    # A consensus lifts "third" above "second".
    await ranking.enter_consensus(
        call["approver"], call["proposal"]["third"], (50, 50, 50), "Hội đồng thống nhất", ORIGIN
    )
    with pytest.raises(Conflict, match="ranking changed"):
        await decisions.approve(call["approver"], call_id, decision_id, ORIGIN)
    assert await db.fetchval("SELECT status FROM call_decision WHERE id = $1", decision_id) == (
        "proposed"
    )


async def test_proposing_again_replaces_the_earlier_proposal(call, db) -> None:  # type: ignore[no-untyped-def]
    call_id = call["call_id"]
    first = await decisions.propose(call["proposer"], call_id, choices(call), ORIGIN)
    second = await decisions.propose(call["approver"], call_id, choices(call), ORIGIN)
    statuses = dict(await db.fetch("SELECT id, status FROM call_decision WHERE call = $1", call_id))
    assert statuses == {first: "withdrawn", second: "proposed"}
    with pytest.raises(Conflict, match="replaced or withdrawn"):
        await decisions.approve(call["proposer"], call_id, first, ORIGIN)
    # The first proposer may approve the second manager's proposal.
    await decisions.approve(call["proposer"], call_id, second, ORIGIN)


async def test_unreviewed_proposals_block_a_decision(call, db) -> None:  # type: ignore[no-untyped-def]
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    [late] = await inserted_proposals(
        db, call["call_id"], organisation, call["applicant"].account_id, [BILLION]
    )
    reference = await db.fetchval(
        "SELECT content->>'reference' FROM proposal_version WHERE proposal = $1", late
    )
    with pytest.raises(Conflict) as error:
        await decisions.propose(call["proposer"], call["call_id"], choices(call), ORIGIN)
    assert reference in error.value.params["refs"]


async def test_only_the_funds_managers_reach_the_decision(call, database_url) -> None:  # type: ignore[no-untyped-def]
    other = await person(database_url, (Role.FUND_MANAGER, "natif"))
    for outsider in (other, call["applicant"]):
        with pytest.raises(NotFound):
            await decisions.desk(outsider, call["call_id"])
        with pytest.raises(NotFound):
            await decisions.propose(outsider, call["call_id"], choices(call), ORIGIN)


async def test_exports_carry_every_mark_comment_and_outcome(call) -> None:  # type: ignore[no-untyped-def]
    call_id = call["call_id"]
    decision_id = await decisions.propose(call["proposer"], call_id, choices(call), ORIGIN)
    await decisions.approve(call["approver"], call_id, decision_id, ORIGIN)
    export = await review_export.call_export(call["approver"], call_id, "vi")

    proposals = list(
        csv.DictReader(
            io.StringIO(
                to_csv(Sheet("p", export.proposals.header, export.proposals.rows)).decode(
                    "utf-8-sig"
                )
            )
        )
    )
    by_rank = {row["rank"]: row for row in proposals}
    assert by_rank["1"]["1. Tính xuất sắc"] == "5.00"
    assert by_rank["1"]["outcome"] == "funded"
    assert by_rank["1"]["amount_vnd"] == "1500000000"
    weak = next(row for row in proposals if row["rank"] == "")
    assert weak["thresholds"] == "failed: Tác động"
    assert weak["outcome"] == "rejected"

    reviews = list(
        csv.DictReader(
            io.StringIO(
                to_csv(Sheet("r", export.reviews.header, export.reviews.rows)).decode("utf-8-sig")
            )
        )
    )
    assert len(reviews) == 12
    assert {r["2. Tác động (comment)"] for r in reviews} == {"Tốt"}
    # A comment a spreadsheet would run as a formula stays text.
    assert {r["1. Tính xuất sắc (comment)"] for r in reviews} == {"'=cmd|' /C calc'!A0"}

    book = openpyxl.load_workbook(
        io.BytesIO(
            to_xlsx(
                [
                    Sheet("proposals", export.proposals.header, export.proposals.rows),
                    Sheet("reviews", export.reviews.header, export.reviews.rows),
                ]
            )
        )
    )
    sheet = book["reviews"]
    header = [c.value for c in sheet[1]]
    column = header.index("1. Tính xuất sắc (comment)")
    assert {row[column].value for row in sheet.iter_rows(min_row=2)} == {"=cmd|' /C calc'!A0"}
    assert {row[column].data_type for row in sheet.iter_rows(min_row=2)} == {"s"}

    data = json.loads(json.dumps(export.data))
    first = data["proposals"][0]
    assert first["rank"] == 1
    assert first["outcome"] == {
        "kind": "funded",
        "status": "approved",
        "amount_vnd": 1_500_000_000,
        "reason": "",
    }
    assert [c["mark"] for c in first["reviews"][0]["criteria"]] == ["5", "4.5", "4"]
