"""What the real server (`registry serve`, uvicorn) sends besides the pages themselves."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.factories import wait

pytestmark = pytest.mark.browser

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def _headers(url: str) -> dict[str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return {name.lower(): value for name, value in answer.headers.items()}
    except urllib.error.HTTPError as error:
        return {name.lower(): value for name, value in error.headers.items()}


@pytest.mark.parametrize(
    "path", ["/", "/healthz", "/api/v1/funds", "/static/registry.css", "/no-such-page", "/schema"]
)
def test_no_answer_names_the_server_software(live_server, path):
    """A `Server: uvicorn` header tells an attacker which exploits to try first."""
    assert "server" not in _headers(live_server + path)


def test_the_procfile_web_server_sends_no_server_header():
    web = next(line for line in PROCFILE.read_text().splitlines() if line.startswith("web:"))
    assert "--no-server-header" in web.split()


def test_the_schema_viewer_lists_the_api_offline(live_server, browser):
    """Our own script, under our CSP, with no CDN to reach."""
    browser.get(live_server + "/schema")
    headings = wait(browser).until(
        lambda driver: [h.text for h in driver.find_elements(By.CSS_SELECTOR, "section h2")]
    )
    assert "GET /api/v1/search" in headings
    assert all(" /api/" in heading for heading in headings)
