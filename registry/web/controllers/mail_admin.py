"""Undelivered mail for administrators: what failed, why, and one more try for a message whose
delivery job gave up (after about a day of retries)."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.domain.accounts import Role
from registry.services import mail
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of


class MailAdminController(Controller):
    path = "/admin/mail"
    guards: ClassVar = [has_role(Role.ADMIN)]

    @get("/", name="undelivered_mail")
    async def undelivered(self, request: Request) -> Template:
        messages = await mail.undelivered(guarded_actor(request))
        return Template("admin/mail.html", context={"messages": messages})

    @post("/{mail_id:int}/retry")
    async def retry(self, request: Request, mail_id: FromPath[int]) -> Redirect:
        await forms.read_form(request)
        await mail.retry(guarded_actor(request), forms.item_id(mail_id), origin_of(request))
        return Redirect("/admin/mail", status_code=303)
