"""Where the public finds calls besides /calls (issue 16, defect 12): a fund's page lists its
calls, open or closed, with their closing times; the home page lists the calls open now or
about to open, never closed ones."""

from __future__ import annotations

import secrets

import pytest

from tests.factories import close_now, publish_call_through_forms

pytestmark = [pytest.mark.http]


async def test_a_funds_page_and_the_home_page_list_its_open_calls(client, make_person, db):
    call_id, _ = await publish_call_through_forms(client, make_person, db)
    fund_id = await db.fetchval("SELECT fund FROM call WHERE id = $1", call_id)
    closes_at = await db.fetchval("SELECT closes_at FROM call WHERE id = $1", call_id)
    link = f'href="/calls/{call_id}"'

    fund_page = await client.get(f"/funds/{fund_id}?lang=en")
    assert fund_page.status_code == 200
    row = fund_page.text.split(link, 1)[1].split("</tr>", 1)[0]
    assert "Semiconductor research call 2027" in row  # its English title on the English page
    assert f'<time datetime="{closes_at.isoformat()}">' in row
    assert "Open" in row
    home = await client.get("/?lang=en")
    assert "Open calls for proposals" in home.text
    assert link in home.text

    await close_now(db, call_id)
    home = await client.get("/?lang=en")
    assert link not in home.text
    fund_page = await client.get(f"/funds/{fund_id}?lang=en")
    assert "Closed" in fund_page.text.split(link, 1)[1].split("</tr>", 1)[0]


async def test_a_fund_without_calls_says_so(client, db):
    code = f"quy-moi-{secrets.token_hex(3)}"
    fund_id = await db.fetchval(
        "INSERT INTO fund (code, name_vi, kind, sort_key)"
        " VALUES ($1::text, 'Quỹ mới', 'grant', $1::text) RETURNING id",
        code,
    )
    page = await client.get(f"/funds/{fund_id}")
    assert page.status_code == 200
    assert "Quỹ chưa công bố đợt kêu gọi nào." in page.text
