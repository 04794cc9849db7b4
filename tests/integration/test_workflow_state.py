"""The proposal workflow as a state machine (Hypothesis stateful testing): an applicant starts,
edits, submits, resubmits, retries a submit click and withdraws proposals while the app's clock
runs up to the deadline and past it. A model says what each step must do; after every step:

- each proposal has its versions numbered 1..n with distinct receipts, and the one current
  version the model expects (status, submitted_version, draft title);
- an applicant of another organisation finds none of it: the services answer NotFound, the
  pages 404 and hold none of the proposal's titles, nor does their own list of proposals;
- the audit chain verifies and holds one event for each change, in order.

Hypothesis runs rules synchronously, so the machine drives the app through Litestar's
synchronous test client and awaits the services on that client's event loop (`World.run`),
where the app's database pool lives.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from litestar.testing import TestClient

from registry import database
from registry.domain.accounts import Role
from registry.domain.clock import MovingClock
from registry.domain.errors import Conflict, NotFound
from registry.domain.proposals import Draft, Status
from registry.services import audit, calls, clock, proposals, submissions
from registry.settings import Settings
from tests.factories import (
    CSRF_COOKIE,
    ORIGIN,
    PASSWORD,
    TOTP_KEY,
    complete_draft,
    make_person,
    open_call,
    service_actor,
    technology_ids,
)

pytestmark = pytest.mark.integration

#: Words a title is made of (the marker appended to each makes it unique and easy to spot).
WORDS = st.lists(
    st.sampled_from(
        ["Mô hình", "học sâu", "chip", "bán dẫn", "đất hiếm", "tiếng Việt", "lượng tử"]
    ),
    min_size=1,
    max_size=4,
).map(" ".join)


@dataclass
class Tracked:
    """What the model expects of one proposal."""

    title: str
    row_version: int
    status: Status = Status.DRAFT
    versions: int = 0
    #: Every title it ever had: none may reach the outsider.
    titles: list[str] = field(default_factory=list)
    #: The last submit click (its key, receipt and the title it sent), for retries.
    last_click: tuple[str, str, str] | None = None
    #: The audit events its changes must have left, in order.
    events: list[str] = field(default_factory=lambda: ["proposal.started"])


@dataclass
class World:
    """What every run of the machine shares: the app behind a client signed in as the
    outsider, and the people."""

    client: TestClient
    manager: Any
    fund_id: int
    applicant: Any
    organisation_id: int
    outsider: Any
    draft: Draft

    def run(self, step: Coroutine[Any, Any, Any]) -> Any:
        return self.client.blocking_portal.call(_awaited, step)


async def _awaited(step: Coroutine[Any, Any, Any]) -> Any:
    return await step


WORLD: World | None = None


class ProposalWorkflow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None
        self.world = WORLD
        self.clock = MovingClock(datetime.now(UTC))
        self._clock_in_use = clock.using(self.clock)
        self._clock_in_use.__enter__()
        # A call of its own per run, so each run meets its deadline afresh.
        self.call_id = self.world.run(open_call(self.world.manager, self.world.fund_id))
        self.closes_at = self.world.run(calls.published_call(self.call_id)).spec.closes_at
        self.tracked: dict[int, Tracked] = {}

    def teardown(self) -> None:
        self._clock_in_use.__exit__(None, None, None)

    # Helpers ----------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.clock.now() < self.closes_at

    def _run(self, step: Coroutine[Any, Any, Any]) -> Any:
        return self.world.run(step)

    def _refused(self, step: Coroutine[Any, Any, Any]) -> None:
        with pytest.raises(Conflict):
            self._run(step)

    def _pick(self, data: st.DataObject) -> tuple[int, Tracked]:
        proposal_id = data.draw(st.sampled_from(sorted(self.tracked)), label="proposal")
        return proposal_id, self.tracked[proposal_id]

    @staticmethod
    def _title(words: str) -> str:
        return f"{words} {secrets.token_hex(4)}"

    # Rules ------------------------------------------------------------------------------------

    @precondition(lambda self: len(self.tracked) < 3)
    @rule(words=WORDS)
    def start(self, words: str) -> None:
        applicant = self.world.applicant
        start = proposals.start(applicant, self.call_id, self.world.organisation_id, ORIGIN)
        if not self.is_open:
            self._refused(start)
            return
        proposal_id = self._run(start)
        title = self._title(words)
        draft = replace(self.world.draft, title_vi=title)
        saved = self._run(proposals.save_draft(applicant, proposal_id, draft, 1, ORIGIN))
        self.tracked[proposal_id] = Tracked(title, saved.row_version, titles=[title])
        self.tracked[proposal_id].events.append("proposal.draft_saved")

    @precondition(lambda self: self.tracked)
    @rule(data=st.data(), words=WORDS)
    def edit(self, data: st.DataObject, words: str) -> None:
        proposal_id, tracked = self._pick(data)
        title = self._title(words)
        draft = replace(self.world.draft, title_vi=title)
        save = proposals.save_draft(
            self.world.applicant, proposal_id, draft, tracked.row_version, ORIGIN
        )
        if not self.is_open:
            self._refused(save)
            return
        tracked.row_version = self._run(save).row_version
        tracked.title = title
        tracked.titles.append(title)
        tracked.events.append("proposal.draft_saved")

    @precondition(lambda self: self.tracked)
    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        proposal_id, tracked = self._pick(data)
        key = str(uuid.uuid4())
        submit = submissions.submit(self.world.applicant, proposal_id, key, ORIGIN)
        if not self.is_open:
            self._refused(submit)
            return
        receipt = self._run(submit)
        tracked.versions += 1
        tracked.status = Status.SUBMITTED
        assert receipt.version == tracked.versions
        tracked.last_click = (key, receipt.receipt_no, tracked.title)
        tracked.events.append(
            "proposal.submitted" if tracked.versions == 1 else "proposal.resubmitted"
        )

    @precondition(lambda self: any(t.last_click for t in self.tracked.values()))
    @rule(data=st.data())
    def retry_last_submit(self, data: st.DataObject) -> None:
        """The same click again (a double click, a retried request): never a new version; its
        receipt again, even after the deadline, unless the draft changed since."""
        clicked = sorted(p for p, t in self.tracked.items() if t.last_click)
        proposal_id = data.draw(st.sampled_from(clicked), label="proposal")
        tracked = self.tracked[proposal_id]
        assert tracked.last_click is not None
        key, receipt_no, sent_title = tracked.last_click
        retry = submissions.submit(self.world.applicant, proposal_id, key, ORIGIN)
        if tracked.title != sent_title:
            self._refused(retry)
            return
        assert self._run(retry).receipt_no == receipt_no

    @precondition(lambda self: self.tracked)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        proposal_id, tracked = self._pick(data)
        withdraw = proposals.withdraw(self.world.applicant, proposal_id, ORIGIN)
        if not self.is_open or tracked.status != Status.SUBMITTED:
            self._refused(withdraw)
            return
        self._run(withdraw)
        tracked.status = Status.WITHDRAWN
        tracked.events.append("proposal.withdrawn")

    @precondition(lambda self: self.is_open)
    @rule()
    def last_millisecond(self) -> None:
        """One millisecond before closing: still open."""
        self.clock.at = self.closes_at - timedelta(milliseconds=1)

    @precondition(lambda self: self.is_open)
    @rule()
    def deadline_passes(self) -> None:
        self.clock.at = self.closes_at

    # What must hold after every step ----------------------------------------------------------

    @invariant()
    def versions_are_as_the_model_says(self) -> None:
        for proposal_id, tracked in self.tracked.items():
            proposal = self._run(proposals.get(self.world.applicant, proposal_id))
            assert proposal.status == tracked.status
            assert proposal.submitted_version == tracked.versions
            assert proposal.draft.title_vi == tracked.title
            numbers = sorted(v.number for v in proposal.versions)
            assert numbers == list(range(1, tracked.versions + 1))
            assert len({v.receipt_no for v in proposal.versions}) == tracked.versions

    @invariant()
    def the_outsider_sees_nothing(self) -> None:
        outsider, client = self.world.outsider, self.world.client
        actor = service_actor(outsider)
        listed = client.get("/proposals")
        assert listed.status_code == 200, listed.status_code
        for proposal_id, tracked in self.tracked.items():
            with pytest.raises(NotFound):
                self._run(proposals.get(actor, proposal_id))
            paths = [f"/proposals/{proposal_id}"] + [
                f"/proposals/{proposal_id}/{kind}/{number}"
                for number in range(1, tracked.versions + 1)
                for kind in ("receipts", "versions")
            ]
            for path in paths:
                page = client.get(path)
                assert page.status_code in (403, 404), (path, page.status_code)
                assert not any(title in page.text for title in tracked.titles), path
            assert not any(title in listed.text for title in tracked.titles)

    @invariant()
    def the_audit_chain_verifies_and_holds_every_change(self) -> None:
        check = self._run(audit.verify())
        assert check.ok, check
        for proposal_id, tracked in self.tracked.items():
            rows = self._run(
                database.fetch(
                    "SELECT action FROM audit.event WHERE object_ref = $1 ORDER BY seq",
                    f"proposal:{proposal_id}",
                )
            )
            assert [r["action"] for r in rows] == tracked.events


async def _people(database_url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            "fund_id": await conn.fetchval("SELECT id FROM fund WHERE code = 'nafosted'"),
            "organisation_id": await conn.fetchval(
                "SELECT id FROM organisation WHERE code = 'vast'"
            ),
            "manager": service_actor(await make_person(conn, (Role.FUND_MANAGER, "nafosted"))),
            "applicant": service_actor(await make_person(conn, (Role.APPLICANT, "vast"))),
            "outsider": await make_person(conn, (Role.APPLICANT, "hcmut")),
            "draft": complete_draft(tuple(await technology_ids())),
        }
    finally:
        await conn.close()


def test_the_proposal_workflow_keeps_its_promises(
    catalogue: None, database_url: str, app_database_url: str, tmp_path
) -> None:
    from registry.app import create_app

    global WORLD
    app = create_app(
        Settings(
            database_url=app_database_url,
            data_dir=tmp_path,
            public_url="https://testserver.local",
            totp_key=TOTP_KEY,
        )
    )
    with TestClient(app=app, base_url="https://testserver.local") as client:
        client.follow_redirects = False
        WORLD = World(client=client, **client.blocking_portal.call(_people, database_url))
        signed_in = client.post(
            "/login",
            data={
                "email": WORLD.outsider.email,
                "password": PASSWORD,
                "next": "/proposals",
                "_csrf_token": _csrf(client),
            },
        )
        assert signed_in.status_code == 303, signed_in.text
        try:
            run_state_machine_as_test(
                ProposalWorkflow,
                settings=settings(
                    max_examples=8,
                    stateful_step_count=12,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            WORLD = None


def _csrf(client: TestClient) -> str:
    client.get("/login")
    return client.cookies[CSRF_COOKIE]
