"""The public record through HTTP: approving a call's outcomes puts its funded projects on the
project pages, in the 360Giving export (valid against the standard's schema) and the CSV, with
nothing from the reviews; outcomes proposed but not approved show nowhere."""

from __future__ import annotations

import csv
import io
import re
import secrets
import string

import pytest

from registry.domain.decisions import Choice
from registry.domain.reviews import OutcomeKind
from registry.services import decisions
from tests.factories import (
    ORIGIN,
    add_review,
    close_now,
    inserted_proposals,
    on_app_loop,
    open_call,
    service_actor,
)
from tests.giving import problems

pytestmark = [pytest.mark.http]

BILLION = 1_000_000_000
COMMENT = "Bình luận kín của chuyên gia"
OVERALL = "Đánh giá chung không công bố"
REASON = "Cắt giảm thiết bị theo hội đồng"


def _token() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


@pytest.fixture
async def decided(client, db, make_person):  # type: ignore[no-untyped-def]
    """A factory: a closed, reviewed call of three proposals whose outcomes (two funded, one
    rejected) are proposed, and approved by a second manager when `approve`."""

    async def make(*, approve: bool, marks: list[list[int]] | None = None) -> dict:  # type: ignore[type-arg]
        """`marks`: one proposal per entry (its three reviewers' marks), outcomes as the
        funding line suggests; by default the three proposals and outcomes above."""
        proposer = await make_person(("fund_manager", "nafosted"), totp=True)
        approver = await make_person(("fund_manager", "nafosted"), totp=True)
        applicant = await make_person(("applicant", "vast"))
        fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
        organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")

        async def opened() -> int:
            return await open_call(service_actor(proposer), fund_id, budget_vnd=3 * BILLION)

        call_id = await on_app_loop(client, opened)
        token = _token()
        plan = marks or [[45, 45, 45], [40, 40, 40], [50, 20, 50]]
        ids = await inserted_proposals(
            db,
            call_id,
            organisation,
            applicant.id,
            [BILLION] * len(plan),
            title=f"Vật liệu bán dẫn {token}",
        )
        await close_now(db, call_id)
        reviewers = [await make_person(("reviewer", None), totp=True) for _ in range(3)]
        for pid, given in zip(ids, plan, strict=True):
            for reviewer in reviewers:
                await add_review(
                    db, pid, reviewer.id, given, comments=[COMMENT] * 3, overall_comment=OVERALL
                )
        choices = [
            Choice(ids[0], OutcomeKind.FUNDED, 800_000_000, REASON),
            Choice(ids[1], OutcomeKind.FUNDED, BILLION),
            Choice(ids[2], OutcomeKind.REJECTED),
        ]

        async def propose_and_approve() -> None:
            chosen = choices
            if marks is not None:  # as the funding line suggests
                desk = await decisions.desk(service_actor(proposer), call_id)
                chosen = list(desk.suggested())
            decision_id = await decisions.propose(service_actor(proposer), call_id, chosen, ORIGIN)
            if approve:
                await decisions.approve(service_actor(approver), call_id, decision_id, ORIGIN)

        await on_app_loop(client, propose_and_approve)
        return {
            "call_id": call_id,
            "fund_id": fund_id,
            "proposals": ids,
            "token": token,
            "reviewers": reviewers,
            "managers": (proposer, approver),
        }

    return make


def _secrets(call: dict) -> list[str]:  # type: ignore[type-arg]
    """What must never reach a public page or file: reviewers, managers, comments, reasons."""
    people = [p.display_name for p in (*call["reviewers"], *call["managers"])]
    return [*people, COMMENT, OVERALL, REASON]


async def test_approved_projects_are_searchable_and_shown_with_call_and_fund(client, db, decided):  # type: ignore[no-untyped-def]
    call = await decided(approve=True)
    found = await client.get(f"/search?q=vat+lieu+ban+dan+{call['token']}&lang=en")
    assert found.status_code == 200
    projects = await db.fetch(
        "SELECT id, title_vi FROM project WHERE call = $1 ORDER BY id", call["call_id"]
    )
    assert len(projects) == 2
    for project in projects:
        assert f"/projects/{project['id']}" in found.text

    page = await client.get(f"/projects/{projects[0]['id']}?lang=en")
    assert page.status_code == 200
    assert f'href="/calls/{call["call_id"]}"' in page.text
    assert f'href="/funds/{call["fund_id"]}"' in page.text
    assert "VND 800,000,000" in page.text  # the approved amount, not the requested one
    for secret in _secrets(call):
        assert secret not in page.text


async def test_the_360giving_export_validates_and_carries_only_approved_grants(client, decided):  # type: ignore[no-untyped-def]
    call = await decided(approve=True)
    pending = await decided(approve=False)

    answer = await client.get("/api/v1/grants.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    package = answer.json()
    assert problems(package) == []
    for secret in _secrets(call) + _secrets(pending):
        assert secret not in answer.text
    assert pending["token"] not in answer.text  # proposed, not approved: not public

    mine = [g for g in package["grants"] if call["token"] in g["title"]]
    assert sorted(g["amountAwarded"] for g in mine) == [800_000_000, BILLION]
    grant = mine[0]
    assert grant["id"].startswith("360G-PLACEHOLDER-TEST-2027-")
    assert grant["currency"] == "VND"
    assert grant["awardDate"].endswith("+07:00")
    assert grant["recipientOrganization"][0]["id"] == "360G-PLACEHOLDER-org-vast"
    assert grant["fundingOrganization"][0]["id"] == "360G-PLACEHOLDER-fund-nafosted"
    assert grant["grantProgramme"][0]["url"].endswith(f"/calls/{call['call_id']}")
    assert grant["beneficiaryLocation"][0]["name"] == "Hà Nội"
    assert grant["plannedDates"][0]["duration"] == 24

    # One call's grants. A call with no approved outcome has none, and a 360Giving package
    # must hold at least one grant: not found, saying why, never an invalid package.
    one = (await client.get(f"/api/v1/grants.json?call={call['call_id']}")).json()
    assert len(one["grants"]) == 2
    none = await client.get(f"/api/v1/grants.json?call={pending['call_id']}&lang=en")
    assert none.status_code == 404
    assert none.json()["error"]["code"] == "not_found"
    assert "No funded project matches" in none.json()["error"]["message"]


async def test_the_grants_json_would_fail_validation_if_it_were_wrong(client, decided):  # type: ignore[no-untyped-def]
    call = await decided(approve=True)
    package = (await client.get(f"/api/v1/grants.json?call={call['call_id']}")).json()
    package["grants"][0]["amountAwarded"] = "800.000.000"
    del package["grants"][1]["fundingOrganization"]
    assert len(problems(package)) == 2


async def test_the_csv_parses_and_holds_no_demo_and_nothing_from_reviews(client, db, decided):  # type: ignore[no-untyped-def]
    call = await decided(approve=True)
    answer = await client.get(f"/api/v1/grants.csv?fund={call['fund_id']}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    mine = [r for r in rows if call["token"] in r["title"]]
    assert sorted(int(r["amount_vnd"]) for r in mine) == [800_000_000, BILLION]
    assert {r["recipient"] for r in mine} == {
        await db.fetchval("SELECT name_vi FROM organisation WHERE code = 'vast'")
    }
    demo_codes = {r["code"] for r in await db.fetch("SELECT code FROM project WHERE is_demo")}
    assert demo_codes
    assert not demo_codes & {r["project_code"] for r in rows}
    for secret in _secrets(call):
        assert secret not in answer.text


async def test_fund_and_call_pages_link_the_open_data(client, db, decided):  # type: ignore[no-untyped-def]
    # Not approved: nothing of this call is open data yet, so no link leads to a 404.
    pending = await decided(approve=False)
    call_page = await client.get(f"/calls/{pending['call_id']}?lang=en")
    assert f"grants.json?call={pending['call_id']}" not in call_page.text
    assert f"grants.csv?call={pending['call_id']}" not in call_page.text
    assert "Funded projects as open data: none yet" in " ".join(call_page.text.split())
    assert 'href="/api/v1/grants.json"' in call_page.text  # every fund's

    call = await decided(approve=True)
    fund_page = await client.get(f"/funds/{call['fund_id']}")
    assert f'href="/api/v1/grants.json?fund={call["fund_id"]}"' in fund_page.text
    assert f'href="/api/v1/grants.csv?fund={call["fund_id"]}"' in fund_page.text
    call_page = await client.get(f"/calls/{call['call_id']}")
    assert f'href="/api/v1/grants.json?call={call["call_id"]}"' in call_page.text
    assert f'href="/api/v1/grants.csv?call={call["call_id"]}"' in call_page.text
    for page in (fund_page, call_page):  # and each leads to a package
        link = re.search(r'href="(/api/v1/grants\.json\?[^"]+)"', page.text)
        assert link
        assert (await client.get(link.group(1))).status_code == 200


async def test_bad_filters_are_refused_clearly(client):  # type: ignore[no-untyped-def]
    answer = await client.get("/api/v1/grants.json?fund=abc&lang=en")
    assert answer.status_code == 400
    unknown = await client.get("/api/v1/grants.csv?reviewer=1&lang=en")
    assert unknown.status_code == 400
    assert "Unknown filter or parameter" in unknown.text


async def test_the_results_page_shows_aggregates_only_after_approval(client, db, decided):  # type: ignore[no-untyped-def]
    pending = await decided(approve=False)
    assert (await client.get(f"/calls/{pending['call_id']}/results")).status_code == 404
    call_page = await client.get(f"/calls/{pending['call_id']}")
    assert f"/calls/{pending['call_id']}/results" not in call_page.text

    call = await decided(approve=True)
    call_page = await client.get(f"/calls/{call['call_id']}?lang=en")
    assert f'href="/calls/{call["call_id"]}/results"' in call_page.text
    page = await client.get(f"/calls/{call['call_id']}/results?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "<dt>Proposals submitted</dt><dd>3</dd>" in text
    assert "<dt>Above every threshold</dt><dd>2</dd>" in text  # the third fails Impact
    assert "<dt>Funded</dt><dd>2</dd>" in text
    assert "<dt>Success rate</dt><dd>66.7%</dd>" in text
    assert "VND 1,800,000,000 of VND 3,000,000,000 (60%)" in text
    # Three proposals: too few to show distributions without revealing marks.
    assert "<svg" not in text
    assert "at least 5 ranked proposals" in text
    for secret in _secrets(call):
        assert secret not in text
    projects = await db.fetch("SELECT id FROM project WHERE call = $1", call["call_id"])
    for project in projects:
        assert f'href="/projects/{project["id"]}"' in text


async def test_score_distributions_are_svg_charts_from_five_proposals(client, decided):  # type: ignore[no-untyped-def]
    marks = [[45, 45, 45], [40, 40, 40], [35, 35, 35], [30, 30, 30], [50, 20, 50], [25, 40, 40]]
    call = await decided(approve=True, marks=marks)
    page = await client.get(f"/calls/{call['call_id']}/results?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "<dt>Proposals submitted</dt><dd>6</dd>" in text
    assert text.count('<svg class="chart" role="img"') == 3  # one per criterion
    assert "<script" not in text.split("<main", 1)[-1]  # readable without JavaScript
    # Excellence, official marks 4.5, 4, 3.5, 3, 5, 2.5 (each the reviewers' median):
    # bins 2-3: 1, 3-4: 2, 4-5: 3 (5 is in the last bin).
    first = text.split("<figure", 2)[1]
    for label, count in (("0–1", 0), ("1–2", 0), ("2–3", 1), ("3–4", 2), ("4–5", 3)):
        assert f"<td>{label}</td><td>{count}</td>" in first
    for secret in _secrets(call):
        assert secret not in text


async def test_the_monitoring_page_marks_demo_data_and_has_a_json_twin(client, db, decided):  # type: ignore[no-untyped-def]
    call = await decided(approve=True)
    page = await client.get("/monitoring?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Resolution 57" in text
    assert 'class="demo-banner"' in text
    assert 'fill="url(#demo-hatch)"' in text  # the demo part of the bars
    # By year, technology, province; the technology bars are links, so a group (an image's
    # parts, links included, are not read out: axe's nested-interactive).
    assert text.count('<svg class="chart" role="img"') == 2
    assert text.count('<svg class="chart" role="group"') == 1
    assert "<script" not in text.split("<main", 1)[-1]
    for secret in _secrets(call):
        assert secret not in text

    data = (await client.get("/api/v1/monitoring")).json()
    totals = await db.fetchrow(
        "SELECT sum(amount_vnd) AS amount, sum(amount_vnd) FILTER (WHERE is_demo) AS demo,"
        " count(*) AS n FROM project"
    )
    assert data["total"] == {
        "amount_vnd": totals["amount"],
        "demo_vnd": totals["demo"],
        "projects": totals["n"],
    }
    assert 0 < data["total"]["demo_vnd"] < data["total"]["amount_vnd"]  # demo and real both
    assert sum(y["amount"]["amount_vnd"] for y in data["by_year"]) == totals["amount"]
    hanoi = next(p for p in data["by_province"] if p["province"] == "Hà Nội")
    assert hanoi["total"]["amount_vnd"] > hanoi["total"]["demo_vnd"]  # the approved projects
    labs = await db.fetchval("SELECT count(*) FROM laboratory")
    assert data["laboratories"] == labs
    assert f"{labs}</a>" in text
    vietnamese = await client.get("/monitoring?lang=vi")
    assert "Theo dõi Nghị quyết 57" in vietnamese.text
    assert "mức 3% tổng chi ngân sách" in vietnamese.text


async def test_the_results_have_a_json_twin_after_approval(client, decided):  # type: ignore[no-untyped-def]
    pending = await decided(approve=False)
    assert (await client.get(f"/api/v1/calls/{pending['call_id']}/results")).status_code == 404
    call = await decided(approve=True)
    answer = await client.get(f"/api/v1/calls/{call['call_id']}/results")
    assert answer.status_code == 200
    results = answer.json()
    assert results["call_id"] == call["call_id"]
    assert sorted(p["amount_vnd"] for p in results["projects"]) == [800_000_000, BILLION]
    listed = (await client.get(f"/api/v1/calls/{call['call_id']}")).json()
    assert listed["results_url"] == f"/api/v1/calls/{call['call_id']}/results"
    for secret in _secrets(call):
        assert secret not in answer.text
