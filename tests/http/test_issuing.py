"""Issuing a call's documents from the browser's side: the page says to approve first, the
manager names who signs and starts the batch, the bar and its JSON follow the workers, the
page refreshes itself without JavaScript while they run, and then lists every document with
its code and PDF; a form without a signer is refused and starts nothing; other funds'
managers see nothing of it."""

from __future__ import annotations

import pytest

from registry.services import decisions
from tests.factories import (
    ORIGIN,
    on_app_loop,
    post_form,
    reviewed_call,
    run_jobs,
    service_actor,
    sign_in,
)

pytestmark = [pytest.mark.http]

BILLION = 1_000_000_000
PLAN = {
    "first": (BILLION, [[50, 45, 40]] * 3),
    "second": (BILLION, [[40, 40, 40]] * 3),
    "third": (BILLION, [[35, 35, 35]] * 3),
    "weak": (500_000_000, [[50, 20, 50]] * 3),
}
SIGNER = {
    "signer_on_behalf": "KT. GIÁM ĐỐC",
    "signer_title": "Phó Giám đốc",
    "signer_name": "Lê Thị Thu Hà",
}


@pytest.fixture
async def call(client, db, make_person):  # type: ignore[no-untyped-def]
    made = await reviewed_call(client, db, make_person, PLAN, budget_vnd=3 * BILLION)
    return made | {"id": made["call_id"]}


async def approve(client, call) -> None:  # type: ignore[no-untyped-def]
    proposer, approver = service_actor(call["proposer"]), service_actor(call["approver"])

    async def approved() -> None:
        desk = await decisions.desk(proposer, call["id"])
        decision = await decisions.propose(proposer, call["id"], list(desk.suggested()), ORIGIN)
        await decisions.approve(approver, call["id"], decision, ORIGIN)

    await on_app_loop(client, approved)


async def test_a_manager_issues_the_calls_documents_and_follows_the_bar(  # type: ignore[no-untyped-def]
    client, db, call, settings
):
    url = f"/manage/calls/{call['id']}/documents"
    await sign_in(client, call["proposer"])
    page = await client.get(url + "?lang=en")
    assert page.status_code == 200
    assert "approve the outcomes of this call first" in page.text
    assert "Issue the documents</button>" not in page.text

    await approve(client, call)
    page = await client.get(url + "?lang=en")
    assert "Issue the documents</button>" in page.text
    # The signing block starts as the approving manager, as the fund's director.
    assert f'value="{call["approver"].display_name}"' in page.text
    assert 'name="signer_title" type="text" value="GIÁM ĐỐC"' in page.text

    refused = await post_form(client, url + "?lang=en", SIGNER | {"signer_name": " "})
    assert refused.status_code in (400, 422)
    assert "Say who signs the documents." in refused.text
    assert await db.fetchval("SELECT count(*) FROM issue_batch WHERE call = $1", call["id"]) == 0

    started = await post_form(client, url, SIGNER)
    assert started.status_code == 303
    page = await client.get(url + "?lang=en")
    assert "Issuing…" in page.text
    assert "0 of 5 documents issued" in page.text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page.text
    assert "/static/issue_progress.js" in page.text
    assert "Issue the documents</button>" not in page.text  # no second batch while it runs
    state = (await client.get(url + "/progress")).json()
    assert state == {
        "started": True, "total": 5, "issued": 0, "failed": 0, "percent": 0, "running": True,
    }  # fmt: skip

    await run_jobs(client, settings)

    state = (await client.get(url + "/progress")).json()
    assert (state["issued"], state["percent"], state["running"]) == (5, 100, False)
    page = await client.get(url + "?lang=en")
    assert "5 of 5 documents issued" in page.text
    assert "http-equiv=\"refresh\"" not in page.text
    documents = await db.fetch(
        "SELECT number_label, verification_code FROM decision_document WHERE call = $1", call["id"]
    )
    assert len(documents) == 5
    for document in documents:
        assert document["number_label"] in page.text
        assert f'href="/verify/{document["verification_code"]}/pdf"' in page.text
    assert "Decision approving the funded projects of a call" in page.text
    assert "Funding decision" in page.text
    assert "Issue the missing documents</button>" in page.text
    pdf = await client.get(f"/verify/{documents[0]['verification_code']}/pdf")
    assert pdf.content.startswith(b"%PDF-")
    page = await client.get(f"/manage/calls/{call['id']}/decision?lang=en")
    assert f'href="{url}"' in page.text


async def test_other_funds_managers_and_applicants_see_nothing(client, call, make_person):  # type: ignore[no-untyped-def]
    await approve(client, call)
    url = f"/manage/calls/{call['id']}/documents"
    for stranger in (await make_person(("fund_manager", "natif"), totp=True), call["applicant"]):
        client.cookies.clear()
        await sign_in(client, stranger)
        for path in (url, url + "/progress"):
            answer = await client.get(path)
            assert answer.status_code in (403, 404)
            assert "Lê Thị Thu Hà" not in answer.text
        answer = await post_form(client, url, SIGNER)
        assert answer.status_code in (403, 404)


async def test_starting_needs_the_forms_token(client, call) -> None:  # type: ignore[no-untyped-def]
    await approve(client, call)
    await sign_in(client, call["proposer"])
    answer = await client.post(f"/manage/calls/{call['id']}/documents", data=SIGNER)
    assert answer.status_code == 403
