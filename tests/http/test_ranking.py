"""The manager's ranking desk through the pages: the ranking with the funding line, eliminated
proposals with the criterion they failed, tie-break rules and the calibrated view beside; each
proposal's reviews and the consensus form (refused with a clear message and nothing saved when
wrong, audited when right); the what-if panel, which saves nothing; 404 for everyone but the
fund's managers; and a fixed number of queries whatever the number of proposals."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from registry.i18n import translate_in
from registry.web.controllers import ranking as ranking_pages
from tests.factories import (
    counted_queries,
    on_app_loop,
    open_call,
    post_form,
    reviewed_proposals,
    service_actor,
    sign_in,
)

pytestmark = [pytest.mark.http]

BILLION = 1_000_000_000
#: Requested amounts and reviews (tenths; Horizon RIA: Excellence, Impact, Implementation,
#: thresholds 3 and 10 overall), under a budget of 3 billion.
PLAN = {
    "strong": (1_200_000_000, [[50, 45, 40], [40, 45, 40], [30, 40, 45]]),
    "good A": (BILLION, [[40, 30, 30]] * 3),
    "good B": (BILLION, [[30, 40, 30]] * 3),
    "fails impact": (500_000_000, [[50, 20, 50]] * 3),
    "unreviewed": (BILLION, []),
}


async def _desk(client, db, make_person, plan=PLAN, **call):  # type: ignore[no-untyped-def]
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person(("applicant", "vast"))
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    call_id = await _open_call(client, manager, fund_id, call)
    reviewers = [await make_person(("reviewer", None), totp=True) for _ in range(3)]
    proposal = await reviewed_proposals(
        db, call_id, organisation, applicant.id, plan, [r.id for r in reviewers]
    )
    reference = {
        name: await db.fetchval(
            "SELECT content->>'reference' FROM proposal_version WHERE proposal = $1", pid
        )
        for name, pid in proposal.items()
    }
    return {
        "manager": manager,
        "applicant": applicant,
        "reviewers": reviewers,
        "call_id": call_id,
        "proposal": proposal,
        "reference": reference,
    }


async def _open_call(client, manager, fund_id, changes):  # type: ignore[no-untyped-def]
    async def opened() -> int:
        return await open_call(service_actor(manager), fund_id, **changes)

    return await on_app_loop(client, opened)


def _rows(page: str) -> list[str]:
    """The ranking table's rows (proposal rows and the funding line), in order."""
    table = page.split('<table class="list ranking">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return re.findall(r"<tr[^>]*>.*?</tr>", body, re.S)


async def test_the_ranking_shows_the_funded_list_the_line_and_who_is_eliminated(
    client, db, make_person
):
    desk = await _desk(client, db, make_person, budget_vnd=3 * BILLION)
    ref = desk["reference"]
    await sign_in(client, desk["manager"])
    page = await client.get(f"/manage/calls/{desk['call_id']}/ranking?lang=en")
    assert page.status_code == 200
    rows = _rows(page.text)

    def row_of(name: str) -> str:
        return next(row for row in rows if ref[name] in row)

    order = [i for name in ("strong", "good A", "good B", "fails impact") for i, row in
             enumerate(rows) if ref[name] in row]  # fmt: skip
    line = next(i for i, row in enumerate(rows) if 'class="funding-line"' in row)
    assert order[0] < order[1] < line < order[2] < order[3]
    assert "Funding line: VND 2,200,000,000 of VND 3,000,000,000 funded" in rows[line]
    strong = row_of("strong")
    for text in ("funded", "VND 1,200,000,000", "4.00", "4.50", "12.50", "3/3", "passes"):
        assert text in strong, text
    # A disagreement of 2 points on Excellence is flagged; the z-score sits beside.
    assert '<span class="flag">Excellence</span>' in strong
    assert re.search(r'class="num calibrated">[+-]\d\.\d\d<', strong)
    good_b = row_of("good B")
    assert "reserve" in good_b
    assert "higher marks on the criteria in tie-break order" in good_b
    assert "VND 2,200,000,000" in good_b  # the cumulative amount stops at the line
    failed = row_of("fails impact")
    assert "eliminated" in failed
    assert (
        re.search(r"below threshold:</?\w*[^<]*Impact", failed)
        or "below threshold: Impact" in failed
    )
    assert '<td class="num failed">2.00</td>' in failed
    assert "Eliminated: below a threshold" in page.text
    assert "Calibrated view: for information, not the official ranking" in page.text
    # Not reviewed yet: listed last, apart, with its count of reviews.
    awaiting = rows[-1]
    assert ref["unreviewed"] in awaiting
    assert "awaiting reviews" in awaiting
    assert "0/0" in awaiting
    assert "Awaiting reviews: no submitted review counts yet" in page.text
    assert f'href="/manage/proposals/{desk["proposal"]["strong"]}/ranking"' in page.text
    detail = await client.get(f"/manage/proposals/{desk['proposal']['strong']}/ranking?lang=en")
    assert re.search(
        r"Reviewers disagree on</dt><dd><span class=\"flag\">Excellence</span>", detail.text
    )
    # In Vietnamese by default.
    vi = await client.get(f"/manage/calls/{desk['call_id']}/ranking?lang=vi")
    calibrated = "Calibrated view: for information, not the official ranking"
    for message in ("eliminated", "reserve", "passes", calibrated):
        assert str(escape(translate_in("vi", message))) in vi.text, message


async def test_only_the_funds_managers_reach_the_desk(client, db, make_person):
    desk = await _desk(client, db, make_person)
    proposal = desk["proposal"]["good A"]
    urls = [
        f"/manage/calls/{desk['call_id']}/ranking",
        f"/manage/calls/{desk['call_id']}/ranking/what-if?budget_vnd=1000",
        f"/manage/proposals/{proposal}/ranking",
    ]
    others = [
        await make_person(("fund_manager", "natif"), totp=True),
        desk["reviewers"][0],
        desk["applicant"],
        await make_person(("admin", None), totp=True),
    ]
    for other in others:
        client.cookies.clear()
        await sign_in(client, other)
        for url in urls:
            answer = await client.get(url)
            assert answer.status_code == 404, (url, answer.status_code)
            assert desk["reference"]["good A"] not in answer.text
        refused = await post_form(
            client,
            f"/manage/proposals/{proposal}/consensus",
            {"consensus-0": "5", "consensus-1": "5", "consensus-2": "5", "justification": "x"},
        )
        assert refused.status_code == 404
    client.cookies.clear()
    anonymous = await client.get(urls[0])
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
    assert (
        await db.fetchval("SELECT count(*) FROM review_consensus WHERE proposal = $1", proposal)
        == 0
    )


async def test_the_proposal_page_shows_every_review_and_takes_a_consensus(client, db, make_person):
    desk = await _desk(client, db, make_person, budget_vnd=3 * BILLION)
    proposal = desk["proposal"]["good B"]
    url = f"/manage/proposals/{proposal}/ranking"
    await sign_in(client, desk["manager"])
    page = await client.get(url + "?lang=en")
    assert page.status_code == 200
    for reviewer in desk["reviewers"]:
        assert reviewer.display_name in page.text
    assert page.text.count("Nhận xét 40") == 3  # each review's comment on Impact
    assert "reserve" in page.text
    events = await db.fetchval("SELECT count(*) FROM audit.event")

    # Off the scale, then without a justification: refused, said why, nothing saved.
    off_scale = await post_form(
        client,
        url.replace("/ranking", "/consensus") + "?lang=en",
        {"consensus-0": "5.5", "consensus-1": "4", "consensus-2": "abc", "justification": "Đồng ý"},
    )
    assert off_scale.status_code == 400
    assert "Give a mark from 0 to 5 in steps of 0.5." in off_scale.text
    assert "Enter a mark such as 3.5." in off_scale.text
    assert "Đồng ý" in off_scale.text  # what was typed is kept
    unjustified = await post_form(
        client,
        url.replace("/ranking", "/consensus") + "?lang=en",
        {"consensus-0": "5", "consensus-1": "4.5", "consensus-2": "5", "justification": "  "},
    )
    assert unjustified.status_code == 400
    assert "a consensus needs a justification" in unjustified.text
    assert '<option value="4.5" selected>' in unjustified.text
    assert await db.fetchval("SELECT count(*) FROM review_consensus") == await db.fetchval(
        "SELECT count(*) FROM review_consensus WHERE proposal <> $1", proposal
    )
    assert await db.fetchval("SELECT count(*) FROM audit.event") == events

    entered = await post_form(
        client,
        url.replace("/ranking", "/consensus"),
        {
            "consensus-0": "5",
            "consensus-1": "4,5",
            "consensus-2": "5",
            "justification": "Hội đồng thống nhất.",
        },
    )
    assert entered.status_code == 303
    assert entered.headers["location"] == url
    page = await client.get(url + "?lang=en")
    assert "Hội đồng thống nhất." in page.text
    assert "consensus" in page.text
    assert f"Entered by {desk['manager'].display_name}" in page.text
    assert page.text.count("Nhận xét 40") == 3  # the reviews stay visible
    event = await db.fetchrow(
        "SELECT action, actor FROM audit.event WHERE object_ref = $1 ORDER BY seq DESC LIMIT 1",
        f"proposal:{proposal}",
    )
    assert tuple(event) == ("consensus.entered", f"account:{desk['manager'].id}")
    # It now leads the ranking, marked as a consensus.
    ranking = await client.get(f"/manage/calls/{desk['call_id']}/ranking?lang=en")
    first = _rows(ranking.text)[0]
    assert desk["reference"]["good B"] in first
    assert '<span class="flag">consensus</span>' in first

    cleared = await post_form(client, url.replace("/ranking", "/consensus/clear"))
    assert cleared.status_code == 303
    assert (
        await db.fetchval(
            "SELECT action FROM audit.event WHERE object_ref = $1 ORDER BY seq DESC LIMIT 1",
            f"proposal:{proposal}",
        )
        == "consensus.cleared"
    )
    assert (
        await db.fetchval("SELECT count(*) FROM review_consensus WHERE proposal = $1", proposal)
        == 0
    )


async def test_the_what_if_panel_shows_who_enters_and_leaves_and_saves_nothing(
    client, db, make_person
):
    desk = await _desk(client, db, make_person, budget_vnd=3 * BILLION)
    ref = desk["reference"]
    await sign_in(client, desk["manager"])
    dashboard = await client.get(f"/manage/calls/{desk['call_id']}/ranking?lang=en")
    assert f'action="/manage/calls/{desk["call_id"]}/ranking/what-if"' in dashboard.text
    assert 'name="criterion-1-threshold" value="3"' in dashboard.text

    async def state() -> tuple:
        return (
            await db.fetchval("SELECT max(seq) FROM audit.event"),
            await db.fetchval("SELECT count(*) FROM review_consensus"),
            tuple(await db.fetchrow(
                "SELECT budget_vnd, criteria::text, row_version, funding_policy FROM call "
                "WHERE id = $1", desk["call_id"],
            )),
        )  # fmt: skip

    before = await state()
    # Impact's threshold down to 2 and 2 billion: "fails impact" enters, good A leaves.
    answer = await client.get(
        f"/manage/calls/{desk['call_id']}/ranking/what-if",
        params={"criterion-1-threshold": "2", "budget_vnd": "2.000.000.000", "lang": "en"},
    )
    assert answer.status_code == 200
    entered = answer.text.split("Would enter the funded list", 1)[1].split("</table>", 1)[0]
    left = answer.text.split("Would leave the funded list", 1)[1].split("</table>", 1)[0]
    assert ref["fails impact"] in entered
    assert ref["good A"] not in entered
    assert ref["good A"] in left
    assert 'name="criterion-1-threshold" value="2"' in answer.text  # the form keeps the change
    assert "nothing here is saved" in answer.text
    assert await state() == before

    bad = await client.get(
        f"/manage/calls/{desk['call_id']}/ranking/what-if",
        params={"criterion-0-weight": "0", "budget_vnd": "nhiều", "lang": "en"},
    )
    assert bad.status_code == 400
    assert "Enter a whole amount in đồng, such as 1.500.000." in bad.text
    assert "Enter a number from 0.001 to 10." in bad.text
    assert await state() == before


async def test_the_ranking_page_costs_the_same_queries_for_3_or_30_proposals(
    client, db, make_person
):
    counts = []
    for size in (3, 30):
        plan = {f"p{i}": (BILLION, [[30 + i % 20, 40, 35]] * 3) for i in range(size)}
        desk = await _desk(client, db, make_person, plan=plan)
        await sign_in(client, desk["manager"])
        with counted_queries() as run:
            page = await client.get(f"/manage/calls/{desk['call_id']}/ranking")
        assert page.status_code == 200
        assert len(_rows(page.text)) == size + 1  # and the funding line
        counts.append(len(run))
        client.cookies.clear()
    assert counts[0] == counts[1], counts


async def test_a_long_ranking_comes_in_pages_that_find_the_funding_line(
    client, db, make_person, monkeypatch
):
    monkeypatch.setattr(ranking_pages, "PAGE_ROWS", 2)
    desk = await _desk(client, db, make_person, budget_vnd=3 * BILLION)
    ref = desk["reference"]
    await sign_in(client, desk["manager"])
    url = f"/manage/calls/{desk['call_id']}/ranking"
    first = await client.get(url + "?lang=en")
    assert ref["strong"] in _rows(first.text)[0]
    assert "Rows 1–2 of 5." in first.text
    # strong and good A are funded: the line is drawn under the 2nd row, on page 1.
    assert 'href="?page=1#line"' in first.text
    second = await client.get(url + "?page=2&lang=en")
    rows = _rows(second.text)
    assert ref["good B"] in rows[0]
    assert ref["fails impact"] in rows[-1]
    assert ref["strong"] not in second.text
    assert "Rows 3–4 of 5." in second.text
    last = await client.get(url + "?page=3&lang=en")
    assert ref["unreviewed"] in last.text
    every = await client.get(url + "?page=all&lang=en")
    assert all(ref[name] in every.text for name in ref)
    assert (await client.get(url + "?page=4")).status_code == 404
    wrong = await client.get(url + "?page=deux&lang=en")
    assert wrong.status_code == 400
    assert "Choose a page number, or all." in wrong.text
    assert (await client.get(url + "?sort=title")).status_code == 400
