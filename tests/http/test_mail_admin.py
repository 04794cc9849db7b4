"""Undelivered mail shown to administrators (issue 11, defect 4): each failed message with its
last error and whether it will be retried, and one more try for a message whose job gave up;
nobody else sees the page."""

from __future__ import annotations

import secrets

import pytest

from tests.factories import post_form, sign_in

pytestmark = [pytest.mark.http]


@pytest.fixture
async def failed_mail(db):  # type: ignore[no-untyped-def]
    recipient = f"bounce-{secrets.token_hex(4)}@example.vn"
    mail_id = await db.fetchval(
        "INSERT INTO outbox_mail (recipient, subject, body, attempts, last_error)"
        " VALUES ($1, 'Biên nhận hồ sơ', 'Nội dung', 11, '550 5.1.1 mailbox unavailable')"
        " RETURNING id",
        recipient,
    )
    return {"id": mail_id, "recipient": recipient}


async def test_an_admin_sees_undelivered_mail_and_tries_again(  # type: ignore[no-untyped-def]
    client, db, make_person, failed_mail
):
    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin)
    page = await client.get("/admin/mail?lang=en")
    assert page.status_code == 200
    row = page.text.split(failed_mail["recipient"], 1)[1].split("</tr>", 1)[0]
    assert "550 5.1.1 mailbox unavailable" in row
    assert "No more tries" in row
    assert f'action="/admin/mail/{failed_mail["id"]}/retry"' in row

    answer = await post_form(client, f"/admin/mail/{failed_mail['id']}/retry")
    assert answer.status_code == 303
    jobs = await db.fetchval(
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'mail:deliver'"
        " AND status = 'todo' AND (args->>'mail_id')::bigint = $1",
        failed_mail["id"],
    )
    assert jobs == 1
    page = await client.get("/admin/mail?lang=en")
    row = page.text.split(failed_mail["recipient"], 1)[1].split("</tr>", 1)[0]
    assert "Will be retried" in row
    assert await db.fetchval(
        "SELECT count(*) FROM audit.event WHERE action = 'mail.retried' AND object_ref = $1",
        f"outbox_mail:{failed_mail['id']}",
    ) == 1  # fmt: skip


async def test_only_administrators_see_undelivered_mail(client, make_person, failed_mail):  # type: ignore[no-untyped-def]
    people = [await make_person(("applicant", "vast"))]
    people.append(await make_person(("reviewer", None), totp=True))
    for person in people:
        client.cookies.clear()
        await sign_in(client, person)
        page = await client.get("/admin/mail")
        assert page.status_code in (403, 404)
        assert failed_mail["recipient"] not in page.text
        answer = await post_form(client, f"/admin/mail/{failed_mail['id']}/retry")
        assert answer.status_code in (403, 404)
