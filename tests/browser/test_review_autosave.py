"""A reviewer in the browser: declares no conflict, scores and comments while autosave keeps
the draft (it survives a reload), then submits; the review is locked."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from registry.services.storage import PostgresStorage
from tests.factories import (
    Person,
    element,
    explained_by,
    follow,
    fund_id,
    make_assignment,
    open_call,
    organisation_id,
    service_actor,
    sign_in_browser,
    submitted_proposal,
    wait,
)

pytestmark = [pytest.mark.browser]


@pytest.fixture
async def reviewer(live_server: str, make_person) -> Person:  # type: ignore[no-untyped-def]
    return await make_person(("reviewer", None), totp=True)


@pytest.fixture
async def proposal_id(
    live_server: str, make_person, reviewer: Person, database_url: str, db
) -> int:  # type: ignore[no-untyped-def]
    """A submitted VAST proposal to a NAFOSTED call, assigned to the reviewer."""
    manager = service_actor(await make_person(("fund_manager", "nafosted")))
    call_id = await open_call(manager, await fund_id(database_url, "nafosted"))
    member = service_actor(await make_person(("applicant", "vast")))
    made, *_ = await submitted_proposal(
        member,
        call_id,
        await organisation_id(database_url, "vast"),
        "Bộ dữ liệu tiếng nói cho y tế",
        PostgresStorage(),
    )
    await make_assignment(db, made, reviewer.id)
    return made


def status_text(driver: WebDriver) -> str:
    return element(driver, "#autosave-status").text.strip()


async def test_a_review_is_saved_as_typed_and_locked_once_submitted(
    browser: WebDriver,
    live_server: str,
    reviewer: Person,
    proposal_id: int,
    db: asyncpg.Connection,
    server_log: Path,
):
    page = f"{live_server}/review/proposals/{proposal_id}"
    stored = (
        "SELECT r.marks, r.comments, r.status FROM review r "
        "JOIN review_assignment a ON a.id = r.assignment WHERE a.proposal = $1"
    )
    with explained_by(server_log):
        sign_in_browser(browser, live_server, reviewer)
        browser.get(page)
        element(browser, "#f-no_conflict").click()
        follow(browser, element(browser, "button[value=accept]"))
        assert "Bộ dữ liệu tiếng nói cho y tế" in element(browser, "h1").text

        Select(element(browser, "#f-mark-0")).select_by_value("3.5")
        element(browser, "#f-comment-0").send_keys("Phương pháp thu âm rõ ràng.")
        saved = element(browser, "form#draft").get_attribute("data-msg-saved")
        wait(browser).until(lambda d: status_text(d) == saved, "autosave never said saved")
        row = await db.fetchrow(stored, proposal_id)
        assert json.loads(row["marks"])[0] == 35
        assert json.loads(row["comments"])[0] == "Phương pháp thu âm rõ ràng."

        browser.get(page)  # the draft survives a reload
        chosen = Select(element(browser, "#f-mark-0")).first_selected_option
        assert chosen.get_attribute("value") == "3.5"
        assert chosen.text.startswith("3,5")  # read the Vietnamese way
        assert element(browser, "#f-comment-0").get_attribute("value") == (
            "Phương pháp thu âm rõ ràng."
        )
        for index, mark in ((1, "4"), (2, "3")):
            Select(element(browser, f"#f-mark-{index}")).select_by_value(mark)
            element(browser, f"#f-comment-{index}").send_keys("Đạt yêu cầu.")
        element(browser, "#f-overall_comment").send_keys("Nên tài trợ.")
        follow(browser, element(browser, "#submit-button"))
        wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "form#draft"))
        assert "Nên tài trợ." in element(browser, "#review").text
        row = await db.fetchrow(stored, proposal_id)
        assert row["status"] == "submitted"
        assert json.loads(row["marks"]) == [35, 40, 30]
