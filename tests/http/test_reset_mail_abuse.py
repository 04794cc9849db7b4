"""Password reset and registration as an attacker uses them: to learn which addresses have an
account (by how long the answer takes) and to flood someone's inbox. The answer must never
change; the mail stops silently."""

from __future__ import annotations

import secrets

import pytest

from registry.domain.accounts import MAILS_PER_RECIPIENT, MAILS_PER_REQUESTER
from tests.factories import PASSWORD, post_form, run_jobs

pytestmark = [pytest.mark.http]


async def _written(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """How many rows the tables an answer's work could touch hold now."""
    return dict(
        await db.fetchrow(
            "SELECT (SELECT count(*) FROM outbox_mail) AS mails, "
            "(SELECT count(*) FROM account_token) AS tokens, "
            "(SELECT count(*) FROM audit.event) AS audit_events, "
            "(SELECT count(*) FROM procrastinate_jobs) AS jobs"
        )
    )


async def _mails_to(db, email: str) -> int:  # type: ignore[no-untyped-def]
    return await db.fetchval("SELECT count(*) FROM outbox_mail WHERE recipient = $1", email)


async def test_a_reset_request_does_the_same_work_whether_the_account_exists(
    client, settings, make_person, from_address, db
):
    """Timing cannot tell the two apart if the request does exactly the same thing for both:
    the same rows written, the same statements. The lookup, token and mail happen later."""
    person = await make_person()
    await run_jobs(client, settings)  # nothing left over from earlier tests
    work = {}
    for name, email in (("known", person.email), ("unknown", f"no-{secrets.token_hex(4)}@x.vn")):
        from_address()
        before = await _written(db)
        answer = await post_form(client, "/password-reset?lang=en", {"email": email})
        assert answer.status_code == 200
        after = await _written(db)
        work[name] = {table: after[table] - before[table] for table in after}
    assert work["known"] == work["unknown"], work

    # The work done afterwards still sends the owner their link.
    await run_jobs(client, settings)
    assert await _mails_to(db, person.email) == 1


async def test_reset_mail_to_one_person_stops_at_the_limit(
    client, settings, make_person, from_address, db
):
    person = await make_person()
    answers = set()
    for _ in range(16):
        from_address()  # from many places: the limit is the recipient's
        answer = await post_form(client, "/password-reset?lang=en", {"email": person.email})
        answers.add((answer.status_code, answer.text.replace(person.email, "EMAIL")))
    await run_jobs(client, settings)
    assert len(answers) == 1  # the same answer every time: the limit is not visible
    assert MAILS_PER_RECIPIENT < 16
    assert await _mails_to(db, person.email) == MAILS_PER_RECIPIENT, (
        "the mail past the limit was queued"
    )


async def test_one_address_cannot_mail_everybody(client, settings, make_person, from_address, db):
    from_address()
    people = [await make_person() for _ in range(MAILS_PER_REQUESTER + 2)]
    for person in people:
        answer = await post_form(client, "/password-reset?lang=en", {"email": person.email})
        assert answer.status_code == 200
    await run_jobs(client, settings)
    mailed = [await _mails_to(db, person.email) for person in people]
    assert sum(mailed) == MAILS_PER_REQUESTER, mailed


async def test_already_registered_mails_stop_at_the_limit(
    client, settings, make_person, from_address, db
):
    person = await make_person()
    answers = set()
    for _ in range(MAILS_PER_RECIPIENT + 2):
        from_address()
        answer = await post_form(
            client,
            "/register?lang=en",
            {"email": person.email, "display_name": "Kẻ mạo danh", "password": PASSWORD,
             "organisation": "", "orcid": ""},
        )  # fmt: skip
        answers.add((answer.status_code, answer.text.replace(person.email, "EMAIL")))
    await run_jobs(client, settings)
    assert len(answers) == 1
    assert await _mails_to(db, person.email) == MAILS_PER_RECIPIENT
