"""Public catalogue pages (HTML). Every route here is public: `opt={"public": True}`."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from registry.services import calls, catalogue, search
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import received_at
from registry.web.charts import funding_chart

PUBLIC = {"public": True}


def _page(name: str, **context: object) -> Template:
    return Template(template_name=name, context=context)


class CatalogueController(Controller):
    opt: ClassVar[dict[str, object]] = PUBLIC

    @get("/", name="overview")
    async def overview(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        overview = await catalogue.overview()
        now = received_at(request)
        return _page(
            "catalogue/overview.html",
            overview=overview,
            chart=funding_chart(overview.by_technology),
            open_calls=[c for c in await calls.published_calls() if c.state(now) != "closed"],
            now=now,
        )

    @get("/technologies", name="technologies")
    async def technologies(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return _page(
            "catalogue/technologies.html",
            technologies=await catalogue.list_technologies(),
            lists=await catalogue.technology_lists(),
        )

    @get("/technologies/{technology_id:int}", name="technology")
    async def technology(self, request: Request, technology_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_technology(forms.item_id(technology_id))
        return _page("catalogue/technology.html", technology=item)

    @get("/laboratories", name="laboratories")
    async def laboratories(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return _page(
            "catalogue/laboratories.html", laboratories=await catalogue.list_laboratories()
        )

    @get("/laboratories/{laboratory_id:int}", name="laboratory")
    async def laboratory(self, request: Request, laboratory_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_laboratory(forms.item_id(laboratory_id))
        return _page("catalogue/laboratory.html", laboratory=item)

    @get("/exchanges", name="exchanges")
    async def exchanges(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return _page("catalogue/exchanges.html", exchanges=await catalogue.list_exchanges())

    @get("/exchanges/{exchange_id:int}", name="exchange")
    async def exchange(self, request: Request, exchange_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_exchange(forms.item_id(exchange_id))
        return _page("catalogue/exchange.html", exchange=item)

    @get("/funds", name="funds")
    async def funds(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return _page("catalogue/funds.html", funds=await catalogue.list_funds())

    @get("/funds/{fund_id:int}", name="fund")
    async def fund(self, request: Request, fund_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_fund(forms.item_id(fund_id))
        published = await calls.published_calls(fund_id=item.id)
        return _page("catalogue/fund.html", fund=item, calls=published, now=received_at(request))

    @get("/zones", name="zones")
    async def zones(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return _page("catalogue/zones.html", zones=await catalogue.list_zones())

    @get("/zones/{zone_id:int}", name="zone")
    async def zone(self, request: Request, zone_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_zone(forms.item_id(zone_id))
        return _page("catalogue/zone.html", zone=item)

    @get("/projects", name="projects")
    async def projects(self, request: Request) -> Template:
        cursor = forms.list_params(request.query_params)
        return _page("catalogue/projects.html", page=await catalogue.list_projects(cursor))

    @get("/projects/{project_id:int}", name="project")
    async def project(self, request: Request, project_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_project(forms.item_id(project_id))
        return _page("catalogue/project.html", project=item)

    @get("/search", name="search")
    async def search(self, request: Request, settings: NamedDependency[Settings]) -> Template:
        query, filters, cursor = forms.search_params(request.query_params)
        results = await search.search(
            query, filters, cursor=cursor, candidate_cap=settings.search_candidate_cap
        )
        return _page("catalogue/search.html", results=results)
