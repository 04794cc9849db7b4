"""The real server in a subprocess, driven by Debian's headless Chromium through its matching
chromedriver. Nothing is downloaded: Selenium Manager is skipped because both paths are given.
The helpers that drive pages (element, fill, follow, submit, ...) are in tests/factories.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.factories import TOTP_KEY, WAIT, free_port, log_tail, make_person

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def chromium() -> None:
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing: install Debian's chromium and "
            "chromium-driver (.ci/run does)"
        )


@pytest.fixture(scope="package")
def live_server(
    chromium: None,
    catalogue: None,
    app_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """`registry serve` on a free port of 127.0.0.1, on the migrated test database with the
    reference data; mail goes to the data folder's outbox, readable at /dev/outbox."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path_factory.mktemp("browser-data")
    log = data_dir / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": app_database_url,
        "DEBUG": "true",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": base_url,
        "REGISTRY_DATA_DIR": str(data_dir),
        "SECRET_KEY": "browser-tests-only-" + "0" * 32,
        "TOTP_KEY": TOTP_KEY,
        "PICCOLO_CONF": "registry.piccolo_conf",
    }
    env.pop("SMTP_URL", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry.cli", "serve"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server stopped at start ({process.returncode}):\n{log_tail(log)}")
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /healthz in time:\n{log_tail(log)}")
            time.sleep(0.1)  # polling for the port, not waiting on a page
        _server_logs[base_url] = log
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_server_logs: dict[str, Path] = {}


@pytest.fixture
def server_log(live_server: str) -> Path:
    """The live server's console log, for a failing test to show (`explained_by`)."""
    return _server_logs[live_server]


@pytest.fixture
def outbox_url(live_server: str) -> str:
    """The development outbox's address as the server printed it on its console at start
    (it opens only from this machine, with that start's token)."""
    printed = re.search(
        r"(http://\S+/dev/outbox\?token=\S+)", _server_logs[live_server].read_text()
    )
    assert printed, f"the server printed no outbox address:\n{log_tail(_server_logs[live_server])}"
    return printed.group(1)


@pytest.fixture
def browser(chromium: None, tmp_path: Path):
    """A fresh headless Chromium per test (own profile: no cookies or language choice carried
    over), asking for Vietnamese like a browser set up in Vietnam."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--password-store=basic",
        "--window-size=1280,1024",
        "--accept-lang=vi-VN,vi",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def site_pages(live_server: str, db, database_url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Every public page and the applicant's pages, with data on each: an open call with the
    applicant's submitted proposal (full team, budget and milestones, so the widest rows show),
    and a call whose outcomes are approved (its results page). `public` and `applicant` map
    a name to a path; `applicant_person` signs in for the latter, `manager_person` for the
    fund manager's pages of the open call (`manager`)."""
    from registry.domain.decisions import Choice
    from registry.domain.proposals import BudgetCategory, BudgetLine, Milestone, TeamMember
    from registry.domain.reviews import OutcomeKind
    from registry.services import decisions
    from tests.factories import (
        ORIGIN,
        add_review,
        close_now,
        complete_draft,
        fund_id,
        inserted_proposals,
        open_call,
        organisation_id,
        service_actor,
        submitted_draft,
        technology_ids,
    )

    billion = 1_000_000_000
    nafosted, vast = await fund_id(db, "nafosted"), await organisation_id(db, "vast")
    manager = await make_person(db, ("fund_manager", "nafosted"), totp=True)
    proposer = service_actor(manager)
    approver = service_actor(await make_person(db, ("fund_manager", "nafosted"), totp=True))
    applicant = await make_person(db, ("applicant", "vast"))

    open_id = await open_call(proposer, nafosted)
    draft = replace(
        complete_draft(tuple(await technology_ids()), "Hệ thống nhận dạng chữ viết tay tiếng Việt"),
        team=tuple(
            TeamMember(f"Nguyễn Thị Thu Hương {n}", "0000-0002-1825-0097", "Nghiên cứu viên")
            for n in range(3)
        ),
        budget=tuple(BudgetLine(category, 456_789_000, 234_567_800) for category in BudgetCategory),
        milestones=tuple(Milestone(6 * n, f"Giai đoạn {n}") for n in range(1, 5)),
    )
    proposal = await submitted_draft(service_actor(applicant), open_id, vast, draft)

    decided = await open_call(proposer, nafosted, budget_vnd=3 * billion)
    funded = await inserted_proposals(  # five: enough for the score distributions
        db, decided, vast, applicant.id, [billion // 2] * 5, title="Vật liệu bán dẫn"
    )
    await close_now(db, decided)
    for _ in range(3):
        reviewer = await make_person(db, ("reviewer", None))
        for pid in funded:
            await add_review(db, pid, reviewer.id, [40, 40, 40])
    decision = await decisions.propose(
        proposer, decided, [Choice(pid, OutcomeKind.FUNDED, billion // 2) for pid in funded], ORIGIN
    )
    await decisions.approve(approver, decided, decision, ORIGIN)
    project = await db.fetchval("SELECT min(id) FROM project")
    return {
        "public": {
            "home": "/",
            "technologies": "/technologies",
            "laboratories": "/laboratories",
            "exchanges": "/exchanges",
            "funds": "/funds",
            "fund": f"/funds/{nafosted}",
            "calls": "/calls",
            "call": f"/calls/{open_id}",
            "projects": "/projects",
            "project": f"/projects/{project}",
            "search": "/search?q=tri+tue+nhan+tao",
            "monitoring": "/monitoring",
            "verify": "/verify",
            "call results": f"/calls/{decided}/results",
            "not found": "/projects/999999999",
        },
        "applicant": {
            "proposals": "/proposals",
            "proposal form": f"/proposals/{proposal}",
            "receipt": f"/proposals/{proposal}/receipts/1",
            "account": "/account",
        },
        "applicant_person": applicant,
        "manager": {
            "call dashboard": f"/manage/calls/{open_id}",
            "submissions": f"/manage/calls/{open_id}/submissions",
            "submitted proposal": f"/manage/proposals/{proposal}",
            "new call": f"/manage/funds/{nafosted}/calls/new",
        },
        "manager_person": manager,
    }
