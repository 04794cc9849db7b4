"""Receipts as an applicant and a third party see them: the mail states Vietnam time and links
the receipt; the PDF carries the issuing fund's header and a QR code and address where anyone
holding the receipt checks it with the registry; a withdrawal is mailed too."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from registry.domain.clock import VIETNAM
from registry.services import mail
from tests.factories import (
    complete_draft,
    on_app_loop,
    open_call,
    post_form,
    service_actor,
    sign_in,
    submitted_draft,
    technology_ids,
)

pytestmark = [pytest.mark.http]

BASE = "https://testserver.local"


async def mail_to(client, settings, recipient: str, subject_start: str) -> str:  # type: ignore[no-untyped-def]
    """The body of the newest delivered mail to `recipient` whose subject starts so."""
    await on_app_loop(client, mail.deliver_pending, settings)
    for message in mail.read_outbox(settings, limit=2000):
        if message.recipient == recipient and message.subject.startswith(subject_start):
            return message.body
    raise AssertionError(f"no mail {subject_start!r} to {recipient}")


@pytest.fixture
async def submitted(client, make_person, db):  # type: ignore[no-untyped-def]
    manager = await make_person(("fund_manager", "nafosted"))
    member = await make_person(("applicant", "vast"))
    await db.execute("UPDATE account SET language = 'en' WHERE id = $1", member.id)
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")

    async def made() -> int:
        call_id = await open_call(service_actor(manager), fund)
        draft = complete_draft(tuple(await technology_ids()), title="Vật liệu bán dẫn mới")
        return await submitted_draft(service_actor(member), call_id, organisation, draft)

    proposal_id = await on_app_loop(client, made)
    row = await db.fetchrow(
        "SELECT receipt_no, content_sha256, received_at FROM proposal_version "
        "WHERE proposal = $1 AND number = 1",
        proposal_id,
    )
    return {"member": member, "proposal": proposal_id, **dict(row)}


async def test_the_receipt_mail_states_vietnam_time_and_links_the_receipt(
    client, settings, submitted
):  # type: ignore[no-untyped-def]
    body = await mail_to(client, settings, submitted["member"].email, "Proposal received")
    local = submitted["received_at"].astimezone(VIETNAM)
    assert f"{local:%d/%m/%Y %H:%M:%S} (GMT+7)" in body
    assert "Vietnam time" in body
    assert submitted["receipt_no"] in body
    assert f"{BASE}/proposals/{submitted['proposal']}/receipts/1" in body


async def test_the_receipt_pdf_has_the_funds_header_and_a_verification_link(client, db, submitted):  # type: ignore[no-untyped-def]
    url = f"/proposals/{submitted['proposal']}/receipts/1"
    await sign_in(client, submitted["member"], next_path=url)
    check = f"/verify/receipts/{submitted['receipt_no']}?sha256={submitted['content_sha256']}"
    page = await client.get(f"{url}?lang=en")
    assert f'href="{BASE}{check}"' in page.text

    document = await client.get(f"{url}/pdf?lang=vi")
    assert document.status_code == 200
    reader = PdfReader(io.BytesIO(document.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    fund = await db.fetchval("SELECT name_vi FROM fund WHERE code = 'nafosted'")
    assert fund.upper() in text.upper()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert f"{BASE}{check}" in re.sub(r"\s", "", text)
    # The QR code is vector drawing (an SVG): hundreds of path segments, where text has none.
    drawn = sum(page.get_contents().get_data().count(b" l\n") for page in reader.pages)
    assert drawn > 100, "no QR code"

    # Anyone holding the receipt checks it: no account needed.
    client.cookies.clear()
    genuine = await client.get(f"{check}&lang=en")
    assert genuine.status_code == 200
    assert "Genuine: this registry issued this receipt" in genuine.text
    assert submitted["receipt_no"] in genuine.text
    assert "Vật liệu bán dẫn mới" not in genuine.text  # the proposal stays confidential
    wrong = check[:-1] + ("0" if check[-1] != "0" else "1")
    forged = await client.get(f"{wrong}&lang=en")
    assert "No such receipt" in forged.text
    assert "Genuine" not in forged.text
    twin = await client.get(f"/api/v1{check}")
    assert twin.json()["receipt_no"] == submitted["receipt_no"]
    assert (await client.get(f"/api/v1{wrong}")).status_code == 404


async def test_a_withdrawal_is_mailed(client, settings, submitted):  # type: ignore[no-untyped-def]
    url = f"/proposals/{submitted['proposal']}"
    await sign_in(client, submitted["member"], next_path=url)
    assert (await post_form(client, f"{url}/withdraw", {"confirm": "yes"})).status_code == 303
    body = await mail_to(client, settings, submitted["member"].email, "Proposal withdrawn")
    assert "Vật liệu bán dẫn mới" in body
    assert "will not be reviewed" in body
    assert f"{BASE}{url}" in body
