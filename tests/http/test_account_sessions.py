"""The account's sessions page (see and end one's other sign-ins) and the password change, as
the person and an attacker holding a stolen session would meet them."""

from __future__ import annotations

import json
import re

import asyncpg
import pytest

from registry.domain.accounts import token_digest
from tests.factories import (
    CSRF_COOKIE,
    PASSWORD,
    SESSION_COOKIE,
    csrf_token,
    post_form,
    session_of,
)

pytestmark = [pytest.mark.http]

DOMAIN = "testserver.local"
NEW_PASSWORD = "quiet river under old bridges"


def use(client, token: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, token, domain=DOMAIN)


async def is_live(client, token: str) -> bool:  # type: ignore[no-untyped-def]
    use(client, token)
    return (await client.get("/account")).status_code == 200


async def row_id(database_url: str, token: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "SELECT id FROM web_session WHERE digest = $1", token_digest(token)
        )
    finally:
        await conn.close()


async def events(database_url: str, action: str, account_id: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT actor, summary FROM audit.event WHERE action = $1 AND object_ref = $2",
            action,
            f"account:{account_id}",
        )
    finally:
        await conn.close()


# Sessions -------------------------------------------------------------------------------------


async def test_the_sessions_page_lists_ones_sessions_without_their_ids(
    client, make_person, database_url
):
    person = await make_person(("applicant", "vast"))
    other = await session_of(client, person)
    mine = await session_of(client, person)
    stranger = await session_of(client, await make_person(("applicant", "vast")))

    use(client, mine)
    page = await client.get("/account/sessions")

    assert page.status_code == 200
    rows = re.findall(r'<tr data-session="(\w+)">', page.text)
    assert sorted(rows) == ["current", "other"]
    offered = re.findall(r'name="session" value="(\d+)"', page.text)
    assert offered == [str(await row_id(database_url, other))]  # not this one, not a stranger's
    for token in (other, mine, stranger):
        assert token not in page.text
        assert token_digest(token) not in page.text
    assert "/account/sessions" in (await client.get("/account")).text  # linked from the account


async def test_ending_another_session_signs_that_browser_out(client, make_person, database_url):
    person = await make_person(("applicant", "vast"))
    other = await session_of(client, person)
    mine = await session_of(client, person)
    other_id = await row_id(database_url, other)

    use(client, mine)
    answer = await post_form(client, "/account/sessions/end", {"session": str(other_id)})

    assert answer.status_code == 303
    assert not await is_live(client, other)
    assert await is_live(client, mine)
    [event] = await events(database_url, "session.ended", person.id)
    assert event["actor"] == f"account:{person.id}"


async def test_nobody_ends_someone_elses_session(client, make_person, database_url):
    victim = await make_person(("applicant", "vast"))
    victims = await session_of(client, victim)
    attacker = await session_of(client, await make_person(("applicant", "vast")))

    use(client, attacker)
    await post_form(
        client, "/account/sessions/end", {"session": str(await row_id(database_url, victims))}
    )

    assert await is_live(client, victims)
    assert await events(database_url, "session.ended", victim.id) == []


async def test_ending_all_other_sessions_keeps_this_one(client, make_person, database_url):
    person = await make_person(("applicant", "vast"))
    others = [await session_of(client, person) for _ in range(2)]
    mine = await session_of(client, person)

    use(client, mine)
    answer = await post_form(client, "/account/sessions/end-others")

    assert answer.status_code == 303
    assert [await is_live(client, token) for token in others] == [False, False]
    assert await is_live(client, mine)
    [event] = await events(database_url, "session.ended_others", person.id)
    assert json.loads(event["summary"])["after"]["sessions"] == 2


async def test_ending_sessions_needs_the_csrf_token(client, make_person):
    person = await make_person(("applicant", "vast"))
    other = await session_of(client, person)
    mine = await session_of(client, person)

    use(client, mine)
    await csrf_token(client)  # the cookie is there; the form field is not
    answer = await client.post("/account/sessions/end-others", data={})

    assert answer.status_code == 403
    assert await is_live(client, other)


# Password change ------------------------------------------------------------------------------


async def change_password(client, current: str, new: str):  # type: ignore[no-untyped-def]
    return await post_form(
        client, "/account/change-password", {"current_password": current, "password": new}
    )


async def can_sign_in(client, email: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    answer = await post_form(client, "/login", {"email": email, "password": password})
    return answer.status_code == 303


async def test_changing_the_password_ends_the_other_sessions_and_tells_the_owner(
    client, make_person, database_url
):
    person = await make_person(("applicant", "vast"))
    other = await session_of(client, person)
    mine = await session_of(client, person)

    use(client, mine)
    assert (await client.get("/account/change-password")).status_code == 200
    answer = await change_password(client, PASSWORD, NEW_PASSWORD)

    assert answer.status_code == 200, answer.text
    assert await is_live(client, mine)
    assert not await is_live(client, other)
    assert not await can_sign_in(client, person.email, PASSWORD)
    assert await can_sign_in(client, person.email, NEW_PASSWORD)
    assert len(await events(database_url, "password.changed", person.id)) == 1
    conn = await asyncpg.connect(database_url)
    try:
        notices = await conn.fetchval(
            "SELECT count(*) FROM outbox_mail WHERE recipient = $1", person.email
        )
    finally:
        await conn.close()
    assert notices == 1


async def test_a_stolen_session_cannot_change_the_password_without_it(
    client, make_person, database_url
):
    person = await make_person(("applicant", "vast"))
    other = await session_of(client, person)
    use(client, await session_of(client, person))

    answer = await change_password(client, "not the password at all", NEW_PASSWORD)

    assert answer.status_code == 400
    assert 'id="e-current_password"' in answer.text
    assert NEW_PASSWORD not in answer.text
    assert await is_live(client, other)
    assert await can_sign_in(client, person.email, PASSWORD)
    assert await events(database_url, "password.changed", person.id) == []


async def test_a_weak_new_password_is_refused(client, make_person):
    person = await make_person(("applicant", "vast"))
    use(client, await session_of(client, person))

    answer = await change_password(client, PASSWORD, "password2026!")

    assert answer.status_code == 400
    assert 'id="e-password"' in answer.text
    assert await can_sign_in(client, person.email, PASSWORD)


async def test_changing_the_password_needs_the_csrf_token(client, make_person):
    person = await make_person(("applicant", "vast"))
    use(client, await session_of(client, person))
    await csrf_token(client)

    answer = await client.post(
        "/account/change-password", data={"current_password": PASSWORD, "password": NEW_PASSWORD}
    )

    assert answer.status_code == 403
    assert CSRF_COOKIE in client.cookies
    assert await can_sign_in(client, person.email, PASSWORD)
