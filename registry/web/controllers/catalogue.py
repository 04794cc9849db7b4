"""Public catalogue pages (HTML). Every route here is public: `opt={"public": True}`."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from registry.documents.spreadsheets import Sheet, to_csv
from registry.domain.catalogue import Kind
from registry.domain.search import EXPORT_LIMIT, FACETS, PAGE_SIZE, Results
from registry.formatting import number
from registry.services import calls, catalogue, open_data, search
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import received_at
from registry.web.charts import funding_chart
from registry.web.i18n import gettext_
from registry.web.templating import item_url

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
        return _page(
            "catalogue/fund.html",
            fund=item,
            calls=published,
            now=received_at(request),
            has_grants=await open_data.has_grants(fund=item.id),
        )

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
    async def projects(self, request: Request, settings: NamedDependency[Settings]) -> Template:
        """The funded projects: the search of one kind, without words (newest first)."""
        results = await _projects(request, settings)
        return _page("catalogue/projects.html", results=results)

    @get("/projects.csv", name="projects_csv", media_type="text/csv")
    async def projects_csv(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        """Every project the list shows with its filters and sort, as CSV (EXPORT_LIMIT rows
        at most)."""
        results = await _projects(request, settings, export=True)
        return _csv(results, settings, "projects.csv")

    @get("/projects/{project_id:int}", name="project")
    async def project(self, request: Request, project_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        item = await catalogue.get_project(forms.item_id(project_id))
        return _page("catalogue/project.html", project=item)

    @get("/search", name="search")
    async def search(self, request: Request, settings: NamedDependency[Settings]) -> Template:
        query, filters, sort, cursor = forms.search_params(request.query_params)
        results = await search.search(
            query, filters, sort=sort, cursor=cursor, candidate_cap=settings.search_candidate_cap
        )
        return _page("catalogue/search.html", results=results)

    @get("/search.csv", name="search_csv", media_type="text/csv")
    async def search_csv(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        """Every match of the search (its words, filters and sort) as CSV, EXPORT_LIMIT rows
        at most."""
        query, filters, sort, _ = forms.search_params(request.query_params, export=True)
        results = await search.search(
            query,
            filters,
            sort=sort,
            candidate_cap=settings.search_candidate_cap,
            page_size=EXPORT_LIMIT,
            choosable=(),
        )
        return _csv(results, settings, "search.csv")


async def _projects(
    request: Request, settings: Settings, *, export: bool = False
) -> Results:
    _, filters, sort, cursor = forms.search_params(
        request.query_params, sorts=forms.PROJECT_SORTS, kind=Kind.PROJECT, export=export
    )
    return await search.search(
        "",
        filters,
        sort=sort,
        cursor=cursor,
        candidate_cap=settings.search_candidate_cap,
        page_size=EXPORT_LIMIT if export else PAGE_SIZE,
        # Every item is a project: no other kind to choose.
        choosable=() if export else tuple(name for name in FACETS if name != "kind"),
    )


#: Columns of a CSV of search results (the item's own address last).
CSV_HEADER = (
    "kind", "id", "title_vi", "title_en", "province", "year", "amount_vnd",
    "organisation_vi", "organisation_en", "starts_on", "url",
)  # fmt: skip


def _csv(results: Results, settings: Settings, name: str) -> Response[bytes]:
    """The hits as CSV (UTF-8 with a byte-order mark: Excel reads Vietnamese), amounts in
    whole đồng; when the matches were more than EXPORT_LIMIT, a last row says so."""
    rows: list[tuple[str | int | None, ...]] = [
        (
            hit.kind.value,
            hit.id,
            hit.title.vi,
            hit.title.en,
            hit.province,
            hit.year,
            hit.amount_vnd,
            hit.organisation.vi if hit.organisation else None,
            hit.organisation.en if hit.organisation else None,
            hit.starts_on.isoformat() if hit.starts_on else None,
            settings.public_url + item_url(hit.kind, hit.id),
        )
        for hit in results.hits
    ]
    if results.next_cursor is not None:
        note = gettext_(
            "# Only the first %(limit)s of %(total)s matches: an export holds at most "
            "%(limit)s rows. Narrow the search to get the rest."
        ) % {"limit": number(EXPORT_LIMIT), "total": number(results.total)}
        rows.append((note,))
    return Response(
        to_csv(Sheet("results", CSV_HEADER, rows)),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
