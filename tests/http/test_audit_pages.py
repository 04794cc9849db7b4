"""The audit trail's head on the public page and in the API, as outsiders see it."""

from __future__ import annotations

import asyncpg
import pytest

pytestmark = [pytest.mark.http]


async def _write_event(database_url: str) -> tuple[int, str]:
    # Straight to the database: the app's pool belongs to the test client's event loop.
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "INSERT INTO audit.event (actor, action, object_ref)"
            " VALUES ('system:test', 'test.page', 'page:audit') RETURNING seq, row_hash"
        )
    finally:
        await conn.close()
    return row["seq"], row["row_hash"].hex()


async def test_the_api_and_the_page_show_the_current_head(client, database_url):
    seq, hash_hex = await _write_event(database_url)

    head = (await client.get("/api/v1/audit/head")).json()
    page = await client.get("/audit")

    assert (head["seq"], head["hash_hex"]) == (seq, hash_hex)
    assert head["at"]
    assert page.status_code == 200
    assert f"<dd>{seq}</dd>" in page.text
    assert f'<code class="hash">{hash_hex}</code>' in page.text
    assert "(GMT+7)" in page.text


async def test_a_noted_event_can_be_looked_up_after_later_events(client, database_url):
    seq, hash_hex = await _write_event(database_url)
    later, _ = await _write_event(database_url)

    event = (await client.get(f"/api/v1/audit/events/{seq}")).json()
    page = await client.get("/audit", params={"seq": str(seq), "lang": "en"})

    assert later == seq + 1
    assert (event["seq"], event["hash_hex"]) == (seq, hash_hex)
    assert page.status_code == 200
    assert f'<code class="hash">{hash_hex}</code>' in page.text
    assert f'value="{seq}"' in page.text


@pytest.mark.parametrize(
    "path", ["/api/v1/audit/events/999999999", "/api/v1/audit/events/0", "/audit?seq=999999999"]
)
async def test_an_unknown_event_number_is_not_found(client, path):
    assert (await client.get(path)).status_code == 404


@pytest.mark.parametrize("query", ["seq=abc", "seq=-1", "seq=99999999999999999999", "from=1"])
async def test_a_malformed_lookup_is_a_bad_request(client, query):
    assert (await client.get(f"/audit?{query}")).status_code == 400


async def test_the_audit_endpoints_are_in_the_api_schema(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert {"/api/v1/audit/head", "/api/v1/audit/events/{seq}"} <= set(paths)
