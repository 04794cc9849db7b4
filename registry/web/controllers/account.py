"""Registration, e-mail verification, sign-in with a second factor, sign-out, password reset
and the account page, with one's sessions and the password change. HTML forms only; each
re-renders with field messages on bad input and keeps what was typed, except passwords."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Response, Template

from registry.domain.accounts import Actor, Role, totp_uri
from registry.domain.errors import InvalidForm, InvalidInput, RegistryError
from registry.i18n import N_
from registry.services import accounts, catalogue, onboarding, reviewers, sessions, sign_in
from registry.services.accounts import Registration
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import (
    guarded_actor,
    has_role,
    origin_of,
    password_given,
    second_factor_path,
    session_cookie,
    session_ended,
    signed_in,
)
from registry.web.qr import qr_svg_data_uri

PUBLIC = {"public": True}


def safe_next(value: str | None) -> str:
    """Only a path on this site: an open redirect would make our links phishing tools."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/account"


#: The fields of a request for an organisation the registry does not list.
NEW_ORGANISATION = ("org_name", "org_tax_number", "org_address")


def _new_organisation(values: dict[str, str]) -> onboarding.NewOrganisation:
    return onboarding.NewOrganisation(*(values[name] for name in NEW_ORGANISATION))


def onward(actor: Actor, next_path: str) -> str:
    """Where a person goes once a step of signing in is done: the next step, else `next_path`."""
    return next_path if actor.fully_signed_in else second_factor_path(actor, next_path)


class AccountController(Controller):
    @get("/register", opt=PUBLIC, name="register")
    async def register_page(self) -> Template:
        return forms.form_page(
            "account/register.html", organisations=await catalogue.organisation_choices()
        )

    @post("/register", opt=PUBLIC)
    async def register(self, request: Request, settings: NamedDependency[Settings]) -> Template:
        values = await forms.read_fields(
            request, "email", "display_name", "password", "organisation", "orcid", *NEW_ORGANISATION
        )
        try:
            organisation_id = forms.chosen_id(
                values["organisation"],
                field="organisation",
                message="Choose an organisation from the list.",
            )
            new_organisation = _new_organisation(values)
            await accounts.register(
                Registration(
                    email=values["email"],
                    password=values["password"],
                    display_name=values["display_name"],
                    organisation_id=organisation_id,
                    orcid=values["orcid"],
                    new_organisation=new_organisation if new_organisation.given else None,
                ),
                origin_of(request),
                settings,
            )
        except (InvalidInput, InvalidForm) as error:
            values.pop("password")
            return forms.form_page(
                "account/register.html",
                values=values,
                error=error,
                organisations=await catalogue.organisation_choices(),
            )
        return forms.form_page(
            "account/check_mail.html", email=values["email"].strip(), reset=False
        )

    @get("/verify-email", opt=PUBLIC)
    async def verify_email_page(self, request: Request) -> Template:
        token = request.query_params.get("token", "")
        # A page with a button, not a change on GET: mail scanners open links on their own.
        return forms.form_page("account/verify_email.html", token=token[:200])

    @post("/verify-email", opt=PUBLIC)
    async def verify_email(self, request: Request) -> Template:
        values = await forms.read_fields(request, "token")
        try:
            await accounts.confirm_email(values["token"], origin_of(request))
        except RegistryError as error:
            return forms.form_page("account/verify_email.html", token="", error=error)
        return forms.form_page("account/verified.html")

    @get("/login", opt=PUBLIC, name="login")
    async def login_page(self, request: Request) -> Template:
        next_path = safe_next(request.query_params.get("next"))
        return forms.form_page(
            "account/login.html", values={"next": next_path}, ended=session_ended(request)
        )

    @post("/login", opt=PUBLIC)
    async def login(self, request: Request, settings: NamedDependency[Settings]) -> Response[Any]:
        values = await forms.read_fields(request, "email", "password", "next")
        origin = origin_of(request)
        try:
            account_id = await sign_in.authenticate(
                values["email"], values["password"], origin, settings
            )
        except RegistryError as error:
            values.pop("password")
            return forms.form_page("account/login.html", values=values, error=error)
        # Always a new session id: whatever id the browser had (perhaps planted) is dropped.
        token = await sign_in.sign_in(account_id, origin, replacing=request.scope.get("auth"))
        actor = await sessions.load(token)
        assert actor is not None
        next_path = safe_next(values["next"])
        if not actor.fully_signed_in:
            next_path = second_factor_path(actor, next_path)
        return Redirect(next_path, cookies=[session_cookie(settings, token)], status_code=303)

    @get("/login/code", guards=[password_given])
    async def code_page(self, request: Request) -> Template:
        next_path = safe_next(request.query_params.get("next"))
        return forms.form_page("account/code.html", values={"next": next_path})

    @post("/login/code", guards=[password_given])
    async def code(self, request: Request, settings: NamedDependency[Settings]) -> Response[Any]:
        values = await forms.read_fields(request, "code", "next")
        actor = guarded_actor(request)
        try:
            token = await sign_in.give_second_factor(
                actor, values["code"], request.scope["auth"], origin_of(request), settings
            )
        except RegistryError as error:
            return forms.form_page(
                "account/code.html", values={"next": values["next"]}, error=error
            )
        return Redirect(
            safe_next(values["next"]), cookies=[session_cookie(settings, token)], status_code=303
        )

    @post("/logout", guards=[password_given])
    async def logout(self, request: Request, settings: NamedDependency[Settings]) -> Redirect:
        actor = guarded_actor(request)
        await sign_in.sign_out(request.scope["auth"], actor, origin_of(request))
        return Redirect("/", cookies=[session_cookie(settings, None)], status_code=303)

    @get("/password-reset", opt=PUBLIC)
    async def reset_page(self) -> Template:
        return forms.form_page("account/reset_request.html")

    @post("/password-reset", opt=PUBLIC)
    async def reset_request(self, request: Request) -> Template:
        values = await forms.read_fields(request, "email")
        try:
            await accounts.ask_password_reset(values["email"], origin_of(request))
        except (InvalidInput, InvalidForm) as error:
            return forms.form_page("account/reset_request.html", values=values, error=error)
        return forms.form_page("account/check_mail.html", email=values["email"].strip(), reset=True)

    @get("/password-reset/confirm", opt=PUBLIC)
    async def reset_confirm_page(self, request: Request) -> Template:
        token = request.query_params.get("token", "")
        return forms.form_page("account/reset_confirm.html", token=token[:200])

    @post("/password-reset/confirm", opt=PUBLIC)
    async def reset_confirm(self, request: Request) -> Template:
        values = await forms.read_fields(request, "token", "password")
        try:
            await accounts.reset_password(values["token"], values["password"], origin_of(request))
        except RegistryError as error:
            return forms.form_page("account/reset_confirm.html", token=values["token"], error=error)
        return forms.form_page("account/reset_done.html")

    @get("/account", guards=[signed_in], name="account")
    async def account(self, request: Request) -> Template:
        actor = guarded_actor(request)
        mine = await accounts.profile(actor)
        values = {
            "display_name": mine.display_name,
            "orcid": mine.orcid,
            "keywords": mine.keywords or "",
        }
        return await self._account_page(actor, values, mine.expertise)

    async def _account_page(  # type: ignore[no-untyped-def]
        self, actor, values: dict[str, str], expertise: frozenset[int] | None = None, error=None
    ) -> Template:
        if expertise is None:
            mine = await accounts.profile(actor)
            expertise = mine.expertise
            values = {
                "display_name": mine.display_name,
                "orcid": mine.orcid,
                "keywords": mine.keywords or "",
            } | values
        return forms.form_page(
            "account/account.html",
            values=values,
            error=error,
            actor=actor,
            expertise=expertise,
            technologies=await catalogue.list_technologies(),
            # Reviewers declare organisations and people they must never review.
            relations=await reviewers.relations(actor) if actor.has(Role.REVIEWER) else (),
            organisations=await catalogue.organisation_choices(),
            waiting=await onboarding.waiting(actor),
        )

    @post("/account", guards=[signed_in])
    async def update_profile(self, request: Request) -> Template | Redirect:
        actor = guarded_actor(request)
        values = await forms.read_fields(request, "display_name", "orcid", "keywords")
        form = await request.form()
        chosen = form.getall("expertise") if "expertise" in form else []
        expertise: frozenset[int] = frozenset()
        try:
            expertise = frozenset(
                forms.chosen_id(str(v), field="expertise", message="Choose fields from the list.")
                or 0
                for v in chosen[:100]
            )
            await accounts.update_profile(
                actor,
                accounts.Profile(
                    values["display_name"],
                    values["orcid"],
                    expertise,
                    values["keywords"] if actor.has(Role.REVIEWER) else None,
                ),
                origin_of(request),
            )
        except (InvalidInput, InvalidForm) as error:
            return await self._account_page(actor, values, expertise, error)
        return Redirect("/account", status_code=303)

    # Joining an organisation ------------------------------------------------------------------

    @post("/account/organisation", guards=[signed_in])
    async def ask_to_join(self, request: Request) -> Template | Redirect:
        actor = guarded_actor(request)
        values = await forms.read_fields(request, "organisation")
        message = N_("Choose an organisation from the list.")
        try:
            chosen = forms.chosen_id(values["organisation"], field="organisation", message=message)
            if chosen is None:
                raise InvalidInput(message, field="organisation")
            await onboarding.ask_to_join(actor, chosen, origin_of(request))
        except forms.FORM_PROBLEMS as error:
            return await self._account_page(actor, values, error=error)
        return Redirect("/account#organisation", status_code=303)

    @post("/account/organisation-request", guards=[signed_in])
    async def request_organisation(self, request: Request) -> Template | Redirect:
        actor = guarded_actor(request)
        values = await forms.read_fields(request, *NEW_ORGANISATION)
        try:
            await onboarding.request_organisation(
                actor, _new_organisation(values), origin_of(request)
            )
        except forms.FORM_PROBLEMS as error:
            return await self._account_page(actor, values, error=error)
        return Redirect("/account#organisation", status_code=303)

    # A reviewer's declared relations ----------------------------------------------------------

    @post("/account/relations", guards=[has_role(Role.REVIEWER)])
    async def declare_relation(self, request: Request) -> Template | Redirect:
        actor = guarded_actor(request)
        values = await forms.read_fields(
            request, "relation_organisation", "person_name", "person_orcid", "relation_note"
        )
        try:
            organisation_id = forms.chosen_id(
                values["relation_organisation"],
                field="relation_organisation",
                message="Choose an organisation from the list.",
            )
            await reviewers.declare_relation(
                actor,
                organisation_id,
                values["person_name"],
                values["person_orcid"],
                values["relation_note"],
                origin_of(request),
            )
        except forms.FORM_PROBLEMS as error:
            return await self._account_page(actor, values, error=error)
        return Redirect("/account#relations", status_code=303)

    @post("/account/relations/remove", guards=[has_role(Role.REVIEWER)])
    async def remove_relation(self, request: Request) -> Template | Redirect:
        actor = guarded_actor(request)
        values = await forms.read_fields(request, "relation")
        message = N_("Choose a relation from the list.")
        try:
            chosen = forms.chosen_id(values["relation"], field="relation", message=message)
            if chosen is None:
                raise InvalidInput(message, field="relation")
        except InvalidInput as error:
            return await self._account_page(actor, {}, error=error)
        await reviewers.remove_relation(actor, chosen, origin_of(request))
        return Redirect("/account#relations", status_code=303)

    @get("/account/password", guards=[password_given])
    async def first_password_page(self, request: Request) -> Template | Redirect:
        actor = guarded_actor(request)
        next_path = safe_next(request.query_params.get("next"))
        if not actor.must_choose_password or actor.second_factor_due:
            return Redirect(onward(actor, next_path), status_code=303)
        return forms.form_page("account/first_password.html", values={"next": next_path})

    @post("/account/password", guards=[password_given])
    async def first_password(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Response[Any]:
        actor = guarded_actor(request)
        values = await forms.read_fields(request, "password", "next")
        next_path = safe_next(values["next"])
        try:
            token = await accounts.choose_first_password(
                actor, values["password"], origin_of(request)
            )
        except (InvalidInput, InvalidForm) as error:
            return forms.form_page(
                "account/first_password.html", values={"next": next_path}, error=error
            )
        actor = await sessions.load(token)
        assert actor is not None
        return Redirect(
            onward(actor, next_path), cookies=[session_cookie(settings, token)], status_code=303
        )

    @get("/account/second-factor", guards=[password_given])
    async def enrol_page(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        actor = guarded_actor(request)
        if actor.totp_enrolled or actor.must_choose_password:
            return Redirect(onward(actor, "/account"), status_code=303)
        return await self._enrol_form(request, settings)

    async def _enrol_form(
        self,
        request: Request,
        settings: Settings,
        error: RegistryError | None = None,
        *,
        replacing: bool = False,
    ) -> Template:
        actor = guarded_actor(request)
        secret = await sign_in.begin_totp(
            actor, request.scope["auth"], settings, replacing=replacing
        )
        uri = totp_uri(secret, actor.email)
        return forms.form_page(
            "account/second_factor.html",
            error=error,
            secret=secret,
            qr=qr_svg_data_uri(uri),
            replacing=replacing,
        )

    @post("/account/second-factor", guards=[password_given])
    async def enrol(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        actor = guarded_actor(request)
        if actor.must_choose_password:
            return Redirect(onward(actor, "/account"), status_code=303)
        values = await forms.read_fields(request, "code")
        try:
            token, codes = await sign_in.confirm_totp(
                actor, values["code"], request.scope["auth"], origin_of(request), settings
            )
        except InvalidInput as error:
            return await self._enrol_form(request, settings, error)
        return forms.form_page(
            "account/recovery_codes.html",
            codes=codes,
            cookies=[session_cookie(settings, token)],
        )

    @get("/account/second-factor/replace", guards=[signed_in])
    async def replace_factor_page(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        if not guarded_actor(request).totp_enrolled:
            return Redirect("/account/second-factor", status_code=303)
        return await self._enrol_form(request, settings, replacing=True)

    @post("/account/second-factor/replace", guards=[signed_in])
    async def replace_factor(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template:
        values = await forms.read_fields(request, "current_password", "code")
        try:
            token, codes = await sign_in.replace_totp(
                guarded_actor(request),
                values["current_password"],
                values["code"],
                request.scope["auth"],
                origin_of(request),
                settings,
            )
        except (InvalidInput, InvalidForm) as error:
            return await self._enrol_form(request, settings, error, replacing=True)
        return forms.form_page(
            "account/recovery_codes.html", codes=codes, cookies=[session_cookie(settings, token)]
        )

    @get("/account/recovery-codes", guards=[signed_in])
    async def recovery_codes_page(self) -> Template:
        return forms.form_page("account/new_recovery_codes.html")

    @post("/account/recovery-codes", guards=[signed_in])
    async def renew_recovery_codes(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template:
        values = await forms.read_fields(request, "current_password")
        try:
            codes = await sign_in.renew_recovery_codes(
                guarded_actor(request), values["current_password"], origin_of(request), settings
            )
        except (InvalidInput, InvalidForm) as error:
            return forms.form_page("account/new_recovery_codes.html", error=error)
        return forms.form_page("account/recovery_codes.html", codes=codes)

    # One's sessions and password ---------------------------------------------------------------

    @get("/account/sessions", guards=[signed_in])
    async def sessions_page(self, request: Request) -> Template:
        return await self._sessions_page(request)

    async def _sessions_page(
        self, request: Request, error: RegistryError | None = None
    ) -> Template:
        actor = guarded_actor(request)
        mine = await sessions.list_own(actor, request.scope["auth"])
        return forms.form_page("account/sessions.html", error=error, sessions=mine)

    @post("/account/sessions/end", guards=[signed_in])
    async def end_session(self, request: Request) -> Template | Redirect:
        values = await forms.read_fields(request, "session")
        message = N_("Choose a session from the list.")
        try:
            chosen = forms.chosen_id(values["session"], field="session", message=message)
            if chosen is None:
                raise InvalidInput(message, field="session")
        except InvalidInput as error:
            return await self._sessions_page(request, error)
        # Not one's own, or ended already: nothing to do, and nothing said about whose it is.
        await sessions.end_own(
            guarded_actor(request), chosen, request.scope["auth"], origin_of(request)
        )
        return Redirect("/account/sessions", status_code=303)

    @post("/account/sessions/end-others", guards=[signed_in])
    async def end_other_sessions(self, request: Request) -> Redirect:
        await sessions.end_others(guarded_actor(request), request.scope["auth"], origin_of(request))
        return Redirect("/account/sessions", status_code=303)

    @get("/account/change-password", guards=[signed_in])
    async def password_page(self) -> Template:
        return forms.form_page("account/password.html")

    @post("/account/change-password", guards=[signed_in])
    async def change_password(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template:
        values = await forms.read_fields(request, "current_password", "password")
        try:
            ended = await accounts.change_password(
                guarded_actor(request),
                values["current_password"],
                values["password"],
                request.scope["auth"],
                origin_of(request),
                settings,
            )
        except (InvalidInput, InvalidForm) as error:
            return forms.form_page("account/password.html", error=error)
        return forms.form_page("account/password_changed.html", ended=ended)
