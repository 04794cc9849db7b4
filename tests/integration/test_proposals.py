"""Calls and proposals against the real database: criteria versions, drafts that cannot be
silently overwritten, the checklist, idempotent submission at the deadline, resubmission,
withdrawal, near-duplicate flags and the audit trail."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import timedelta

import asyncpg
import pytest

from registry.domain.accounts import Role
from registry.domain.clock import MovingClock
from registry.domain.errors import Conflict, InvalidForm, NotFound, StaleEdit
from registry.domain.proposals import Status
from registry.domain.scoring import PRESETS
from registry.jobs import worker
from registry.services import call_dashboard, calls, clock, proposals, submissions
from registry.settings import Settings
from tests.factories import (
    ORIGIN,
    close_now,
    complete_draft,
    open_call,
    person,
    spec,
    technology_ids,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def setting(db, database_url):
    """A manager of NAFOSTED with an open call, and an applicant of VAST with a draft."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation_id = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    call_id = await open_call(manager, fund_id)
    proposal_id = await proposals.start(applicant, call_id, organisation_id, ORIGIN)
    technologies = tuple(await technology_ids())
    return {
        "fund_id": fund_id,
        "organisation_id": organisation_id,
        "manager": manager,
        "applicant": applicant,
        "call_id": call_id,
        "proposal_id": proposal_id,
        "draft": complete_draft(technologies),
    }


async def _fill(setting) -> int:
    proposal = await proposals.get(setting["applicant"], setting["proposal_id"])
    saved = await proposals.save_draft(
        setting["applicant"], proposal.id, setting["draft"], proposal.row_version, ORIGIN
    )
    return saved.row_version


async def test_publishing_freezes_criteria_and_later_changes_make_new_versions(setting, db):
    manager, call_id = setting["manager"], setting["call_id"]
    call = await calls.managed_call(manager, call_id)
    assert call.criteria_version == 1
    public = await calls.published_call(call_id)
    assert public.spec.criteria == PRESETS["horizon_ria"]

    await _fill(setting)
    first = await submissions.submit(
        setting["applicant"], setting["proposal_id"], str(uuid.uuid4()), ORIGIN
    )
    changed = replace(call.spec, criteria=PRESETS["horizon_ia"])
    await calls.update_call(manager, call_id, changed, call.row_version, ORIGIN)

    assert (await calls.managed_call(manager, call_id)).criteria_version == 2
    assert (await calls.published_call(call_id)).spec.criteria == PRESETS["horizon_ia"]
    assert await calls.criteria_version(call_id, 1) == PRESETS["horizon_ria"]
    # The version already submitted stays under the criteria it was received with.
    version = "SELECT criteria_version FROM proposal_version WHERE proposal = $1 AND number = $2"
    assert await db.fetchval(version, setting["proposal_id"], first.version) == 1
    second = await submissions.submit(
        setting["applicant"], setting["proposal_id"], str(uuid.uuid4()), ORIGIN
    )
    assert await db.fetchval(version, setting["proposal_id"], second.version) == 2


async def test_changing_a_call_needs_the_version_the_form_was_read_from(setting):
    manager, call_id = setting["manager"], setting["call_id"]
    call = await calls.managed_call(manager, call_id)
    await calls.update_call(
        manager, call_id, replace(call.spec, title_en="First"), call.row_version, ORIGIN
    )
    with pytest.raises(Conflict):
        await calls.update_call(
            manager, call_id, replace(call.spec, title_en="Second"), call.row_version, ORIGIN
        )
    assert (await calls.managed_call(manager, call_id)).spec.title_en == "First"


async def test_calls_of_other_funds_are_not_found(setting, database_url):
    other = await person(database_url, (Role.FUND_MANAGER, "natif"))
    with pytest.raises(NotFound):
        await calls.managed_call(other, setting["call_id"])
    with pytest.raises(NotFound):
        await call_dashboard.dashboard(other, setting["call_id"])


async def test_call_rules_are_checked_with_field_messages(setting):
    bad = await spec(max_request_vnd=20_000_000_000, technologies=())
    with pytest.raises(InvalidForm) as refused:
        await calls.create_call(setting["manager"], setting["fund_id"], bad, ORIGIN)
    assert {p.field for p in refused.value.problems} == {"technologies", "max_request_vnd"}


async def test_other_organisations_cannot_see_a_proposal(setting, database_url):
    outsider = await person(database_url, (Role.APPLICANT, "hcmut"))
    with pytest.raises(NotFound):
        await proposals.get(outsider, setting["proposal_id"])
    assert all(p.id != setting["proposal_id"] for p in await proposals.mine(outsider))


async def test_two_tabs_cannot_silently_overwrite_each_other(setting):
    applicant, proposal_id = setting["applicant"], setting["proposal_id"]
    loaded = (await proposals.get(applicant, proposal_id)).row_version
    first = replace(setting["draft"], title_vi="Tiêu đề của thẻ thứ nhất")
    second = replace(setting["draft"], title_vi="Tiêu đề của thẻ thứ hai")
    results = await asyncio.gather(
        proposals.save_draft(applicant, proposal_id, first, loaded, ORIGIN),
        proposals.save_draft(applicant, proposal_id, second, loaded, ORIGIN),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StaleEdit) for r in results) == 1
    winner = first if isinstance(results[1], StaleEdit) else second
    assert (await proposals.get(applicant, proposal_id)).draft == winner


async def test_the_checklist_blocks_submission_with_reasons(setting, db):
    applicant, proposal_id = setting["applicant"], setting["proposal_id"]
    call = await calls.managed_call(setting["manager"], setting["call_id"])
    await calls.update_call(
        setting["manager"],
        setting["call_id"],
        replace(call.spec, required_attachments=("description",)),
        call.row_version,
        ORIGIN,
    )
    low = replace(setting["draft"], budget=setting["draft"].budget[:1])  # own share still 30%
    too_little = replace(
        low, budget=(replace(low.budget[0], requested_vnd=100_000_000, own_vnd=0),)
    )
    await proposals.save_draft(applicant, proposal_id, too_little, 1, ORIGIN)
    with pytest.raises(InvalidForm) as refused:
        await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)
    fields = [p.field for p in refused.value.problems]
    assert fields == ["budget", "budget", "attachments"]  # amount, co-funding, files
    assert (
        await db.fetchval("SELECT count(*) FROM proposal_version WHERE proposal = $1", proposal_id)
        == 0
    )


async def test_a_repeated_submit_gives_one_version_and_the_same_receipt(setting, db):
    await _fill(setting)
    key = str(uuid.uuid4())
    receipts = await asyncio.gather(
        *(
            submissions.submit(setting["applicant"], setting["proposal_id"], key, ORIGIN)
            for _ in range(12)
        )
    )
    assert {r.receipt_no for r in receipts} == {receipts[0].receipt_no}
    assert (
        await db.fetchval(
            "SELECT count(*) FROM proposal_version WHERE proposal = $1", setting["proposal_id"]
        )
        == 1
    )
    mails = await db.fetchval(
        "SELECT count(*) FROM outbox_mail WHERE recipient = $1 AND subject LIKE '%' || $2",
        setting["applicant"].email,
        receipts[0].receipt_no,
    )
    assert mails == 1


async def test_received_one_millisecond_before_closing_is_in_time_and_at_closing_is_late(
    setting,
):
    await _fill(setting)
    closes_at = (await calls.published_call(setting["call_id"])).spec.closes_at
    with clock.using(MovingClock(closes_at - timedelta(milliseconds=1))) as moving:
        in_time = await submissions.submit(
            setting["applicant"], setting["proposal_id"], str(uuid.uuid4()), ORIGIN
        )
        assert in_time.received_at == closes_at - timedelta(milliseconds=1)
        moving.advance(timedelta(milliseconds=1))
        with pytest.raises(Conflict):
            await submissions.submit(
                setting["applicant"], setting["proposal_id"], str(uuid.uuid4()), ORIGIN
            )


async def test_resubmissions_keep_history_and_only_the_latest_counts(setting, db):
    applicant, proposal_id = setting["applicant"], setting["proposal_id"]
    row_version = await _fill(setting)
    titles = ["Phiên bản một", "Phiên bản hai", "Phiên bản ba"]
    for title in titles:
        saved = await proposals.save_draft(
            applicant, proposal_id, replace(setting["draft"], title_vi=title), row_version, ORIGIN
        )
        row_version = saved.row_version
        await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)
    proposal = await proposals.get(applicant, proposal_id)
    assert proposal.submitted_version == 3
    assert [v.number for v in proposal.versions] == [3, 2, 1]
    for number, title in enumerate(titles, start=1):
        assert (await submissions.version_content(applicant, proposal_id, number)).title_vi == title
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE proposal_version SET receipt_no = 'x' WHERE proposal = $1",
                         proposal_id)  # fmt: skip


async def test_withdrawal_and_the_deadline(setting, db):
    applicant, proposal_id = setting["applicant"], setting["proposal_id"]
    await _fill(setting)
    key = str(uuid.uuid4())
    first = await submissions.submit(applicant, proposal_id, key, ORIGIN)
    await proposals.withdraw(applicant, proposal_id, ORIGIN)
    assert (await proposals.get(applicant, proposal_id)).status == Status.WITHDRAWN
    with pytest.raises(Conflict):
        await proposals.withdraw(applicant, proposal_id, ORIGIN)
    await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)

    await close_now(db, setting["call_id"])
    proposal = await proposals.get(applicant, proposal_id)
    assert proposal.status == Status.SUBMITTED
    with pytest.raises(Conflict):
        await proposals.save_draft(applicant, proposal_id, setting["draft"], 99, ORIGIN)
    with pytest.raises(Conflict):
        await proposals.withdraw(applicant, proposal_id, ORIGIN)
    with pytest.raises(Conflict):
        await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)
    # A retry of a click made in time still answers its receipt.
    again = await submissions.submit(applicant, proposal_id, key, ORIGIN)
    assert again.receipt_no == first.receipt_no


async def test_near_duplicates_are_flagged_to_managers(setting, database_url, db, tmp_path):
    await _fill(setting)
    await submissions.submit(
        setting["applicant"], setting["proposal_id"], str(uuid.uuid4()), ORIGIN
    )
    rival = await person(database_url, (Role.APPLICANT, "hcmut"))
    hcmut = await db.fetchval("SELECT id FROM organisation WHERE code = 'hcmut'")
    copy_id = await proposals.start(rival, setting["call_id"], hcmut, ORIGIN)
    copied = replace(setting["draft"], title_vi=setting["draft"].title_vi + " mới")
    await proposals.save_draft(rival, copy_id, copied, 1, ORIGIN)
    await submissions.submit(rival, copy_id, str(uuid.uuid4()), ORIGIN)
    # The check runs as a job after the submission.
    await worker.run(Settings(database_url=database_url, data_dir=tmp_path), wait=False)

    board = await call_dashboard.dashboard(setting["manager"], setting["call_id"])
    pairs = {(d.proposal_id, d.other_id) for d in board.duplicates if d.other_kind == "proposal"}
    assert (copy_id, setting["proposal_id"]) in pairs
    assert board.by_status["submitted"] == 2
    assert board.requested_vnd == 2 * setting["draft"].totals.requested_vnd


async def test_every_step_is_audited(setting, db):
    applicant, proposal_id = setting["applicant"], setting["proposal_id"]
    await _fill(setting)
    await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)
    await submissions.submit(applicant, proposal_id, str(uuid.uuid4()), ORIGIN)
    await proposals.withdraw(applicant, proposal_id, ORIGIN)
    actions = await db.fetch(
        "SELECT action, summary FROM audit.event WHERE object_ref = $1 ORDER BY seq",
        f"proposal:{proposal_id}",
    )
    assert [a["action"] for a in actions] == [
        "proposal.started",
        "proposal.draft_saved",
        "proposal.submitted",
        "proposal.resubmitted",
        "proposal.withdrawn",
    ]
    submitted = json.loads(actions[2]["summary"])["after"]
    assert submitted["receipt_no"].endswith("-V1")
    call_actions = await db.fetch(
        "SELECT action FROM audit.event WHERE object_ref = $1 ORDER BY seq",
        f"call:{setting['call_id']}",
    )
    assert [a["action"] for a in call_actions] == ["call.created", "call.published"]


async def test_a_used_submit_key_never_passes_for_a_changed_draft(setting):
    applicant, proposal_id = setting["applicant"], setting["proposal_id"]
    row_version = await _fill(setting)
    key = str(uuid.uuid4())
    await submissions.submit(applicant, proposal_id, key, ORIGIN)
    changed = replace(setting["draft"], title_vi="Sửa sau khi nộp")
    await proposals.save_draft(applicant, proposal_id, changed, row_version, ORIGIN)
    with pytest.raises(Conflict):
        await submissions.submit(applicant, proposal_id, key, ORIGIN)
    assert (await proposals.get(applicant, proposal_id)).submitted_version == 1
