"""JSON twins of the public pages under /api/v1, described by the OpenAPI schema."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from registry.domain import catalogue as c
from registry.domain.search import Results
from registry.services import catalogue, search
from registry.settings import Settings
from registry.web import forms
from registry.web.schema import WholeNumber


class CatalogueApi(Controller):
    path = "/api/v1"
    opt: ClassVar[dict[str, object]] = {"public": True}
    tags: ClassVar[list[str]] = ["catalogue"]

    @get("/overview", summary="Counts and funded amounts by technology")
    async def overview(self, request: Request) -> c.Overview:
        forms.page_params(request.query_params)
        return await catalogue.overview()

    @get("/search", summary="Search every kind of item (diacritics optional)")
    async def search(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        q: FromQuery[str] = "",
        kind: FromQuery[str | None] = None,
        technology: WholeNumber = None,
        province: FromQuery[str | None] = None,
        fund: WholeNumber = None,
        year: WholeNumber = None,
        cursor: FromQuery[str | None] = None,
    ) -> Results:
        """`q` folds case and diacritics (`tri tue` finds `trí tuệ`); quote words to match a
        phrase. Filters narrow to one kind, technology id, province, fund id or start year.
        `cursor` is the `next_cursor` of the previous page."""
        query, filters, page_cursor = forms.search_params(request.query_params)
        return await search.search(
            query, filters, cursor=page_cursor, candidate_cap=settings.search_candidate_cap
        )

    @get("/technology-lists", summary="Versions of the strategic-technology list")
    async def technology_lists(self, request: Request) -> tuple[c.TechnologyList, ...]:
        forms.page_params(request.query_params)
        return await catalogue.technology_lists()

    @get("/technologies", summary="Strategic technologies in Vietnamese alphabetical order")
    async def technologies(self, request: Request) -> tuple[c.Technology, ...]:
        forms.page_params(request.query_params)
        return await catalogue.list_technologies()

    @get("/technologies/{technology_id:int}", summary="A technology and its history")
    async def technology(self, request: Request, technology_id: FromPath[int]) -> c.Technology:
        forms.page_params(request.query_params)
        return await catalogue.get_technology(forms.item_id(technology_id))

    @get("/labs", summary="National key laboratories")
    async def laboratories(self, request: Request) -> tuple[c.Laboratory, ...]:
        forms.page_params(request.query_params)
        return await catalogue.list_laboratories()

    @get("/labs/{laboratory_id:int}", summary="A national key laboratory")
    async def laboratory(self, request: Request, laboratory_id: FromPath[int]) -> c.Laboratory:
        forms.page_params(request.query_params)
        return await catalogue.get_laboratory(forms.item_id(laboratory_id))

    @get("/exchanges", summary="Technology exchanges")
    async def exchanges(self, request: Request) -> tuple[c.Exchange, ...]:
        forms.page_params(request.query_params)
        return await catalogue.list_exchanges()

    @get("/exchanges/{exchange_id:int}", summary="A technology exchange")
    async def exchange(self, request: Request, exchange_id: FromPath[int]) -> c.Exchange:
        forms.page_params(request.query_params)
        return await catalogue.get_exchange(forms.item_id(exchange_id))

    @get("/funds", summary="Funds")
    async def funds(self, request: Request) -> tuple[c.Fund, ...]:
        forms.page_params(request.query_params)
        return await catalogue.list_funds()

    @get("/funds/{fund_id:int}", summary="A fund")
    async def fund(self, request: Request, fund_id: FromPath[int]) -> c.Fund:
        forms.page_params(request.query_params)
        return await catalogue.get_fund(forms.item_id(fund_id))

    @get("/zones", summary="High-tech zones")
    async def zones(self, request: Request) -> tuple[c.Zone, ...]:
        forms.page_params(request.query_params)
        return await catalogue.list_zones()

    @get("/zones/{zone_id:int}", summary="A high-tech zone")
    async def zone(self, request: Request, zone_id: FromPath[int]) -> c.Zone:
        forms.page_params(request.query_params)
        return await catalogue.get_zone(forms.item_id(zone_id))

    @get("/projects", summary="Funded projects, newest first, cursor-paginated")
    async def projects(
        self, request: Request, cursor: FromQuery[str | None] = None
    ) -> c.Page[c.Project]:
        return await catalogue.list_projects(forms.list_params(request.query_params))

    @get("/projects/{project_id:int}", summary="A funded project")
    async def project(self, request: Request, project_id: FromPath[int]) -> c.Project:
        forms.page_params(request.query_params)
        return await catalogue.get_project(forms.item_id(project_id))
