"""The public verify page: a visitor (no account) checks an issued decision by its code, by
the QR link, by uploading the stored file (genuine, signature valid, signed by the fund) and
a copy with one byte changed (not issued here); a replaced decision says so and links to its
replacement; uploads that are not PDFs or have no CSRF token are refused; nothing about the
reviewers is shown."""

from __future__ import annotations

import html

import pytest

from registry.documents.pdf import render_pdf
from registry.services import decisions
from registry.services import documents as issuing
from registry.services.storage import read_all, storage_from
from tests.factories import (
    ORIGIN,
    add_review,
    close_now,
    csrf_token,
    inserted_proposals,
    on_app_loop,
    open_call,
    post_form,
    service_actor,
)

pytestmark = [pytest.mark.http]

MILLION = 1_000_000
REVIEW_COMMENT = "Nhận xét bí mật của chuyên gia"


async def tiny(draft: issuing.Draft) -> bytes:
    return await render_pdf(
        f"<html><body><p>Số: {html.escape(draft.number_label)}</p>"
        f"<p>{draft.verification_code}</p></body></html>"
    )


@pytest.fixture
async def issued(client, db, make_person, settings):  # type: ignore[no-untyped-def]
    """A funding decision issued for an approved outcome, then corrected once."""
    proposer = service_actor(await make_person(("fund_manager", "nafosted"), totp=True))
    approver = service_actor(await make_person(("fund_manager", "nafosted"), totp=True))
    applicant = await make_person(("applicant", "vast"))
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")

    async def opened() -> int:
        return await open_call(
            proposer, fund_id, budget_vnd=500 * MILLION, max_request_vnd=200 * MILLION,
            min_request_vnd=0,
        )  # fmt: skip

    call_id = await on_app_loop(client, opened)
    [proposal] = await inserted_proposals(db, call_id, organisation, applicant.id, [100 * MILLION])
    await close_now(db, call_id)
    reviewers = [await make_person(("reviewer", None)) for _ in range(3)]
    for reviewer in reviewers:
        await add_review(db, proposal, reviewer.id, [45, 40, 40], comments=[REVIEW_COMMENT] * 3)

    async def approved_and_issued() -> tuple[issuing.IssuedDocument, issuing.IssuedDocument]:
        desk = await decisions.desk(proposer, call_id)
        decision_id = await decisions.propose(proposer, call_id, list(desk.suggested()), ORIGIN)
        await decisions.approve(approver, call_id, decision_id, ORIGIN)
        [outcome] = await issuing.outcomes_of_call(proposer, call_id)
        storage = storage_from(settings)
        first = await issuing.issue_for_outcome(
            proposer, outcome, tiny, ORIGIN, settings=settings, storage=storage
        )
        second = await issuing.correct(
            proposer, first.id, tiny, ORIGIN, settings=settings, storage=storage
        )
        return first, second

    old, new = await on_app_loop(client, approved_and_issued)

    async def pdf_of(sha256: str) -> bytes:
        return await read_all(await storage_from(settings).open(sha256))

    return {
        "old": old,
        "new": new,
        "pdf": await on_app_loop(client, pdf_of, new.sha256),
        "reviewers": reviewers,
        "fund": await db.fetchval("SELECT name_vi FROM fund WHERE id = $1", fund_id),
    }


async def test_a_visitor_verifies_by_code_and_downloads_the_pdf(client, issued) -> None:  # type: ignore[no-untyped-def]
    new = issued["new"]
    page = await client.get(f"/verify?code={new.verification_code.lower()}&lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Genuine: issued by this registry" in text
    assert f"No. {new.number_label}" in text
    assert html.escape(issued["fund"]) in text
    assert new.sha256 in text
    assert f"Valid, signed by {html.escape(issued['fund'])}" in text
    assert "Funding decision" in text
    assert f'href="/verify/{issued["old"].verification_code}"' in text  # what it replaces
    for reviewer in issued["reviewers"]:
        assert reviewer.display_name not in text
    assert REVIEW_COMMENT not in text

    qr = await client.get(f"/verify/{new.verification_code}?lang=vi")
    assert qr.status_code == 200
    assert "Hợp lệ: do hệ thống này ban hành" in qr.text

    download = await client.get(f"/verify/{new.verification_code}/pdf")
    assert download.status_code == 200
    assert download.content == issued["pdf"]
    assert download.headers["content-type"].startswith("application/pdf")


async def test_a_replaced_decision_says_so_and_links_its_replacement(client, issued) -> None:  # type: ignore[no-untyped-def]
    old, new = issued["old"], issued["new"]
    page = await client.get(f"/verify/{old.verification_code}?lang=en")
    assert "Genuine: issued by this registry" in page.text
    assert f"This decision was replaced by decision {new.number_label}" in page.text
    assert f'href="/verify/{new.verification_code}"' in page.text


async def test_unknown_codes_are_not_issued_here(client) -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/verify/ZZZZZZZZZZ?lang=en")
    assert page.status_code == 200
    assert "Not issued by this registry" in page.text
    assert "Genuine" not in page.text
    malformed = await client.get("/verify?code=12&lang=en")
    assert "A verification code is 10 letters and digits" in malformed.text
    assert (await client.get("/verify/ZZZZZZZZZZ/pdf")).status_code == 404


async def test_an_uploaded_copy_is_genuine_and_one_changed_byte_is_not(client, issued) -> None:  # type: ignore[no-untyped-def]
    pdf = issued["pdf"]
    token = await csrf_token(client)
    genuine = await client.post(
        "/verify?lang=en",
        data={"_csrf_token": token},
        files={"file": ("quyet-dinh.pdf", pdf, "application/pdf")},
    )
    assert genuine.status_code == 200
    assert "Genuine: issued by this registry" in genuine.text
    assert "exactly this document, byte for byte" in genuine.text
    assert f"Valid, signed by {html.escape(issued['fund'])}" in genuine.text

    changed = bytearray(pdf)
    changed[len(pdf) // 3] ^= 0x01
    forged = await client.post(
        "/verify?lang=en",
        data={"_csrf_token": token},
        files={"file": ("quyet-dinh.pdf", bytes(changed), "application/pdf")},
    )
    assert forged.status_code == 200
    assert "Not issued by this registry" in forged.text
    assert "Genuine" not in forged.text


async def test_uploads_must_be_pdfs_and_carry_the_csrf_token(client, issued) -> None:  # type: ignore[no-untyped-def]
    answer = await post_form(
        client, "/verify?lang=en", files={"file": ("x.pdf", b"MZ\x90 not a pdf", "application/pdf")}
    )
    assert "This file is not a PDF." in answer.text
    assert "Genuine" not in answer.text
    # (Without a file: Litestar's CSRF check leaves a refused upload's temporary file open.)
    without_token = await client.post("/verify", data={"file": "x"})
    assert without_token.status_code == 403


async def test_the_verify_page_has_a_json_twin(client, issued) -> None:  # type: ignore[no-untyped-def]
    new, old = issued["new"], issued["old"]
    answer = (await client.get(f"/api/v1/verify/{new.verification_code.lower()}")).json()
    assert answer["verification_code"] == new.verification_code
    assert answer["issued_by"] == issued["fund"]
    assert answer["sha256"] == new.sha256
    assert answer["signature_valid"] is True
    assert answer["replaces"] == old.verification_code
    assert answer["pdf_url"] == f"/verify/{new.verification_code}/pdf"
    replaced = (await client.get(f"/api/v1/verify/{old.verification_code}")).json()
    assert replaced["replaced_by"] == new.verification_code
    assert (await client.get("/api/v1/verify/ZZZZZZZZZZ")).status_code == 404
