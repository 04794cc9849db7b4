"""Issue 16, defect 13: axe-core finds no serious or critical problem on any public page or the
applicant's pages; screen readers hear the proposal form's cells in the page's language, not
the form's field keys; error pages read as text, not all in bold red.

axe-core is vendored (tests/browser/vendor/axe-core, see its README): no network in CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.factories import element, explained_by, phone, sign_in_browser

pytestmark = [pytest.mark.browser]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_problems(
    driver: WebDriver, base_url: str, pages: dict[str, str], screen: str = ""
) -> list[str]:
    """Each serious or critical axe-core violation on the pages: page, rule, where."""
    source = AXE.read_text()
    found = []
    for name, path in pages.items():
        driver.get(base_url + path)
        element(driver, "main")
        driver.execute_script(source)
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify(String(e))));"
        )
        violations = json.loads(result)
        assert isinstance(violations, list), f"axe failed on {path}: {violations}"
        for v in violations:
            if v["impact"] in BLOCKING:
                where = "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
                found.append(
                    f"{name}{screen} ({path}): {v['id']} [{v['impact']}] {v['help']}: {where}"
                )
    return found


def test_axe_finds_no_serious_problem_on_public_applicant_and_dashboard_pages(
    browser: WebDriver, live_server: str, site_pages: dict, server_log: Path
):
    browser.set_script_timeout(30)
    with explained_by(server_log):
        problems = axe_problems(browser, live_server, site_pages["public"])
        problems += axe_problems(browser, live_server, {"english": "/?lang=en"})
        sign_in_browser(browser, live_server, site_pages["applicant_person"])
        problems += axe_problems(browser, live_server, site_pages["applicant"])
        # On a phone wide tables scroll in their own box: a keyboard must reach each one.
        phone(browser)
        problems += axe_problems(browser, live_server, site_pages["public"], " at 390 px")
        problems += axe_problems(browser, live_server, site_pages["applicant"], " at 390 px")
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.delete_all_cookies()
        sign_in_browser(browser, live_server, site_pages["manager_person"])
        problems += axe_problems(browser, live_server, site_pages["manager"])
        assert not problems, "axe-core:\n" + "\n".join(problems)


def cell_names(driver: WebDriver, form: str) -> list[list[str]]:
    """Each input in the form's tables: its name, what a screen reader calls it (aria-label),
    and its column's heading as shown."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' table input')].map(input => {"
        "  const cell = input.closest('td'), table = input.closest('table');"
        "  const head = table.querySelectorAll('thead th')[cell.cellIndex];"
        "  return [input.name, input.getAttribute('aria-label'), head.textContent.trim()];"
        "});",
        form,
    )


def test_form_table_cells_are_named_in_the_pages_language(
    browser: WebDriver, live_server: str, site_pages: dict, server_log: Path
):
    """Each input of the proposal form's team, budget and milestone tables, and of the call
    form's criteria, is named after its column (and row) as the Vietnamese page shows them:
    "Thành viên 1", not "name 1"; "Ngưỡng điểm 1", not "threshold 1"."""
    with explained_by(server_log):
        sign_in_browser(browser, live_server, site_pages["applicant_person"])
        browser.get(live_server + site_pages["applicant"]["proposal form"])
        cells = cell_names(browser, "#draft")
        browser.delete_all_cookies()
        sign_in_browser(browser, live_server, site_pages["manager_person"])
        browser.get(live_server + site_pages["manager"]["new call"])
        criteria = cell_names(browser, "main form")
        assert len(cells) > 10
        assert len(criteria) > 10
        for name, label, column in cells + criteria:
            assert column in (label or ""), f"{name} is read as {label!r}, not {column!r}"
        labels = {name: label for name, label, _ in cells + criteria}
        assert labels["team-0-name"] == "Thành viên 1"
        assert labels["budget-personnel-own"] == "Tiền công lao động: Vốn đối ứng"
        assert labels["criterion-0-threshold"] == "Ngưỡng điểm 1"


def test_error_pages_are_plain_text_with_a_large_status(
    browser: WebDriver, live_server: str, server_log: Path
):
    with explained_by(server_log):
        browser.get(f"{live_server}/projects/999999999")
        message = element(browser, "main h1 + p")
        assert message.value_of_css_property("font-weight") == "400"
        assert message.value_of_css_property("color") == "rgba(27, 31, 36, 1)"  # --ink
        status = element(browser, "main .status")
        assert status.text == "404"
        assert status.value_of_css_property("font-size") == "48px"
