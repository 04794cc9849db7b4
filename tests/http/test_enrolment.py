"""Second-factor enrolment, recovery codes and the first password of accounts made from the
command line, as someone holding an account's password (but not its owner's phone or
mailbox) would try them."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import pyotp
import pytest

from registry.domain.accounts import Role, token_digest
from registry.services import accounts
from tests.factories import PASSWORD, SESSION_COOKIE, on_app_loop, post_form

pytestmark = [pytest.mark.http]


def shown_secret(page_text: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', page_text).group(1)


async def password_only(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """A fresh visitor who types the e-mail address and password."""
    client.cookies.clear()
    answer = await post_form(client, "/login", {"email": email, "password": password})
    assert answer.status_code == 303, answer.text
    return answer


async def enrol(client, email: str) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Sign in with the password and turn the second factor on; (secret, recovery codes)."""
    await password_only(client, email)
    secret = shown_secret((await client.get("/account/second-factor")).text)
    done = await post_form(client, "/account/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.text
    return secret, re.findall(r"<li><code>([^<]+)</code></li>", done.text)


async def test_a_secret_shown_to_one_session_never_becomes_the_accounts(client, make_person):
    admin = await make_person(("admin", None))
    # Someone who knows the password (say, whoever ran create-user) looks at the enrolment page
    # and leaves without confirming.
    await password_only(client, admin.email)
    peeked = shown_secret((await client.get("/account/second-factor")).text)

    # The owner signs in later: another key, and the peeked one is refused for this session.
    await password_only(client, admin.email)
    page = await client.get("/account/second-factor")
    own = shown_secret(page.text)
    assert own != peeked
    refused = await post_form(
        client, "/account/second-factor?lang=en", {"code": pyotp.TOTP(peeked).now()}
    )
    assert refused.status_code == 400
    assert own in refused.text  # the same session keeps its key: the app may have scanned it
    done = await post_form(client, "/account/second-factor", {"code": pyotp.TOTP(own).now()})
    assert done.status_code == 200

    # The peeker's authenticator is worth nothing at sign-in.
    await password_only(client, admin.email)
    wrong = await post_form(client, "/login/code", {"code": pyotp.TOTP(peeked).now()})
    assert wrong.status_code == 400


async def test_an_abandoned_enrolment_cannot_be_confirmed_from_its_old_session(client, make_person):
    reviewer = await make_person(("reviewer", None))
    await password_only(client, reviewer.email)
    stale_session = client.cookies[SESSION_COOKIE]
    peeked = shown_secret((await client.get("/account/second-factor")).text)
    # The owner enrols with their own key in another session.
    owner_secret, _ = await enrol(client, reviewer.email)
    assert owner_secret != peeked
    # Back in the old session, its key confirms nothing: the account has its factor.
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, stale_session, domain="testserver.local")
    late = await post_form(client, "/account/second-factor", {"code": pyotp.TOTP(peeked).now()})
    assert late.status_code in (303, 409)
    client.cookies.clear()
    await password_only(client, reviewer.email)
    wrong = await post_form(client, "/login/code", {"code": pyotp.TOTP(peeked).now()})
    assert wrong.status_code == 400


async def test_the_seed_is_not_stored_as_the_authenticator_sees_it(client, make_person, db):
    reviewer = await make_person(("reviewer", None))
    secret, _ = await enrol(client, reviewer.email)
    stored = await db.fetchval("SELECT totp_secret FROM account WHERE id = $1", reviewer.id)
    assert stored
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    # And it still works at the next sign-in.
    await password_only(client, reviewer.email)
    totp = pyotp.TOTP(secret)
    code = totp.generate_otp(totp.timecode(datetime.now()) + 1)  # newer than the one used
    assert (await post_form(client, "/login/code", {"code": code})).status_code == 303


async def test_recovery_codes_work_typed_without_dashes_or_with_spaces(client, make_person):
    admin = await make_person(("admin", None))
    _, codes = await enrol(client, admin.email)
    assert len(codes) == 10
    for typed in (codes[0].replace("-", ""), " ".join(codes[1].upper().split("-"))):
        await password_only(client, admin.email)
        answer = await post_form(client, "/login/code", {"code": typed})
        assert answer.status_code == 303, (typed, answer.text)
    # Each still works once.
    await password_only(client, admin.email)
    again = await post_form(client, "/login/code", {"code": codes[0]})
    assert again.status_code == 400


async def test_command_line_accounts_choose_their_own_password_first(client, db):
    email = f"first-{secrets.token_hex(3)}@most.gov.vn"
    initial = "mật khẩu ban đầu do người tạo đặt"
    await on_app_loop(client, accounts.create_user, email, initial, "Quản trị", [Role.ADMIN])

    # Whoever knows the initial password gets only the page to replace it: no enrolment key.
    await password_only(client, email, initial)
    other_session = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    first = await password_only(client, email, initial)
    assert first.headers["location"].startswith("/account/password")
    enrolment = await client.get("/account/second-factor")
    assert enrolment.status_code == 303
    assert enrolment.headers["location"].startswith("/account/password")
    assert (await client.get("/account")).headers["location"].startswith("/account/password")

    same = await post_form(client, "/account/password?lang=en", {"password": initial})
    assert same.status_code == 400
    weak = await post_form(client, "/account/password?lang=en", {"password": "short"})
    assert weak.status_code == 400
    assert "Use at least 12 characters." in weak.text

    chosen = "một câu mật khẩu chỉ chủ tài khoản biết"
    before = client.cookies[SESSION_COOKIE]
    done = await post_form(client, "/account/password", {"password": chosen})
    assert done.status_code == 303
    assert done.headers["location"] == "/account/second-factor"
    assert client.cookies[SESSION_COOKIE] != before  # a new session id
    assert (await client.get("/account/second-factor")).status_code == 200

    # The initial password no longer works, and the session opened with it has ended.
    client.cookies.clear()
    refused = await post_form(client, "/login", {"email": email, "password": initial})
    assert refused.status_code == 400
    client.cookies.set(SESSION_COOKIE, other_session, domain="testserver.local")
    assert (await client.get("/account/second-factor")).status_code in (302, 303, 401)
    assert (
        await db.fetchval(
            "SELECT count(*) FROM audit.event WHERE action = 'password.first_chosen' "
            "AND object_ref = (SELECT 'account:' || id FROM account WHERE email = $1)",
            email,
        )
        == 1
    )


async def test_accounts_not_made_from_the_command_line_have_no_password_page(client, make_person):
    person = await make_person()
    await password_only(client, person.email)
    page = await client.get("/account/password")
    assert page.status_code == 303
    assert page.headers["location"] == "/account"


async def test_recovery_codes_issued_before_keep_working(client, make_person, db):
    """Codes given out before they grew longer were stored with their dashes."""
    person = await make_person(totp=True)
    await db.execute(
        "INSERT INTO recovery_code (account, digest) VALUES ($1, $2)",
        person.id,
        token_digest("abcd-efgh-jkmn"),
    )
    await password_only(client, person.email)
    answer = await post_form(client, "/login/code", {"code": "ABCD EFGH JKMN"})
    assert answer.status_code == 303
