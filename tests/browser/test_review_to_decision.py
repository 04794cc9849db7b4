"""Issue 13's whole path in Chromium: a fund manager invites three experts to the fund's pool,
they join, the manager assigns them automatically, each declares no conflict and scores both
proposals, the manager reads the ranking and proposes the outcomes from the funding line, and a
second manager of the fund approves them: the call goes from "submitted" to approved outcomes.
Then issue 14's last step: the approver issues the call's documents, the bar follows the
server's worker until they are all signed, and the public verifies one by its code.

Each person keeps their own cookies (as their own browser would), so nobody signs in twice
within one authenticator step."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from registry.services.storage import PostgresStorage
from tests import factories
from tests.factories import (
    Person,
    close_now,
    element,
    explained_by,
    fill,
    follow,
    fund_id,
    open_call,
    organisation_id,
    service_actor,
    sign_in_browser,
    submitted_proposal,
    wait,
    wait_for_path,
)

pytestmark = [pytest.mark.browser]

BILLION = 1_000_000_000
#: Each reviewer's marks (Horizon RIA: Excellence, Impact, Implementation) for the two
#: proposals: the speech data set ranks first; the budget funds one proposal only.
MARKS = {
    "Bộ dữ liệu tiếng nói cho y tế": [("4.5", "4", "4"), ("4", "4.5", "4"), ("5", "4", "3.5")],
    "Bản đồ đất hiếm Tây Bắc": [("3.5", "3.5", "3"), ("3", "3.5", "3.5"), ("4", "3", "3")],
}


class Desk:
    """One shared Chromium, switching between people's cookie jars."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver, self.base_url = driver, base_url
        self.jars: dict[int, list[dict]] = {}
        self.current: int | None = None

    def be(self, person: Person) -> WebDriver:
        driver = self.driver
        if self.current is not None:
            self.jars[self.current] = driver.get_cookies()
        driver.delete_all_cookies()
        self.current = person.id
        if person.id in self.jars:
            driver.get(self.base_url + "/")
            for cookie in self.jars[person.id]:
                driver.add_cookie(cookie)
        else:
            sign_in_browser(driver, self.base_url, person)
        return driver

    def open(self, path: str) -> WebDriver:
        self.driver.get(self.base_url + path)
        return self.driver


@pytest.fixture
async def people(live_server: str, make_person, database_url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "proposer": await make_person(("fund_manager", "nafosted"), totp=True),
        "approver": await make_person(("fund_manager", "nafosted"), totp=True),
        "experts": [
            await factories.make_person(
                database_url, ("reviewer", None), totp=True, display_name=f"TS. Chuyên gia {i}"
            )
            for i in range(3)
        ],
    }


@pytest.fixture
async def call(live_server: str, people, make_person, database_url: str, db) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A closed NAFOSTED call (budget 1.5 billion, three reviewers per proposal, reviews due
    in a week) with two proposals from VAST, each asking 1 billion."""
    manager = service_actor(people["proposer"])
    nafosted = await fund_id(database_url, "nafosted")
    call_id = await open_call(
        manager, nafosted, budget_vnd=1_500_000_000, max_request_vnd=1_500_000_000
    )
    member = service_actor(await make_person(("applicant", "vast")))
    vast = await organisation_id(database_url, "vast")
    proposals = {}
    for title in MARKS:
        made, *_ = await submitted_proposal(member, call_id, vast, title, PostgresStorage())
        proposals[title] = made
    await close_now(db, call_id)
    await db.execute(
        "UPDATE call SET review_closes_at = now() + interval '7 days' WHERE id = $1", call_id
    )
    await factories.empty_pool(db, "nafosted")  # only this test's experts review the call
    return {"id": call_id, "fund": nafosted, "proposals": proposals}


def click(driver: WebDriver, css: str) -> None:
    follow(driver, element(driver, css))


async def test_from_submitted_proposals_to_approved_outcomes(
    browser: WebDriver, live_server: str, people, call, db: asyncpg.Connection, server_log: Path
) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(browser, live_server)
    proposer, approver, experts = people["proposer"], people["approver"], people["experts"]
    with explained_by(server_log):
        # The manager invites the three experts to the fund's pool.
        desk.be(proposer)
        for expert in experts:
            driver = desk.open(f"/manage/funds/{call['fund']}/reviewers")
            fill(driver, {"email": expert.email})
            click(driver, f"form[action='/manage/funds/{call['fund']}/reviewers'] button")
            assert expert.display_name in element(driver, "main").text

        # Each joins from their desk.
        for expert in experts:
            desk.be(expert)
            driver = desk.open("/review")
            click(driver, f"form[action='/review/pools/{call['fund']}/answer'] button")
            assert driver.find_elements(By.CSS_SELECTOR, "form[action$='/answer']") == []

        # The manager assigns automatically: three reviewers on each proposal, none missing.
        desk.be(proposer)
        driver = desk.open(f"/manage/calls/{call['id']}/assignments")
        click(driver, f"form[action='/manage/calls/{call['id']}/assignments/auto'] button")
        board = element(driver, "table.assignments").text
        for expert in experts:
            assert board.count(expert.display_name) == 2
        missing = [
            cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "table.assignments td.num")
        ]
        assert missing == ["0", "0"]

        # Each expert declares no conflict, scores both proposals and submits.
        for index, expert in enumerate(experts):
            desk.be(expert)
            for title, marks in MARKS.items():
                driver = desk.open(f"/review/proposals/{call['proposals'][title]}")
                element(driver, "#f-no_conflict").click()
                click(driver, "button[value=accept]")
                assert title in element(driver, "h1").text
                for criterion, mark in enumerate(marks[index]):
                    Select(element(driver, f"#f-mark-{criterion}")).select_by_value(mark)
                    element(driver, f"#f-comment-{criterion}").send_keys(f"Nhận xét {mark}")
                element(driver, "#f-overall_comment").send_keys("Đánh giá chung.")
                click(driver, "#submit-button")
                wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "form#draft"))

        # The manager reads the ranking: the speech data set is funded, the map is the reserve.
        desk.be(proposer)
        driver = desk.open(f"/manage/calls/{call['id']}/ranking?lang=en")
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.ranking tbody tr")]
        first = next(i for i, r in enumerate(rows) if "Bộ dữ liệu tiếng nói" in r)
        second = next(i for i, r in enumerate(rows) if "Bản đồ đất hiếm" in r)
        line = next(i for i, r in enumerate(rows) if "Funding line" in r)
        assert first < line < second
        assert "funded" in rows[first]
        assert "reserve" in rows[second]

        # ... and proposes the outcomes as the funding line draws them.
        driver = desk.open(f"/manage/calls/{call['id']}/decision?lang=en")
        click(driver, "button[value=propose]")
        wait_for_path(driver, f"/manage/calls/{call['id']}/decision")
        assert "Proposed outcomes, awaiting approval" in element(driver, "main").text
        assert driver.find_elements(By.CSS_SELECTOR, "form[action$='/approve']") == []

        # A second manager of the fund approves: the outcomes are final.
        desk.be(approver)
        driver = desk.open(f"/manage/calls/{call['id']}/decision?lang=en")
        page = element(driver, "main").text
        assert "VND 1,000,000,000" in page
        click(driver, "form[action$='/approve'] button")
        assert "These outcomes are final." in element(driver, "main").text

        # The approver issues the documents; the server's worker renders and signs them while
        # the bar follows by itself (the page reloads once they are all issued).
        click(driver, f"a[href='/manage/calls/{call['id']}/documents']")
        fill(driver, {"signer_title": "Phó Giám đốc", "signer_on_behalf": "KT. Giám đốc"})
        click(driver, f"form[action='/manage/calls/{call['id']}/documents'] button")
        assert element(driver, "progress#issue-bar").get_attribute("max") == "3"
        # The page reloads itself while it is read: an element of the page before is stale.
        WebDriverWait(driver, 120, ignored_exceptions=(WebDriverException,)).until(
            lambda d: "3 of 3 documents issued" in element(d, "main").text
            and not d.find_elements(By.CSS_SELECTOR, "[data-progress-url]")
        )
        links = driver.find_elements(By.CSS_SELECTOR, "a[href^='/verify/']:not([download])")
        codes = [a.get_attribute("href").rsplit("/", 1)[-1] for a in links]
        assert len(codes) == 3

    # Anyone verifies a document by its code.
    browser.delete_all_cookies()
    browser.get(f"{live_server}/verify/{codes[0]}?lang=en")
    verdict = element(browser, "main").text
    assert "Valid, signed by" in verdict
    assert "Not issued by this registry" not in verdict

    outcomes = dict(
        await db.fetch(
            "SELECT o.proposal, o.outcome FROM proposal_outcome o "
            "JOIN call_decision d ON d.id = o.decision "
            "WHERE d.call = $1 AND d.status = 'approved'",
            call["id"],
        )
    )
    speech, rare_earths = call["proposals"].values()
    assert outcomes == {speech: "funded", rare_earths: "reserve"}
    submitted = await db.fetchval(
        "SELECT count(*) FROM review r JOIN review_assignment a ON a.id = r.assignment "
        "JOIN proposal p ON p.id = a.proposal WHERE p.call = $1 AND r.status = 'submitted'",
        call["id"],
    )
    assert submitted == 6
