"""Calls and proposals in a real browser: a fund manager opens a call from a criteria preset and
publishes it; an applicant starts a proposal, lets autosave keep the draft, attaches a PDF,
submits, submits a new version and withdraws."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.factories import (
    Person,
    element,
    explained_by,
    fill,
    follow,
    fund_id,
    local_time,
    path_of,
    pdf_file,
    sign_in_browser,
    submit,
    wait_for_path,
    wait_until_autosaved,
    watch_autosave,
)

pytestmark = [pytest.mark.browser]


@pytest.fixture
async def manager(live_server: str, make_person) -> Person:  # type: ignore[no-untyped-def]
    """A manager of NAFOSTED, who signs in with an authenticator code."""
    return await make_person(("fund_manager", "nafosted"), totp=True)


@pytest.fixture
async def applicant(live_server: str, make_person) -> Person:  # type: ignore[no-untyped-def]
    """A confirmed member of VAST, without a second factor."""
    return await make_person(("applicant", "vast"), totp=False)


@pytest.fixture
async def nafosted_id(database_url: str) -> int:
    return await fund_id(database_url, "nafosted")


def sign_out(driver: WebDriver) -> None:
    submit(driver, "header form[action='/logout']")
    wait_for_path(driver, "/")
    element(driver, "header a[href='/login']")


def set_value(driver: WebDriver, css: str, value: str) -> None:
    """Chromium's datetime-local inputs take typed digits segment by segment, in the locale's
    order; setting the value (and telling the page) is what a date picker does."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        element(driver, css),
        value,
    )
    assert element(driver, css).get_attribute("value") == value


def tick(driver: WebDriver, css: str) -> None:
    box = element(driver, css)
    if not box.is_selected():
        box.click()
    assert box.is_selected()


def open_call(driver: WebDriver, base_url: str, fund_id: int, title: str) -> int:
    """As a signed-in manager: a new call from the NAFOSTED preset, saved and published."""
    driver.get(f"{base_url}/manage/funds/{fund_id}/calls")
    follow(driver, element(driver, "main").find_element(By.LINK_TEXT, "NAFOSTED"))
    wait_for_path(driver, f"/manage/funds/{fund_id}/calls/new")
    # The preset filled in the criteria; its name is shown as the chosen one.
    assert element(driver, "main h1 + p strong").text == "NAFOSTED"
    first_criterion = element(driver, "input[name='criterion-0-name_vi']")
    assert first_criterion.get_attribute("value") == "Giá trị khoa học"

    now = datetime.now(UTC)
    fill(driver, {"title_vi": title})
    boxes = driver.find_elements(By.CSS_SELECTOR, "main input[name='technologies']")
    assert len(boxes) >= 2
    for box in boxes[:2]:
        box.click()
    set_value(driver, "#f-opens_at", local_time(now - timedelta(days=1)))
    set_value(driver, "#f-closes_at", local_time(now + timedelta(days=2)))
    fill(driver, {"budget_vnd": "20.000.000.000", "max_request_vnd": "5.000.000.000"})
    tick(driver, "input[name='required_attachments'][value='description']")
    submit(driver, "main form.form")

    assert not driver.find_elements(By.CSS_SELECTOR, "main .error"), element(driver, "main").text
    found = re.fullmatch(r"/manage/calls/(\d+)", path_of(driver))
    assert found, f"the new call's form led to {path_of(driver)}"
    call_id = int(found.group(1))
    assert title in element(driver, "main h1").text

    submit(driver, f"form[action='/manage/calls/{call_id}/publish']")
    # Publishing cannot be undone: a page asks first, and only its danger button publishes.
    assert element(driver, "main h1").text.startswith(("Công bố", "Publish"))
    submit(driver, f"form[action='/manage/calls/{call_id}/publish']:has(button.danger)")
    wait_for_path(driver, f"/manage/calls/{call_id}")
    assert not driver.find_elements(By.CSS_SELECTOR, "form[action$='/publish']")
    element(driver, f"main a[href='/calls/{call_id}']")  # the public page is linked now
    return call_id


def test_a_manager_opens_a_call_and_an_applicant_submits_resubmits_and_withdraws(
    browser: WebDriver,
    live_server: str,
    manager: Person,
    applicant: Person,
    nafosted_id: int,
    server_log: Path,
    tmp_path: Path,
):
    call_title = f"Đặt hàng nghiên cứu vi mạch {secrets.token_hex(2)}"
    title = "Chip nhận dạng tiếng nói tiếng Việt"
    new_title = "Chip nhận dạng tiếng nói tiếng Việt, tiết kiệm năng lượng"

    with explained_by(server_log):
        # 1. The manager (password and authenticator code) opens and publishes the call.
        sign_in_browser(browser, live_server, manager)
        call_id = open_call(browser, live_server, nafosted_id, call_title)

        # The public page shows it, with the preset's criteria.
        browser.get(f"{live_server}/calls/{call_id}")
        assert call_title in element(browser, "main h1").text
        assert element(browser, "main h1 .state-open")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.criteria tbody tr")
        assert [row.find_element(By.TAG_NAME, "td").text for row in rows] == [
            "Giá trị khoa học",
            "Năng lực nhóm nghiên cứu",
            "Tính khả thi",
        ]
        assert "20.000.000.000" in element(browser, "dl.facts").text
        sign_out(browser)

        # 2. An applicant of VAST starts a proposal from the call's page.
        sign_in_browser(browser, live_server, applicant)
        browser.get(f"{live_server}/calls/{call_id}")
        submit(browser, f"form[action='/calls/{call_id}/proposals']")
        found = re.fullmatch(r"/proposals/(\d+)", path_of(browser))
        assert found, f"starting a proposal led to {path_of(browser)}"
        proposal = f"/proposals/{found.group(1)}"
        assert element(browser, "#submit-button").get_attribute("disabled") is not None
        watch_autosave(browser)

        # Typing is enough: autosave keeps the draft without the Save button.
        fill(
            browser,
            {
                "title_vi": title,
                "abstract_vi": "Thiết kế chip tiết kiệm năng lượng cho nhận dạng tiếng nói.",
                "pi_name": "Trần Văn Bình",
                "duration_months": "24",
            },
        )
        tick(browser, "#draft input[name='technologies']")
        for name, value in (
            ("budget-personnel-requested", "1000000000"),
            ("budget-personnel-own", "300000000"),
            ("milestone-0-month", "12"),
            ("milestone-0-text", "Bản thiết kế vi mạch"),
        ):
            box = element(browser, f"#draft input[name='{name}']")
            box.clear()
            box.send_keys(value)
        wait_until_autosaved(browser)
        # Only the missing document holds the submission back.
        blocked = browser.find_elements(By.CSS_SELECTOR, "#checklist li.blocked")
        assert [item.get_attribute("data-key") for item in blocked] == ["attachments"]
        assert element(browser, "#submit-button").get_attribute("disabled") is not None

        browser.refresh()
        wait_for_path(browser, proposal)
        assert element(browser, "#f-title_vi").get_attribute("value") == title
        assert element(browser, "#f-pi_name").get_attribute("value") == "Trần Văn Bình"

        # Attach the description: the file is listed and submission opens.
        Select(element(browser, "#f-kind")).select_by_value("description")
        element(browser, "#f-file").send_keys(str(pdf_file(tmp_path, author="Trần Văn Bình")))
        submit(browser, f"form[action='{proposal}/attachments']")
        wait_for_path(browser, proposal)
        assert not browser.find_elements(By.CSS_SELECTOR, "#attachments .error")
        assert "thuyet-minh.pdf" in element(browser, "#attachments table").text
        assert element(browser, "#submit-button").is_enabled()

        # Submit: a receipt for version 1.
        follow(browser, element(browser, "#submit-button"))
        wait_for_path(browser, f"{proposal}/receipts/1")
        receipt_no = element(browser, "main dl.facts strong").text.strip()
        assert re.fullmatch(r"[A-Z]+-\d{4}-\d{6}-V1", receipt_no), receipt_no
        assert title in element(browser, "main dl.facts").text

        # Back to the draft, change the title, let autosave keep it, submit a new version.
        follow(browser, element(browser, f"main p:last-child a[href='{proposal}']"))
        wait_for_path(browser, proposal)
        assert element(browser, "main h1 .status-submitted")
        watch_autosave(browser)
        fill(browser, {"title_vi": new_title})
        wait_until_autosaved(browser)
        follow(browser, element(browser, "#submit-button"))
        wait_for_path(browser, f"{proposal}/receipts/2")
        second_no = element(browser, "main dl.facts strong").text.strip()
        assert second_no == receipt_no[: -len("V1")] + "V2"
        assert new_title in element(browser, "main dl.facts").text

        # Withdraw: the status says so and the history keeps both versions.
        browser.get(f"{live_server}{proposal}")
        submit(browser, f"form[action='{proposal}/withdraw']")
        submit(browser, f"form[action='{proposal}/withdraw']:has(input[name=confirm])")
        wait_for_path(browser, proposal)
        assert element(browser, "main h1 .status-withdrawn")
        history = browser.find_elements(By.CSS_SELECTOR, "#submit table tbody tr")
        versions = [row.find_element(By.TAG_NAME, "td").text.strip() for row in history]
        assert sorted(versions) == ["1", "2"], versions
        assert {receipt_no, second_no} <= {
            row.find_elements(By.TAG_NAME, "td")[1].text.strip() for row in history
        }
