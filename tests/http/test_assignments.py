"""The manager's assignment pages: the call's board with affinity and why, automatic
assignment within load bounds, checking a candidate's conflicts before asking them, a forced
conflicted assignment answered 409 with nothing written, removing a reviewer, and 404 for
another fund's manager."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import pytest

from registry.domain.accounts import Grant, Role
from registry.domain.proposals import TeamMember
from tests.factories import (
    complete_draft,
    empty_pool,
    fund_id,
    on_app_loop,
    open_call,
    organisation_id,
    person,
    pool_reviewer,
    post_form,
    random_orcid,
    service_actor,
    sign_in,
    submitted_draft,
    technology_ids,
)

pytestmark = [pytest.mark.http]

#: The fund whose pool the tests fill (the matrix and other tests use the other two).
FUND = "quy-dau-tu-khcn-dmst-cds"

EXPERT = "trí tuệ nhân tạo, chẩn đoán hình ảnh y tế, dịch máy"


@dataclass
class Desk:
    manager: object  # factories.Person, signed in by the tests
    call_id: int
    vast: int  # a proposal of VAST with Trần Văn Bình on its team
    hcmut: int
    reviewers: dict[str, int]


@pytest.fixture
async def desk(client, db, database_url, make_person) -> Desk:
    fund = FUND
    await empty_pool(db, fund)  # this test's reviewers are the whole pool
    binh = random_orcid()  # Trần Văn Bình's, on the VAST proposal's team
    manager = await make_person(("fund_manager", fund), totp=True)
    fund_key = await fund_id(db, fund)
    actor = service_actor(manager, Grant(Role.FUND_MANAGER, fund_key))
    call_id = await on_app_loop(
        client, functools.partial(open_call, actor, fund_key, reviewers_per_proposal=2)
    )
    technologies = tuple(await on_app_loop(client, technology_ids))
    made = {}
    for code, title, pi_name, team in (
        (
            "vast",
            "Trí tuệ nhân tạo chẩn đoán hình ảnh y tế",
            "Nguyễn Thị Hoa",
            (TeamMember("Trần Văn Bình", binh),),
        ),
        ("hcmut", "Dịch máy Việt – Anh cho văn bản hành chính", "Lê Minh Châu", ()),
    ):
        applicant = await person(database_url, (Role.APPLICANT, code))
        draft = replace(
            complete_draft(technologies, title=title),
            # Unlike other tests' texts: their near-duplicate checks must not find these.
            abstract_vi=f"{title}. Nhóm của {pi_name} làm nguyên mẫu và thử nghiệm thực địa.",
            pi_name=pi_name,
            team=team,
        )
        made[code] = await on_app_loop(
            client, submitted_draft, applicant, call_id, await organisation_id(db, code), draft
        )
    expert = {"expertise": technologies[:1], "keywords": EXPERT}
    reviewers = {
        "same organisation": await pool_reviewer(
            db, fund, name="Vũ Thị Lan", organisation_code="vast", **expert
        ),
        "on the team": await pool_reviewer(db, fund, name="T. V. Bình", orcid=binh, **expert),
        "expert": await pool_reviewer(db, fund, name="Ngô Bảo Ngọc", **expert),
        "generalist": await pool_reviewer(db, fund, name="Chuyên gia Một"),
    }
    return Desk(
        manager, call_id, made["vast"], made["hcmut"], {k: p.id for k, p in reviewers.items()}
    )


async def _rows(db, call_id):
    return await db.fetch(
        "SELECT ra.proposal, ra.reviewer, ra.source FROM review_assignment ra "
        "JOIN proposal p ON p.id = ra.proposal WHERE p.call = $1",
        call_id,
    )


async def test_automatic_assignment_shows_affinity_and_why_and_no_conflict(client, db, desk):
    await sign_in(client, desk.manager)
    board = await client.get(f"/manage/calls/{desk.call_id}/assignments")
    assert board.status_code == 200
    assert "Giao tự động" in board.text
    # Balanced by default: 2 proposals x 2 reviewers = 4 reviews for 4 reviewers.
    assert 'name="min_load" type="text" value="1"' in board.text
    assert "Chưa có chuyên gia." in board.text

    done = await post_form(client, f"/manage/calls/{desk.call_id}/assignments/auto", {})
    assert done.status_code == 303, done.text[done.text.find('role="alert"') :][:400]
    assert done.headers["location"] == f"/manage/calls/{desk.call_id}/assignments?added=4"

    page = await client.get(done.headers["location"])
    assert "Đã giao thêm 4 lượt thẩm định" in page.text
    assert "độ phù hợp" in page.text
    assert "Lý do:" in page.text
    assert "trí tuệ nhân tạo chẩn đoán hình ảnh y tế" in page.text  # why the expert fits VAST's
    pairs = {(r["proposal"], r["reviewer"]) for r in await _rows(db, desk.call_id)}
    assert (desk.vast, desk.reviewers["same organisation"]) not in pairs
    assert (desk.vast, desk.reviewers["on the team"]) not in pairs
    assert len(pairs) == 4


async def test_impossible_bounds_are_explained_at_their_field(client, db, desk):
    await sign_in(client, desk.manager)
    answer = await post_form(
        client, f"/manage/calls/{desk.call_id}/assignments/auto", {"min_load": "0", "max_load": "0"}
    )
    assert answer.status_code == 400
    assert "không đủ cho 4 lượt thẩm định cần có: hãy tăng số hồ sơ tối đa lên 1." in answer.text
    assert 'aria-invalid="true"' in answer.text
    await db.execute(
        "UPDATE reviewer_pool SET status = 'declined' WHERE reviewer = $1",
        desk.reviewers["generalist"],
    )  # VAST's proposal keeps one free reviewer of the two it needs
    short = await post_form(client, f"/manage/calls/{desk.call_id}/assignments/auto", {})
    assert short.status_code == 400
    assert "Không đủ chuyên gia không xung đột lợi ích cho" in short.text
    typo = await post_form(
        client, f"/manage/calls/{desk.call_id}/assignments/auto", {"min_load": "hai"}
    )
    assert typo.status_code == 400
    assert "số nguyên từ 0 đến" in typo.text
    assert await _rows(db, desk.call_id) == []


async def test_a_candidates_conflicts_show_before_asking_them(client, desk):
    await sign_in(client, desk.manager)
    page = await client.get(
        f"/manage/proposals/{desk.vast}/assignments?reviewer={desk.reviewers['on the team']}"
    )
    assert page.status_code == 200
    assert "Có xung đột lợi ích: chuyên gia này không thể thẩm định hồ sơ này." in page.text
    assert (
        "Chuyên gia có tên trong nhóm thực hiện hồ sơ (Trần Văn Bình, trùng mã ORCID)." in page.text
    )
    assert "Giao cho T. V. Bình" not in page.text

    free = await client.get(
        f"/manage/proposals/{desk.vast}/assignments?reviewer={desk.reviewers['expert']}"
    )
    assert "Không phát hiện xung đột lợi ích." in free.text
    assert "Giao cho Ngô Bảo Ngọc" in free.text

    outsider = await client.get(
        f"/manage/proposals/{desk.vast}/assignments?reviewer={desk.manager.id}"
    )
    assert outsider.status_code == 400
    assert "Người này không có trong danh sách chuyên gia đã tham gia của quỹ." in outsider.text


async def test_forcing_a_conflicted_assignment_is_409_and_writes_nothing(client, db, desk):
    await sign_in(client, desk.manager)
    events = await db.fetchval("SELECT count(*) FROM audit.event")
    answer = await post_form(
        client,
        f"/manage/proposals/{desk.vast}/assignments",
        {"reviewer": str(desk.reviewers["same organisation"])},
    )
    assert answer.status_code == 409
    assert "Vũ Thị Lan có xung đột lợi ích với hồ sơ" in answer.text
    assert "Chuyên gia làm việc tại tổ chức chủ trì." in answer.text
    assert "Chưa giao gì." in answer.text
    assert await _rows(db, desk.call_id) == []
    assert await db.fetchval("SELECT count(*) FROM audit.event") == events

    english = await post_form(
        client,
        f"/manage/proposals/{desk.vast}/assignments?lang=en",
        {"reviewer": str(desk.reviewers["on the team"])},
    )
    assert english.status_code == 409
    assert "has a conflict of interest with" in english.text
    assert "same ORCID iD" in english.text


async def test_assigning_and_removing_by_hand(client, db, desk):
    await sign_in(client, desk.manager)
    expert = desk.reviewers["expert"]
    added = await post_form(
        client, f"/manage/proposals/{desk.vast}/assignments", {"reviewer": str(expert)}
    )
    assert added.status_code == 303
    page = await client.get(f"/manage/proposals/{desk.vast}/assignments")
    assert "Ngô Bảo Ngọc" in page.text
    assert "Chờ chuyên gia trả lời" in page.text
    assert [(r["reviewer"], r["source"]) for r in await _rows(db, desk.call_id)] == [
        (expert, "manual")
    ]
    again = await post_form(
        client, f"/manage/proposals/{desk.vast}/assignments", {"reviewer": str(expert)}
    )
    assert again.status_code == 409

    removed = await post_form(
        client, f"/manage/proposals/{desk.vast}/assignments/remove", {"reviewer": str(expert)}
    )
    assert removed.status_code == 303
    assert await _rows(db, desk.call_id) == []


async def test_without_the_csrf_token_nothing_is_assigned(client, db, desk):
    await sign_in(client, desk.manager)
    answer = await client.post(
        f"/manage/proposals/{desk.vast}/assignments",
        data={"reviewer": str(desk.reviewers["expert"])},
    )
    assert answer.status_code == 403
    assert await _rows(db, desk.call_id) == []


async def test_another_funds_manager_gets_404(client, db, desk, make_person):
    other = await make_person(("fund_manager", "nafosted"), totp=True)
    await sign_in(client, other)
    for path in (
        f"/manage/calls/{desk.call_id}/assignments",
        f"/manage/proposals/{desk.vast}/assignments",
        f"/manage/proposals/{desk.vast}/assignments?reviewer={desk.reviewers['expert']}",
    ):
        assert (await client.get(path)).status_code == 404, path
    for path, data in (
        (f"/manage/calls/{desk.call_id}/assignments/auto", {}),
        (f"/manage/proposals/{desk.vast}/assignments", {"reviewer": str(desk.reviewers["expert"])}),
        (
            f"/manage/proposals/{desk.vast}/assignments/remove",
            {"reviewer": str(desk.reviewers["expert"])},
        ),
    ):
        assert (await post_form(client, path, data)).status_code == 404, path
    assert await _rows(db, desk.call_id) == []
