"""Actions that cannot be taken back ask first, without JavaScript: withdrawing a proposal,
publishing a call, removing a role and disabling an account. The first post answers a page
saying what will happen, with a danger-styled button; only that button's post acts. And the
registry never loses its last administrator, even when two remove each other at once."""

from __future__ import annotations

import asyncio
import re

import pytest

from registry.domain.accounts import Grant, Role
from registry.domain.errors import Conflict
from registry.services import people
from tests.factories import (
    ORIGIN,
    complete_draft,
    on_app_loop,
    open_call,
    post_form,
    service_actor,
    sign_in,
    submitted_draft,
    technology_ids,
)

pytestmark = [pytest.mark.http]


def danger_form(page: str, action: str) -> str:
    """The confirmation form posting to `action`: it must carry confirm=yes and a danger button."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert found, f"no form to {action}"
    assert 'name="confirm" value="yes"' in found.group(0)
    assert 'class="danger"' in found.group(0)
    return found.group(0)


async def test_withdrawing_a_proposal_asks_first(client, make_person, db):
    manager = await make_person(("fund_manager", "nafosted"))
    member = await make_person(("applicant", "vast"))
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")

    async def submitted() -> int:
        call_id = await open_call(service_actor(manager), fund)
        draft = complete_draft(tuple(await technology_ids()), title="Cảm biến lượng tử")
        return await submitted_draft(service_actor(member), call_id, organisation, draft)

    proposal_id = await on_app_loop(client, submitted)
    url = f"/proposals/{proposal_id}"
    await sign_in(client, member, next_path=url)
    editor = await client.get(f"{url}?lang=en")
    assert re.search(r'action="[^"]+/withdraw".*?class="danger"', editor.text, re.S)

    asked = await post_form(client, f"{url}/withdraw?lang=en")
    assert asked.status_code == 200
    assert "Withdraw the proposal Cảm biến lượng tử?" in asked.text
    assert "not reviewed" in asked.text
    assert f'href="{url}"' in asked.text  # the way back
    danger_form(asked.text, f"{url}/withdraw")
    status = "SELECT status FROM proposal WHERE id = $1"
    assert await db.fetchval(status, proposal_id) == "submitted"

    done = await post_form(client, f"{url}/withdraw", {"confirm": "yes"})
    assert done.status_code == 303
    assert await db.fetchval(status, proposal_id) == "withdrawn"


async def test_publishing_a_call_asks_first(client, make_person, db):
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")

    async def drafted() -> int:
        from tests.factories import draft_call

        return await draft_call(service_actor(manager), fund, title_en="Quantum sensing 2027")

    call_id = await on_app_loop(client, drafted)
    await sign_in(client, manager, next_path=f"/manage/calls/{call_id}")
    board = await client.get(f"/manage/calls/{call_id}")
    row_version = re.search(r'name="row_version" value="(\d+)"', board.text).group(1)
    assert re.search(r'action="[^"]+/publish".*?class="danger"', board.text, re.S)

    asked = await post_form(
        client, f"/manage/calls/{call_id}/publish?lang=en", {"row_version": row_version}
    )
    assert asked.status_code == 200
    assert "Publish the call Quantum sensing 2027?" in asked.text
    assert "cannot be unpublished" in asked.text
    form = danger_form(asked.text, f"/manage/calls/{call_id}/publish")
    assert f'name="row_version" value="{row_version}"' in form
    published = "SELECT published_at IS NOT NULL FROM call WHERE id = $1"
    assert await db.fetchval(published, call_id) is False
    assert (await client.get(f"/calls/{call_id}")).status_code == 404

    done = await post_form(
        client, f"/manage/calls/{call_id}/publish", {"row_version": row_version, "confirm": "yes"}
    )
    assert done.status_code == 303
    assert await db.fetchval(published, call_id) is True


async def test_removing_a_role_and_disabling_an_account_ask_first(client, make_person, db):
    admin = await make_person(("admin", None), totp=True)
    person = await make_person(("reviewer", None))
    await db.execute("UPDATE account SET display_name = 'Lê Thị Cúc' WHERE id = $1", person.id)
    grant = await db.fetchval("SELECT id FROM account_role WHERE account = $1", person.id)
    await sign_in(client, admin, next_path=f"/admin/people/{person.id}")
    page = await client.get(f"/admin/people/{person.id}?lang=en")
    assert len(re.findall(r'<button type="submit" class="danger">', page.text)) == 2

    revoke = f"/admin/people/{person.id}/roles/{grant}/revoke"
    asked = await post_form(client, f"{revoke}?lang=en")
    assert asked.status_code == 200
    assert "Remove the role Expert reviewer from Lê Thị Cúc?" in asked.text
    danger_form(asked.text, revoke)
    assert await db.fetchval("SELECT count(*) FROM account_role WHERE id = $1", grant) == 1

    disable = f"/admin/people/{person.id}/disable"
    asked = await post_form(client, f"{disable}?lang=en")
    assert asked.status_code == 200
    assert "Disable the account of Lê Thị Cúc?" in asked.text
    danger_form(asked.text, disable)
    disabled = "SELECT disabled_at IS NOT NULL FROM account WHERE id = $1"
    assert await db.fetchval(disabled, person.id) is False

    assert (await post_form(client, revoke, {"confirm": "yes"})).status_code == 303
    assert await db.fetchval("SELECT count(*) FROM account_role WHERE id = $1", grant) == 0
    assert (await post_form(client, disable, {"confirm": "yes"})).status_code == 303
    assert await db.fetchval(disabled, person.id) is True


async def test_two_administrators_removing_each_other_leave_one(client, make_person, db):
    first = await make_person(("admin", None), totp=True)
    second = await make_person(("admin", None), totp=True)
    # Every other test's administrators step aside for this test, so these two are the last.
    others = await db.fetch(
        "UPDATE account_role SET pending = true WHERE role = 'admin' AND NOT pending "
        "AND account <> ALL($1::int[]) RETURNING id",
        [first.id, second.id],
    )
    try:
        grant_of = {
            p.id: await db.fetchval(
                "SELECT id FROM account_role WHERE account = $1 AND role = 'admin'", p.id
            )
            for p in (first, second)
        }
        admin = Grant(Role.ADMIN)

        async def remove_each_other() -> list[object]:
            return await asyncio.gather(
                people.revoke(service_actor(first, admin), second.id, grant_of[second.id], ORIGIN),
                people.revoke(service_actor(second, admin), first.id, grant_of[first.id], ORIGIN),
                return_exceptions=True,
            )

        outcomes = await on_app_loop(client, remove_each_other)
        refused = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(refused) == 1, outcomes
        assert "last administrator" in refused[0].message
        left = await db.fetchval(
            "SELECT count(*) FROM account_role WHERE role = 'admin' AND NOT pending "
            "AND account = ANY($1::int[])",
            [first.id, second.id],
        )
        assert left == 1

        # Nor can the last one's account be disabled (by an administrator whose role went).
        survivor = first if outcomes[1] is not None else second
        gone = second if survivor is first else first

        async def disable_last() -> None:
            await people.set_disabled(service_actor(gone, admin), survivor.id, True, ORIGIN)

        with pytest.raises(Conflict):
            await on_app_loop(client, disable_last)
    finally:
        await db.execute(
            "UPDATE account_role SET pending = false WHERE id = ANY($1::int[])",
            [r["id"] for r in others],
        )
