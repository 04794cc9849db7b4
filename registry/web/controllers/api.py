"""JSON twins of the public pages under /api/v1, described by the OpenAPI schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from registry.domain import catalogue as c
from registry.domain.calls import CallSpec
from registry.domain.documents import normalise_code
from registry.domain.errors import NotFound
from registry.domain.search import Results
from registry.services import (
    calls,
    catalogue,
    documents,
    open_data,
    search,
    signing,
    submissions,
)
from registry.services.storage import read_all, storage_from
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import received_at
from registry.web.schema import WholeNumbers


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
        kind: FromQuery[list[str] | None] = None,
        technology: WholeNumbers = None,
        province: FromQuery[list[str] | None] = None,
        fund: WholeNumbers = None,
        year: WholeNumbers = None,
        sort: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Results:
        """`q` folds case and diacritics (`tri tue` finds `trí tuệ`); quote words to match a
        phrase. Filters narrow to kinds, technology ids, provinces, fund ids or start years:
        each may repeat (`technology=3&technology=5`: either), and every filter given applies.
        `sort` is `relevance` (the default with words), `newest` (the default without) or
        `amount`. `cursor` is the `next_cursor` or `previous_cursor` of a page of the same
        sort; `offset` says how many matches come before the page."""
        query, filters, order, page_cursor = forms.search_params(request.query_params)
        return await search.search(
            query,
            filters,
            sort=order,
            cursor=page_cursor,
            candidate_cap=settings.search_candidate_cap,
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


@dataclass(frozen=True, slots=True)
class PublicCall:
    """A published call as its public page shows it: the fund, the terms and criteria of its
    latest frozen version, and its state when the request arrived."""

    id: int
    fund_id: int
    fund_code: str
    fund_name: c.Localized
    title: c.Localized
    #: upcoming, open or closed, by the server's clock when the request arrived.
    state: str
    published_at: datetime | None
    criteria_version: int
    terms: CallSpec
    #: The page of its approved results, once there is one.
    results_url: str | None


def _public_call(call: calls.Call, at: datetime, with_results: frozenset[int]) -> PublicCall:
    return PublicCall(
        id=call.id,
        fund_id=call.fund_id,
        fund_code=call.fund_code,
        fund_name=call.fund_name,
        title=call.title,
        state=call.state(at),
        published_at=call.published_at,
        criteria_version=call.criteria_version,
        terms=call.spec,
        results_url=f"/api/v1/calls/{call.id}/results" if call.id in with_results else None,
    )


class CallsApi(Controller):
    """The twins of /calls and /calls/{id}; the results are OpenDataApi's."""

    path = "/api/v1/calls"
    opt: ClassVar[dict[str, object]] = {"public": True}
    tags: ClassVar[list[str]] = ["calls"]

    @get("/", summary="Published calls for proposals, closing soonest first, then closed ones")
    async def call_list(self, request: Request) -> tuple[PublicCall, ...]:
        forms.page_params(request.query_params)
        found = await calls.published_calls()
        with_results = await open_data.calls_with_results([call.id for call in found])
        return tuple(_public_call(call, received_at(request), with_results) for call in found)

    @get("/{call_id:int}", summary="A published call: terms, budget and scoring criteria")
    async def call(self, request: Request, call_id: FromPath[int]) -> PublicCall:
        forms.page_params(request.query_params)
        call = await calls.published_call(forms.item_id(call_id))
        with_results = await open_data.calls_with_results([call.id])
        return _public_call(call, received_at(request), with_results)


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """What /verify/{code} says of a decision the registry issued."""

    verification_code: str
    kind: str
    number: str
    issued_by: str
    issued_at: datetime
    subject: str
    sha256: str
    #: The embedded signature is intact, trusted and covers the whole file.
    signature_valid: bool
    signer: str
    replaces: str | None
    replaced_by: str | None
    pdf_url: str


class VerifyApi(Controller):
    path = "/api/v1/verify"
    opt: ClassVar[dict[str, object]] = {"public": True}
    tags: ClassVar[list[str]] = ["verify"]

    @get("/receipts/{receipt_no:str}", summary="Whether the registry issued this receipt")
    async def receipt(
        self, receipt_no: FromPath[str], sha256: FromQuery[str] = ""
    ) -> submissions.ReceiptCheck:
        """The submission a proposal's receipt records, when both its number and the SHA-256
        of the submitted content (printed on the receipt) match; 404 otherwise."""
        found = await submissions.check_receipt(receipt_no, sha256[:100])
        if found is None:
            raise NotFound()
        return found

    @get("/{code:str}", summary="Whether the registry issued the decision with this code")
    async def by_code(
        self, code: FromPath[str], settings: NamedDependency[Settings]
    ) -> VerifiedDocument:
        """404 when no decision has this code (as printed on the document, dashes optional)."""
        code = code[:40]
        document = await documents.by_code(code) if normalise_code(code) else None
        if document is None:
            raise NotFound()
        pdf = await read_all(await storage_from(settings).open(document.sha256))
        validity = await signing.validate(settings, pdf)
        return VerifiedDocument(
            verification_code=document.verification_code,
            kind=str(document.kind),
            number=document.number_label,
            issued_by=document.fund_name,
            issued_at=document.issued_at,
            subject=document.subject,
            sha256=document.sha256,
            signature_valid=validity.valid,
            signer=validity.signer,
            replaces=document.replaces_code,
            replaced_by=document.replaced_by_code,
            pdf_url=f"/verify/{document.verification_code}/pdf",
        )
