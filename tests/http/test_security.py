"""Sign-in throttling, session timeouts, security headers, junk input and JSON errors
(the security test plan's sessions, CSRF, input and upload cases).

Throttles count per client address too, and the test client always calls from the same
address; tests that fail sign-ins on purpose call from an address of their own
(`from_address`), so they never slow the sign-ins of other tests. Abuse of the throttle
itself (keeping others out) is in test_sign_in_abuse.py."""

from __future__ import annotations

import re
import secrets
import time
from datetime import timedelta

import pytest

from registry.domain.accounts import (
    ADDRESS_FREE_FAILURES,
    FREE_FAILURES,
    Grant,
    Role,
    token_digest,
)
from registry.domain.search import encode_cursor
from registry.services import mail, reviews
from registry.services.storage import storage_from
from tests.factories import (
    CSRF_COOKIE,
    ORIGIN,
    PASSWORD,
    SESSION_COOKIE,
    csrf_token,
    make_assignment,
    on_app_loop,
    open_call,
    pdf_bytes,
    post_form,
    run_jobs,
    service_actor,
    sign_in,
    submitted_proposal,
)

pytestmark = [pytest.mark.http]

DOMAIN = "testserver.local"
TOO_MANY = "Too many failed sign-ins"
WRONG = "The e-mail address or password is not right."


async def login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return await post_form(client, "/login?lang=en", {"email": email, "password": password})


def scrub(text: str, email: str) -> str:
    return text.replace(email, "EMAIL")


# Sign-in throttling ---------------------------------------------------------------------------


async def test_wrong_passwords_block_the_account_then_the_right_one_too(
    client, make_person, from_address, db
):
    """At the address that failed: the block counts the account's failures from there."""
    person = await make_person()
    unknown = f"nobody-{secrets.token_hex(4)}@example.vn"
    free = FREE_FAILURES["account"]
    assert free == 5
    transcripts = {}
    addresses = {}
    for email in (person.email, unknown):
        addresses[email] = from_address()  # each run from its own address
        answers = []
        # The free failures, then the failure that starts the block: all plain "wrong".
        for _ in range(free + 1):
            wrong = await login(client, email, "not the password at all")
            assert wrong.status_code == 400
            assert WRONG in wrong.text
            answers.append((wrong.status_code, scrub(wrong.text, email)))
        # From now on refused before the password is even checked, the right one included.
        for password in (PASSWORD, "still not the password", PASSWORD):
            refused = await login(client, email, password)
            assert refused.status_code == 429, refused.text
            assert TOO_MANY in refused.text
            answers.append((refused.status_code, scrub(refused.text, email)))
        transcripts[email] = answers
    # No enumeration: an unknown address gets exactly the same answers.
    assert transcripts[person.email] == transcripts[unknown]

    # The throttle lives in PostgreSQL, so every web process sees it; its key names the account
    # (or the digest of an unknown address, never the text) and the client address.
    for email in (person.email, unknown):
        row = await db.fetchrow(
            "SELECT failures, blocked_until > now() AS blocked FROM login_throttle "
            "WHERE key LIKE 'account:%@' || $1",
            addresses[email],
        )
        assert row is not None
        assert row["failures"] == free + 1
        assert row["blocked"]


async def test_the_block_ends_and_success_clears_the_account_counter(
    client, make_person, from_address, db
):
    person = await make_person()
    key = f"account:{person.id}@{from_address()}"
    for _ in range(FREE_FAILURES["account"] + 1):
        assert (await login(client, person.email, "wrong wrong wrong")).status_code == 400
    assert (await login(client, person.email, PASSWORD)).status_code == 429

    # Backoff, not a permanent lock: once blocked_until has passed, the password works again.
    await db.execute(
        "UPDATE login_throttle SET blocked_until = now() - interval '1 second' WHERE key = $1",
        key,
    )
    signed = await login(client, person.email, PASSWORD)
    assert signed.status_code == 303, signed.text
    assert await db.fetchval("SELECT count(*) FROM login_throttle WHERE key = $1", key) == 0


async def test_password_reset_works_while_sign_in_is_blocked(
    client, settings, make_person, from_address, db
):
    person = await make_person()
    from_address()
    for _ in range(FREE_FAILURES["account"] + 1):
        await login(client, person.email, "wrong wrong wrong")
    assert (await login(client, person.email, PASSWORD)).status_code == 429

    asked = await post_form(client, "/password-reset?lang=en", {"email": person.email})
    assert asked.status_code == 200
    await run_jobs(client, settings)  # the link is made, mailed and delivered in jobs
    # The stored mail has no token (it is made at delivery): read the mail as delivered.
    delivered = mail.read_outbox(settings, limit=100_000)
    body = next(m.body for m in delivered if m.recipient == person.email)
    token = re.search(r"/password-reset/confirm\?token=(\S+)", body).group(1)
    new_password = "mưa rơi trên phố cổ hà nội"
    done = await post_form(
        client, "/password-reset/confirm", {"token": token, "password": new_password}
    )
    assert done.status_code == 200, done.text
    # The reset cleared the account's block: the new password works at once.
    assert (await login(client, person.email, new_password)).status_code == 303


async def test_many_addresses_from_one_client_are_throttled(client, make_person, from_address, db):
    """Guessing over many accounts from one address slows that address down. It used to
    refuse everyone behind it (429) for a while; now it only waits, since a whole office, or
    every client behind a load balancer, may share the address (test_sign_in_abuse.py)."""
    address = from_address()
    free = ADDRESS_FREE_FAILURES
    assert free == 20
    for n in range(free + 2):
        answer = await login(client, f"guess-{n}-{secrets.token_hex(3)}@example.vn", "password1")
        assert answer.status_code == 400, (n, answer.status_code)
    assert (
        await db.fetchval(
            "SELECT failures FROM login_throttle WHERE key = $1", f"address:{address}"
        )
        == free + 2
    )
    started = time.monotonic()
    slowed = await login(client, f"guess-last-{secrets.token_hex(3)}@example.vn", "password1")
    assert slowed.status_code == 400
    assert time.monotonic() - started >= 0.5  # the second failure past the free ones: 500 ms
    # Everyone behind that address waits a little too, and gets in.
    person = await make_person()
    assert (await login(client, person.email, PASSWORD)).status_code == 303


async def test_an_address_counter_forgets_failures_from_long_ago(
    client, make_person, from_address, db
):
    """Offices and universities share one address. Once an address has had 20 failed sign-ins
    (over any length of time), one typo a month later must not lock everyone behind it out:
    the address counter has to forget failures from long ago."""
    address = from_address()
    # 21 failures a month ago (as the per-address test above makes them), block long over.
    await db.execute(
        "INSERT INTO login_throttle (key, failures, blocked_until, last_failure_at) "
        "VALUES ($1, $2, now() - interval '30 days', now() - interval '30 days')",
        f"address:{address}",
        ADDRESS_FREE_FAILURES + 1,
    )
    person = await make_person()
    typo = await login(client, person.email, "a typo in my password")
    assert typo.status_code == 400
    colleague = await make_person()
    answer = await login(client, colleague.email, PASSWORD)
    assert answer.status_code == 303, (
        f"one failure after a month of quiet blocked the whole address: {answer.status_code}"
    )


# Session timeouts -----------------------------------------------------------------------------


async def _session_row_moved(db, token: str, column: str, ago: timedelta) -> None:  # type: ignore[no-untyped-def]
    moved = await db.execute(
        f"UPDATE web_session SET {column} = now() - $2::interval WHERE digest = $1",
        token_digest(token),
        ago,
    )
    assert moved == "UPDATE 1"


async def _sessions_left(db, token: str) -> int:  # type: ignore[no-untyped-def]
    return await db.fetchval(
        "SELECT count(*) FROM web_session WHERE digest = $1", token_digest(token)
    )


async def _expect_sent_to_login(client) -> None:  # type: ignore[no-untyped-def]
    answer = await client.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


async def test_an_applicant_session_ends_after_30_minutes_idle(client, make_person, db):
    person = await make_person(("applicant", "vast"))
    await sign_in(client, person)
    token = client.cookies[SESSION_COOKIE]
    await _session_row_moved(db, token, "last_seen_at", timedelta(minutes=29))
    assert (await client.get("/account")).status_code == 200
    await _session_row_moved(db, token, "last_seen_at", timedelta(minutes=31))
    await _expect_sent_to_login(client)
    assert await _sessions_left(db, token) == 0  # deleted on the server, not just ignored


async def test_a_reviewer_session_ends_sooner_than_an_applicants(client, make_person, db):
    reviewer = await make_person(("reviewer", None), totp=True)
    applicant = await make_person(("applicant", "hcmut"))

    await sign_in(client, reviewer)
    reviewer_token = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    await sign_in(client, applicant)
    applicant_token = client.cookies[SESSION_COOKIE]

    await _session_row_moved(db, reviewer_token, "last_seen_at", timedelta(minutes=16))
    await _session_row_moved(db, applicant_token, "last_seen_at", timedelta(minutes=16))

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, applicant_token, domain=DOMAIN)
    assert (await client.get("/account")).status_code == 200

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, reviewer_token, domain=DOMAIN)
    await _expect_sent_to_login(client)
    assert await _sessions_left(db, reviewer_token) == 0


async def test_a_session_ends_12_hours_after_sign_in_however_active(client, make_person, db):
    person = await make_person(("applicant", "vast"))
    await sign_in(client, person)
    token = client.cookies[SESSION_COOKIE]
    await _session_row_moved(db, token, "created_at", timedelta(hours=11, minutes=59))
    assert (await client.get("/account")).status_code == 200
    await _session_row_moved(db, token, "created_at", timedelta(hours=12, minutes=1))
    await _session_row_moved(db, token, "last_seen_at", timedelta(0))  # active just now
    await _expect_sent_to_login(client)
    assert await _sessions_left(db, token) == 0


# Security headers -----------------------------------------------------------------------------


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {words[0].lower(): words[1:] for words in parts}


def _check_headers(name: str, answer) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    headers = answer.headers
    csp = headers.get("content-security-policy")
    if not csp:
        return [f"{name}: no Content-Security-Policy"]
    directives = _directives(csp)
    script_src = directives.get("script-src", directives.get("default-src"))
    if script_src is None or "'unsafe-inline'" in script_src or "'unsafe-eval'" in script_src:
        problems.append(f"{name}: script-src {script_src}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{name}: frame-ancestors {directives.get('frame-ancestors')}")
    hsts = headers.get("strict-transport-security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    if not max_age or int(max_age.group(1)) < 31_536_000:
        problems.append(f"{name}: Strict-Transport-Security {hsts!r}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{name}: X-Content-Type-Options {headers.get('x-content-type-options')}")
    if not headers.get("referrer-policy"):
        problems.append(f"{name}: no Referrer-Policy")
    return problems


async def test_security_headers_on_every_kind_of_answer(client, make_person):
    anonymous = {
        "public page": "/",
        "sign-in page": "/login",
        "404 page": "/no-such-page-here",
        "JSON API": "/api/v1/funds",
        "JSON API error": "/api/v1/nonexistent",
        "redirect to sign in": "/account",
        "static file": "/static/registry.css",
    }
    answers = {name: await client.get(path) for name, path in anonymous.items()}
    assert answers["public page"].status_code == 200
    assert answers["404 page"].status_code == 404
    assert answers["JSON API"].headers["content-type"].startswith("application/json")
    assert answers["redirect to sign in"].status_code == 303

    person = await make_person(("applicant", "vast"))
    await sign_in(client, person)
    signed = {
        "signed-in page": "/account",
        "public page, signed in": "/",
        "403 page": "/admin/people",
    }
    for name, path in signed.items():
        answers[name] = await client.get(path)
    assert answers["signed-in page"].status_code == 200
    assert answers["403 page"].status_code == 403

    problems = [p for name, answer in answers.items() for p in _check_headers(name, answer)]
    for name in ("signed-in page", "public page, signed in", "403 page", "sign-in page"):
        if answers[name].headers.get("cache-control") != "no-store":
            problems.append(f"{name}: Cache-Control {answers[name].headers.get('cache-control')}")
    assert problems == [], "\n" + "\n".join(problems)


async def test_only_pages_with_a_form_set_the_csrf_cookie(client, make_person):
    """A visitor who only reads the public catalogue gets no cookie at all, so a shared cache
    may keep those pages; a page with a form sets the token its form carries, and the form
    then works."""
    for path in ("/", "/search?q=tri+tue", "/projects", "/api/v1/funds"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert "set-cookie" not in answer.headers, (path, answer.headers.get("set-cookie"))
    assert CSRF_COOKIE not in client.cookies

    page = await client.get("/login?lang=en")
    assert CSRF_COOKIE in page.headers.get("set-cookie", "")
    token = client.cookies[CSRF_COOKIE]
    assert f'name="_csrf_token" value="{token}"' in page.text

    person = await make_person(("applicant", "vast"))
    await sign_in(client, person)
    assert (await client.get("/account")).status_code == 200  # signed in through the form
    assert client.cookies[CSRF_COOKIE] == token  # kept, not replaced by a later page


# Origin ---------------------------------------------------------------------------------------


async def test_an_opaque_origin_is_not_taken_for_our_own(client, from_address):
    """Sandboxed frames, data: URLs and some redirects send `Origin: null`: whoever made the
    request, it was not one of our pages, so an unsafe request is refused like any other
    cross-site one (when no Sec-Fetch-Site says otherwise)."""
    from_address()  # the wrong password below must not count against other tests' address
    form = {"email": "a@b.vn", "password": "x" * 12, "_csrf_token": await csrf_token(client)}
    refused = await client.post("/login?lang=en", data=form, headers={"origin": "null"})
    assert refused.status_code == 403
    ours = await client.post("/login?lang=en", data=form, headers={"origin": f"https://{DOMAIN}"})
    assert ours.status_code != 403
    assert WRONG in ours.text


# JSON errors ----------------------------------------------------------------------------------


async def test_a_json_api_error_is_json_with_a_stable_code(client):
    answer = await client.get("/api/v1/nonexistent")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in answer.text

    bad = await client.get("/api/v1/funds/not-a-number")
    assert bad.status_code in (400, 404)
    assert bad.json()["error"]["code"] in ("bad_request", "not_found")


# Junk input -----------------------------------------------------------------------------------

FIELDS = (
    "email",
    "password",
    "display_name",
    "organisation",
    "orcid",
    "token",
    "code",
    "next",
    "fund",
    # A fund call (templates/calls/edit.html)
    "title_vi",
    "title_en",
    "description_vi",
    "technologies",
    "opens_at",
    "closes_at",
    "budget_vnd",
    "min_request_vnd",
    "max_request_vnd",
    "cofunding_percent",
    "reviewers_per_proposal",
    "blind_review",
    "required_attachments",
    "overall_threshold",
    "criterion-0-name_vi",
    "criterion-0-threshold",
    "criterion-0-weight",
    "criterion-0-tie_rank",
    "tie_break-0",
    "row_version",
    # A proposal (templates/proposals/edit.html)
    "abstract_vi",
    "pi_name",
    "pi_orcid",
    "duration_months",
    "team-0-name",
    "team-0-orcid",
    "team-0-role",
    "budget-personnel-requested",
    "budget-personnel-own",
    "milestone-0-month",
    "milestone-0-text",
    "submit_key",
    "kind",
    # A call's review settings, the reviewer pool, relations and the review form
    "review_closes_at",
    "aggregation",
    "funding_policy",
    "reviewers_see_others",
    "keywords",
    "relation",
    "relation_organisation",
    "person_name",
    "person_orcid",
    "relation_note",
    "answer",
    "no_conflict",
    "note",
    "mark-0",
    "mark-1",
    "comment-0",
    "overall_comment",
    "review",
    "reason",
    # A consensus (templates/ranking/proposal.html)
    "consensus-0",
    "consensus-1",
    "consensus-2",
    "justification",
)
JUNK = [
    "x" * 10_000,
    "a" * 9_990 + "@example.vn",
    "nul\x00byte@example.vn",
    "\x00",
    "²",  # str.isdigit() says yes, int() says no
    "١٢٣٤٥٦",  # Arabic-Indic digits: isdigit(), and six of them
    "99999999999999999999",
    "-1",
    " ",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "//evil.example/",
    "9" * 5_000,  # past Python's int-from-string limit (4,300 digits)
    str(2**31),  # one past PostgreSQL's integer
    "-2147483649",
]
#: Routes that name a fund, a call or a proposal, besides /logout.
SCOPED_ROUTES = ("/manage/", "/calls/", "/proposals/", "/logout")
#: Routes the reviewer (assigned to the proposal, accepted) posts junk to.
REVIEWER_ROUTES = ("/review/", "/account/relations", "/logout")
VALID_REGISTRATION = {
    "email": "valid@example.vn",  # replaced by a new address at each post
    "display_name": "Phạm Minh Châu",
    "password": "sông hồng chảy về biển",
    "organisation": "",
    "orcid": "",
}
RAW_BODIES = [
    # Invalid UTF-8 behind percent escapes, half a sequence, lone continuation bytes.
    b"email=%ff%fe%40example.vn&password=%c3%28&display_name=%80%80&organisation=%ff"
    b"&code=%ed%a0%80&token=%f0%28%8c%28&fund=%c0%af&role=admin",
    b"%%%&&==&email&&password=%zz",
    b"email=" + b"%00" * 5_000,
]


def _shown(body: dict[str, str] | bytes) -> str:
    if isinstance(body, bytes):
        return repr(body[:48])
    values = {v for k, v in body.items() if k != "role"}
    if len(values) == 1:
        return f"every field={next(iter(values))[:24]!r} role={body.get('role')}"
    odd = {k: v[:24] for k, v in body.items() if VALID_REGISTRATION.get(k) != v and k != "email"}
    if not body["email"].startswith("junk-"):
        odd["email"] = body["email"][:24]
    return f"valid registration but {odd!r}"


async def _throwaway_grant(db, person_id: int) -> int:  # type: ignore[no-untyped-def]
    return await db.fetchval("SELECT id FROM account_role WHERE account = $1", person_id)


async def _call_and_proposal(client, db, manager, applicant, store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """An open call of the manager's fund (NAFOSTED) and a submitted proposal of the applicant's
    organisation (VAST) with one attachment, made through the services: real ids to post to."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation_id = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    call_id = await on_app_loop(
        client, open_call, service_actor(manager, Grant(Role.FUND_MANAGER, fund_id)), fund_id
    )
    proposal_id, attachment_id, *_ = await on_app_loop(
        client,
        submitted_proposal,
        service_actor(applicant, Grant(Role.APPLICANT, organisation_id)),
        call_id,
        organisation_id,
        f"Đề xuất thử dữ liệu rác {secrets.token_hex(3)}",
        store,
    )
    return {
        "fund_id": fund_id,
        "call_id": call_id,
        "proposal_id": proposal_id,
        "attachment_id": attachment_id,
        "decision_id": 1,  # none is proposed: approving or withdrawing answers 409
        "mail_id": 1,
        "import_id": 1,  # a project import: another fund's or none, a 404
    }


def _junk_uploads() -> list[tuple[str, bytes, str]]:
    """(file name, content, kind) of uploads a browser would not send, or should not."""
    pdf = pdf_bytes("Thuyết minh")
    return [
        ("thuyet-minh.pdf", b"", "description"),
        ("thuyet-minh.pdf", b"not a pdf at all", "description"),
        ("thuyet-minh.pdf", b"%PDF-1.7\n" + b"\x00" * 64, "description"),  # no end marker
        ("thuyet-minh.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "other"),
        ("thuyet-minh.pdf", pdf[: len(pdf) // 2] + b"\n%%EOF\n", "description"),  # cut off
        ("../../../etc/passwd", pdf, "description"),
        ("..\\..\\boot.ini", pdf, "cvs"),
        ("x" * 10_000 + ".pdf", pdf, "description"),
        ("<script>alert(1)</script>.pdf", pdf, "other"),
        ("", pdf, "description"),
        ("thuyet-minh.pdf", pdf, ""),
        ("thuyet-minh.pdf", pdf, "\x00"),
        ("thuyet-minh.pdf", pdf, "x" * 10_000),
        ("thuyet-minh.pdf", pdf, "' OR '1'='1"),
    ]


def _post_routes(app, ids: dict[str, int]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every POST route, its path parameters filled from `ids` (parameter name -> id)."""
    paths = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "POST" not in handler.http_methods:
                continue
            unknown = set(route.path_parameters) - set(ids)
            assert not unknown, f"POST {route.path}: teach the junk test to fill {unknown}"
            path = route.path
            for name in route.path_parameters:
                path = path.replace(f"{{{name}:int}}", str(ids[name]))
            paths.append(path)
    return sorted(paths, key=lambda path: (path == "/logout", path))  # sign out last


async def test_junk_input_never_causes_a_server_error(
    client, make_person, from_address, db, settings
):
    admin = await make_person(("admin", None), totp=True)
    throwaway = await make_person(("applicant", "vast"))
    grant = await _throwaway_grant(db, throwaway.id)
    # The manager's and the applicant's junk reaches the call and proposal forms' parsers.
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person(("applicant", "vast"))
    ids = await _call_and_proposal(client, db, manager, applicant, storage_from(settings))
    request = await db.fetchval(
        "INSERT INTO organisation_request (account, name, tax_number, address) "
        "VALUES ($1, 'Viện Thử', '0101234567', 'Hà Nội') RETURNING id",
        throwaway.id,
    )  # the throwaway's request for a new organisation, for the decision forms' parsers
    ids |= {"account_id": throwaway.id, "grant_id": grant, "request_id": request}
    # The reviewer's junk reaches the review form's parsers: their assignment is accepted.
    reviewer = await make_person(("reviewer", None), totp=True)
    await make_assignment(db, ids["proposal_id"], reviewer.id)
    await on_app_loop(
        client, reviews.answer, service_actor(reviewer), ids["proposal_id"], "accept", True, "",
        ORIGIN,
    )  # fmt: skip
    # The admin may legitimately make the throwaway person an admin; nobody else may become one.
    count_admins = "SELECT count(*) FROM account_role WHERE role = 'admin' AND account <> $1"
    admins_before = await db.fetchval(count_admins, throwaway.id)

    tokens = {}
    for who, person in (
        ("admin", admin), ("fund manager", manager), ("applicant", applicant),
        ("reviewer", reviewer),
    ):  # fmt: skip
        client.cookies.clear()
        await sign_in(client, person)
        tokens[who] = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    csrf = await csrf_token(client)
    routes = _post_routes(client.app, ids)
    assert {
        "/register",
        "/login",
        f"/admin/people/{throwaway.id}/roles",
        f"/manage/funds/{ids['fund_id']}/calls/new",
        f"/manage/calls/{ids['call_id']}/edit",
        f"/proposals/{ids['proposal_id']}",
        f"/proposals/{ids['proposal_id']}/submit",
    } <= set(routes)

    def bodies(path: str) -> list[dict[str, str] | bytes]:
        found: list[dict[str, str] | bytes] = [{}, *RAW_BODIES]  # {}: every field missing
        roles = ("admin", "applicant", "fund_manager") if path.endswith("/roles") else ("admin",)
        for value in JUNK:
            # role=admin everywhere: a mass-assignment attempt; applicant / fund_manager on
            # the grant form, to reach its organisation and fund parsing.
            found += [{**{name: value for name in FIELDS}, "role": role} for role in roles]
            if path == "/register":  # one bad field in an otherwise valid registration
                found += [
                    {**VALID_REGISTRATION, name: value, "role": "admin"}
                    for name in VALID_REGISTRATION
                ]
        return found

    upload_path = f"/proposals/{ids['proposal_id']}/attachments"
    failures = []
    for who, token in (("anonymous", None), *tokens.items()):
        # Multipart junk for the attachment upload, as the one person whose junk reaches the
        # PDF checks (everyone else is refused before the handler), before /logout ends the
        # session.
        for filename, content, kind in _junk_uploads() if who == "applicant" else ():
            from_address()
            client.cookies.clear()
            client.cookies.set(CSRF_COOKIE, csrf, domain=DOMAIN)
            client.cookies.set(SESSION_COOKIE, tokens[who], domain=DOMAIN)
            answer = await client.post(
                upload_path,
                data={"kind": kind, "_csrf_token": csrf},
                files={"file": (filename, content, "application/pdf")},
            )
            if answer.status_code >= 500:
                shown = f"file={filename[:24]!r} ({len(content)} bytes) kind={kind[:24]!r}"
                failures.append(f"{who} POST {upload_path} {shown}: {answer.status_code}")
        for path in routes:
            # Anonymous visitors and the admin post to every route; the manager and the
            # applicant to those that name their fund, call or proposal (and sign out last).
            if who in ("fund manager", "applicant") and not path.startswith(SCOPED_ROUTES):
                continue
            if who == "reviewer" and not path.startswith(REVIEWER_ROUTES):
                continue
            for body in bodies(path):
                from_address()  # fresh throttles: every attempt reaches the password check
                client.cookies.clear()
                client.cookies.set(CSRF_COOKIE, csrf, domain=DOMAIN)
                if token:
                    client.cookies.set(SESSION_COOKIE, token, domain=DOMAIN)
                if isinstance(body, bytes):
                    answer = await client.post(
                        path,
                        content=body + b"&_csrf_token=" + csrf.encode(),
                        headers={"content-type": "application/x-www-form-urlencoded"},
                    )
                else:
                    if path == "/register" and body.get("email") == VALID_REGISTRATION["email"]:
                        body = {**body, "email": f"junk-{secrets.token_hex(4)}@example.vn"}
                    answer = await client.post(path, data={**body, "_csrf_token": csrf})
                if answer.status_code >= 500:
                    failures.append(f"{who} POST {path} {_shown(body)}: {answer.status_code}")
    assert failures == [], "\n" + "\n".join(failures)
    admins_after = await db.fetchval(count_admins, throwaway.id)
    assert admins_after == admins_before


#: Every query parameter some GET route reads.
QUERY_PARAMETERS = (
    "q", "kind", "technology", "province", "fund", "year", "cursor", "sort", "seq", "preset",
    "token", "next", "lang", "code",
    # The ranking table's pages and the what-if panel
    "page", "budget_vnd", "overall_threshold", "policy", "criterion-0-weight",
    "criterion-0-threshold",
)  # fmt: skip
JUNK_NUMBERS = ("9" * 5_000, str(2**31), "-1", "-2147483649")
#: Well-formed page links (see domain.search.encode_cursor) holding numbers no page gives.
JUNK_CURSORS = tuple(
    encode_cursor(*values)
    for values in (
        ("2026-01-01", 2**31), ("2026-01-01", -1), ("2026-01-01", -(2**31) - 1),
        ("2026-01-01", 10**250), ("9999-12-31", 1), ("0001-01-01", 2**63),
        (1.0, 2**31), (0.5, -1), (1.0, 10**250), (float("inf"), 1), (float("nan"), 1),
        (-1e308, 2**31 - 1), (1.0, True),
        # Search pages' links: sort, direction, page, key, id.
        ("amount", "after", 2**31, 1.0, 1), ("newest", "before", 1, 1e308, 2**31 - 1),
        ("amount", "before", 2, -1e308, 1), ("relevance", "sideways", 2, 1.0, 1),
    )
)  # fmt: skip


def _get_paths(app, ids: dict[str, int | str]) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Every GET route but the static files and the schema viewers, its path parameters
    filled from `ids`; and those with an id in their path, with a 5,000-digit id instead."""
    paths, huge_ids = [], []
    for route in app.routes:
        if not any("GET" in h.http_methods for h in getattr(route, "route_handlers", [])):
            continue
        if route.path.startswith(("/static/", "/schema")):
            continue
        unknown = set(route.path_parameters) - set(ids)
        assert not unknown, f"GET {route.path}: teach the junk test to fill {unknown}"
        path = huge = route.path
        for name, parameter in route.path_parameters.items():
            path = path.replace(f"{{{parameter.full}}}", str(ids[name]))
            junk = "9" * 5_000 if parameter.type is int else str(ids[name])
            huge = huge.replace(f"{{{parameter.full}}}", junk)
        paths.append(path)
        if huge != path:
            huge_ids.append(huge)
    return paths, huge_ids


async def test_junk_query_parameters_never_cause_a_server_error(client, make_person, db, settings):
    """Numbers past every limit (5,000 digits, int32 + 1, negative) in each query parameter
    and in page links, on every GET route (HTML and /api/v1), as someone who may see it."""
    admin = await make_person(("admin", None), totp=True)
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person(("applicant", "vast"))
    ids: dict[str, int | str] = await _call_and_proposal(
        client, db, manager, applicant, storage_from(settings)
    )
    first = "SELECT min(id) FROM "
    ids |= {
        "account_id": applicant.id,
        "organisation_id": await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'"),
        "technology_id": await db.fetchval(first + "technology"),
        "laboratory_id": await db.fetchval(first + "laboratory"),
        "exchange_id": await db.fetchval(first + "exchange"),
        "zone_id": await db.fetchval(first + "zone"),
        "project_id": await db.fetchval(first + "project"),
        "seq": 1,
        "number": 1,
        "sha256": "0" * 64,
        "code": "ZZZZZZZZZZ",  # a verification code nothing has
        "receipt_no": "NAFOSTED-2026-000001-V1",
    }
    paths, huge_ids = _get_paths(client.app, ids)
    assert {"/search", "/projects", "/api/v1/search", "/api/v1/projects", "/audit"} <= set(paths)
    tokens: dict[str, str | None] = {"anonymous": None}
    for who, person in (("admin", admin), ("fund manager", manager), ("applicant", applicant)):
        client.cookies.clear()
        await sign_in(client, person)
        tokens[who] = client.cookies[SESSION_COOKIE]

    async def get(path: str, token: str | None, params: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        client.cookies.clear()
        if token:
            client.cookies.set(SESSION_COOKIE, token, domain=DOMAIN)
        return await client.get(path, params=params)

    queries = [(name, value) for name in QUERY_PARAMETERS for value in JUNK_NUMBERS]
    queries += [("cursor", cursor) for cursor in JUNK_CURSORS]
    failures = []
    for path in paths:
        # As the first person the page answers (anyone, the admin, the manager, the applicant).
        who = "applicant"
        for name, token in tokens.items():
            if (await get(path, token)).status_code < 400:
                who = name
                break
        for name, value in queries:
            answer = await get(path, token, {name: value})
            if answer.status_code >= 500:
                failures.append(f"{who} GET {path} {name}={value[:24]!r}: {answer.status_code}")
    for path in huge_ids:
        for who, token in tokens.items():
            if (answer := await get(path, token)).status_code >= 500:
                failures.append(f"{who} GET {path[:40]}... : {answer.status_code}")
    assert failures == [], "\n" + "\n".join(failures)


async def test_numbers_past_the_limits_are_a_400_in_the_persons_language(client):
    huge = "9" * 5_000
    answer = await client.get("/api/v1/search", params={"fund": huge, "lang": "vi"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("fund phải là số nguyên từ 1 đến")
    page = await client.get("/search", params={"year": huge, "lang": "en"})
    assert page.status_code == 400
    assert "year must be a whole number between 1900 and 2100." in page.text
    past_int32 = encode_cursor("2026-01-01", 2**31)
    for path in ("/projects", "/api/v1/projects"):
        answer = await client.get(path, params={"cursor": past_int32, "lang": "en"})
        assert answer.status_code == 400
        assert "The page link is damaged or out of date." in answer.text


async def test_registration_ignores_extra_fields_like_role(client, db):
    email = f"mass-{secrets.token_hex(4)}@example.vn"
    vast = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    answer = await post_form(
        client,
        "/register",
        {
            "email": email,
            "display_name": "Lê Thị Hoa",
            "password": "sông hồng chảy về biển",
            "organisation": str(vast),
            "orcid": "",
            "role": "admin",
            "roles": "admin",
            "pending": "false",
            "email_verified_at": "2026-01-01",
            "is_admin": "true",
        },
    )
    assert answer.status_code == 200, answer.text
    account = await db.fetchrow("SELECT id, email_verified_at FROM account WHERE email = $1", email)
    assert account is not None
    assert account["email_verified_at"] is None
    grants = await db.fetch(
        "SELECT role, pending FROM account_role WHERE account = $1", account["id"]
    )
    assert [(g["role"], g["pending"]) for g in grants] == [("applicant", True)]
