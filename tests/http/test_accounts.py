"""Registration, verification, sign-in, second factor, sign-out and password reset, through
the pages a person uses."""

from __future__ import annotations

import re

import pyotp
import pytest

from registry.settings import Settings
from tests.factories import PASSWORD, SESSION_COOKIE, csrf_token, post_form, run_jobs, sign_in

pytestmark = [pytest.mark.http]


async def deliver_and_read(client, settings: Settings, recipient: str) -> str:
    """The newest mail to `recipient`, as the development outbox page shows it (to a visitor
    on this machine with the token the server printed at start)."""
    from registry.services import mail
    from registry.web.auth import DEVELOPMENT_TOKEN

    await run_jobs(client, settings)  # reset links are made in a job
    app = client.app

    async def from_this_machine(scope, receive, send):  # type: ignore[no-untyped-def]
        await app({**scope, "client": ("127.0.0.1", 50000)}, receive, send)

    client.app = from_this_machine
    try:  # delivers what is queued, then lists it
        page = await client.get(f"/dev/outbox?token={app.state[DEVELOPMENT_TOKEN]}")
    finally:
        client.app = app
    assert page.status_code == 200
    for message in mail.read_outbox(settings):
        if message.recipient == recipient:
            assert recipient in page.text
            return message.body
    raise AssertionError(f"no mail to {recipient}")


def link_in(body: str) -> str:
    return re.search(r"https://testserver\.local(\S+)", body).group(1)


async def test_register_verify_and_sign_in(client, settings):
    email = "nguyen.van.a@vast.vn"
    answer = await post_form(
        client,
        "/register",
        {"email": " Nguyen.Van.A@VAST.vn ", "display_name": "Nguyễn Văn A",
         "password": PASSWORD, "organisation": "", "orcid": ""},
    )  # fmt: skip
    assert answer.status_code == 200
    assert "nguyen.van.a@vast.vn" in answer.text.lower()

    # Not verified yet: the right password is not enough.
    refused = await post_form(client, "/login?lang=en", {"email": email, "password": PASSWORD})
    assert refused.status_code == 400
    assert "Confirm your e-mail address first" in refused.text

    link = link_in(await deliver_and_read(client, settings, email))
    assert link.startswith("/verify-email?token=")
    confirm_page = await client.get(link)
    token = re.search(r'name="token" value="([^"]+)"', confirm_page.text).group(1)
    confirmed = await post_form(client, "/verify-email", {"token": token})
    assert confirmed.status_code == 200
    # The link works once.
    again = await post_form(client, "/verify-email", {"token": token})
    assert again.status_code == 409

    signed = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert signed.status_code in (302, 303)
    account = await client.get("/account")
    assert account.status_code == 200
    assert "Nguyễn Văn A" in account.text
    assert account.headers["cache-control"] == "no-store"


async def test_registration_errors_keep_input_but_not_password(client):
    answer = await post_form(
        client,
        "/register?lang=en",
        {"email": "not-an-address", "display_name": "Trần Thị B",
         "password": "short", "organisation": "", "orcid": "0000-0002-1825-0098"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "Enter an e-mail address like name@example.vn." in answer.text
    assert "Use at least 12 characters." in answer.text
    assert "This ORCID iD is not valid" in answer.text
    assert 'value="Trần Thị B"' in answer.text
    assert 'value="not-an-address"' in answer.text
    assert "short" not in answer.text.replace("shortcut", "")


async def test_vietnamese_messages_by_default(client):
    answer = await post_form(
        client, "/register",
        {"email": "", "display_name": "", "password": "", "organisation": "", "orcid": ""},
    )  # fmt: skip
    assert answer.status_code == 400
    assert 'lang="vi"' in answer.text
    assert "Enter your e-mail address." not in answer.text


async def test_common_password_refused(client):
    answer = await post_form(
        client, "/register?lang=en",
        {"email": "x@example.vn", "display_name": "X", "password": "password2026!",
         "organisation": "", "orcid": ""},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "too easy to guess" in answer.text


async def test_known_and_unknown_addresses_get_the_same_answer(client, make_person):
    person = await make_person()
    answers = []
    for email in (person.email, "nobody-here@example.vn"):
        answer = await post_form(
            client, "/login?lang=en", {"email": email, "password": "wrong " * 3}
        )
        answers.append((answer.status_code, answer.text.replace(email, "EMAIL")))
        reset = await post_form(client, "/password-reset?lang=en", {"email": email})
        answers.append((reset.status_code, reset.text.replace(email, "EMAIL")))
    assert answers[0] == answers[2]
    assert answers[1] == answers[3]


async def test_session_fixation_is_refused(client, make_person):
    person = await make_person()
    planted = "a" * 43
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    answer = await sign_in(client, person)
    issued = answer.cookies.get(SESSION_COOKIE)
    assert issued
    assert issued != planted
    # Someone holding the planted id is still nobody.
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    assert (await client.get("/account")).status_code in (302, 303)


async def test_logout_ends_the_session_on_the_server(client, make_person):
    person = await make_person()
    await sign_in(client, person)
    token = client.cookies[SESSION_COOKIE]
    assert (await client.get("/account")).status_code == 200
    await post_form(client, "/logout")
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")  # replay the old cookie
    replay = await client.get("/account")
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login")


async def test_reviewer_must_enrol_a_second_factor(client, make_person):
    reviewer = await make_person(("reviewer", None))
    answer = await post_form(client, "/login", {"email": reviewer.email, "password": PASSWORD})
    assert answer.headers["location"] == "/account/second-factor"
    # With the password alone, nothing beyond enrolment is open.
    assert (await client.get("/account")).status_code == 303
    page = await client.get("/account/second-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    before = client.cookies[SESSION_COOKIE]
    wrong = await post_form(client, "/account/second-factor?lang=en", {"code": "000000"})
    assert wrong.status_code == 400
    assert secret in wrong.text  # the same key: the app already scanned it
    done = await post_form(client, "/account/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>", done.text)) == 10
    assert client.cookies[SESSION_COOKIE] != before  # privilege change: a new session id
    assert (await client.get("/account")).status_code == 200


async def test_totp_code_works_once_and_recovery_code_once(client, make_person):
    person = await make_person(totp=True)
    first = await post_form(client, "/login", {"email": person.email, "password": PASSWORD})
    assert first.headers["location"].startswith("/login/code")
    code = person.code()
    assert (await post_form(client, "/login/code", {"code": code})).status_code == 303
    client.cookies.clear()
    await post_form(client, "/login", {"email": person.email, "password": PASSWORD})
    replay = await post_form(client, "/login/code", {"code": code})
    assert replay.status_code == 400  # the same code again: refused


async def test_password_reset_link_is_single_use_and_ends_sessions(client, settings, make_person):
    person = await make_person()
    await sign_in(client, person)
    old_session = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    await post_form(client, "/password-reset", {"email": person.email})
    link = link_in(await deliver_and_read(client, settings, person.email))
    token = link.split("token=")[1]
    new_password = "a brand new passphrase 2026"
    done = await post_form(
        client, "/password-reset/confirm", {"token": token, "password": new_password}
    )
    assert done.status_code == 200
    again = await post_form(
        client, "/password-reset/confirm", {"token": token, "password": new_password + "!"}
    )
    assert again.status_code == 409
    client.cookies.set(SESSION_COOKIE, old_session, domain="testserver.local")
    assert (await client.get("/account")).status_code == 303
    client.cookies.clear()
    ok = await post_form(client, "/login", {"email": person.email, "password": new_password})
    assert ok.status_code == 303


async def test_forms_without_csrf_token_are_refused(client):
    answer = await client.post("/login", data={"email": "a@b.vn", "password": "x" * 12})
    assert answer.status_code == 403


async def test_cross_site_posts_are_refused_even_with_a_token(client):
    token = await csrf_token(client)
    answer = await client.post(
        "/login",
        data={"email": "a@b.vn", "password": "x" * 12, "_csrf_token": token},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert answer.status_code == 403
    answer = await client.post(
        "/login",
        data={"email": "a@b.vn", "password": "x" * 12, "_csrf_token": token},
        headers={"origin": "https://evil.example"},
    )
    assert answer.status_code == 403


async def test_cookies_are_host_prefixed_secure_httponly(client, make_person):
    person = await make_person()
    answer = await sign_in(client, person)
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=lax"):
        assert attribute.lower() in header.lower()
    assert "domain=" not in header.lower()


async def test_anonymous_visits_create_no_session(client, database_url):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM web_session")
        for _ in range(20):
            await client.get("/technologies")
            client.cookies.clear()
        assert await conn.fetchval("SELECT count(*) FROM web_session") == before
    finally:
        await conn.close()


async def test_wrong_codes_are_throttled(client, make_person):
    person = await make_person(totp=True)
    await post_form(client, "/login", {"email": person.email, "password": PASSWORD})
    statuses = [
        (await post_form(client, "/login/code?lang=en", {"code": "000000"})).status_code
        for _ in range(7)
    ]
    assert statuses[:6] == [400] * 6
    assert statuses[6] == 429
    # Even the right code waits until the delay is over.
    late = await post_form(client, "/login/code?lang=en", {"code": person.code()})
    assert late.status_code == 429
    assert "Too many wrong codes" in late.text


async def test_reviewer_declares_fields_and_orcid(client, make_person, database_url):
    import asyncpg

    person = await make_person(("reviewer", None), totp=True)
    await sign_in(client, person)
    conn = await asyncpg.connect(database_url)
    try:
        fields = [r["id"] for r in await conn.fetch("SELECT id FROM technology LIMIT 2")]
        bad = await post_form(
            client,
            "/account?lang=en",
            {"display_name": "TS. Lê Văn C", "orcid": "0000-0002-1825-0098"},
        )
        assert bad.status_code == 400
        assert "This ORCID iD is not valid" in bad.text
        assert 'value="TS. Lê Văn C"' in bad.text
        saved = await client.post(
            "/account",
            data={
                "display_name": "TS. Lê Văn C",
                "orcid": "0000-0002-1825-0097",
                "expertise": [str(i) for i in fields],
                "_csrf_token": client.cookies["__Host-csrftoken"],
            },
        )
        assert saved.status_code == 303
        row = await conn.fetchrow(
            "SELECT display_name, orcid, expertise FROM account WHERE id = $1", person.id
        )
        assert (row["display_name"], row["orcid"]) == ("TS. Lê Văn C", "0000-0002-1825-0097")
        assert sorted(row["expertise"]) == sorted(fields)
        unknown = await post_form(
            client, "/account?lang=en",
            {"display_name": "X", "orcid": "", "expertise": "99999999"},
        )  # fmt: skip
        assert unknown.status_code == 400
        assert "Choose fields from the list." in unknown.text
    finally:
        await conn.close()
