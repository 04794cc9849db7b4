"""Abuse of sign-in, as an attacker would try it: failing on purpose to keep someone else out
(one address, or everybody behind a shared address), and typing a password into the e-mail
field so that it lands in the permanent audit trail.

Each test calls from addresses of its own (`from_address`), so no other test is slowed."""

from __future__ import annotations

import secrets
import time

import pytest

from registry.domain.accounts import ADDRESS_FREE_FAILURES, FREE_FAILURES, LONGEST_SLOWDOWN
from tests.factories import PASSWORD, post_form

pytestmark = [pytest.mark.http]


async def login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return await post_form(client, "/login?lang=en", {"email": email, "password": password})


async def test_failures_from_another_address_never_refuse_the_owner(
    client, make_person, from_address
):
    person = await make_person()
    from_address()  # the attacker
    for _ in range(FREE_FAILURES["account"] + 3):
        await login(client, person.email, "guessing the password now")
    assert (await login(client, person.email, PASSWORD)).status_code == 429  # the attacker waits

    from_address()  # the owner, somewhere else
    answer = await login(client, person.email, PASSWORD)
    assert answer.status_code == 303, (
        f"the owner's right password was refused ({answer.status_code}) because of someone "
        "else's failures"
    )


async def test_a_busy_shared_address_slows_sign_ins_but_never_refuses_them(
    client, make_person, from_address, db
):
    """Everyone behind a load balancer that hides client addresses shares one address: many
    failures there slow everyone's sign-in a little, and refuse nobody's right password."""
    address = from_address()
    for n in range(ADDRESS_FREE_FAILURES + 3):
        answer = await login(client, f"spray-{n}-{secrets.token_hex(3)}@example.vn", "password1")
        assert answer.status_code == 400, (n, answer.status_code)

    person = await make_person()
    assert (await login(client, person.email, PASSWORD)).status_code == 303

    # However many failures pile up, the wait is capped and the right password still works.
    await db.execute(
        "UPDATE login_throttle SET failures = 100000 WHERE key = $1", f"address:{address}"
    )
    colleague = await make_person()
    started = time.monotonic()
    answer = await login(client, colleague.email, PASSWORD)
    waited = time.monotonic() - started
    assert answer.status_code == 303, answer.status_code
    assert LONGEST_SLOWDOWN.total_seconds() <= waited < LONGEST_SLOWDOWN.total_seconds() + 3


async def test_a_password_typed_as_the_address_never_reaches_the_audit_trail(
    client, make_person, from_address, db
):
    from_address()
    typed = f"Correct-Horse-{secrets.token_hex(4)}"  # the password, in the wrong field
    seq = await db.fetchval("SELECT coalesce(max(seq), 0) FROM audit.event")
    for _ in range(FREE_FAILURES["account"] + 1):  # up to the failure that starts a wait
        assert (await login(client, typed, typed)).status_code == 400
    events = await db.fetch(
        "SELECT action, object_ref, summary::text AS summary FROM audit.event WHERE seq > $1",
        seq,
    )
    assert {event["action"] for event in events} >= {"login.failed", "login.locked"}
    kept = [dict(event) for event in events if typed.lower() in str(dict(event)).lower()]
    assert kept == [], f"the typed text is in the audit trail for ever: {kept}"
    assert not await db.fetchval(
        "SELECT count(*) FROM login_throttle WHERE key ILIKE '%' || $1 || '%'", typed
    )

    # A known account is still named by its id, and the same unknown text by the same mark.
    person = await make_person()
    await login(client, person.email, "not the password")
    await login(client, typed, "again")
    later = await db.fetch(
        "SELECT object_ref FROM audit.event WHERE seq > $1 AND action = 'login.failed' "
        "ORDER BY seq",
        seq,
    )
    refs = [row["object_ref"] for row in later]
    assert f"account:{person.id}" in refs
    unknown = [ref for ref in refs if not ref.startswith("account:")]
    assert len(set(unknown)) == 1, unknown
