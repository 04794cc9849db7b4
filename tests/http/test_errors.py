"""Bad input gets a clear, localised 4xx; nothing answers 500 with internals; a database that
is down gives 503 pages and a failing readiness probe."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry import database

pytestmark = [pytest.mark.http]


@pytest.mark.parametrize(
    "path",
    [
        "/nowhere",
        "/technologies/999999",
        "/projects/2147483647",
        "/funds/99999999999999",
        "/labs/abc",
    ],
)
async def test_unknown_addresses_answer_a_localised_404_page(client, path):
    vietnamese = await client.get(path)
    english = await client.get(path, headers={"Accept-Language": "en"})

    assert vietnamese.status_code == english.status_code == 404
    assert "Không tìm thấy" in vietnamese.text
    assert "Page not found" in english.text
    assert "Traceback" not in vietnamese.text


async def test_api_answers_json_404_with_a_stable_code(client):
    response = await client.get("/api/v1/projects/999999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=ai&cursor=garbage", "cursor"),
        ("q=ai&colour=red", "colour"),
        ("q=" + "a" * 201, "q"),
        ("q=%00", "q"),
        ("q=ai&kind=planet", "kind"),
        ("q=ai&year=19x9", "year"),
        ("q=ai&technology=-1", "technology"),
    ],
)
async def test_malformed_search_parameters_answer_400_with_a_reason(client, query, field):
    page = await client.get(f"/search?{query}", headers={"Accept-Language": "en"})
    api = await client.get(f"/api/v1/search?{query}")

    assert page.status_code == api.status_code == 400
    assert api.json()["error"]["field"] == field
    assert api.json()["error"]["message"]
    assert "Traceback" not in page.text


async def test_a_too_long_query_is_explained_in_vietnamese(client):
    response = await client.get("/search?q=" + "a" * 201)
    assert "200" in response.text
    assert response.status_code == 400


@given(
    params=st.dictionaries(
        st.sampled_from(["q", "kind", "technology", "province", "fund", "year", "cursor", "lang"]),
        st.text(max_size=60),
        max_size=4,
    )
)
async def test_no_search_parameters_make_the_server_fail(client, params):
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code in (200, 400), response.text


async def test_a_database_that_is_down_gives_503_pages_and_a_failing_probe(client):
    engine = database.engine()
    saved_pool, saved_config = engine.pool, engine.config
    engine.pool = None
    engine.config = {"dsn": "postgresql://registry@127.0.0.1:9/nowhere", "timeout": 2}
    try:
        page = await client.get("/technologies")
        english = await client.get("/technologies?lang=en")
        api = await client.get("/api/v1/technologies")
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    finally:
        engine.pool, engine.config = saved_pool, saved_config

    assert page.status_code == api.status_code == ready.status_code == 503
    assert "temporarily unavailable" in english.text
    assert "Traceback" not in page.text
    assert "127.0.0.1" not in page.text
    assert api.json()["error"]["code"] == "unavailable"
    assert alive.status_code == 200
    assert (await client.get("/readyz")).status_code == 200
