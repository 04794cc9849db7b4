"""Builders shared by the integration, http and browser tests: people, lookups, calls,
proposals, PDFs, free ports, and the helpers that drive the test client and the browser.

Test modules import from here (and from tests.strategies), never from one another or from a
conftest: conftest files hold fixtures only. Rows that stand in for what the code under test
needs (accounts, roles) are made directly in the database; calls and proposals are made
through the services, as their tests would make them.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import asyncpg
import pyotp
import pytest
from argon2 import PasswordHasher
from pypdf import PdfWriter
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.wait import WebDriverWait

from registry.domain.accounts import Actor, Grant, Origin, Role
from registry.domain.calls import CallSpec
from registry.domain.clock import VIETNAM
from registry.domain.identifiers import orcid_check_digit
from registry.domain.proposals import BudgetCategory, BudgetLine, Draft, Milestone
from registry.domain.scoring import PRESETS
from registry.services import attachments, calls, decisions, proposals, submissions, totp_seeds
from registry.settings import Settings

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient
    from selenium.webdriver.remote.webdriver import WebDriver

    from registry.settings import Settings

#: Where service calls in tests come from.
ORIGIN = Origin("203.0.113.7", "vi")
#: Every account made by make_person has this password.
PASSWORD = "correct horse battery staple"
CSRF_COOKIE = "__Host-csrftoken"
SESSION_COOKIE = "__Host-sid"
_HASH = PasswordHasher().hash(PASSWORD)
#: The key TOTP seeds are encrypted with in every test (settings.totp_key of the apps under
#: test), so accounts made here and by the app read each other's seeds.
TOTP_KEY = "dGVzdHMtb25seS10b3RwLWtleS0wMDAwMDAwMDAwMDA="
_serial = itertools.count()


@asynccontextmanager
async def _connected(db: asyncpg.Connection | str) -> AsyncIterator[asyncpg.Connection]:
    """`db` itself when it is a connection, else a connection of its own to that URL."""
    if isinstance(db, asyncpg.Connection):
        yield db
        return
    conn = await asyncpg.connect(db)
    try:
        yield conn
    finally:
        await conn.close()


# Lookups of the reference data ----------------------------------------------------------------


async def organisation_id(db: asyncpg.Connection | str, code: str) -> int:
    async with _connected(db) as conn:
        found = await conn.fetchval("SELECT id FROM organisation WHERE code = $1", code)
    assert found is not None, f"no organisation {code!r} in the reference data"
    return found


async def fund_id(db: asyncpg.Connection | str, code: str) -> int:
    async with _connected(db) as conn:
        found = await conn.fetchval("SELECT id FROM fund WHERE code = $1", code)
    assert found is not None, f"no fund {code!r} in the reference data"
    return found


async def technology_ids() -> list[int]:
    return [tech_id for tech_id, _ in await calls.eligible_technologies()]


async def empty_pool(db: asyncpg.Connection | str, fund_code: str) -> None:
    """Nobody left in the fund's pool of reviewers (earlier tests' reviewers are marked as
    having declined), so a test's own reviewers are the whole pool and its loads start at 0."""
    async with _connected(db) as conn:
        await conn.execute(
            "UPDATE reviewer_pool SET status = 'declined' WHERE status = 'accepted' AND fund = $1",
            await fund_id(conn, fund_code),
        )


# People ---------------------------------------------------------------------------------------


@dataclass
class Person:
    """An account made by make_person; its password is PASSWORD."""

    id: int
    email: str
    totp_secret: str | None = None
    display_name: str = "Người thử"
    #: Its roles with their scopes resolved to ids (organisation or fund; None for the rest).
    grants: tuple[Grant, ...] = field(default=())

    def code(self, step_offset: int = 0) -> str:
        """The authenticator code of now (or `step_offset` 30-second steps away)."""
        assert self.totp_secret
        totp = pyotp.TOTP(self.totp_secret)
        return totp.generate_otp(totp.timecode(datetime.now()) + step_offset)


async def make_person(
    db: asyncpg.Connection | str,
    *grants: tuple[Role | str, str | None],
    totp: bool = False,
    verified: bool = True,
    display_name: str | None = None,
) -> Person:
    """A verified account made directly in the database (not through the code under test):
    roles as (role, organisation code for an applicant / fund code for a fund manager / None)
    pairs, optionally with an enrolled TOTP secret (stored encrypted with TOTP_KEY)."""
    email = f"p{next(_serial)}-{secrets.token_hex(3)}@example.vn"
    name = display_name or f"Người thử {email[:4]}"
    secret = pyotp.random_base32() if totp else None
    sealed = totp_seeds.seal(Settings(totp_key=TOTP_KEY), secret) if secret else None
    resolved = []
    async with _connected(db) as conn:
        account_id = await conn.fetchval(
            "INSERT INTO account (email, display_name, password_hash, email_verified_at, "
            "totp_secret, totp_enrolled_at) VALUES ($1, $2, $3, "
            "CASE WHEN $4 THEN now() END, $5::text, CASE WHEN $5::text IS NOT NULL THEN now() END) "
            "RETURNING id",
            email, name, _HASH, verified, sealed,
        )  # fmt: skip
        for role, scope in grants:
            organisation = fund = None
            if role == Role.APPLICANT:
                organisation = await organisation_id(conn, scope or "")
            elif role == Role.FUND_MANAGER:
                fund = await fund_id(conn, scope or "")
            await conn.execute(
                "INSERT INTO account_role (account, role, organisation, fund) "
                "VALUES ($1, $2, $3, $4)",
                account_id, str(role), organisation, fund,
            )  # fmt: skip
            resolved.append(Grant(Role(role), organisation or fund))
    return Person(account_id, email, secret, name, tuple(resolved))


def service_actor(person: Person, *grants: Grant) -> Actor:
    """The account as the services see a fully signed-in person with `grants` (by default
    all of the person's own)."""
    chosen = grants or person.grants
    return Actor(person.id, person.email, person.display_name, frozenset(chosen), True, True)


async def person(database_url: str, *grants: tuple[Role | str, str | None]) -> Actor:
    """A new account with `grants`, as the services see it once signed in."""
    return service_actor(await make_person(database_url, *grants))


def random_orcid() -> str:
    """A valid ORCID iD nobody else in the test database has (a random one, right check
    digit): people matched by ORCID in one test are never those of another."""
    base = f"0009{secrets.randbelow(10**11):011d}"
    digits = base + orcid_check_digit(base)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


async def pool_reviewer(
    db: asyncpg.Connection | str,
    fund_code: str,
    *,
    name: str,
    orcid: str = "",
    organisation_code: str | None = None,
    expertise: tuple[int, ...] = (),
    keywords: str = "",
    totp: bool = False,
) -> Person:
    """An expert reviewer who joined the fund's pool (status accepted), with the profile the
    assignment reads: name, ORCID iD, organisation, declared fields and keywords."""
    async with _connected(db) as conn:
        made = await make_person(conn, (Role.REVIEWER, None), totp=totp, display_name=name)
        organisation = await organisation_id(conn, organisation_code) if organisation_code else None
        await conn.execute(
            "UPDATE account SET orcid = $2, organisation = $3, expertise = $4::int[], "
            "keywords = $5 WHERE id = $1",
            made.id, orcid or None, organisation, list(expertise), keywords,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO reviewer_pool (fund, reviewer, status, answered_at) "
            "VALUES ($1, $2, 'accepted', now())",
            await fund_id(conn, fund_code), made.id,
        )  # fmt: skip
    return made


# Calls ----------------------------------------------------------------------------------------


async def spec(**changes: Any) -> CallSpec:
    """An open call's terms (opened yesterday, closes in a week); `changes` replace fields."""
    now = datetime.now(UTC)
    base = CallSpec(
        title_vi="Đặt hàng nghiên cứu trí tuệ nhân tạo 2027",
        title_en="AI research call 2027",
        description_vi="Mô tả",
        description_en="",
        technologies=tuple((await technology_ids())[:3]),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        budget_vnd=10_000_000_000,
        min_request_vnd=500_000_000,
        max_request_vnd=3_000_000_000,
        cofunding_permille=200,
        required_attachments=(),
        reviewers_per_proposal=3,
        blind_review=False,
        criteria=PRESETS["horizon_ria"],
    )
    return replace(base, **changes)


async def draft_call(manager: Actor, fund: int, **changes: Any) -> int:
    """A call saved by the fund's manager but not published (not public yet)."""
    return await calls.create_call(manager, fund, await spec(**changes), ORIGIN)


async def open_call(manager: Actor, fund: int, **changes: Any) -> int:
    """A published call, open now unless `changes` move its dates."""
    call_id = await draft_call(manager, fund, **changes)
    call = await calls.managed_call(manager, call_id)
    await calls.publish_call(manager, call_id, call.row_version, ORIGIN)
    return call_id


async def close_now(db: asyncpg.Connection, call_id: int) -> None:
    """The deadline passes (the call's closing time moves just behind the clock)."""
    await db.execute(
        "UPDATE call SET opens_at = now() - interval '2 days', "
        "closes_at = now() - interval '1 second' WHERE id = $1",
        call_id,
    )


# Proposals ------------------------------------------------------------------------------------


def complete_draft(
    technologies: tuple[int, ...], title: str = "Mô hình ngôn ngữ tiếng Việt"
) -> Draft:
    """A draft that passes every rule of `spec()`'s call (1 billion asked, 30% own funds)."""
    return Draft(
        title_vi=title,
        abstract_vi=f"Nghiên cứu {title.lower()} cho dịch vụ công, dữ liệu mở và đánh giá.",
        technologies=technologies[:1],
        pi_name="Nguyễn Thị Hoa",
        budget=(
            BudgetLine(BudgetCategory.PERSONNEL, 700_000_000, 300_000_000),
            BudgetLine(BudgetCategory.EQUIPMENT, 300_000_000, 130_000_000),
        ),
        duration_months=24,
        milestones=(Milestone(12, "Bộ dữ liệu"), Milestone(24, "Mô hình")),
    )


async def submitted_draft(member: Actor, call_id: int, organisation: int, draft: Draft) -> int:
    """A proposal made and submitted once through the services with this draft (no file:
    the call must require none); its id."""
    proposal_id = await proposals.start(member, call_id, organisation, ORIGIN)
    await proposals.save_draft(member, proposal_id, draft, 1, ORIGIN)
    await submissions.submit(member, proposal_id, str(uuid.uuid4()), ORIGIN)
    return proposal_id


async def submitted_proposal(
    member: Actor, call_id: int, organisation: int, title: str, store: Any
) -> tuple[int, int, str, str]:
    """A proposal made through the services, with one PDF (kept in `store`, the blob store
    the services are given), submitted once (so version 1 has a receipt); (proposal id,
    attachment id, the file's SHA-256, its reference)."""
    proposal_id = await proposals.start(member, call_id, organisation, ORIGIN)
    proposal = await proposals.get(member, proposal_id)
    draft = complete_draft(tuple(await technology_ids()), title=title)
    await proposals.save_draft(member, proposal_id, draft, proposal.row_version, ORIGIN)
    attachment_id = await attachments.add(
        member, proposal_id, "description", "thuyet-minh.pdf", pdf_bytes(title), store, ORIGIN
    )
    await submissions.submit(member, proposal_id, str(uuid.uuid4()), ORIGIN)
    saved = await proposals.get(member, proposal_id)
    files = {a.id: a.sha256 for a in saved.attachments}
    return proposal_id, attachment_id, files[attachment_id], saved.reference


# Reviews --------------------------------------------------------------------------------------


async def make_assignment(
    db: asyncpg.Connection | str, proposal_id: int, reviewer_id: int, *, source: str = "manual"
) -> int:
    """A reviewer asked to review a proposal (status "assigned"), made directly in the
    database as the assignment services would make it; the reviewer answers through
    services.reviews."""
    async with _connected(db) as conn:
        return await conn.fetchval(
            "INSERT INTO review_assignment (proposal, reviewer, source) VALUES ($1, $2, $3) "
            "RETURNING id",
            proposal_id, reviewer_id, source,
        )  # fmt: skip


async def inserted_proposals(
    db: asyncpg.Connection,
    call_id: int,
    organisation: int,
    submitter: int,
    requested: list[int],
    *,
    technologies: tuple[int, ...] = (),
    title: str = "Đề xuất",
    status: str = "submitted",
) -> list[int]:
    """Proposals to `call_id`, one per requested amount, each with a submitted version 1
    received now (criteria version 1), written straight into the database: many proposals
    fast, for tests of what managers do after the deadline. Titles are "`title` N"; the
    technology is the first of `technologies`, else of the call's."""
    ids = []
    if not technologies:  # read here: services would use the pool of another event loop
        technologies = tuple(
            await db.fetchval("SELECT technologies FROM call WHERE id = $1", call_id)
        )
    for index, amount in enumerate(requested):
        draft = replace(
            complete_draft(technologies, f"{title} {index}"),
            budget=(BudgetLine(BudgetCategory.PERSONNEL, amount, 0),),
        )
        content = {"proposal": draft.to_json()}
        proposal_id = await db.fetchval(
            "INSERT INTO proposal (call, organisation, created_by, status, draft, requested_vnd, "
            "technologies, submitted_version) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, 1) "
            "RETURNING id",
            call_id, organisation, submitter, status, json.dumps(draft.to_json()), amount,
            list(draft.technologies),
        )  # fmt: skip
        reference = f"TEST-2027-{proposal_id:06d}"
        await db.execute(
            "INSERT INTO proposal_version (proposal, number, submit_key, content, content_sha256,"
            " criteria_version, received_at, receipt_no, submitted_by, fingerprint) "
            "VALUES ($1, 1, $2, $3::jsonb, '', 1, now() + $4 * interval '1 ms', $5, $6, $7)",
            proposal_id, uuid.uuid4(), json.dumps(content | {"reference": reference}), index,
            f"{reference}-V1", submitter, draft.title_vi,
        )  # fmt: skip
        ids.append(proposal_id)
    return ids


# Reviews --------------------------------------------------------------------------------------


async def add_review(
    db: asyncpg.Connection,
    proposal_id: int,
    reviewer: int,
    marks: list[int | None],
    *,
    status: str = "submitted",
    comments: list[str] | None = None,
    overall_comment: str = "",
    criteria_version: int = 1,
) -> int:
    """An accepted assignment of `reviewer` to the proposal and the review's marks (tenths),
    written straight into the database (the review form is another desk's)."""
    assignment = await db.fetchval(
        "INSERT INTO review_assignment (proposal, reviewer, status, answered_at) "
        "VALUES ($1, $2, 'accepted', now()) RETURNING id",
        proposal_id, reviewer,
    )  # fmt: skip
    return await db.fetchval(
        "INSERT INTO review (assignment, version, criteria_version, marks, comments, "
        "overall_comment, status, submitted_at) VALUES ($1, 1, $2, $3::jsonb, $4::jsonb, $5, "
        "$6::text, CASE WHEN $6::text = 'submitted' THEN now() END) RETURNING id",
        assignment, criteria_version, json.dumps(marks),
        json.dumps(comments if comments is not None else [f"Nhận xét {m}" for m in marks]),
        overall_comment, status,
    )  # fmt: skip


#: A call's proposals by name: (requested amount, each reviewer's marks in tenths).
ReviewPlan = dict[str, tuple[int, list[list[int | None]]]]


async def reviewed_proposals(
    db: asyncpg.Connection,
    call_id: int,
    organisation: int,
    submitter: int,
    plan: ReviewPlan,
    reviewers: list[int],
    **review: Any,
) -> dict[str, int]:
    """The plan's proposals submitted to `call_id`, the call closed, and each proposal's
    reviews submitted by the first reviewers (as many as it has marks): name -> proposal id.
    `review` goes to every add_review (comments, overall_comment)."""
    ids = await inserted_proposals(
        db, call_id, organisation, submitter, [amount for amount, _ in plan.values()]
    )
    await close_now(db, call_id)
    proposals = dict(zip(plan, ids, strict=True))
    for name, (_, reviews) in plan.items():
        for reviewer, marks in zip(reviewers[: len(reviews)], reviews, strict=True):
            await add_review(db, proposals[name], reviewer, marks, **review)
    return proposals


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """The statements asyncpg runs with parameters while inside (every connection, every
    event loop: the app's too), for tests that a page costs a fixed number of queries."""
    run: list[str] = []
    original = asyncpg.connection.Connection._execute

    async def counting(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        run.append(query)
        return await original(self, query, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(asyncpg.connection.Connection, "_execute", counting)
        yield run


# PDFs -----------------------------------------------------------------------------------------


def pdf_bytes(title: str = "Thuyết minh", author: str = "Nguyễn Văn A") -> bytes:
    """A small valid one-page PDF with metadata; another title makes another file (and
    SHA-256)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Author": author, "/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_file(folder: Path, name: str = "thuyet-minh.pdf", **metadata: str) -> Path:
    """pdf_bytes(**metadata) written to `folder / name`, for a browser to upload."""
    path = folder / name
    path.write_bytes(pdf_bytes(**metadata))
    return path


# Processes and ports --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


# The test client (http tests) -----------------------------------------------------------------


async def csrf_token(client: AsyncTestClient) -> str:
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return client.cookies[CSRF_COOKIE]


async def post_form(client: AsyncTestClient, url: str, data: dict[str, Any] | None = None, **kw):  # type: ignore[no-untyped-def]
    """A form post as a browser sends it: with the CSRF token from the cookie."""
    body = {**(data or {}), "_csrf_token": await csrf_token(client)}
    return await client.post(url, data=body, **kw)


async def sign_in(client: AsyncTestClient, person: Person, *, next_path: str = "/account"):  # type: ignore[no-untyped-def]
    """Password, then the second factor when the account has one; returns the last answer."""
    answer = await post_form(
        client, "/login", {"email": person.email, "password": PASSWORD, "next": next_path}
    )
    assert answer.status_code in (302, 303), answer.text
    if answer.headers["location"].startswith("/login/code"):
        answer = await post_form(client, "/login/code", {"code": person.code(), "next": next_path})
        assert answer.status_code in (302, 303), answer.text
    return answer


async def session_of(client: AsyncTestClient, person: Person) -> str:
    """A new sign-in of `person` (another browser): its session cookie, the client left
    without cookies."""
    client.cookies.clear()
    await sign_in(client, person)
    token = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return token


def hidden_value(page: str, name: str) -> str:
    """The value of a form's hidden field `name` in the page's HTML."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


def local_time(moment: datetime) -> str:
    """A `datetime-local` field's value: the moment in Vietnam time."""
    return moment.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M")


async def publish_call_through_forms(  # type: ignore[no-untyped-def]
    client: AsyncTestClient, make_person, db, **fields: Any
) -> tuple[int, int]:
    """A manager of NAFOSTED creates and publishes an open call through the forms, signed
    out again after; (call id, fund id)."""
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    await sign_in(client, manager, next_path=f"/manage/funds/{fund}/calls")
    form = await client.get(f"/manage/funds/{fund}/calls/new?preset=horizon_ia")
    assert form.status_code == 200
    technologies = re.findall(r'name="technologies" value="(\d+)"', form.text)
    now = datetime.now(UTC)
    values = {
        name: value
        for name, value in re.findall(r'name="(criterion-[^"]+|overall_threshold)" '
                                      r'(?:aria-label="[^"]*" )?value="([^"]*)"', form.text)
    }  # fmt: skip
    values |= {
        "title_vi": "Đặt hàng nghiên cứu bán dẫn 2027",
        "title_en": "Semiconductor research call 2027",
        "technologies": technologies[:2],
        "opens_at": local_time(now - timedelta(days=1)),
        "closes_at": local_time(now + timedelta(days=3)),
        "budget_vnd": "20.000.000.000",
        "min_request_vnd": "500.000.000",
        "max_request_vnd": "5.000.000.000",
        "cofunding_percent": "20",
        "required_attachments": ["description"],
        "reviewers_per_proposal": "3",
        "tie_break-0": "uncovered_topics_first",
        "tie_break-1": "criterion_order",
        **fields,
    }
    created = await post_form(client, f"/manage/funds/{fund}/calls/new", values)
    assert created.status_code == 303, created.text
    call_id = int(created.headers["location"].rsplit("/", 1)[1])
    board = await client.get(f"/manage/calls/{call_id}")
    published = await post_form(
        client,
        f"/manage/calls/{call_id}/publish",
        {"row_version": hidden_value(board.text, "row_version"), "confirm": "yes"},
    )
    assert published.status_code == 303
    client.cookies.clear()
    return call_id, fund


async def started_proposal(client: AsyncTestClient, make_person, db) -> str:  # type: ignore[no-untyped-def]
    """Through the pages: a manager publishes a call, then a VAST applicant (left signed in)
    starts a proposal to it; the proposal's editor URL."""
    call_id, _ = await publish_call_through_forms(client, make_person, db)
    applicant = await make_person(("applicant", "vast"))
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    await sign_in(client, applicant, next_path=f"/calls/{call_id}")
    started = await post_form(
        client, f"/calls/{call_id}/proposals", {"organisation": str(organisation)}
    )
    assert started.status_code == 303, started.text
    return started.headers["location"]


def proposal_form(editor_page: str, title: str) -> dict[str, str]:
    """The editor's fields filled in as a complete draft (all but the PDF), from the page as
    it stands (its row_version and first technology)."""
    return {
        "row_version": hidden_value(editor_page, "row_version"),
        "title_vi": title,
        "abstract_vi": "Thiết kế chip tiết kiệm năng lượng cho nhận dạng tiếng nói tiếng Việt.",
        "technologies": re.search(r'name="technologies" value="(\d+)"', editor_page).group(1),
        "pi_name": "Trần Văn Bình",
        "duration_months": "24",
        "budget-personnel-requested": "1.000.000.000",
        "budget-personnel-own": "300.000.000",
        "milestone-0-month": "12",
        "milestone-0-text": "Bản thiết kế",
    }


async def on_app_loop(client: AsyncTestClient, service, *args):  # type: ignore[no-untyped-def]
    """Await `service(*args)` on the app's event loop (the test client's portal), where the
    database pool the services share with the app lives."""
    return await anyio.to_thread.run_sync(client.blocking_portal.call, service, *args)


async def drain_jobs(settings: Settings, *, rounds: int = 5) -> None:
    """Run the jobs queued so far, as `registry worker` does, until none is due. A worker
    told not to wait stops when one of its slots finds the queue empty, possibly before a job
    that a running job defers (the reset job queues its mail, an issued document its mail):
    so run it again while jobs are due."""
    from registry import database
    from registry.jobs import worker

    for _ in range(rounds):
        await worker.run(settings, wait=False, signal_handlers=False)
        due = await database.fetchval(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
            "AND (scheduled_at IS NULL OR scheduled_at <= now())"
        )
        if not due:
            return


async def run_jobs(client: AsyncTestClient, settings: Settings, *, rounds: int = 5) -> None:
    """`drain_jobs` on the app's event loop, where the database pool it shares with the app
    lives."""
    await on_app_loop(client, functools.partial(drain_jobs, settings, rounds=rounds))


# The browser (browser tests) ------------------------------------------------------------------

WAIT = 10.0  # seconds an explicit wait gives a page or an element


def wait(driver: WebDriver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def path_of(driver: WebDriver) -> str:
    return urlsplit(driver.current_url).path


def wait_for_path(driver: WebDriver, path: str) -> None:
    wait(driver).until(lambda d: path_of(d) == path, f"never reached {path}")


def element(driver: WebDriver, css: str):  # type: ignore[no-untyped-def]
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def fill(driver: WebDriver, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        box = element(driver, f"#f-{name}")
        box.clear()
        box.send_keys(value)


def follow(driver: WebDriver, clickable) -> None:  # type: ignore[no-untyped-def]
    """Click a link or button and wait until another document has replaced this one.

    The old document is marked rather than watched for staleness: while a page is being
    replaced chromedriver can answer a staleness probe with "Node with given id does not
    belong to the document" instead of a stale-element error."""
    driver.execute_script("document.documentElement.setAttribute('data-left', '')")
    clickable.click()
    WebDriverWait(driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return !document.documentElement.hasAttribute('data-left')"
            " && document.readyState !== 'loading'"
        ),
        "the page was not replaced",
    )
    element(driver, "body")


def watch_autosave(driver: WebDriver) -> None:
    """Log, in page order, each edit of the draft form and each autosave status shown. A
    status stays on screen after later typing, so only a "saved" logged after the last edit
    says that edit was saved (autosave reports it only when nothing changed meanwhile)."""
    element(driver, "#autosave-status")
    driver.execute_script(
        """
        const log = window.autosaveLog = [];
        const form = document.getElementById("draft");
        const status = document.getElementById("autosave-status");
        for (const kind of ["input", "change"]) {
          form.addEventListener(kind, () => log.push({edit: kind}));
        }
        new MutationObserver(() => log.push({status: status.textContent.trim()}))
          .observe(status, {childList: true, characterData: true, subtree: true});
        """
    )


def wait_until_autosaved(driver: WebDriver) -> None:
    saved = element(driver, "form#draft").get_attribute("data-msg-saved")
    assert saved
    wait(driver).until(
        lambda d: d.execute_script(
            "const log = window.autosaveLog;"
            "return log.some(e => e.edit) && log[log.length - 1].status === arguments[0];",
            saved,
        ),
        "autosave never reported the last edit saved",
    )
    assert element(driver, "#autosave-status").text.strip() == saved


def submit(driver: WebDriver, form: str) -> None:
    """Press the form's button and wait until the browser has left the page."""
    follow(driver, element(driver, f"{form} button[type=submit]"))


#: A common phone's width in CSS px (issue 16: no page may scroll sideways on it).
NARROW = 390


def phone(driver: WebDriver) -> None:
    """A 390 px wide phone screen (a mobile viewport, so the page's meta viewport applies)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": NARROW, "height": 844, "deviceScaleFactor": 3, "mobile": True},
    )


def sign_in_browser(driver: WebDriver, base_url: str, person: Person) -> None:
    """Password, then the authenticator code when the account has a second factor."""
    driver.get(f"{base_url}/login")
    fill(driver, {"email": person.email, "password": PASSWORD})
    submit(driver, "form[action='/login']")
    if person.totp_secret:
        wait_for_path(driver, "/login/code")
        fill(driver, {"code": pyotp.TOTP(person.totp_secret).now()})
        submit(driver, "form[action='/login/code']")
    wait_for_path(driver, "/account")


@contextmanager
def explained_by(log: Path) -> Iterator[None]:
    """A failed step or wait shows the end of the server's log alongside."""
    try:
        yield
    except (AssertionError, WebDriverException) as failure:
        # A WebDriver error's msg leaves out chromedriver's native stack trace.
        what = getattr(failure, "msg", None) or str(failure)
        pytest.fail(f"{type(failure).__name__}: {what}\n--- server log ---\n{log_tail(log)}")


async def approved_call(db, database_url: str, proposals: int, fund: str = "nafosted"):  # type: ignore[no-untyped-def]
    """A closed call of `fund` with `proposals` reviewed proposals whose outcomes (the
    funding line's suggestion) a second manager approved."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = $1", fund)
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    proposer = await person(database_url, (Role.FUND_MANAGER, fund))
    approver = await person(database_url, (Role.FUND_MANAGER, fund))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    call_id = await open_call(
        proposer,
        fund_id,
        budget_vnd=(proposals + 2) * 50 * 1_000_000,
        max_request_vnd=100 * 1_000_000,
        min_request_vnd=0,
    )
    ids = await inserted_proposals(
        db, call_id, organisation, applicant.account_id, [100 * 1_000_000] * proposals
    )
    await close_now(db, call_id)
    reviewers = [await person(database_url, (Role.REVIEWER, None)) for _ in range(3)]
    for index, proposal_id in enumerate(ids):
        for reviewer in reviewers:
            await add_review(db, proposal_id, reviewer.account_id, [50 - index % 20, 40, 40])
    desk = await decisions.desk(proposer, call_id)
    decision_id = await decisions.propose(proposer, call_id, list(desk.suggested()), ORIGIN)
    await decisions.approve(approver, call_id, decision_id, ORIGIN)
    outcomes = [
        r["id"]
        for r in await db.fetch(
            "SELECT id FROM proposal_outcome WHERE decision = $1 ORDER BY id", decision_id
        )
    ]
    return {
        "call_id": call_id,
        "fund_id": fund_id,
        "manager": proposer,
        "applicant": applicant,
        "outcomes": outcomes,
    }


async def reviewed_call(client, db, make_person, plan: ReviewPlan, *, budget_vnd: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Through the pages' people: a NAFOSTED call opened by one manager (another may approve),
    the plan's proposals of a VAST applicant reviewed by three experts, the call closed."""
    proposer = await make_person(("fund_manager", "nafosted"), totp=True)
    approver = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person(("applicant", "vast"))
    nafosted = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")

    async def opened() -> int:
        return await open_call(service_actor(proposer), nafosted, budget_vnd=budget_vnd)

    call_id = await on_app_loop(client, opened)
    reviewers = [await make_person(("reviewer", None), totp=True) for _ in range(3)]
    proposals = await reviewed_proposals(
        db, call_id, organisation, applicant.id, plan, [r.id for r in reviewers]
    )
    return {
        "proposer": proposer,
        "approver": approver,
        "applicant": applicant,
        "reviewers": reviewers,
        "call_id": call_id,
        "proposal": proposals,
    }
