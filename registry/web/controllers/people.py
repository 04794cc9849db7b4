"""Administration of people and roles, members' organisation pages, fund managers' fund
pages, and the development mail outbox. Every route names its guard; the services scope
every object to the actor, so someone else's object is a 404."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.domain.accounts import Role
from registry.domain.catalogue import OrganisationKind
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.formatting import role_name
from registry.services import catalogue, mail, onboarding, people
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import development_only, guarded_actor, has_role, origin_of, signed_in
from registry.web.confirmation import confirmation_page, confirmed
from registry.web.i18n import N_, gettext_, translate


class PeopleAdminController(Controller):
    path = "/admin/people"
    guards: ClassVar = [has_role(Role.ADMIN)]

    @get("/", name="people")
    async def people_list(self, request: Request) -> Template:
        return Template(
            "admin/people.html",
            context={"people": await people.list_people(guarded_actor(request))},
        )

    async def _person_page(
        self, request: Request, account_id: int, error: Exception | None = None
    ) -> Template:
        actor = guarded_actor(request)
        person = await people.get_person(actor, account_id)
        return forms.form_page(
            "admin/person.html",
            error=error,  # type: ignore[arg-type]
            person=person,
            requests=await onboarding.requests_of(actor, account_id),
            kinds=list(OrganisationKind),
            roles=list(Role),
            organisations=await catalogue.organisation_choices(),
            funds=await catalogue.list_funds(),
        )

    @get("/{account_id:int}", name="person")
    async def person(self, request: Request, account_id: FromPath[int]) -> Template:
        return await self._person_page(request, forms.item_id(account_id))

    @post("/{account_id:int}/roles")
    async def grant(self, request: Request, account_id: FromPath[int]) -> Template | Redirect:
        account_id = forms.item_id(account_id)
        values = await forms.read_fields(request, "role", "organisation", "fund")
        try:
            role = Role(values["role"]) if values["role"] in set(Role) else None
            if role is None:
                raise InvalidInput("Choose a role.", field="role")
            scope = {Role.APPLICANT: values["organisation"], Role.FUND_MANAGER: values["fund"]}
            scope_id = forms.chosen_id(
                scope.get(role, ""),
                field="scope_id",
                message="Choose the organisation or fund this role applies to.",
            )
            await people.grant(
                guarded_actor(request), account_id, role, scope_id, origin_of(request)
            )
        except (InvalidInput, Conflict) as error:
            return await self._person_page(request, account_id, error)
        return Redirect(f"/admin/people/{account_id}", status_code=303)

    @post("/{account_id:int}/roles/{grant_id:int}/confirm")
    async def confirm(
        self, request: Request, account_id: FromPath[int], grant_id: FromPath[int]
    ) -> Redirect:
        await people.confirm_grant(
            guarded_actor(request), forms.item_id(account_id), forms.item_id(grant_id),
            origin_of(request),
        )  # fmt: skip
        return Redirect(f"/admin/people/{account_id}", status_code=303)

    @post("/{account_id:int}/roles/{grant_id:int}/revoke")
    async def revoke(
        self, request: Request, account_id: FromPath[int], grant_id: FromPath[int]
    ) -> Template | Redirect:
        account_id, grant_id = forms.item_id(account_id), forms.item_id(grant_id)
        actor = guarded_actor(request)
        if not confirmed(await forms.read_fields(request, "confirm")):
            person = await people.get_person(actor, account_id)
            grant = next((g for g in person.grants if g.id == grant_id), None)
            if grant is None:
                raise NotFound()
            role = role_name(grant.role) + (f": {grant.scope_name}" if grant.scope_name else "")
            return confirmation_page(
                action=f"/admin/people/{account_id}/roles/{grant_id}/revoke",
                title=translate(
                    N_("Remove the role %(role)s from %(name)s?"),
                    {"role": role, "name": person.display_name},
                ),
                explanation=gettext_(
                    "Their sessions end at once and they sign in again with the roles left. "
                    "To give the role back, grant it again."
                ),
                button=gettext_("Remove the role"),
                back=f"/admin/people/{account_id}",
            )
        try:
            await people.revoke(actor, account_id, grant_id, origin_of(request))
        except Conflict as error:
            return await self._person_page(request, account_id, error)
        return Redirect(f"/admin/people/{account_id}", status_code=303)

    @post("/{account_id:int}/disable")
    async def disable(self, request: Request, account_id: FromPath[int]) -> Template | Redirect:
        account_id = forms.item_id(account_id)
        actor = guarded_actor(request)
        if not confirmed(await forms.read_fields(request, "confirm")):
            person = await people.get_person(actor, account_id)
            return confirmation_page(
                action=f"/admin/people/{account_id}/disable",
                title=translate(
                    N_("Disable the account of %(name)s?"), {"name": person.display_name}
                ),
                explanation=gettext_(
                    "Every session of the account ends at once and nobody can sign in to it "
                    "until an administrator enables it again."
                ),
                button=gettext_("Disable the account"),
                back=f"/admin/people/{account_id}",
            )
        try:
            await people.set_disabled(actor, account_id, True, origin_of(request))
        except Conflict as error:
            return await self._person_page(request, account_id, error)
        return Redirect(f"/admin/people/{account_id}", status_code=303)

    @post("/{account_id:int}/organisation-requests/{request_id:int}/approve")
    async def approve_organisation(
        self, request: Request, account_id: FromPath[int], request_id: FromPath[int]
    ) -> Template | Redirect:
        account_id = forms.item_id(account_id)
        values = await forms.read_fields(request, "kind")
        try:
            if values["kind"] not in set(OrganisationKind):
                raise InvalidInput("Choose what kind of organisation it is.", field="kind")
            await onboarding.approve(
                guarded_actor(request), account_id, forms.item_id(request_id),
                OrganisationKind(values["kind"]), origin_of(request),
            )  # fmt: skip
        except (InvalidInput, Conflict) as error:
            return await self._person_page(request, account_id, error)
        return Redirect(f"/admin/people/{account_id}", status_code=303)

    @post("/{account_id:int}/organisation-requests/{request_id:int}/reject")
    async def reject_organisation(
        self, request: Request, account_id: FromPath[int], request_id: FromPath[int]
    ) -> Template | Redirect:
        account_id = forms.item_id(account_id)
        values = await forms.read_fields(request, "reason")
        try:
            await onboarding.reject(
                guarded_actor(request), account_id, forms.item_id(request_id),
                values["reason"], origin_of(request),
            )  # fmt: skip
        except (InvalidInput, Conflict) as error:
            return await self._person_page(request, account_id, error)
        return Redirect(f"/admin/people/{account_id}", status_code=303)

    @post("/{account_id:int}/enable")
    async def enable(self, request: Request, account_id: FromPath[int]) -> Redirect:
        await people.set_disabled(
            guarded_actor(request), forms.item_id(account_id), False, origin_of(request)
        )
        return Redirect(f"/admin/people/{account_id}", status_code=303)


@get("/organisations/{organisation_id:int}/members", guards=[signed_in], name="members")
async def organisation_members(request: Request, organisation_id: FromPath[int]) -> Template:
    members = await people.organisation_members(
        guarded_actor(request), forms.item_id(organisation_id)
    )
    return Template("people/members.html", context={"members": members})


@get(
    "/manage/funds/{fund_id:int}",
    guards=[has_role(Role.FUND_MANAGER, Role.ADMIN)],
    name="managed_fund",
)
async def managed_fund(request: Request, fund_id: FromPath[int]) -> Template:
    fund = await people.managed_fund(guarded_actor(request), forms.item_id(fund_id))
    return Template("people/managed_fund.html", context={"fund": fund})


@get("/dev/outbox", guards=[development_only], include_in_schema=False)
async def dev_outbox(settings: NamedDependency[Settings]) -> Template:
    """Mail written to files (no SMTP_URL), readable in the browser during development.
    Delivers what is queued first, so a message shows up without waiting for a worker (its
    job then finds it sent)."""
    if not settings.smtp_url:
        await mail.deliver_pending(settings)
    return Template("dev/outbox.html", context={"messages": mail.read_outbox(settings)})
