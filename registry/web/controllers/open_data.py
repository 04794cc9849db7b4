"""Open data files (360Giving JSON, CSV) and the public record's pages."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from registry.documents.spreadsheets import Sheet, to_csv
from registry.domain.public_record import MIN_FOR_DISTRIBUTION
from registry.services import monitoring, open_data
from registry.settings import Settings
from registry.web import forms
from registry.web.charts import amount_chart, histogram
from registry.web.schema import WholeNumber


class OpenDataApi(Controller):
    path = "/api/v1"
    opt: ClassVar[dict[str, object]] = {"public": True}
    tags: ClassVar[list[str]] = ["open data"]

    @get("/grants.json", summary="Funded projects in the 360Giving Data Standard 1.4.3")
    async def grants_json(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        fund: WholeNumber = None,
        call: WholeNumber = None,
    ) -> Response[dict[str, Any]]:
        """Every funded project (no demo data) as a 360Giving data package; `fund` or `call`
        (ids) narrow it to one fund or call."""
        fund, call = forms.open_data_params(request.query_params)
        package = await open_data.giving(
            settings.giving_prefix, settings.public_url, fund=fund, call=call
        )
        return Response(package, media_type="application/json", headers=_headers("grants.json"))

    @get("/grants.csv", summary="Funded projects as a CSV table (UTF-8)", media_type="text/csv")
    async def grants_csv(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        fund: WholeNumber = None,
        call: WholeNumber = None,
    ) -> Response[bytes]:
        """The same projects as /api/v1/grants.json, one row each; same filters."""
        fund, call = forms.open_data_params(request.query_params)
        table = await open_data.funded_table(
            settings.giving_prefix, settings.public_url, fund=fund, call=call
        )
        body = to_csv(Sheet("grants", table.header, table.rows))
        return Response(body, media_type="text/csv", headers=_headers("grants.csv"))

    @get("/monitoring", summary="Resolution 57 monitoring figures (with their demo parts)")
    async def monitoring_json(self, request: Request) -> monitoring.Monitoring:
        """The figures of /monitoring: every amount in whole đồng with `demo_vnd`, the part of
        it that is generated demo data."""
        forms.page_params(request.query_params)
        return await monitoring.monitoring()

    @get("/calls/{call_id:int}/results", summary="A call's approved results (aggregates only)")
    async def call_results_json(
        self, request: Request, call_id: FromPath[int]
    ) -> open_data.CallResults:
        """The figures of /calls/{id}/results: counts, budget used, score distributions per
        criterion (aggregates only, none below the minimum group size) and the funded
        projects; 404 until the call's outcomes are approved."""
        forms.page_params(request.query_params)
        return await open_data.call_results(forms.item_id(call_id))


class OpenDataController(Controller):
    opt: ClassVar[dict[str, object]] = {"public": True}

    @get("/calls/{call_id:int}/results", name="call_results")
    async def call_results(self, request: Request, call_id: FromPath[int]) -> Template:
        """A call's results once its outcomes are approved: counts, budget used, score
        distributions per criterion (aggregates only) and the funded projects."""
        forms.page_params(request.query_params)
        results = await open_data.call_results(forms.item_id(call_id))
        return Template(
            "open_data/call_results.html",
            context={
                "results": results,
                "charts": [histogram(d) for d in results.statistics.distributions],
                "min_for_distribution": MIN_FOR_DISTRIBUTION,
            },
        )

    @get("/monitoring", name="monitoring")
    async def monitoring_page(self, request: Request) -> Template:
        """Resolution 57 monitoring: funded amounts by technology, province and year, calls
        open now, key laboratories per technology; demo data marked in every chart."""
        forms.page_params(request.query_params)
        figures = await monitoring.monitoring()
        return Template(
            "open_data/monitoring.html",
            context={
                "m": figures,
                "year_chart": amount_chart(
                    [(str(y.year), y.amount, None) for y in figures.by_year]
                ),
                "technology_chart": amount_chart(
                    [
                        (t.technology.name, t.total, f"/technologies/{t.technology.id}")
                        for t in figures.by_technology
                    ]
                ),
                "province_chart": amount_chart(
                    [(p.province, p.total, None) for p in figures.by_province]
                ),
            },
        )


def _headers(name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'inline; filename="{name}"',
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": "public, max-age=300",
    }
