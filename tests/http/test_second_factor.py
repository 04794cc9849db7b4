"""Managing one's second factor from the account page: new recovery codes (printable and
downloadable, the old ones void) and moving the factor to a new authenticator app (the old
app void, other sessions ended); each asks the current password and is mailed."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote

import pyotp
import pytest

from registry.i18n import translate_in
from registry.services import mail
from tests.factories import PASSWORD, SESSION_COOKIE, on_app_loop, post_form, session_of, sign_in

pytestmark = [pytest.mark.http]


def codes_in(page: str) -> list[str]:
    return re.findall(r"<li><code>([^<]+)</code></li>", page)


async def mails_to(client, settings, recipient: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The subjects mailed to `recipient`, without spaces: Python's header folding drops the
    one between two encoded words of a long Vietnamese subject (a known defect, noted)."""
    await on_app_loop(client, mail.deliver_pending, settings)
    found = mail.read_outbox(settings, limit=2000)
    return ["".join(m.subject.split()) for m in found if m.recipient == recipient]


def subject(msgid: str) -> str:
    """A subject as mailed to an account in its language (Vietnamese, the default)."""
    return "".join(translate_in("vi", msgid).split())


async def signs_in_with(client, person, code: str) -> bool:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    await post_form(client, "/login", {"email": person.email, "password": PASSWORD})
    answer = await post_form(client, "/login/code", {"code": code, "next": "/account"})
    return answer.status_code == 303


async def test_new_recovery_codes_void_the_old_ones(client, make_person, settings):
    person = await make_person(("reviewer", None), totp=True)
    await sign_in(client, person)
    account = await client.get("/account?lang=en")
    assert 'href="/account/recovery-codes"' in account.text
    assert 'href="/account/second-factor/replace"' in account.text

    wrong = await post_form(
        client, "/account/recovery-codes?lang=en", {"current_password": "x" * 12}
    )
    assert wrong.status_code == 400
    assert "The current password is not right." in wrong.text
    assert not codes_in(wrong.text)

    first = codes_in(
        (await post_form(client, "/account/recovery-codes", {"current_password": PASSWORD})).text
    )
    page = await post_form(
        client, "/account/recovery-codes?lang=en", {"current_password": PASSWORD}
    )
    second = codes_in(page.text)
    assert len(first) == len(second) == 10
    assert not set(first) & set(second)
    download = re.search(
        r'href="data:text/plain;charset=utf-8,([^"]+)" download="([^"]+)"', page.text
    )
    assert download, "no download of the codes"
    assert download.group(2).endswith(".txt")
    assert all(code in unquote(download.group(1)) for code in second)
    assert "print" in page.text

    assert not await signs_in_with(client, person, first[0])
    assert await signs_in_with(client, person, second[0])
    assert subject("New Registry recovery codes") in await mails_to(client, settings, person.email)


async def test_moving_the_second_factor_to_a_new_app(client, make_person, settings):
    person = await make_person(("fund_manager", "nafosted"), totp=True)
    other_browser = await session_of(client, person)
    assert await signs_in_with(client, person, person.code(1))  # (each code works once)
    page = await client.get("/account/second-factor/replace?lang=en")
    assert page.status_code == 200
    assert "Move the second factor to a new app" in page.text
    new_secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert new_secret != person.totp_secret

    refused = await post_form(
        client, "/account/second-factor/replace?lang=en",
        {"current_password": PASSWORD, "code": person.code()},  # the old app's code
    )  # fmt: skip
    assert refused.status_code == 400
    assert new_secret in refused.text  # the same key to scan, still

    done = await post_form(
        client, "/account/second-factor/replace",
        {"current_password": PASSWORD, "code": pyotp.TOTP(new_secret).now()},
    )  # fmt: skip
    assert done.status_code == 200
    assert len(codes_in(done.text)) == 10
    assert (await client.get("/account")).status_code == 200  # this browser stays signed in

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, other_browser, domain="testserver.local")
    assert (await client.get("/account")).status_code == 303  # the other one is signed out

    assert not await signs_in_with(client, person, person.code(1))
    new = pyotp.TOTP(new_secret)
    assert await signs_in_with(client, person, new.generate_otp(new.timecode(datetime.now()) + 1))
    assert subject("Your Registry second factor was replaced") in await mails_to(
        client, settings, person.email
    )
