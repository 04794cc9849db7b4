"""The permission matrix: every actor x every non-public route x its verbs, with 0 unexpected
2xx and no other organisation's or fund's data on an allowed page; and sessions that end when
an account is disabled or its roles change.

Routes are collected from the app itself, so a new route joins the matrix on its own and fails
here until its row in EXPECTED says who may call it."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import asyncpg
import pytest

from registry.domain import accounts
from registry.domain.accounts import Grant, Role
from registry.services import proposals
from registry.services.storage import Storage, storage_from
from tests.factories import (
    CSRF_COOKIE,
    ORIGIN,
    SESSION_COOKIE,
    csrf_token,
    on_app_loop,
    open_call,
    post_form,
    run_jobs,
    service_actor,
    session_of,
    sign_in,
    submitted_proposal,
)

pytestmark = [pytest.mark.http]

ALLOW = "allow"
DOMAIN = "testserver.local"


@dataclass(frozen=True)
class Actor:
    name: str
    token: str | None  # session cookie; None for the anonymous visitor
    account_id: int | None = None
    organisation: int | None = None  # applicant of
    fund: int | None = None  # fund manager of
    admin: bool = False
    reviewer: bool = False


#: A route's path parameters, plus the scope of the object they name (a call's fund_id, a
#: proposal's organisation_id), which the rules read.
Params = dict[str, int | str]
Rule = Callable[[Actor, Params], str | int]


def everyone(actor: Actor, params: Params) -> str | int:
    return ALLOW


#: The anonymous column of a route nobody reaches from the matrix's address.
NOT_FOUND = 404


def nobody_elsewhere(actor: Actor, params: Params) -> str | int:
    return NOT_FOUND


def signed_in(actor: Actor, params: Params) -> str | int:
    return ALLOW  # anonymous visitors are sent to /login before any rule is asked


def admin_only(actor: Actor, params: Params) -> str | int:
    return ALLOW if actor.admin else 403


def organisation_member(actor: Actor, params: Params) -> str | int:
    # Any signed-in person passes the guard; the service scopes the object, so another
    # organisation's page is a 404 (its existence is not revealed).
    return ALLOW if actor.admin or actor.organisation == params["organisation_id"] else 404


def fund_manager(actor: Actor, params: Params) -> str | int:
    if actor.admin or actor.fund == params["fund_id"]:
        return ALLOW
    return 404 if actor.fund is not None else 403  # another fund's manager: scoped miss


def call_manager(actor: Actor, params: Params) -> str | int:
    # has_role(FUND_MANAGER) and nothing else: an administrator is refused like anyone without
    # the role. The service scopes the fund (or the call's fund): another fund's is a 404.
    if actor.fund is None:
        return 403
    return ALLOW if actor.fund == params["fund_id"] else 404


def decider(actor: Actor, params: Params) -> str | int:
    # Any signed-in person passes the guard; the service asks may_decide for the call's (or the
    # proposal's call's) fund: everyone else, administrators included, gets the same 404.
    return ALLOW if actor.fund is not None and actor.fund == params["fund_id"] else 404


def applicant(actor: Actor, params: Params) -> str | int:
    # has_role(APPLICANT): administrators are refused too. Anything naming a proposal is scoped
    # to the proposal's organisation: another organisation's applicant gets a 404.
    if actor.organisation is None:
        return 403
    if "proposal_id" not in params:
        return ALLOW
    return ALLOW if actor.organisation == params["organisation_id"] else 404


def importer(actor: Actor, params: Params) -> str | int:
    # has_role(ADMIN, FUND_MANAGER); an import names its fund (or none: administrators only),
    # and another fund's is a 404 for its managers.
    if not actor.admin and actor.fund is None:
        return 403
    if "import_id" not in params:
        return ALLOW
    return ALLOW if actor.admin or actor.fund == params["fund_id"] else 404


def reviewer(actor: Actor, params: Params) -> str | int:
    # has_role(REVIEWER): administrators are refused too. A proposal is reachable only on
    # one's own assignment, and the matrix's reviewer has none: a 404.
    if not actor.reviewer:
        return 403
    return 404 if "proposal_id" in params else ALLOW


#: (methods, route path pattern (fnmatch on the route's template), who is allowed, whether an
#: anonymous visitor is allowed). Every non-public route must match exactly one row.
EXPECTED: list[tuple[frozenset[str], str, Rule, bool | int]] = [
    (frozenset({"GET", "POST"}), "/account", signed_in, False),
    # One's own sessions and password: whose sessions is the service's business (own only).
    (frozenset({"GET"}), "/account/sessions", signed_in, False),
    (frozenset({"POST"}), "/account/sessions/end", signed_in, False),
    (frozenset({"POST"}), "/account/sessions/end-others", signed_in, False),
    (frozenset({"GET", "POST"}), "/account/change-password", signed_in, False),
    (frozenset({"GET", "POST"}), "/account/second-factor/replace", signed_in, False),
    (frozenset({"GET", "POST"}), "/account/recovery-codes", signed_in, False),
    # Asking to join an organisation, or for a new one: for oneself only.
    (frozenset({"POST"}), "/account/organisation", signed_in, False),
    (frozenset({"POST"}), "/account/organisation-request", signed_in, False),
    # Second-factor pages need the password only (password_given): any signed-in person.
    (frozenset({"GET", "POST"}), "/login/code", signed_in, False),
    (frozenset({"GET", "POST"}), "/account/second-factor", signed_in, False),
    (frozenset({"GET", "POST"}), "/account/password", signed_in, False),
    (frozenset({"POST"}), "/logout", signed_in, False),
    (frozenset({"GET"}), "/organisations/*/members", organisation_member, False),
    (frozenset({"GET"}), "/manage/funds/{fund_id:int}", fund_manager, False),
    # Calls: fund managers of the call's fund only.
    (frozenset({"GET"}), "/manage/funds/{fund_id:int}/calls", call_manager, False),
    (frozenset({"GET", "POST"}), "/manage/funds/{fund_id:int}/calls/new", call_manager, False),
    (frozenset({"GET"}), "/manage/calls/{call_id:int}", call_manager, False),
    # The dashboard's list of submissions, its exports, and a submitted proposal read-only.
    (frozenset({"GET"}), "/manage/calls/{call_id:int}/submissions*", call_manager, False),
    (frozenset({"GET"}), "/manage/proposals/{proposal_id:int}", call_manager, False),
    (frozenset({"GET"}), "/manage/proposals/{proposal_id:int}/files/*", call_manager, False),
    (frozenset({"GET", "POST"}), "/manage/calls/{call_id:int}/edit", call_manager, False),
    (frozenset({"POST"}), "/manage/calls/{call_id:int}/publish", call_manager, False),
    # The ranking desk: managers of the call's fund decide; a 404 for everyone else.
    (frozenset({"GET"}), "/manage/calls/{call_id:int}/ranking", decider, False),
    (frozenset({"GET"}), "/manage/calls/{call_id:int}/ranking/what-if", decider, False),
    (frozenset({"GET"}), "/manage/proposals/{proposal_id:int}/ranking", decider, False),
    (frozenset({"POST"}), "/manage/proposals/{proposal_id:int}/consensus", decider, False),
    (frozenset({"POST"}), "/manage/proposals/{proposal_id:int}/consensus/clear", decider, False),
    # A call's outcomes and the decision board's exports: the fund's managers (has_role, then
    # a 404 from the service for another fund's).
    (frozenset({"GET", "POST"}), "/manage/calls/{call_id:int}/decision", call_manager, False),
    (
        frozenset({"POST"}),
        "/manage/calls/{call_id:int}/decision/{decision_id:int}/*",
        call_manager,
        False,
    ),
    (frozenset({"GET"}), "/manage/calls/{call_id:int}/export/*", call_manager, False),
    # Issuing a call's documents: the same managers (no call here is approved: the page says
    # so, and starting answers 404).
    (frozenset({"GET", "POST"}), "/manage/calls/{call_id:int}/documents", call_manager, False),
    (frozenset({"GET"}), "/manage/calls/{call_id:int}/documents/progress", call_manager, False),
    # Proposals: applicants, each proposal to its organisation's members only.
    (frozenset({"GET"}), "/proposals", applicant, False),
    (frozenset({"POST"}), "/calls/{call_id:int}/proposals", applicant, False),
    (frozenset({"GET", "POST"}), "/proposals/{proposal_id:int}", applicant, False),
    (frozenset({"POST"}), "/proposals/{proposal_id:int}/attachments", applicant, False),
    (
        frozenset({"POST"}),
        "/proposals/{proposal_id:int}/attachments/{attachment_id:int}/delete",
        applicant,
        False,
    ),
    (frozenset({"GET"}), "/proposals/{proposal_id:int}/files/{sha256:str}", applicant, False),
    (frozenset({"POST"}), "/proposals/{proposal_id:int}/submit", applicant, False),
    (frozenset({"POST"}), "/proposals/{proposal_id:int}/withdraw", applicant, False),
    (frozenset({"GET"}), "/proposals/{proposal_id:int}/receipts/{number:int}", applicant, False),
    (
        frozenset({"GET"}),
        "/proposals/{proposal_id:int}/receipts/{number:int}/pdf",
        applicant,
        False,
    ),
    (frozenset({"GET"}), "/proposals/{proposal_id:int}/versions/{number:int}", applicant, False),
    # Expert review: the reviewer's own desk, invitations and assignments; the manager's
    # pool and reviews of the fund's proposals; a reviewer's declared relations.
    (frozenset({"GET"}), "/review", reviewer, False),
    (frozenset({"POST"}), "/review/pools/{fund_id:int}/answer", reviewer, False),
    (frozenset({"GET", "POST"}), "/review/proposals/{proposal_id:int}", reviewer, False),
    (frozenset({"POST"}), "/review/proposals/{proposal_id:int}/answer", reviewer, False),
    (frozenset({"POST"}), "/review/proposals/{proposal_id:int}/submit", reviewer, False),
    (
        frozenset({"GET"}),
        "/review/proposals/{proposal_id:int}/files/{sha256:str}",
        reviewer,
        False,
    ),
    (frozenset({"POST"}), "/account/relations", reviewer, False),
    (frozenset({"POST"}), "/account/relations/remove", reviewer, False),
    (frozenset({"GET", "POST"}), "/manage/funds/{fund_id:int}/reviewers", call_manager, False),
    (frozenset({"GET"}), "/manage/proposals/{proposal_id:int}/reviews", call_manager, False),
    (
        frozenset({"POST"}),
        "/manage/proposals/{proposal_id:int}/reviews/reopen",
        call_manager,
        False,
    ),
    # Reviewer assignment: the managers of the call's (the proposal's call's) fund.
    (frozenset({"GET"}), "/manage/calls/{call_id:int}/assignments", call_manager, False),
    (frozenset({"POST"}), "/manage/calls/{call_id:int}/assignments/auto", call_manager, False),
    (
        frozenset({"GET", "POST"}),
        "/manage/proposals/{proposal_id:int}/assignments",
        call_manager,
        False,
    ),
    (
        frozenset({"POST"}),
        "/manage/proposals/{proposal_id:int}/assignments/remove",
        call_manager,
        False,
    ),
    (frozenset({"GET", "POST"}), "/admin/*", admin_only, False),
    # Importing historic projects: administrators, and managers for their own fund.
    (frozenset({"GET", "POST"}), "/manage/imports*", importer, False),
    # development_only: even with debug=True (the test app) the outbox opens only from this
    # machine with the token printed at start (test_dev_outbox.py); the matrix calls from
    # elsewhere without it, so it is a 404 for everyone, signed in or not, admins included.
    (frozenset({"GET"}), "/dev/outbox", nobody_elsewhere, NOT_FOUND),
]
#: Generated API documentation: public by design (test_routes.py leaves it out too).
IGNORED_PREFIXES = ("/schema",)


def expected_rule(method: str, path: str) -> tuple[Rule, bool]:
    rows = [
        (rule, anon)
        for methods, pattern, rule, anon in EXPECTED
        if method in methods and fnmatch.fnmatchcase(path, pattern)
    ]
    if len(rows) != 1:
        pytest.fail(
            f"{method} {path}: {len(rows)} rows of EXPECTED match; say who may call a new "
            "route by adding a row to EXPECTED in tests/http/test_permissions.py"
        )
    return rows[0]


def protected_routes(app) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    """(method, path template, path parameter names) of every non-public handler."""
    found = []
    for route in app.routes:
        if route.path.startswith(IGNORED_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("public"):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, list(route.path_parameters)))
    # Signing out ends the session: last, so each actor keeps theirs for the other routes.
    return sorted(found, key=lambda item: (item[1] == "/logout", item[1], item[0]))


def concrete(path: str, params: Params) -> str:
    for name, value in params.items():
        path = re.sub(rf"\{{{name}:\w+\}}", str(value), path)
    assert "{" not in path, path
    return path


@dataclass
class World:
    organisation: dict[str, int]
    fund: dict[str, int]
    members: dict[str, int]  # member A / member B account ids (targets of admin GETs)
    throwaways: dict[str, int]  # targets of admin POSTs, so nobody in the matrix is touched
    grants: dict[int, int]  # account id -> one of its grants
    calls: dict[str, int]  # an open, published call of fund X / fund Y
    call_fund: dict[int, int]  # call id -> its fund
    #: A submitted proposal of organisation A / B (targets of GETs), and one more of each that
    #: the members' own POSTs may change (withdraw, delete its file) without touching the first.
    proposals: dict[str, int]
    proposal_throwaways: dict[str, int]
    proposal_organisation: dict[int, int]  # proposal id -> its organisation
    proposal_fund: dict[int, int]  # proposal id -> its call's fund
    attachment: dict[int, tuple[int, str]]  # proposal id -> (its attachment's id, sha256)
    imports: dict[str, int]  # a finished project import of fund X / fund Y
    import_fund: dict[int, int]  # import id -> its fund
    #: Text that identifies a proposal (submitted title, reference, unsubmitted draft title),
    #: and who may see it: an allowed page must not contain anyone else's.
    markers: list[tuple[str, Callable[[Actor], bool]]]
    #: A message whose delivery gave up (the target of the administrators' retry).
    undelivered_mail: int


async def redraft(member: accounts.Actor, proposal_id: int, title: str) -> None:
    """Change the draft's title after submission: the new title is not submitted."""
    proposal = await proposals.get(member, proposal_id)
    draft = replace(proposal.draft, title_vi=title)
    await proposals.save_draft(member, proposal_id, draft, proposal.row_version, ORIGIN)


async def undelivered_mail(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "INSERT INTO outbox_mail (recipient, subject, body, attempts, last_error)"
            " VALUES ('bounce@example.vn', 'Thử', 'Thử', 11, '550') RETURNING id"
        )
    finally:
        await conn.close()


async def build_world(  # type: ignore[no-untyped-def]
    client, database_url: str, make_person, store: Storage
) -> tuple[World, dict[str, object]]:
    people = {
        "member A": await make_person(("applicant", "vast")),
        "member B": await make_person(("applicant", "hcmut")),
        "reviewer": await make_person(("reviewer", None), totp=True),
        "manager X": await make_person(("fund_manager", "nafosted"), totp=True),
        "manager Y": await make_person(("fund_manager", "natif"), totp=True),
        "admin": await make_person(("admin", None), totp=True),
        "throwaway A": await make_person(("applicant", "vast")),
        "throwaway B": await make_person(("applicant", "hcmut")),
    }
    conn = await asyncpg.connect(database_url)
    try:
        orgs = {
            c: await conn.fetchval("SELECT id FROM organisation WHERE code = $1", c)
            for c in ("vast", "hcmut")
        }
        funds = {
            c: await conn.fetchval("SELECT id FROM fund WHERE code = $1", c)
            for c in ("nafosted", "natif")
        }
        # Pending, so that the administrator's "confirm" has something to confirm.
        for name in ("throwaway A", "throwaway B"):
            await conn.execute(
                "UPDATE account_role SET pending = true WHERE account = $1", people[name].id
            )
        grants = {}
        for person in people.values():
            grant = await conn.fetchval(
                "SELECT id FROM account_role WHERE account = $1 ORDER BY id LIMIT 1", person.id
            )
            if grant is not None:
                grants[person.id] = grant
        imports = {
            key: await conn.fetchval(
                "INSERT INTO project_import (created_by, fund, filename, sha256, dry_run,"
                " language, state, rows_total, rows_done, created, updated, unchanged,"
                " organisations_created, problems, created_at)"
                " VALUES ($1, $2, $3, repeat('0', 64), false, 'vi', 'done', 2, 2, 1, 0, 0, 0,"
                " '[]', now()) RETURNING id",
                people["admin"].id, funds[code], f"du-an-{key}.csv",
            )
            for key, code in (("X", "nafosted"), ("Y", "natif"))
        }  # fmt: skip
    finally:
        await conn.close()
    assert all(orgs.values())
    assert all(funds.values())
    organisation = {"A": orgs["vast"], "B": orgs["hcmut"]}
    fund = {"X": funds["nafosted"], "Y": funds["natif"]}

    # Calls and proposals through the services, as the people in the matrix.
    managers = {
        key: service_actor(people[f"manager {key}"], Grant(Role.FUND_MANAGER, fund[key]))
        for key in fund
    }
    calls = {key: await on_app_loop(client, open_call, managers[key], fund[key]) for key in fund}
    kept, throwaway, attachment = {}, {}, {}
    markers: list[tuple[str, Callable[[Actor], bool]]] = []
    # Titles alike on purpose: each proposal is flagged as a near-duplicate of the others,
    # across both funds, so the call dashboards have other funds' proposals to (not) show.
    for key, call_key in (("A", "X"), ("B", "Y")):
        member = service_actor(people[f"member {key}"], Grant(Role.APPLICANT, organisation[key]))
        org, fund_id = organisation[key], fund[call_key]

        def submitted_to(actor: Actor, org: int = org, fund_id: int = fund_id) -> bool:
            return actor.organisation == org or actor.fund == fund_id

        def member_of(actor: Actor, org: int = org) -> bool:
            return actor.organisation == org

        for made, title in ((kept, "Mô hình ngôn ngữ"), (throwaway, "Mô hình ngôn ngữ lớn")):
            proposal_id, attachment_id, sha256, reference = await on_app_loop(
                client,
                submitted_proposal,
                member,
                calls[call_key],
                org,
                f"{title} {key}",
                store,
            )
            made[key] = proposal_id
            attachment[proposal_id] = (attachment_id, sha256)
            markers += [(f"{title} {key}", submitted_to), (reference, submitted_to)]
        # Only the organisation's members may see what it has not submitted.
        draft_title = f"Bản nháp chưa nộp {key}"
        await on_app_loop(client, redraft, member, kept[key], draft_title)
        markers.append((draft_title, member_of))
    proposal_organisation = {
        proposal_id: organisation[key]
        for made in (kept, throwaway)
        for key, proposal_id in made.items()
    }
    proposal_fund = {
        proposal_id: fund[call_key]
        for made in (kept, throwaway)
        for key, proposal_id in made.items()
        for call_key in ({"A": "X", "B": "Y"}[key],)
    }
    world = World(
        organisation=organisation,
        fund=fund,
        members={"A": people["member A"].id, "B": people["member B"].id},
        throwaways={"A": people["throwaway A"].id, "B": people["throwaway B"].id},
        grants=grants,
        calls=calls,
        call_fund={calls[key]: fund[key] for key in fund},
        proposals=kept,
        proposal_throwaways=throwaway,
        proposal_organisation=proposal_organisation,
        proposal_fund=proposal_fund,
        attachment=attachment,
        imports=imports,
        import_fund={imports["X"]: fund["X"], imports["Y"]: fund["Y"]},
        markers=markers,
        undelivered_mail=await undelivered_mail(database_url),
    )
    return world, people


def parameter_sets(method: str, path: str, names: list[str], world: World) -> list[Params]:
    known = {
        "organisation_id",
        "fund_id",
        "account_id",
        "grant_id",
        "call_id",
        "proposal_id",
        "attachment_id",
        "sha256",
        "number",
        "decision_id",
        "mail_id",
        "request_id",
        "import_id",
    }
    unknown = sorted(set(names) - known)
    if unknown:
        pytest.fail(
            f"{method} {path}: the matrix does not know how to fill {unknown}; "
            "teach parameter_sets() in tests/http/test_permissions.py"
        )
    choices: dict[str, list[int | str]] = {}
    if "organisation_id" in names:
        choices["organisation_id"] = list(world.organisation.values())
    if "fund_id" in names:
        choices["fund_id"] = list(world.fund.values())
    if "account_id" in names:
        targets = world.throwaways if method != "GET" else world.members
        choices["account_id"] = list(targets.values())
    if "call_id" in names:
        choices["call_id"] = list(world.calls.values())
    if "import_id" in names:
        choices["import_id"] = list(world.imports.values())
    if "proposal_id" in names:
        # Members' POSTs withdraw and delete files: they get proposals of their own to do it to.
        # Managers' (an empty consensus form) change nothing, and need a submitted proposal.
        throwaway = method != "GET" and not path.startswith("/manage/")
        made = world.proposal_throwaways if throwaway else world.proposals
        choices["proposal_id"] = list(made.values())
    sets: list[Params] = [
        dict(zip(choices, values, strict=True)) for values in itertools.product(*choices.values())
    ]
    for params in sets:
        if "grant_id" in names:
            params["grant_id"] = world.grants[int(params["account_id"])]
        if "import_id" in params:  # the import's fund, for the rules
            params["fund_id"] = world.import_fund[int(params["import_id"])]
        if "call_id" in params:  # the call's fund, for the rules
            params["fund_id"] = world.call_fund[int(params["call_id"])]
        if "proposal_id" in params:  # the proposal's organisation, fund and its own file
            proposal_id = int(params["proposal_id"])
            params["organisation_id"] = world.proposal_organisation[proposal_id]
            params["fund_id"] = world.proposal_fund[proposal_id]
            attachment_id, sha256 = world.attachment[proposal_id]
            if "attachment_id" in names:
                params["attachment_id"] = attachment_id
            if "sha256" in names:
                params["sha256"] = sha256
        if "number" in names:
            params["number"] = 1  # each proposal was submitted once
        if "decision_id" in names:
            # No call has a proposed decision: approving or withdrawing one is a 409 for the
            # fund's managers (the form was stale), the same 404 as always for everyone else.
            params["decision_id"] = 1
        if "mail_id" in names:
            params["mail_id"] = world.undelivered_mail
        if "request_id" in names:
            # An empty form (no kind, no reason) is a 400 for administrators before any request
            # is looked up; the guard refuses everyone else.
            params["request_id"] = 1
    return sets


def act_as(client, actor: Actor, csrf: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set(CSRF_COOKIE, csrf, domain=DOMAIN)
    if actor.token:
        client.cookies.set(SESSION_COOKIE, actor.token, domain=DOMAIN)


def judge(
    actor: Actor,
    method: str,
    path: str,
    answer,
    rule: Rule,
    anon_ok: bool | int,  # type: ignore[no-untyped-def]
    params: Params,
) -> str | None:
    """What is wrong with this answer, or None."""
    status = answer.status_code
    location = answer.headers.get("location", "")
    if actor.token is None:
        expected: str | int = ALLOW if anon_ok is True else 303 if anon_ok is False else anon_ok
    else:
        expected = rule(actor, params)
    cell = f"{actor.name:>10} {method:4} {path}: {status}"
    if status >= 500:
        return f"{cell} (server error)"
    if expected == ALLOW:
        # Allowed cells must really work, or the matrix proves nothing.
        if status in (401, 403) or location.startswith("/login?"):
            return f"{cell} (allowed, but refused)"
        if status == 404:  # a scoped miss: every object in the matrix exists
            return f"{cell} (allowed, but not found)"
        if method == "GET" and status >= 400:
            return f"{cell} (allowed, but failed)"
        return None
    if 200 <= status < 300:
        return f"{cell} (expected {expected}: UNEXPECTED 2xx)"
    if expected == 303:
        if status != 303 or not location.startswith("/login"):
            return f"{cell} -> {location!r} (expected a redirect to /login)"
        return None
    if status != expected:
        return f"{cell} -> {location!r} (expected {expected})"
    return None


async def test_permission_matrix(client, make_person, database_url, settings):
    # The download route reads files from the app's storage: store them there.
    world, people = await build_world(client, database_url, make_person, storage_from(settings))
    await run_jobs(client, settings)  # the near-duplicate flags the dashboards show
    client.cookies.clear()
    csrf = await csrf_token(client)
    names = ("member A", "member B", "reviewer", "manager X", "manager Y", "admin")
    person_of = {name: people[name] for name in names}
    member_of = {"member A": world.organisation["A"], "member B": world.organisation["B"]}
    manager_of = {"manager X": world.fund["X"], "manager Y": world.fund["Y"]}
    actors = [Actor("anonymous", None)]
    for name, person in person_of.items():
        actors.append(
            Actor(
                name,
                await session_of(client, person),
                person.id,
                organisation=member_of.get(name),
                fund=manager_of.get(name),
                admin=name == "admin",
                reviewer=name == "reviewer",
            )
        )

    routes = protected_routes(client.app)
    assert {path for _, path, _ in routes} >= {
        "/account",
        "/admin/people",
        "/organisations/{organisation_id:int}/members",
        "/manage/funds/{fund_id:int}",
        "/admin/people/{account_id:int}/disable",
    }
    plan = []
    for method, path, names in routes:
        rule, anon_ok = expected_rule(method, path)
        for params in parameter_sets(method, path, names, world):
            plan.append((method, path, concrete(path, params), params, rule, anon_ok))

    violations = []
    cells = 0
    for actor in actors:
        for method, _template, path, params, rule, anon_ok in plan:
            act_as(client, actor, csrf)
            if method == "GET":
                answer = await client.get(path)
            else:
                answer = await client.post(path, data={"_csrf_token": csrf})
            cells += 1
            problem = judge(actor, method, path, answer, rule, anon_ok, params)
            if problem:
                violations.append(problem)
            # A leak hides behind a 200: what an allowed page shows must be the actor's too
            if answer.status_code == 200:
                violations += [
                    f"{actor.name:>10} {method:4} {path}: shows {marker!r}"
                    for marker, may_see in world.markers
                    if marker in answer.text and not may_see(actor)
                ]
    assert cells >= len(actors) * 20  # 168 when written
    assert violations == [], "\n" + "\n".join(violations)


async def test_disabling_a_person_ends_their_open_session(client, make_person):
    admin = await make_person(("admin", None), totp=True)
    person = await make_person(("applicant", "vast"))
    person_token = await session_of(client, person)
    admin_token = await session_of(client, admin)

    client.cookies.set(SESSION_COOKIE, person_token, domain=DOMAIN)
    assert (await client.get("/account")).status_code == 200

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, admin_token, domain=DOMAIN)
    done = await post_form(client, f"/admin/people/{person.id}/disable", {"confirm": "yes"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/admin/people/{person.id}"

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, person_token, domain=DOMAIN)
    after = await client.get("/account")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")
    # And the password no longer opens a new one.
    client.cookies.clear()
    refused = await post_form(
        client, "/login", {"email": person.email, "password": "correct horse battery staple"}
    )
    assert refused.status_code == 400


async def test_a_role_change_ends_the_persons_sessions(client, make_person, database_url):
    admin = await make_person(("admin", None), totp=True)
    person = await make_person(("applicant", "vast"))
    conn = await asyncpg.connect(database_url)
    try:
        hcmut = await conn.fetchval("SELECT id FROM organisation WHERE code = 'hcmut'")
    finally:
        await conn.close()
    person_token = await session_of(client, person)
    admin_token = await session_of(client, admin)

    client.cookies.set(SESSION_COOKIE, person_token, domain=DOMAIN)
    assert (await client.get(f"/organisations/{hcmut}/members")).status_code == 404

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, admin_token, domain=DOMAIN)
    granted = await post_form(
        client,
        f"/admin/people/{person.id}/roles",
        {"role": "applicant", "organisation": str(hcmut), "fund": ""},
    )
    assert granted.status_code == 303, granted.text

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, person_token, domain=DOMAIN)
    after = await client.get("/account")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")

    # Signed in again, the new rights apply.
    client.cookies.clear()
    await sign_in(client, person)
    assert (await client.get(f"/organisations/{hcmut}/members")).status_code == 200


async def test_revoking_a_role_ends_the_persons_sessions(client, make_person, database_url):
    admin = await make_person(("admin", None), totp=True)
    person = await make_person(("applicant", "vast"))
    conn = await asyncpg.connect(database_url)
    try:
        grant = await conn.fetchval("SELECT id FROM account_role WHERE account = $1", person.id)
    finally:
        await conn.close()
    person_token = await session_of(client, person)
    admin_token = await session_of(client, admin)

    client.cookies.set(SESSION_COOKIE, admin_token, domain=DOMAIN)
    revoked = await post_form(
        client, f"/admin/people/{person.id}/roles/{grant}/revoke", {"confirm": "yes"}
    )
    assert revoked.status_code == 303, revoked.text

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, person_token, domain=DOMAIN)
    after = await client.get("/account")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")
