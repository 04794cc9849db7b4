"""Every public page has a JSON twin under /api/v1 (the README's promise): a list of the
public pages and their twins that a new page cannot slip past, and the calls' twins by
content."""

from __future__ import annotations

import pytest

from tests.factories import draft_call, on_app_loop, open_call, service_actor

pytestmark = [pytest.mark.http]

#: Public HTML page -> its JSON twin.
TWINS = {
    "/": "/api/v1/overview",
    "/search": "/api/v1/search",
    "/technologies": "/api/v1/technologies",
    "/technologies/{technology_id:int}": "/api/v1/technologies/{technology_id:int}",
    "/laboratories": "/api/v1/labs",
    "/laboratories/{laboratory_id:int}": "/api/v1/labs/{laboratory_id:int}",
    "/exchanges": "/api/v1/exchanges",
    "/exchanges/{exchange_id:int}": "/api/v1/exchanges/{exchange_id:int}",
    "/funds": "/api/v1/funds",
    "/funds/{fund_id:int}": "/api/v1/funds/{fund_id:int}",
    "/zones": "/api/v1/zones",
    "/zones/{zone_id:int}": "/api/v1/zones/{zone_id:int}",
    "/projects": "/api/v1/projects",
    "/projects/{project_id:int}": "/api/v1/projects/{project_id:int}",
    "/calls": "/api/v1/calls",
    "/calls/{call_id:int}": "/api/v1/calls/{call_id:int}",
    "/calls/{call_id:int}/results": "/api/v1/calls/{call_id:int}/results",
    "/monitoring": "/api/v1/monitoring",
    "/audit": "/api/v1/audit/head",
    "/verify": "/api/v1/verify/{code:str}",
    "/verify/{code:str}": "/api/v1/verify/{code:str}",
    "/verify/receipts/{receipt_no:str}": "/api/v1/verify/receipts/{receipt_no:str}",
}
#: Public but not pages of content: forms of the account, files, probes.
NOT_PAGES = {
    "/login", "/register", "/password-reset", "/password-reset/confirm", "/verify-email",
    "/verify/{code:str}/pdf", "/healthz", "/readyz", "/static/{file_path:path}",
    "/search.csv", "/projects.csv",  # a list page's result as a file (its twin has it too)
}  # fmt: skip


def public_get_paths(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if handler.opt.get("public") and "GET" in (handler.http_methods or ())
    }


async def test_every_public_page_has_a_json_twin(client):
    served = public_get_paths(client.app)
    pages = {p for p in served if not p.startswith(("/api/", "/schema"))} - NOT_PAGES
    assert pages - TWINS.keys() == set(), "public pages without a JSON twin"
    assert set(TWINS.values()) - served == set(), "twins that are not served"
    schema = (await client.get("/schema/openapi.json")).json()["paths"]
    for twin in TWINS.values():
        assert twin.replace(":int", "").replace(":str", "") in schema


async def test_the_calls_twins_give_published_calls_and_hide_drafts(client, make_person, db):
    manager = service_actor(await make_person(("fund_manager", "nafosted")))
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")

    async def calls() -> tuple[int, int]:
        published = await open_call(manager, fund, title_vi="Đặt hàng cảm biến lượng tử 2027")
        return published, await draft_call(manager, fund, title_vi="Bản nháp chưa công bố")

    published, draft = await on_app_loop(client, calls)

    listing = await client.get("/api/v1/calls")
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("application/json")
    mine = [c for c in listing.json() if c["id"] == published]
    assert len(mine) == 1
    assert mine[0]["title"]["vi"] == "Đặt hàng cảm biến lượng tử 2027"
    assert mine[0]["state"] == "open"
    assert mine[0]["fund_code"] == "nafosted"
    assert draft not in {c["id"] for c in listing.json()}

    one = (await client.get(f"/api/v1/calls/{published}")).json()
    assert one["terms"]["budget_vnd"] == 10_000_000_000
    assert isinstance(one["terms"]["budget_vnd"], int)
    assert one["criteria_version"] == 1
    assert one["terms"]["criteria"]
    assert one["results_url"] is None
    assert "row_version" not in one

    assert (await client.get(f"/api/v1/calls/{draft}")).status_code == 404
    assert (await client.get(f"/api/v1/calls/{published}/results")).status_code == 404
    assert (await client.get("/api/v1/calls?bogus=1")).status_code == 400
