"""The decision desk through the pages: the form starts from the funding line, the preview shows
the totals against the budget and saves nothing, the proposer cannot approve (403, said why),
a second manager approves, and the outcomes are then final; the exports download for the
fund's managers only."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from tests.factories import (
    post_form,
    reviewed_call,
    sign_in,
)

pytestmark = [pytest.mark.http]

BILLION = 1_000_000_000
PLAN = {
    "first": (1_500_000_000, [[50, 45, 40]] * 3),
    "second": (BILLION, [[40, 40, 40]] * 3),
    "third": (BILLION, [[35, 35, 35]] * 3),
    "weak": (500_000_000, [[50, 20, 50]] * 3),
}


@pytest.fixture
async def desk(client, db, make_person):  # type: ignore[no-untyped-def]
    return await reviewed_call(client, db, make_person, PLAN, budget_vnd=3 * BILLION)


def form(desk, **changes: tuple[str, str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    outcomes = {
        "first": ("funded", "1.500.000.000", ""),
        "second": ("funded", "1.000.000.000", ""),
        "third": ("reserve", "", ""),
        "weak": ("rejected", "", ""),
    } | changes
    fields = {}
    for name, (outcome, amount, reason) in outcomes.items():
        pid = desk["proposal"][name]
        fields |= {f"outcome-{pid}": outcome, f"amount-{pid}": amount, f"reason-{pid}": reason}
    return fields


async def test_propose_preview_and_approve_through_the_pages(client, db, desk) -> None:  # type: ignore[no-untyped-def]
    url = f"/manage/calls/{desk['call_id']}/decision"
    await sign_in(client, desk["proposer"])
    page = await client.get(url + "?lang=en")
    assert page.status_code == 200
    first = desk["proposal"]["first"]
    assert '<option value="funded" selected>Funded</option>' in page.text
    assert f'name="amount-{first}" value="1.500.000.000"' in page.text
    assert "below a threshold" in page.text  # "weak"

    # Preview: funding the reserve too goes over the budget; said so, nothing saved.
    over = form(desk, third=("funded", "1.000.000.000", "Bổ sung"))
    answer = await post_form(client, url + "?lang=en", over | {"action": "preview"})
    assert answer.status_code in (400, 409, 422)
    assert "exceeds the call&#39;s budget by 500.000.000 đồng" in answer.text
    assert await db.fetchval("SELECT count(*) FROM call_decision") is not None
    assert (
        await db.fetchval("SELECT count(*) FROM call_decision WHERE call = $1", desk["call_id"])
        == 0
    )

    reduced = form(desk, first=("funded", "1.000.000.000", "Giảm thiết bị"))
    answer = await post_form(client, url + "?lang=en", reduced | {"action": "preview"})
    assert answer.status_code == 200
    assert "Preview" in answer.text
    assert "VND 2,000,000,000" in answer.text  # funded total
    assert "VND 1,000,000,000" in answer.text  # left of the 3 billion

    answer = await post_form(client, url, reduced | {"action": "propose"})
    assert answer.status_code == 303
    page = await client.get(url + "?lang=en")
    assert "Proposed outcomes, awaiting approval" in page.text
    assert "another manager of the fund must approve them" in page.text
    assert "Approve these outcomes" not in page.text
    decision_id = await db.fetchval(
        "SELECT id FROM call_decision WHERE call = $1 AND status = 'proposed'", desk["call_id"]
    )
    refused = await post_form(client, f"{url}/{decision_id}/approve?lang=en")
    assert refused.status_code == 403
    assert "another manager of the fund must approve them" in refused.text

    client.cookies.clear()
    await sign_in(client, desk["approver"])
    page = await client.get(url + "?lang=en")
    assert "Approve these outcomes" in page.text
    assert "differs from the funding line" in page.text
    assert "Giảm thiết bị" in page.text
    answer = await post_form(client, f"{url}/{decision_id}/approve")
    assert answer.status_code == 303
    page = await client.get(url + "?lang=en")
    assert "These outcomes are final." in page.text
    assert "Propose different outcomes" not in page.text
    assert (
        await db.fetchval("SELECT status FROM call_decision WHERE id = $1", decision_id)
        == "approved"
    )


async def test_exports_download_for_the_funds_managers_only(client, desk, make_person) -> None:  # type: ignore[no-untyped-def]
    base = f"/manage/calls/{desk['call_id']}/export"
    await sign_in(client, desk["proposer"])
    answer = await client.get(f"{base}/review.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].endswith('review.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["proposals", "reviews"]
    assert book["reviews"].max_row == 1 + 12
    reviews_csv = await client.get(f"{base}/reviews.csv")
    assert reviews_csv.headers["content-type"] == "text/csv; charset=utf-8"
    text = reviews_csv.content.decode("utf-8-sig")
    assert "Nhận xét 45" in text
    for reviewer in desk["reviewers"]:
        assert reviewer.display_name in text
    data = json.loads((await client.get(f"{base}/review.json")).content)
    assert len(data["proposals"]) == 4
    assert data["budget_vnd"] == 3 * BILLION

    for outsider in (
        await make_person(("fund_manager", "natif"), totp=True),
        desk["reviewers"][0],
        desk["applicant"],
    ):
        client.cookies.clear()
        await sign_in(client, outsider)
        for name in ("review.xlsx", "reviews.csv", "proposals.csv", "review.json"):
            answer = await client.get(f"{base}/{name}")
            assert answer.status_code in (403, 404), (name, answer.status_code)
            assert "Nhận xét" not in answer.text
