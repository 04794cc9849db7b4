"""Calls and proposals through the pages: a manager opens a call, the public reads its
criteria, an applicant drafts (autosave and plain form), meets a stale-edit conflict, attaches
a PDF, submits, gets a receipt (page and PDF), resubmits and withdraws."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from pypdf import PdfReader

from registry.i18n import translate_in
from tests.factories import (
    hidden_value,
    local_time,
    pdf_bytes,
    post_form,
    proposal_form,
    publish_call_through_forms,
    sign_in,
    started_proposal,
)

pytestmark = [pytest.mark.http]


async def test_a_published_call_shows_its_criteria_and_budget(client, make_person, db):
    call_id, _ = await publish_call_through_forms(client, make_person, db)
    page = await client.get(f"/calls/{call_id}")
    assert page.status_code == 200
    text = page.text
    assert "Đặt hàng nghiên cứu bán dẫn 2027" in text
    assert "Tác động" in text
    assert "×1,5" in text  # the Vietnamese decimal comma (×1.5 in English)
    # One decimal sign on the Vietnamese page: no "0.5" beside "0,5".
    assert not re.search(r"\b\d+\.\d{1,2}\b", text), re.search(r".{60}\b\d+\.\d{1,2}\b.{20}", text)
    english = (await client.get(f"/calls/{call_id}?lang=en")).text
    assert "×1.5" in english
    assert not re.search(r"\b\d+,\d{1,2}\b", english)
    assert "20.000.000.000" in text
    assert "(GMT+7)" in text
    assert "UTC" in text
    listing = await client.get("/calls")
    assert f'href="/calls/{call_id}"' in listing.text


async def test_a_draft_call_is_not_public_and_bad_call_input_is_explained(client, make_person, db):
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    await sign_in(client, manager, next_path=f"/manage/funds/{fund_id}/calls")
    now = datetime.now(UTC)
    answer = await post_form(
        client,
        f"/manage/funds/{fund_id}/calls/new",
        {
            "title_vi": "",
            "opens_at": local_time(now),
            "closes_at": "ngày mai",
            "budget_vnd": "1,5 tỷ",
            "max_request_vnd": "1.000.000",
            "criterion-0-name_vi": "Tính mới",
            "criterion-0-threshold": "3.3",
        },
    )
    assert answer.status_code == 400
    # Each message, in Vietnamese, next to the field it concerns; what was typed is kept.
    for field, message in (
        ("title_vi", "Enter the call's title in Vietnamese."),
        ("closes_at", "Enter a date and time such as 2026-12-31 17:00."),
        ("budget_vnd", "Enter a whole amount in đồng, such as 1.500.000."),
        ("criterion-0-threshold", "Thresholds are marks: use steps of %(step)s."),
    ):
        shown = str(escape(translate_in("vi", message, {"step": "0.5"})))
        assert re.search(
            rf'name="{field}"[^>]*>\s*<p class="error"[^>]*>{re.escape(shown)}', answer.text
        ) or re.search(
            rf'<p class="error" id="e-{field}" role="alert">{re.escape(shown)}</p>', answer.text
        ), field
    assert 'value="1,5 tỷ"' in answer.text
    # The tie-break choices are the call's rules; ranking's last resort (proposal id) is not one.
    assert answer.text.count('<select name="tie_break-') == 3
    assert 'value="proposal_order"' not in answer.text
    assert await db.fetchval("SELECT count(*) FROM call WHERE title_vi = ''") == 0


async def test_an_applicant_submits_resubmits_and_withdraws(client, make_person, db):
    proposal_url = await started_proposal(client, make_person, db)
    page = await client.get(proposal_url)
    assert 'id="submit-button" disabled' in page.text
    fields = proposal_form(page.text, "Chip nhận dạng tiếng nói")
    # Autosave answers JSON: the new version and the checklist, still missing the PDF.
    saved = await post_form(client, proposal_url, fields, headers={"X-Autosave": "1"})
    assert saved.status_code == 200, saved.text
    answer = saved.json()
    blocked = [c["key"] for c in answer["checks"] if not c["ok"]]
    assert blocked == ["attachments"]
    assert answer["row_version"] == int(fields["row_version"]) + 1

    # A second tab still holding the old version cannot overwrite: it gets both to compare.
    stale = await post_form(client, proposal_url, {**fields, "title_vi": "Tiêu đề khác"})
    assert stale.status_code == 409
    assert "Tiêu đề khác" in stale.text
    assert "Chip nhận dạng tiếng nói" in stale.text
    draft = await db.fetchval(
        "SELECT draft->>'title_vi' FROM proposal WHERE id = $1",
        int(proposal_url.rsplit("/", 1)[1]),
    )
    assert draft == "Chip nhận dạng tiếng nói"

    refused = await client.post(
        f"{proposal_url}/attachments",
        data={"kind": "description", "_csrf_token": client.cookies["__Host-csrftoken"]},
        files={"file": ("thuyet-minh.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert refused.status_code == 400
    assert "PDF" in refused.text
    attached = await client.post(
        f"{proposal_url}/attachments",
        data={"kind": "description", "_csrf_token": client.cookies["__Host-csrftoken"]},
        files={"file": ("../../thuyết minh.pdf", pdf_bytes(), "application/pdf")},
    )
    assert attached.status_code == 303, attached.text
    page = await client.get(proposal_url)
    assert "thuyết minh.pdf" in page.text
    assert "../" not in page.text
    assert 'id="submit-button" disabled' not in page.text

    key = hidden_value(page.text, "submit_key")
    first = await post_form(client, f"{proposal_url}/submit", {"submit_key": key})
    again = await post_form(client, f"{proposal_url}/submit", {"submit_key": key})
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"{proposal_url}/receipts/1"
    receipt = await client.get(first.headers["location"])
    receipt_no = re.search(r"<strong>([A-Z]+-\d{4}-\d{6}-V1)</strong>", receipt.text).group(1)
    digest = re.search(r'<code class="digest">([0-9a-f]{64})</code>', receipt.text).group(1)
    assert "UTC" in receipt.text
    assert "(GMT+7)" in receipt.text

    document = await client.get(f"{proposal_url}/receipts/1/pdf")
    assert document.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(document.content)).pages)
    assert receipt_no in text
    assert digest in text.replace("\n", "")

    page = await client.get(proposal_url)
    resubmitted = await post_form(
        client, f"{proposal_url}/submit", {"submit_key": hidden_value(page.text, "submit_key")}
    )
    assert resubmitted.headers["location"] == f"{proposal_url}/receipts/2"
    withdrawn = await post_form(client, f"{proposal_url}/withdraw", {"confirm": "yes"})
    assert withdrawn.status_code == 303
    page = await client.get(proposal_url)
    assert "status-withdrawn" in page.text
    history = await client.get(f"{proposal_url}/versions/1")
    assert history.status_code == 200
    assert "Chip nhận dạng tiếng nói" in history.text

    # Another organisation's member cannot even learn the proposal exists.
    client.cookies.clear()
    outsider = await make_person(("applicant", "hcmut"))
    await sign_in(client, outsider, next_path="/proposals")
    assert (await client.get(proposal_url)).status_code == 404
    assert (await client.get(f"{proposal_url}/receipts/1")).status_code == 404
