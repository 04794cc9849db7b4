"""Autosave when the server cannot save: the page says plainly that the text is not saved yet,
keeps trying with growing pauses, asks before the page is left, recovers on its own once the
server saves again, and Submit still submits the text on screen, not the last saved one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from registry.services import proposals
from tests.factories import (
    ORIGIN,
    Person,
    complete_draft,
    element,
    explained_by,
    fill,
    follow,
    fund_id,
    open_call,
    organisation_id,
    service_actor,
    sign_in_browser,
    technology_ids,
    wait,
    wait_for_path,
)

pytestmark = [pytest.mark.browser]

RECOVERED = "Mô hình ngôn ngữ tiếng Việt, bản lưu lại sau sự cố"
TYPED = "Mô hình ngôn ngữ tiếng Việt, gõ khi chưa lưu được"


@pytest.fixture
async def applicant(live_server: str, make_person) -> Person:  # type: ignore[no-untyped-def]
    return await make_person(("applicant", "vast"))


@pytest.fixture
async def proposal_id(live_server: str, make_person, applicant: Person, database_url: str) -> int:  # type: ignore[no-untyped-def]
    """A VAST proposal whose draft meets every line of the checklist (nothing submitted)."""
    manager = service_actor(await make_person(("fund_manager", "nafosted")))
    call_id = await open_call(manager, await fund_id(database_url, "nafosted"))
    member = service_actor(applicant)
    created = await proposals.start(
        member, call_id, await organisation_id(database_url, "vast"), ORIGIN
    )
    draft = complete_draft(tuple(await technology_ids()))
    await proposals.save_draft(
        member, created, draft, (await proposals.get(member, created)).row_version, ORIGIN
    )
    return created


@pytest.fixture
async def refuse_saves(db: asyncpg.Connection) -> AsyncIterator[Callable[..., Any]]:
    """`await refuse_saves(id)`: every UPDATE of that proposal fails in the database (the
    server answers 500), until `await refuse_saves(None)`."""
    await db.execute(
        "CREATE OR REPLACE FUNCTION test_refuse_proposal_update() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: proposal % is not saved', OLD.id;"
        " END $$"
    )

    async def refuse(proposal: int | None) -> None:
        await db.execute("DROP TRIGGER IF EXISTS test_refuse_update ON proposal")
        if proposal is not None:
            await db.execute(
                "CREATE TRIGGER test_refuse_update BEFORE UPDATE ON proposal FOR EACH ROW"
                f" WHEN (OLD.id = {int(proposal)}) EXECUTE FUNCTION test_refuse_proposal_update()"
            )

    try:
        yield refuse
    finally:
        await refuse(None)
        await db.execute("DROP FUNCTION IF EXISTS test_refuse_proposal_update()")


def status_text(driver: WebDriver) -> str:
    return element(driver, "#autosave-status").text.strip()


def retry_message(driver: WebDriver, seconds: int) -> str:
    template = element(driver, "form#draft").get_attribute("data-msg-retry")
    assert template
    assert "{seconds}" in template, template
    return template.replace("{seconds}", str(seconds))


def leaving_is_questioned(driver: WebDriver) -> bool:
    """Whether the page would ask before being left (its beforeunload handler objects)."""
    return driver.execute_script(
        "const event = new Event('beforeunload', {cancelable: true});"
        "window.dispatchEvent(event); return event.defaultPrevented;"
    )


async def test_autosave_retries_until_saved_and_submit_sends_the_text_on_screen(
    browser: WebDriver,
    live_server: str,
    applicant: Person,
    proposal_id: int,
    refuse_saves: Callable[..., Any],
    db: asyncpg.Connection,
    server_log: Path,
):
    proposal = f"/proposals/{proposal_id}"
    stored = "SELECT draft->>'title_vi' FROM proposal WHERE id = $1"
    with explained_by(server_log):
        sign_in_browser(browser, live_server, applicant)
        browser.get(f"{live_server}{proposal}")
        assert element(browser, "#submit-button").is_enabled()

        # 1. The server cannot save: the page says the text is only on screen, retries, and
        # asks before it is left; once the server saves again, autosave catches up by itself.
        await refuse_saves(proposal_id)
        fill(browser, {"title_vi": RECOVERED})
        wait(browser).until(
            lambda d: status_text(d) == retry_message(d, 2),
            "the page never said the text is not saved yet (and retried)",
        )
        assert status_text(browser) != element(browser, "form#draft").get_attribute(
            "data-msg-invalid"
        )
        assert leaving_is_questioned(browser)
        await refuse_saves(None)
        saved = element(browser, "form#draft").get_attribute("data-msg-saved")
        wait(browser).until(
            lambda d: status_text(d) == saved, "autosave never recovered once saving worked"
        )
        assert await db.fetchval(stored, proposal_id) == RECOVERED
        assert not leaving_is_questioned(browser)

        # 2. The server fails again, and the applicant submits meanwhile: the version has the
        # text on screen.
        await refuse_saves(proposal_id)
        fill(browser, {"title_vi": TYPED})
        # Leaving the field is a change: the page tries to save it, in vain.
        element(browser, "#f-title_vi").send_keys(Keys.TAB)
        # A long pause before the next retry: the click below, not a retry, saves the text.
        wait(browser).until(
            lambda d: status_text(d) == retry_message(d, 4),
            "the page never said the text is not saved yet (and retried)",
        )
        assert await db.fetchval(stored, proposal_id) == RECOVERED
        await refuse_saves(None)
        follow(browser, element(browser, "#submit-button"))
        wait_for_path(browser, f"{proposal}/receipts/1")
        assert TYPED in element(browser, "main dl.facts").text
        content = await db.fetchval(
            "SELECT content FROM proposal_version WHERE proposal = $1 AND number = 1",
            proposal_id,
        )
        assert json.loads(content)["proposal"]["title_vi"] == TYPED
