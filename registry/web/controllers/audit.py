"""The audit trail's head, public so that anyone can note it and later notice a rewrite."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from registry.domain.audit import ChainHead
from registry.services import audit
from registry.web import forms

PUBLIC = {"public": True}


class AuditController(Controller):
    opt: ClassVar[dict[str, object]] = PUBLIC

    @get("/audit", name="audit")
    async def audit_page(self, request: Request) -> Template:
        seq = forms.audit_params(request.query_params)
        looked_up = await audit.digest(seq) if seq is not None else None
        return Template(
            template_name="audit.html",
            context={"head": await audit.head(), "looked_up": looked_up},
        )


class AuditApi(Controller):
    path = "/api/v1/audit"
    opt: ClassVar[dict[str, object]] = PUBLIC
    tags: ClassVar[list[str]] = ["audit"]

    @get("/head", summary="The newest audit event's number, hash and time")
    async def head(self, request: Request) -> ChainHead:
        """Note `seq` and `hash_hex`; later, `/api/v1/audit/events/{seq}` must give the same
        hash, or the trail has been rewritten."""
        forms.page_params(request.query_params)
        return await audit.head()

    @get("/events/{seq:int}", summary="The hash of one audit event, to compare with a noted one")
    async def event(self, request: Request, seq: FromPath[int]) -> ChainHead:
        forms.page_params(request.query_params)
        return await audit.digest(seq)
