"""The public pages, in Vietnamese and English, as a visitor's browser gets them."""

import re

import pytest

pytestmark = [pytest.mark.http]

PAGES = [
    "/",
    "/technologies",
    "/laboratories",
    "/exchanges",
    "/funds",
    "/zones",
    "/projects",
    "/search?q=tri+tue",
]


async def _first_id(client, api_path: str) -> int:
    response = await client.get(api_path)
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return items[0]["id"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_list_page_renders_in_vietnamese_by_default(client, path):
    response = await client.get(path)

    assert response.status_code == 200
    assert '<html lang="vi">' in response.text
    assert response.headers["content-language"] == "vi"
    assert "Tìm kiếm" in response.text


@pytest.mark.parametrize("path", PAGES)
async def test_every_list_page_renders_in_english_on_request(client, path):
    separator = "&" if "?" in path else "?"
    response = await client.get(f"{path}{separator}lang=en")

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Search" in response.text


@pytest.mark.parametrize(
    ("kind", "api"),
    [
        ("technologies", "/api/v1/technologies"),
        ("laboratories", "/api/v1/labs"),
        ("exchanges", "/api/v1/exchanges"),
        ("funds", "/api/v1/funds"),
        ("zones", "/api/v1/zones"),
        ("projects", "/api/v1/projects"),
    ],
)
async def test_every_detail_page_renders_in_both_languages(client, kind, api):
    item_id = await _first_id(client, api)
    for language in ("vi", "en"):
        response = await client.get(f"/{kind}/{item_id}?lang={language}")
        assert response.status_code == 200
        assert f'<html lang="{language}">' in response.text


async def test_explicit_language_choice_is_remembered_in_a_cookie(client):
    try:
        chosen = await client.get("/funds?lang=en")
        later = await client.get("/funds")
    finally:
        client.cookies.clear()

    assert "lang=en" in chosen.headers["set-cookie"]
    assert '<html lang="en">' in later.text


async def test_accept_language_picks_english_when_nothing_else_says(client):
    response = await client.get("/zones", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in response.text
    response = await client.get("/zones", headers={"Accept-Language": "fr, de"})
    assert '<html lang="vi">' in response.text


async def test_overview_shows_counts_and_a_chart_readable_without_script(client):
    response = await client.get("/")

    assert "<script" not in response.text
    chart = re.search(r"<svg class=\"chart\".*?</svg>", response.text, re.S)
    assert chart is not None
    assert chart.group().count("<rect") >= 5
    assert "₫" in response.text
    assert "dữ liệu mẫu" in response.text.lower() or "demo" in response.text.lower()


async def test_a_technology_shows_its_history_across_list_versions(client):
    technologies = (await client.get("/api/v1/technologies")).json()
    details = [(await client.get(f"/api/v1/technologies/{t['id']}")).json() for t in technologies]
    in_both = [d for d in details if len(d["history"]) >= 2]
    assert in_both, "the fixtures keep some technologies across both lists"

    page = await client.get(f"/technologies/{in_both[0]['id']}")
    assert "1131/QĐ-TTg" in page.text
    assert "21/2026/QĐ-TTg" in page.text


async def test_unverified_reference_data_shows_its_note(client):
    labs = (await client.get("/api/v1/labs")).json()
    noted = next(lab for lab in labs if lab["note"])

    page = await client.get(f"/laboratories/{noted['id']}")
    assert noted["note"]["vi"] in page.text
    english = await client.get(f"/laboratories/{noted['id']}?lang=en")
    assert noted["note"]["en"] in english.text


async def test_lists_are_in_vietnamese_alphabetical_order(client):
    from registry.domain.text import collation_key

    technologies = (await client.get("/api/v1/technologies")).json()
    names = [t["name"]["vi"] for t in technologies]
    assert names == sorted(names, key=collation_key)


async def test_search_page_marks_matches_keeping_their_diacritics(client):
    response = await client.get("/search?q=tri+tue+nhan+tao")

    assert re.search(r"<mark>trí tuệ nhân tạo</mark>", response.text, re.I)


async def test_search_page_offers_facets_and_a_next_page(client):
    response = await client.get("/search?q=nghien+cuu&kind=project")

    assert 'name="kind" value="project"' in response.text
    assert "technology=" in response.text
    assert 'rel="next"' in response.text


async def test_demo_projects_are_marked_as_demo(client, db):
    # A demo project: projects funded by other tests' approvals come first in the lists.
    project_id = await db.fetchval("SELECT id FROM project WHERE is_demo ORDER BY id LIMIT 1")
    response = await client.get(f"/projects/{project_id}")
    assert "Dữ liệu mẫu" in response.text or "demo" in response.text.lower()


async def test_project_pages_paginate_with_a_cursor(client):
    first = await client.get("/api/v1/projects")
    body = first.json()
    assert len(body["items"]) == 20
    second = await client.get(f"/api/v1/projects?cursor={body['next_cursor']}")
    first_ids = {p["id"] for p in body["items"]}
    second_ids = {p["id"] for p in second.json()["items"]}
    assert second_ids
    assert not first_ids & second_ids


async def test_security_headers_are_on_every_page(client):
    response = await client.get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
