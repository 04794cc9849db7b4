"""Issue 16, defect 4: at a phone's 390 px no public or applicant page scrolls sideways or cuts
text at the right edge, wide tables scroll inside their own box, chart text stays readable, and
the search facets (of /search and /projects) fold behind a toggle so the first result comes
first (they stay open on a wide screen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.factories import NARROW, element, explained_by, phone, sign_in_browser

pytestmark = [pytest.mark.browser]

#: Smallest chart text a phone reader can read, in CSS px as drawn (after the SVG's scaling).
READABLE_PX = 11

#: Elements whose right edge passes the window (cut off, or widening the page), unless a box of
#: their own scrolls them.
STICKING_OUT = """
const width = document.documentElement.clientWidth;
const scrolls = el => {  // or is meant for screen readers only (.visually-hidden clips it)
  for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
    const style = getComputedStyle(box);
    if (['auto', 'scroll'].includes(style.overflowX) || style.clip !== 'auto') return true;
  }
  return false;
};
return [...document.querySelectorAll('body *')]
  .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > width + 0.5)
  .filter(el => !scrolls(el))
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
    ? '.' + el.className.trim().replace(/\\s+/g, '.') : '') + ': '
    + (el.textContent || '').trim().slice(0, 40));
"""


def shown(driver: WebDriver, css: str) -> bool:
    """Drawn on the screen (WebDriver's own test calls anything in a closed <details> hidden,
    whatever the CSS says)."""
    return driver.execute_script(
        "return document.querySelector(arguments[0]).checkVisibility()", css
    )


def sideways(driver: WebDriver, base_url: str, pages: dict[str, str]) -> dict[str, str]:
    """Each page that scrolls sideways or has something past the right edge: what and why."""
    found = {}
    for name, path in pages.items():
        driver.get(base_url + path)
        element(driver, "main")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        out = driver.execute_script(STICKING_OUT)
        if width > NARROW or out:
            found[name] = f"{path}: scrollWidth {width}; past the edge: {out}"
    return found


def test_no_page_scrolls_sideways_on_a_phone(
    browser: WebDriver, live_server: str, site_pages: dict, server_log: Path
):
    with explained_by(server_log):
        phone(browser)
        wide = sideways(browser, live_server, site_pages["public"])
        sign_in_browser(browser, live_server, site_pages["applicant_person"])
        wide |= sideways(browser, live_server, site_pages["applicant"])
        # The proposal form's budget and team tables scroll inside their own box.
        browser.get(live_server + site_pages["applicant"]["proposal form"])
        for row in ("budget-personnel-requested", "team-0-name"):
            box = browser.find_element(By.NAME, row)
            assert browser.execute_script(
                "for (let b = arguments[0].parentElement; b; b = b.parentElement)"
                "  if (getComputedStyle(b).overflowX === 'auto') return true;"
                "return false;",
                box,
            ), f"{row} is not in a box of its own that scrolls"

        browser.delete_all_cookies()
        sign_in_browser(browser, live_server, site_pages["manager_person"])
        wide |= sideways(browser, live_server, site_pages["manager"])
        assert not wide, "pages wider than the phone:\n" + "\n".join(wide.values())


def test_chart_text_is_readable_on_a_phone(
    browser: WebDriver, live_server: str, site_pages: dict, server_log: Path
):
    with explained_by(server_log):
        phone(browser)
        for path in ("/", "/monitoring", site_pages["public"]["call results"]):
            browser.get(live_server + path)
            sizes = browser.execute_script(
                "return [...document.querySelectorAll('svg text')]"
                ".map(t => t.getBoundingClientRect().height);"
            )
            assert sizes, f"{path} draws no chart"
            assert min(sizes) >= READABLE_PX, f"{path}: chart text {min(sizes):.1f} px high"


@pytest.mark.parametrize("page", ["search", "projects"])  # /projects: the same results list
def test_search_facets_fold_on_a_phone_and_stay_open_on_a_wide_screen(
    browser: WebDriver, live_server: str, site_pages: dict, server_log: Path, page: str
):
    search = live_server + site_pages["public"][page]
    with explained_by(server_log):
        browser.get(search)  # 1280 px wide
        assert shown(browser, ".facets li a"), "facets are hidden on a wide screen"

        phone(browser)
        browser.get(search)
        first_hit = element(browser, "ol.hits > li a.title")
        links_before = browser.execute_script(
            "const hit = arguments[0];"
            "return [...document.querySelectorAll('main a')].filter(a => a.checkVisibility()"
            " && (a.compareDocumentPosition(hit) & Node.DOCUMENT_POSITION_FOLLOWING)).length;",
            first_hit,
        )
        assert links_before <= 3, f"{links_before} links come before the first result"
        toggle = element(browser, ".facets summary")
        assert not shown(browser, ".facets li a")
        toggle.click()
        assert shown(browser, ".facets li a")
