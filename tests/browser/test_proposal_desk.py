"""The applicant's proposal editor as a person sees it in Chromium: after each autosave the
checklist, the budget totals and the reasons Submit is unusable are exactly what a reload
shows; a disabled Submit looks disabled and says why; edits after a submission say they are
a draft not yet submitted, which parts changed, and offer to submit them; amounts come back as
they were typed; text areas use the inputs' font; a refused upload opens on an error summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from registry.i18n import translate_in
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
    submitted_draft,
    technology_ids,
    wait_for_path,
    wait_until_autosaved,
    watch_autosave,
)

pytestmark = [pytest.mark.browser]

#: The live parts of the editor: what autosave must keep equal to a reload.
LIVE = ("#checklist", "#budget-totals", "#submit-blocked", "#unsubmitted")


def vi(message: str, **params: object) -> str:
    return translate_in("vi", message, params or None)


@pytest.fixture
async def applicant(live_server: str, make_person) -> Person:  # type: ignore[no-untyped-def]
    return await make_person(("applicant", "vast"))


@pytest.fixture
async def call_id(live_server: str, make_person, database_url: str) -> int:  # type: ignore[no-untyped-def]
    """An open NAFOSTED call: 500 million to 3 billion đồng, own funds at least 20%, no
    document required."""
    manager = service_actor(await make_person(("fund_manager", "nafosted")))
    return await open_call(manager, await fund_id(database_url, "nafosted"))


@pytest.fixture
async def new_proposal(applicant: Person, call_id: int, database_url: str) -> str:
    """An empty draft of the applicant's organisation (VAST) to the call; its editor's path."""
    vast = await organisation_id(database_url, "vast")
    return f"/proposals/{await proposals.start(service_actor(applicant), call_id, vast, ORIGIN)}"


def open_editor(driver: WebDriver, base_url: str, applicant: Person, path: str) -> None:
    sign_in_browser(driver, base_url, applicant)
    driver.get(f"{base_url}{path}")


def live_parts(driver: WebDriver) -> dict[str, str]:
    """The live parts as a reader sees them: their text, and each checklist line's state."""
    shown = {css: element(driver, css).text.strip() for css in LIVE}
    shown["states"] = " ".join(
        f"{li.get_attribute('data-key')}={li.get_attribute('class')}"
        for li in driver.find_elements(By.CSS_SELECTOR, "#checklist li")
    )
    return shown


def checklist_line(driver: WebDriver, key: str) -> tuple[str, str]:
    line = element(driver, f"#checklist li[data-key='{key}']")
    return line.get_attribute("class"), line.text.strip()


def background(driver: WebDriver, css: str) -> str:
    return driver.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor", css
    )


def type_into(driver: WebDriver, values: dict[str, str]) -> None:
    """Type into fields of the draft form by name (table cells have no label to fill by)."""
    for name, value in values.items():
        box = element(driver, f"#draft [name='{name}']")
        box.clear()
        box.send_keys(value)


def reload_matches(driver: WebDriver, path: str) -> dict[str, str]:
    """What autosave left on screen, checked against a reload of the page; the reloaded parts."""
    before = live_parts(driver)
    driver.refresh()
    wait_for_path(driver, path)
    after = live_parts(driver)
    assert before == after, "autosave left the page differing from a reload"
    return after


async def test_the_checklist_totals_and_submit_follow_each_autosave_exactly_as_a_reload(
    browser: WebDriver,
    live_server: str,
    applicant: Person,
    new_proposal: str,
    server_log: Path,
):
    path = new_proposal
    with explained_by(server_log):
        open_editor(browser, live_server, applicant, path)

        # An empty draft: Submit is disabled, looks it (not the red of a usable button), and
        # says next to it which lines hold it back.
        button = element(browser, "#submit-button")
        assert not button.is_enabled()
        usable = background(browser, "#draft fieldset > button")  # Save draft
        assert background(browser, "#submit-button") != usable
        assert button.get_attribute("aria-describedby") == "submit-blocked"
        reasons = element(browser, "#submit-blocked").text
        assert vi("You cannot submit yet:") in reasons
        for key in ("complete", "technology", "amount"):
            state, text = checklist_line(browser, key)
            assert (state, text[:1]) == ("blocked", "✘"), (key, text)
            assert text.removeprefix("✘").strip() in reasons, key
        # Amounts are written once, with their symbol: not "500.000.000 ₫ đồng".
        assert "500.000.000 ₫" in checklist_line(browser, "amount")[1]
        assert "₫ đồng" not in element(browser, "main").text

        # 2 billion asked, no own funds: the amount passes, own funds do not.
        watch_autosave(browser)
        type_into(browser, {"budget-personnel-requested": "2.000.000.000"})
        wait_until_autosaved(browser)
        state, text = checklist_line(browser, "amount")
        assert (state, text[:1]) == ("ok", "✔"), text
        assert vi("Amount within the call's limits") in text
        state, text = checklist_line(browser, "cofunding")
        assert (state, text[:1]) == ("blocked", "✘"), text
        assert "20%" in text
        assert "2.000.000.000 ₫" in element(browser, "#budget-totals").text

        # 500 million of own funds: 20% of the total, the share is met.
        type_into(browser, {"budget-personnel-own": "500.000.000"})
        wait_until_autosaved(browser)
        state, text = checklist_line(browser, "cofunding")
        assert (state, text) == ("ok", f"✔ {vi('OK')}: {vi('Own funds share met')}")
        assert "500.000.000 ₫" in element(browser, "#budget-totals").text
        reload_matches(browser, path)
        # The amounts come back as they were typed, grouped the Vietnamese way.
        assert (
            element(browser, "#f-budget-personnel-requested").get_attribute("value")
            == "2.000.000.000"
        )
        assert element(browser, "#f-budget-personnel-own").get_attribute("value") == "500.000.000"

        # Everything else filled in: every line passes and Submit is usable, and looks it.
        watch_autosave(browser)
        fill(
            browser,
            {
                "title_vi": "Cảm biến sinh học cho nông nghiệp",
                "abstract_vi": "Đề tài phát triển cảm biến sinh học giá rẻ.",
                "pi_name": "Lê Thị Mai",
                "duration_months": "18",
            },
        )
        element(browser, "#draft input[name='technologies']").click()
        type_into(browser, {"milestone-0-month": "6", "milestone-0-text": "Mẫu thử"})
        wait_until_autosaved(browser)
        assert all(
            li.get_attribute("class") == "ok" and li.text.startswith("✔")
            for li in browser.find_elements(By.CSS_SELECTOR, "#checklist li")
        ), element(browser, "#checklist").text
        assert element(browser, "#submit-button").is_enabled()
        assert element(browser, "#submit-blocked").text.strip() == ""
        assert background(browser, "#submit-button") == usable
        reload_matches(browser, path)


async def test_edits_after_submitting_say_they_are_a_draft_what_changed_and_offer_to_submit(
    browser: WebDriver,
    live_server: str,
    applicant: Person,
    call_id: int,
    database_url: str,
    server_log: Path,
):
    vast = await organisation_id(database_url, "vast")
    draft = complete_draft(tuple(await technology_ids()))
    path = f"/proposals/{await submitted_draft(service_actor(applicant), call_id, vast, draft)}"
    new_title = "Mô hình ngôn ngữ tiếng Việt cho y tế"
    with explained_by(server_log):
        open_editor(browser, live_server, applicant, path)
        assert element(browser, "main h1 .status-submitted")
        assert element(browser, "#unsubmitted").text.strip() == ""

        watch_autosave(browser)
        fill(browser, {"title_vi": new_title})
        type_into(browser, {"budget-personnel-requested": "800.000.000"})
        wait_until_autosaved(browser)
        # Not "all changes saved", as if nothing were left to do: saved, but not submitted.
        status = element(browser, "#autosave-status").text.strip()
        assert status == vi("Saved as a draft, not submitted yet.")
        assert status != vi("All changes saved.")
        notice = element(browser, "#unsubmitted").text
        assert vi("Changes not submitted yet.") in notice
        changed = notice.split(vi("Changed since version %(n)s:", n=1), 1)[1]
        assert changed.strip().startswith(f"{vi('Title (Vietnamese)')}, {vi('Budget')}.")
        # The submitted version is a click away, to compare.
        link = element(browser, "#unsubmitted a[href$='/versions/1']")
        assert link.text == vi("See version %(n)s as submitted", n=1)
        after = reload_matches(browser, path)
        assert vi("Changes not submitted yet.") in after["#unsubmitted"]
        # The list of proposals says so too.
        browser.get(f"{live_server}/proposals")
        assert vi("Changes not submitted yet.") in proposal_row(browser, path)
        browser.get(f"{live_server}{path}")

        # The notice's own button submits them: version 2, with the new title.
        follow(browser, element(browser, "#unsubmitted button[type=submit]"))
        wait_for_path(browser, f"{path}/receipts/2")
        assert new_title in element(browser, "main dl.facts").text
        browser.get(f"{live_server}/proposals")
        assert vi("Changes not submitted yet.") not in proposal_row(browser, path)
        browser.get(f"{live_server}{path}")
        assert element(browser, "#unsubmitted").text.strip() == ""
        assert (
            vi("Version %(n)s is the one that will be reviewed.", n=2)
            in element(browser, "main").text
        )


async def test_text_areas_use_the_same_font_as_inputs(
    browser: WebDriver,
    live_server: str,
    applicant: Person,
    new_proposal: str,
    server_log: Path,
):
    with explained_by(server_log):
        open_editor(browser, live_server, applicant, new_proposal)
        fonts = browser.execute_script(
            "const font = css => getComputedStyle(document.querySelector(css)).fontFamily;"
            "return [font('#f-abstract_vi'), font('#f-title_vi')];"
        )
        assert "monospace" not in fonts[0]
        assert fonts[0] == fonts[1]


async def test_a_refused_upload_opens_on_an_error_summary_linking_to_the_field(
    browser: WebDriver,
    live_server: str,
    applicant: Person,
    new_proposal: str,
    server_log: Path,
    tmp_path: Path,
):
    path = new_proposal
    not_a_pdf = tmp_path / "thuyet-minh.pdf"
    not_a_pdf.write_bytes(b"MZ\x90\x00 not a pdf at all")
    with explained_by(server_log):
        open_editor(browser, live_server, applicant, path)
        Select(element(browser, "#f-kind")).select_by_value("description")
        element(browser, "#f-file").send_keys(str(not_a_pdf))
        follow(browser, element(browser, f"form[action='{path}/attachments'] button"))

        # The page opens on the summary, focused, in view; its link leads to the field.
        summary = element(browser, ".error-summary")
        assert vi("There is a problem") in summary.text
        assert browser.execute_script("return document.activeElement.id") == "error-summary"
        assert in_view(browser, ".error-summary")
        link = summary.find_element(By.CSS_SELECTOR, "a[href='#f-file']")
        assert "PDF" in link.text
        assert not in_view(browser, "#f-file")
        link.click()
        assert in_view(browser, "#f-file")
        assert re.search(r"#f-file$", browser.current_url)


def proposal_row(driver: WebDriver, path: str) -> str:
    link = element(driver, f"main table a[href='{path}']")
    return link.find_element(By.XPATH, "./ancestor::tr").text


def in_view(driver: WebDriver, css: str) -> bool:
    return driver.execute_script(
        "const box = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return box.top >= 0 && box.bottom <= window.innerHeight;",
        css,
    )
