"""Joining an organisation, as an applicant and an administrator see it: asking for an
organisation the registry does not list (at registration or later), asking to join a listed
one, the pending state on both sides, a mail on each decision in the applicant's language, and
the sign-in page saying why a role change signed the person out."""

from __future__ import annotations

import re
import secrets

import pytest

from registry.services import mail
from tests.factories import PASSWORD, on_app_loop, post_form, session_of, sign_in

pytestmark = [pytest.mark.http]

DOMAIN = "testserver.local"


async def subjects_to(client, settings, recipient: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Subject -> body of the mail delivered to `recipient`."""
    await on_app_loop(client, mail.deliver_pending, settings)
    return {
        m.subject: m.body
        for m in mail.read_outbox(settings, limit=2000)
        if m.recipient == recipient
    }


def row_of(page: str, account_id: int) -> str:
    found = re.search(rf'<tr>\s*<td><a href="/admin/people/{account_id}">.*?</tr>', page, re.S)
    assert found, "the person is not listed"
    return found.group(0)


async def test_a_new_organisation_asked_for_at_registration(client, make_person, db, settings):
    email = f"vien-{secrets.token_hex(3)}@example.vn"
    name = f"Viện Công nghệ Lượng tử {secrets.token_hex(2)}"
    registered = await post_form(
        client, "/register?lang=en",
        {"email": email, "display_name": "Phạm Thu Hà", "password": PASSWORD, "organisation": "",
         "orcid": "", "org_name": name, "org_tax_number": "0109876543", "org_address": "Hà Nội"},
    )  # fmt: skip
    assert registered.status_code == 200, registered.text
    account_id = await db.fetchval(
        "UPDATE account SET email_verified_at = now() WHERE email = $1 RETURNING id", email
    )
    client.cookies.clear()
    assert (
        await post_form(client, "/login", {"email": email, "password": PASSWORD})
    ).status_code == 303
    mine = await client.get("/account?lang=en")
    assert f"You asked for {name} (tax number 0109876543) to be added" in mine.text
    applicant_session = client.cookies.get("__Host-sid")
    client.cookies.clear()  # (signing in over it would replace that session)

    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin, next_path="/admin/people")
    listing = await client.get("/admin/people?lang=en")
    assert "Waiting for a decision" in row_of(listing.text, account_id)
    assert "wait for a decision" in listing.text or "waits for a decision" in listing.text
    page = await client.get(f"/admin/people/{account_id}?lang=en")
    assert name in page.text
    assert "0109876543" in page.text
    request_id = await db.fetchval(
        "SELECT id FROM organisation_request WHERE account = $1", account_id
    )
    approve = f"/admin/people/{account_id}/organisation-requests/{request_id}/approve"
    unchosen = await post_form(client, f"{approve}?lang=en", {"kind": ""})
    assert unchosen.status_code == 400
    assert "Choose what kind of organisation it is." in unchosen.text
    assert (await post_form(client, approve, {"kind": "research_institute"})).status_code == 303
    organisation = await db.fetchrow(
        "SELECT id, tax_number, verified_at IS NOT NULL AS verified FROM organisation "
        "WHERE name_vi = $1", name,
    )  # fmt: skip
    assert organisation["verified"]
    assert organisation["tax_number"] == "0109876543"
    grant = await db.fetchrow(
        "SELECT pending FROM account_role WHERE account = $1 AND role = 'applicant' "
        "AND organisation = $2", account_id, organisation["id"],
    )  # fmt: skip
    assert grant["pending"] is False
    twice = await post_form(client, f"{approve}?lang=en", {"kind": "university"})
    assert twice.status_code == 409
    assert "decided already" in twice.text

    mails = await subjects_to(client, settings, email)
    assert "Your organisation was added to the Registry" in mails  # registered in English
    assert name in mails["Your organisation was added to the Registry"]

    # The applicant's open session ended with the role change, and the sign-in page says why.
    client.cookies.clear()
    client.cookies.set("__Host-sid", applicant_session, domain=DOMAIN)
    assert (await client.get("/account")).status_code == 303
    signin = await client.get("/login?lang=en")
    assert "You were signed out because an administrator changed your roles." in signin.text
    client.cookies.clear()
    assert "changed your roles" not in (await client.get("/login?lang=en")).text

    await post_form(client, "/login", {"email": email, "password": PASSWORD})
    mine = await client.get("/account?lang=en")
    assert f"{name} was added to the registry" in mine.text
    assert "/proposals" in mine.text  # an applicant now


async def test_a_request_from_the_account_page_rejected_with_a_reason(
    client, make_person, db, settings
):  # type: ignore[no-untyped-def]
    person = await make_person()
    await db.execute("UPDATE account SET language = 'vi' WHERE id = $1", person.id)
    await sign_in(client, person)
    mine = await client.get("/account?lang=en")
    assert "You are not a member of any organisation yet" in mine.text
    bad = await post_form(
        client, "/account/organisation-request?lang=en",
        {"org_name": "Công ty Cổ phần Chip Việt", "org_tax_number": "12345", "org_address": ""},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "Enter the tax number: 10 digits, or 13 for a branch" in bad.text
    assert "Enter the organisation&#39;s address." in bad.text
    assert 'value="Công ty Cổ phần Chip Việt"' in bad.text
    done = await post_form(
        client, "/account/organisation-request",
        {"org_name": "Công ty Cổ phần Chip Việt", "org_tax_number": "0312345678-001",
         "org_address": "Thành phố Hồ Chí Minh"},
    )  # fmt: skip
    assert done.status_code == 303
    assert "Công ty Cổ phần Chip Việt" in (await client.get("/account?lang=en")).text

    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin, next_path=f"/admin/people/{person.id}")
    request_id = await db.fetchval(
        "SELECT id FROM organisation_request WHERE account = $1", person.id
    )
    reject = f"/admin/people/{person.id}/organisation-requests/{request_id}/reject"
    assert (await post_form(client, f"{reject}?lang=en", {"reason": ""})).status_code == 400
    reason = "Mã số thuế thuộc một doanh nghiệp khác."
    assert (await post_form(client, reject, {"reason": reason})).status_code == 303
    assert (
        await db.fetchval("SELECT state FROM organisation_request WHERE id = $1", request_id)
        == "rejected"
    )
    mails = await subjects_to(client, settings, person.email)
    [body] = [b for subject, b in mails.items() if subject.startswith("Đề nghị thêm tổ chức mới")]
    assert reason in body
    assert f"https://{DOMAIN}/account" in body

    await sign_in(client, person)
    assert (
        f"Công ty Cổ phần Chip Việt was not added: {reason}"
        in (await client.get("/account?lang=en")).text
    )


async def test_asking_to_join_a_listed_organisation_and_each_decision_mailed(
    client, make_person, db, settings
):  # type: ignore[no-untyped-def]
    person = await make_person()
    await db.execute("UPDATE account SET language = 'en' WHERE id = $1", person.id)
    vast, hust = [
        await db.fetchval("SELECT id FROM organisation WHERE code = $1", code)
        for code in ("vast", "hcmut")
    ]
    await sign_in(client, person)
    for organisation in (vast, hust):
        asked = await post_form(
            client, "/account/organisation", {"organisation": str(organisation)}
        )
        assert asked.status_code == 303
    again = await post_form(client, "/account/organisation?lang=en", {"organisation": str(vast)})
    assert again.status_code == 409
    mine = await client.get("/account?lang=en")
    assert mine.text.count("an administrator has not confirmed it yet") == 2

    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin, next_path="/admin/people")
    assert "Waiting for a decision" in row_of(
        (await client.get("/admin/people?lang=en")).text, person.id
    )
    grants = dict(
        await db.fetch(
            "SELECT organisation, id FROM account_role WHERE account = $1 AND pending", person.id
        )
    )
    confirmed = await post_form(client, f"/admin/people/{person.id}/roles/{grants[vast]}/confirm")
    assert confirmed.status_code == 303
    refused = await post_form(
        client, f"/admin/people/{person.id}/roles/{grants[hust]}/revoke", {"confirm": "yes"}
    )
    assert refused.status_code == 303
    mails = await subjects_to(client, settings, person.email)
    vast_name, hust_name = [
        await db.fetchval("SELECT name_vi FROM organisation WHERE id = $1", o) for o in (vast, hust)
    ]
    assert vast_name in mails["Your membership was confirmed"]
    assert hust_name in mails["Your membership was not confirmed"]
    assert "Waiting for a decision" not in row_of(
        (await client.get("/admin/people?lang=en")).text, person.id
    )


async def test_a_password_changed_elsewhere_says_so_at_sign_in(client, make_person):
    person = await make_person()
    other_browser = await session_of(client, person)
    await sign_in(client, person)
    new_password = "một mật khẩu mới đủ dài " + secrets.token_hex(2)
    changed = await post_form(
        client, "/account/change-password", {"current_password": PASSWORD, "password": new_password}
    )
    assert changed.status_code == 200
    client.cookies.clear()
    client.cookies.set("__Host-sid", other_browser, domain=DOMAIN)
    page = await client.get("/login?lang=en")
    assert "You were signed out because the password of your account was changed." in page.text


async def test_registration_explains_a_bad_organisation_request(client, db):
    email = f"sai-{secrets.token_hex(3)}@example.vn"
    vast = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    page = await client.get("/register?lang=en")
    assert "Your organisation is not in the list? Ask for it to be added" in page.text
    answer = await post_form(
        client, "/register?lang=en",
        {"email": email, "display_name": "Đỗ Văn Khoa", "password": PASSWORD,
         "organisation": str(vast), "orcid": "", "org_name": "Viện Mới",
         "org_tax_number": "01098", "org_address": "Đà Nẵng"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "Enter the tax number: 10 digits, or 13 for a branch" in answer.text
    assert "Choose an organisation from the list or ask for a new one, not both." in answer.text
    assert 'value="Viện Mới"' in answer.text
    assert await db.fetchval("SELECT count(*) FROM account WHERE email = $1", email) == 0
