"""A crash at any step of a submission leaves the whole new version with its receipt, or
nothing: a separate process submits and dies (os._exit, as on kill -9) at each failpoint;
then the database holds all of version, status, receipt mail and audit event, or none of them,
and a retry with the same key makes exactly one version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from registry.domain.accounts import Role
from registry.services import audit, proposals
from registry.services.failpoints import VARIABLE
from tests.factories import (
    ORIGIN,
    complete_draft,
    open_call,
    person,
    technology_ids,
)

pytestmark = pytest.mark.integration

SUBMIT = """
import asyncio, json, os, sys
from registry.domain.accounts import Actor, Grant, Role
from registry.services import attachments, proposals, submissions
from registry.domain.accounts import Origin

args = json.loads(os.environ["SUBMIT_ARGS"])
actor = Actor(args["account"], args["email"], "Người thử",
              frozenset({Grant(Role.APPLICANT, args["organisation"])}), True, True)
receipt = asyncio.run(submissions.submit(actor, args["proposal"], args["key"], Origin(None)))
print(receipt.receipt_no)
"""


async def _state(conn: asyncpg.Connection, proposal_id: int, email: str) -> dict[str, int]:
    return {
        "versions": await conn.fetchval(
            "SELECT count(*) FROM proposal_version WHERE proposal = $1", proposal_id
        ),
        "submitted": await conn.fetchval(
            "SELECT count(*) FROM proposal WHERE id = $1 AND status = 'submitted'", proposal_id
        ),
        "mails": await conn.fetchval(
            "SELECT count(*) FROM outbox_mail WHERE recipient = $1", email
        ),
        "events": await conn.fetchval(
            "SELECT count(*) FROM audit.event WHERE object_ref = $1 AND action = $2",
            f"proposal:{proposal_id}",
            "proposal.submitted",
        ),
    }


def _submit(args: dict[str, object], failpoint: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUBMIT_ARGS": json.dumps(args)}
    env.pop(VARIABLE, None)
    if failpoint:
        env[VARIABLE] = failpoint
    return subprocess.run(
        [sys.executable, "-c", SUBMIT], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("failpoint", "committed"),
    [
        ("submit.after_version_insert", False),
        ("submit.before_audit", False),
        ("submit.before_commit", False),
        ("submit.after_commit", True),
    ],
)
async def test_a_crash_leaves_all_of_a_submission_or_none(
    catalogue, database_url, failpoint, committed
):
    conn = await asyncpg.connect(database_url)
    try:
        fund_id = await conn.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
        organisation = await conn.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
        manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
        applicant = await person(database_url, (Role.APPLICANT, "vast"))
        call_id = await open_call(manager, fund_id)
        proposal_id = await proposals.start(applicant, call_id, organisation, ORIGIN)
        draft = complete_draft(tuple(await technology_ids()))
        await proposals.save_draft(applicant, proposal_id, draft, 1, ORIGIN)
        args = {
            "account": applicant.account_id,
            "email": applicant.email,
            "organisation": organisation,
            "proposal": proposal_id,
            "key": str(uuid.uuid4()),
        }

        crashed = _submit(args, failpoint)
        assert crashed.returncode == 137, crashed.stderr
        state = await _state(conn, proposal_id, applicant.email)
        expected = 1 if committed else 0
        assert state == {"versions": expected, "submitted": expected, "mails": expected,
                         "events": expected}  # fmt: skip

        # The applicant retries the same click: exactly one version, with its receipt.
        retried = _submit(args, None)
        assert retried.returncode == 0, retried.stderr
        assert retried.stdout.strip().endswith("-V1")
        state = await _state(conn, proposal_id, applicant.email)
        assert state == {"versions": 1, "submitted": 1, "mails": 1, "events": 1}
        assert (await audit.verify()).ok
    finally:
        await conn.close()
