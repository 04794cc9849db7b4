"""Issue 16, defect 8: the call dashboard lists the submitted proposals (filtered, sorted,
exported as CSV and XLSX), its near-duplicate rows are links, and the fund's managers open a
submitted proposal read-only. Managers of another fund get 404 and none of its content;
people who manage no fund get 403."""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile

import pytest

from registry.i18n import translate_in
from registry.services import proposals
from registry.services.storage import PostgresStorage
from tests.factories import (
    ORIGIN,
    complete_draft,
    inserted_proposals,
    on_app_loop,
    open_call,
    organisation_id,
    service_actor,
    sign_in,
    submitted_proposal,
    technology_ids,
)

pytestmark = [pytest.mark.http]

BILLION = 1_000_000_000


@pytest.fixture
async def call(client, db, make_person):  # type: ignore[no-untyped-def]
    """A NAFOSTED call with four submitted proposals (one withdrawn, one flagged as a
    near-duplicate of another, two organisations, two technologies) and one never-submitted
    draft; every title carries the test's token."""
    token = secrets.token_hex(4)
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person(("applicant", "vast"))
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    techs = tuple(await on_app_loop(client, technology_ids))[:2]

    async def opened() -> int:
        return await open_call(service_actor(manager), fund, technologies=techs)

    call_id = await on_app_loop(client, opened)
    vast, ims = await organisation_id(db, "vast"), await organisation_id(db, "vast-ims")
    made = {}
    for name, organisation, amount, tech, status in (
        ("alpha", vast, 2 * BILLION, techs[0], "submitted"),
        ("beta", ims, BILLION, techs[1], "submitted"),
        ("gamma", vast, 3 * BILLION, techs[1], "withdrawn"),
        ("delta", ims, BILLION // 2, techs[0], "submitted"),
    ):
        (made[name],) = await inserted_proposals(
            db, call_id, organisation, applicant.id, [amount],
            technologies=(tech,), title=f"Đề xuất {name} {token}", status=status,
        )  # fmt: skip
    member = service_actor(applicant)

    async def drafted() -> int:  # never submitted: no version for anyone to read
        proposal_id = await proposals.start(member, call_id, vast, ORIGIN)
        draft = complete_draft(techs, f"Đề xuất draft {token}")
        await proposals.save_draft(member, proposal_id, draft, 1, ORIGIN)
        return proposal_id

    made["draft"] = await on_app_loop(client, drafted)
    await db.execute(
        "INSERT INTO duplicate_flag (version, other_proposal, similarity) "
        "SELECT id, $2, 71 FROM proposal_version WHERE proposal = $1",
        made["delta"], made["alpha"],
    )  # fmt: skip
    return {"id": call_id, "token": token, "manager": manager, "proposals": made, "techs": techs}


def titles(page: str, token: str) -> list[str]:
    """The proposals' names in the order the page lists them."""
    return re.findall(rf"Đề xuất (\w+) {token}", page)


async def test_managers_list_filter_sort_and_open_the_submissions(client, call):  # type: ignore[no-untyped-def]
    token, made = call["token"], call["proposals"]
    await sign_in(client, call["manager"], next_path=f"/manage/calls/{call['id']}")
    board = (await client.get(f"/manage/calls/{call['id']}")).text
    assert f'href="/manage/calls/{call["id"]}/submissions"' in board
    # The near-duplicate row links both proposals (the same fund's: the manager may open them).
    assert f'<a href="/manage/proposals/{made["delta"]}">' in board
    assert f'<a href="/manage/proposals/{made["alpha"]}">' in board

    path = f"/manage/calls/{call['id']}/submissions"
    page = await client.get(path)
    assert page.status_code == 200
    assert titles(page.text, token) == ["alpha", "beta", "gamma", "delta"]  # as received
    assert "4 trên 4 hồ sơ đã nộp" in page.text  # the draft is nobody's business yet
    assert f"Đề xuất draft {token}" not in page.text
    for name in ("alpha", "beta", "gamma", "delta"):
        assert f'href="/manage/proposals/{made[name]}"' in page.text
    assert "Đã rút" in page.text  # gamma's status, in Vietnamese
    assert "gần trùng lặp 71%" in page.text

    async def listed(query: str) -> list[str]:
        answer = await client.get(f"{path}?{query}")
        assert answer.status_code == 200, answer.text
        return titles(answer.text, token)

    assert await listed("sort=requested&order=desc") == ["gamma", "alpha", "beta", "delta"]
    assert await listed("sort=requested") == ["delta", "beta", "alpha", "gamma"]
    assert await listed("status=withdrawn") == ["gamma"]
    assert await listed("status=submitted&sort=requested") == ["delta", "beta", "alpha"]
    ims = await client.get(path)  # the organisation filter offers the organisations that applied
    ims_id = re.search(r'<option value="(\d+)"[^>]*>[^<]*Viện Khoa học vật liệu', ims.text)
    assert ims_id, "the organisation filter does not offer vast-ims"
    assert await listed(f"organisation={ims_id.group(1)}") == ["beta", "delta"]
    assert await listed(f"technology={call['techs'][0]}") == ["alpha", "delta"]
    assert await listed("flagged=1") == ["delta"]

    # The exports hold the list as shown: same filters, same order, amounts as numbers.
    exported = await client.get(f"{path}.csv?sort=requested&order=desc&status=submitted")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == translate_in("vi", "Reference")
    assert [r[1] for r in rows[1:]] == [
        f"Đề xuất {n} {token} 0" for n in ("alpha", "beta", "delta")
    ]
    assert [r[4] for r in rows[1:]] == [str(2 * BILLION), str(BILLION), str(BILLION // 2)]
    assert rows[3][8] == "71"
    book = await client.get(f"{path}.xlsx?flagged=1")
    assert book.status_code == 200
    with zipfile.ZipFile(io.BytesIO(book.content)) as xlsx:
        strings = xlsx.read("xl/sharedStrings.xml").decode()
    assert f"Đề xuất delta {token} 0" in strings
    assert f"Đề xuất alpha {token}" not in strings

    # A submitted proposal, read-only, with who applied; never the draft.
    opened = await client.get(f"/manage/proposals/{made['beta']}")
    assert opened.status_code == 200
    assert f"Đề xuất beta {token}" in opened.text
    assert "Viện Khoa học vật liệu" in opened.text
    assert "Nguyễn Thị Hoa" in opened.text  # the principal investigator
    assert "1.000.000.000" in opened.text
    assert 'method="post"' not in opened.text.split("<main", 1)[1]
    for link in set(re.findall(r'href="(/manage/[^"]+)"', opened.text.split("<main", 1)[1])):
        assert (await client.get(link)).status_code == 200, f"{link} is a dead link"
    flagged = await client.get(f"/manage/proposals/{made['delta']}")
    assert f'<a href="/manage/proposals/{made["alpha"]}">' in flagged.text
    assert (await client.get(f"/manage/proposals/{made['draft']}")).status_code == 404


async def test_another_funds_manager_gets_404_and_nothing_of_the_call(client, call, make_person):  # type: ignore[no-untyped-def]
    other = await make_person(("fund_manager", "natif"), totp=True)
    await sign_in(client, other, next_path="/account")
    paths = [
        f"/manage/calls/{call['id']}/submissions",
        f"/manage/calls/{call['id']}/submissions.csv",
        f"/manage/calls/{call['id']}/submissions.xlsx",
        *(f"/manage/proposals/{p}" for p in call["proposals"].values()),
    ]
    for path in paths:
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert call["token"] not in answer.text, path


async def test_people_who_manage_no_fund_are_refused(client, call, make_person):  # type: ignore[no-untyped-def]
    applicant = await make_person(("applicant", "vast"))
    await sign_in(client, applicant, next_path="/account")
    for path in (
        f"/manage/calls/{call['id']}/submissions",
        f"/manage/proposals/{call['proposals']['alpha']}",
    ):
        answer = await client.get(path)
        assert answer.status_code == 403, path
        assert call["token"] not in answer.text


async def test_a_filter_the_page_does_not_offer_is_explained(client, call):  # type: ignore[no-untyped-def]
    await sign_in(client, call["manager"], next_path="/account")
    path = f"/manage/calls/{call['id']}/submissions"
    message = translate_in(
        "vi", "A filter or order not offered on the page: choose one of the listed values."
    )
    for query in ("status=draft", "sort=password", "order=up", "organisation=x", "flagged=2"):
        answer = await client.get(f"{path}?{query}")
        assert answer.status_code == 400, query
        assert message in answer.text, query
    assert (await client.get(f"{path}.pdf")).status_code == 404


async def test_managers_download_the_submitted_files_and_no_one_else(client, db, make_person):  # type: ignore[no-untyped-def]
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    other = await make_person(("fund_manager", "natif"), totp=True)
    member = service_actor(await make_person(("applicant", "vast")))
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    vast = await organisation_id(db, "vast")

    async def submitted() -> tuple[int, str]:
        call_id = await open_call(service_actor(manager), fund)
        made, _, sha256, _ = await submitted_proposal(
            member, call_id, vast, "Bản đồ đất hiếm Tây Bắc", PostgresStorage()
        )
        return made, sha256

    proposal_id, sha256 = await on_app_loop(client, submitted)
    download = f"/manage/proposals/{proposal_id}/files/{sha256}"
    await sign_in(client, manager, next_path="/account")
    page = await client.get(f"/manage/proposals/{proposal_id}")
    assert f'href="{download}">thuyet-minh.pdf</a>' in page.text
    answer = await client.get(download)
    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF")
    assert "attachment" in answer.headers["content-disposition"]
    unknown = f"/manage/proposals/{proposal_id}/files/{'0' * 64}"
    assert (await client.get(unknown)).status_code == 404

    client.cookies.clear()
    await sign_in(client, other, next_path="/account")
    refused = await client.get(download)
    assert refused.status_code == 404
    assert not refused.content.startswith(b"%PDF")
