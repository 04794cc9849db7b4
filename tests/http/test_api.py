"""The JSON API and its OpenAPI description."""

import re

import pytest

pytestmark = [pytest.mark.http]


async def test_openapi_schema_describes_the_catalogue_api(client):
    schema = (await client.get("/schema/openapi.json")).json()

    for path in (
        "/api/v1/search",
        "/api/v1/technologies",
        "/api/v1/labs",
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
    ):
        assert path in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "kind", "technology", "province", "fund", "year", "cursor"} <= parameters


async def test_search_api_folds_diacritics_and_reports_facets(client):
    folded = (await client.get("/api/v1/search", params={"q": "dat hiem"})).json()
    exact = (await client.get("/api/v1/search", params={"q": "đất hiếm"})).json()

    assert folded["total"] > 0
    assert folded["total"] == exact["total"]
    assert folded["facets"] == exact["facets"]
    assert set(folded["facets"]) == {"kind", "technology", "province", "fund", "year"}


async def test_project_detail_has_amount_in_whole_dong_and_its_technologies(client, db):
    # A demo project: projects funded by other tests' approvals come first in the lists.
    project_id = await db.fetchval("SELECT id FROM project WHERE is_demo ORDER BY id LIMIT 1")

    project = (await client.get(f"/api/v1/projects/{project_id}")).json()
    assert isinstance(project["amount_vnd"], int)
    assert project["technologies"]
    assert project["is_demo"] is True


async def test_health_probes(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_the_schema_describes_the_api_only(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "/api/v1/search" in paths
    assert [path for path in paths if not path.startswith("/api/")] == []


async def test_the_schema_viewer_loads_only_our_own_scripts(client):
    """The viewer works offline and under our CSP: no CDN, no inline script or style."""
    page = await client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    scripts = re.findall(r"<script\b([^>]*)>", page.text)
    assert scripts, "the viewer has a script"
    for attributes in scripts:
        source = re.search(r'\bsrc="([^"]+)"', attributes)
        assert source, f"inline script: <script{attributes}>"
        assert re.match(r"/[^/]", source.group(1)), source.group(1)
        assert (await client.get(source.group(1))).status_code == 200
    for link in re.findall(r'<link\b[^>]*href="([^"]+)"', page.text):
        assert re.match(r"/[^/]", link), link
    assert "<style" not in page.text
    assert " style=" not in page.text
    for viewer in ("/schema/swagger", "/schema/redoc", "/schema/rapidoc", "/schema/elements"):
        assert (await client.get(viewer)).status_code == 404, viewer
