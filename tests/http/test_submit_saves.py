"""Submit sends what is on screen: the editor's Submit button posts the draft form's fields, and
the server saves them and submits in one transaction. A stale page gets the conflict page and
nothing is submitted; a retried click answers the same receipt."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import (
    hidden_value,
    pdf_bytes,
    post_form,
    proposal_form,
    started_proposal,
)

pytestmark = [pytest.mark.http]

TITLE = "Chip nhận dạng tiếng nói"
TYPED = "Chip nhận dạng tiếng nói, gõ sau lần lưu cuối"


async def _ready_proposal(client, make_person, db) -> tuple[str, dict[str, str]]:
    """A proposal whose checklist is met (fields saved, PDF attached); its URL and the
    editor's fields as the page holds them now."""
    proposal_url = await started_proposal(client, make_person, db)
    page = await client.get(proposal_url)
    fields = proposal_form(page.text, TITLE)
    saved = await post_form(client, proposal_url, fields, headers={"X-Autosave": "1"})
    assert saved.status_code == 200, saved.text
    attached = await client.post(
        f"{proposal_url}/attachments",
        data={"kind": "description", "_csrf_token": client.cookies["__Host-csrftoken"]},
        files={"file": ("thuyet-minh.pdf", pdf_bytes(), "application/pdf")},
    )
    assert attached.status_code == 303, attached.text
    page = await client.get(proposal_url)
    assert 'id="submit-button" disabled' not in page.text
    fields["row_version"] = hidden_value(page.text, "row_version")
    fields["submit_key"] = hidden_value(page.text, "submit_key")
    return proposal_url, fields


def _id(proposal_url: str) -> int:
    return int(proposal_url.rsplit("/", 1)[1])


async def test_the_submit_button_belongs_to_the_editor_form(client, make_person, db):
    proposal_url, _ = await _ready_proposal(client, make_person, db)
    page = (await client.get(proposal_url)).text
    button = re.search(r"<button[^>]*id=\"submit-button\"[^>]*>", page).group(0)
    # The browser posts the draft form's current fields with it, scripts or not.
    assert 'form="draft"' in button
    assert f'formaction="{proposal_url}/submit"' in button
    key = re.search(r"<input[^>]*name=\"submit_key\"[^>]*>", page).group(0)
    assert 'form="draft"' in key


async def test_submit_saves_the_fields_on_screen_and_submits_them(client, make_person, db):
    proposal_url, fields = await _ready_proposal(client, make_person, db)
    # The text typed after the last successful save, which autosave could not store.
    on_screen = {**fields, "title_vi": TYPED}

    first = await post_form(client, f"{proposal_url}/submit", on_screen)
    assert first.status_code == 303, first.text
    assert first.headers["location"] == f"{proposal_url}/receipts/1"
    content = json.loads(
        await db.fetchval(
            "SELECT content FROM proposal_version WHERE proposal = $1 AND number = 1",
            _id(proposal_url),
        )
    )
    assert content["proposal"]["title_vi"] == TYPED
    assert TYPED in (await client.get(first.headers["location"])).text
    draft = await db.fetchval(
        "SELECT draft->>'title_vi' FROM proposal WHERE id = $1", _id(proposal_url)
    )
    assert draft == TYPED

    # The same click retried (the answer was lost): the same receipt, not a second version.
    again = await post_form(client, f"{proposal_url}/submit", on_screen)
    assert again.status_code == 303, again.text
    assert again.headers["location"] == f"{proposal_url}/receipts/1"
    versions = await db.fetchval(
        "SELECT count(*) FROM proposal_version WHERE proposal = $1", _id(proposal_url)
    )
    assert versions == 1


async def test_a_stale_page_gets_the_conflict_page_and_nothing_is_submitted(
    client, make_person, db
):
    proposal_url, fields = await _ready_proposal(client, make_person, db)
    # Another window saves first.
    other = await post_form(
        client, proposal_url, {**fields, "pi_name": "Lê Thị Hoa"}, headers={"X-Autosave": "1"}
    )
    assert other.status_code == 200, other.text

    stale = await post_form(client, f"{proposal_url}/submit", {**fields, "title_vi": TYPED})
    assert stale.status_code == 409
    assert TYPED in stale.text
    assert "Lê Thị Hoa" in stale.text
    versions = await db.fetchval(
        "SELECT count(*) FROM proposal_version WHERE proposal = $1", _id(proposal_url)
    )
    assert versions == 0
    row = await db.fetchrow(
        "SELECT status, draft->>'title_vi' AS title FROM proposal WHERE id = $1",
        _id(proposal_url),
    )
    assert (row["status"], row["title"]) == ("draft", TITLE)


async def test_a_failed_submission_saves_nothing_either(client, make_person, db):
    proposal_url, fields = await _ready_proposal(client, make_person, db)
    # Emptying a required field blocks the submission: the typed text is not saved either,
    # the page shows it back with the reason.
    refused = await post_form(
        client, f"{proposal_url}/submit", {**fields, "title_vi": TYPED, "abstract_vi": ""}
    )
    assert refused.status_code in (400, 422), refused.status_code
    assert TYPED in refused.text
    draft = await db.fetchval(
        "SELECT draft->>'title_vi' FROM proposal WHERE id = $1", _id(proposal_url)
    )
    assert draft == TITLE
    versions = await db.fetchval(
        "SELECT count(*) FROM proposal_version WHERE proposal = $1", _id(proposal_url)
    )
    assert versions == 0
