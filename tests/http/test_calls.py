"""Calls and proposals through the pages: a manager opens a call, the public reads its
criteria, an applicant drafts (autosave and plain form), meets a stale-edit conflict, attaches
a PDF, submits, gets a receipt (page and PDF), resubmits and withdraws."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from pypdf import PdfReader

from registry.domain.clock import VIETNAM
from registry.i18n import translate_in
from tests.factories import pdf_bytes, post_form, sign_in

pytestmark = [pytest.mark.http]


def _local(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M")


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


async def open_call(client, make_person, db, **fields) -> tuple[int, int]:
    """A manager of NAFOSTED creates and publishes a call through the forms; (call, fund)."""
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    await sign_in(client, manager, next_path=f"/manage/funds/{fund_id}/calls")
    form = await client.get(f"/manage/funds/{fund_id}/calls/new?preset=horizon_ia")
    assert form.status_code == 200
    technologies = re.findall(r'name="technologies" value="(\d+)"', form.text)
    now = datetime.now(UTC)
    values = {
        name: value
        for name, value in re.findall(r'name="(criterion-[^"]+|overall_threshold)" '
                                      r'(?:aria-label="[^"]*" )?value="([^"]*)"', form.text)
    }  # fmt: skip
    values |= {
        "title_vi": "Đặt hàng nghiên cứu bán dẫn 2027",
        "title_en": "Semiconductor research call 2027",
        "technologies": technologies[:2],
        "opens_at": _local(now - timedelta(days=1)),
        "closes_at": _local(now + timedelta(days=3)),
        "budget_vnd": "20.000.000.000",
        "min_request_vnd": "500.000.000",
        "max_request_vnd": "5.000.000.000",
        "cofunding_percent": "20",
        "required_attachments": ["description"],
        "reviewers_per_proposal": "3",
        "tie_break-0": "uncovered_topics_first",
        "tie_break-1": "criterion_order",
        **fields,
    }
    created = await post_form(client, f"/manage/funds/{fund_id}/calls/new", values)
    assert created.status_code == 303, created.text
    call_id = int(created.headers["location"].rsplit("/", 1)[1])
    board = await client.get(f"/manage/calls/{call_id}")
    published = await post_form(
        client,
        f"/manage/calls/{call_id}/publish",
        {"row_version": _hidden(board.text, "row_version")},
    )
    assert published.status_code == 303
    client.cookies.clear()
    return call_id, fund_id


async def test_a_published_call_shows_its_criteria_and_budget(client, make_person, db):
    call_id, _ = await open_call(client, make_person, db)
    page = await client.get(f"/calls/{call_id}")
    assert page.status_code == 200
    text = page.text
    assert "Đặt hàng nghiên cứu bán dẫn 2027" in text
    assert "Tác động" in text
    assert "×1.5" in text
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
            "opens_at": _local(now),
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
    assert await db.fetchval("SELECT count(*) FROM call WHERE title_vi = ''") == 0


async def test_an_applicant_submits_resubmits_and_withdraws(client, make_person, db):
    call_id, _ = await open_call(client, make_person, db)
    applicant = await make_person(("applicant", "vast"))
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    await sign_in(client, applicant, next_path=f"/calls/{call_id}")
    started = await post_form(
        client, f"/calls/{call_id}/proposals", {"organisation": str(organisation)}
    )
    assert started.status_code == 303
    proposal_url = started.headers["location"]
    page = await client.get(proposal_url)
    assert 'id="submit-button" disabled' in page.text
    technology = re.search(r'name="technologies" value="(\d+)"', page.text).group(1)

    fields = {
        "row_version": _hidden(page.text, "row_version"),
        "title_vi": "Chip nhận dạng tiếng nói",
        "abstract_vi": "Thiết kế chip tiết kiệm năng lượng cho nhận dạng tiếng nói tiếng Việt.",
        "technologies": technology,
        "pi_name": "Trần Văn Bình",
        "duration_months": "24",
        "budget-personnel-requested": "1.000.000.000",
        "budget-personnel-own": "300.000.000",
        "milestone-0-month": "12",
        "milestone-0-text": "Bản thiết kế",
    }
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

    key = _hidden(page.text, "submit_key")
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
        client, f"{proposal_url}/submit", {"submit_key": _hidden(page.text, "submit_key")}
    )
    assert resubmitted.headers["location"] == f"{proposal_url}/receipts/2"
    withdrawn = await post_form(client, f"{proposal_url}/withdraw")
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
