"""Expert review from the reviewer's side against the real database: the fund's pool and its
invitation mail, declared relations, the answer to an assignment, the review form's rules
(marks on the scale and its step, comments required to submit, locked once submitted, the
review deadline, stale edits), the manager's reopening, other reviews after one's own, blind
copies, and the review mail (new assignments, reminders once)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from registry.domain.accounts import Origin, Role
from registry.domain.errors import Conflict, InvalidForm, InvalidInput, NotFound, StaleEdit
from registry.domain.reviews import AssignmentStatus, ReviewInput, ReviewStatus
from registry.i18n import translate_in
from registry.jobs import worker
from registry.services import reviewers, reviews
from registry.services.storage import PostgresStorage
from tests.factories import ORIGIN, make_assignment, open_call, person, submitted_proposal

pytestmark = pytest.mark.integration

COMPLETE = ReviewInput(
    marks=("4", "3,5", "3"),
    comments=("Phương pháp rõ ràng.", "Tác động lớn\n\nvới dữ liệu mở.", "Kế hoạch khả thi."),
    overall_comment="Đề xuất tốt, nên tài trợ.",
)


def at(moment: datetime) -> Origin:
    return replace(ORIGIN, at=moment)


@pytest.fixture
async def setting(db, database_url):
    """A NAFOSTED call (reviews due in 14 days) with a submitted VAST proposal, assigned to
    three reviewers; a manager of the fund and one of another fund."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation_id = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    stranger = await person(database_url, (Role.FUND_MANAGER, "natif"))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    due = datetime.now(UTC) + timedelta(days=14)
    call_id = await open_call(manager, fund_id, review_closes_at=due)
    proposal_id, _, sha256, reference = await submitted_proposal(
        applicant, call_id, organisation_id, "Cảm biến lượng tử cho y tế", PostgresStorage()
    )
    panel = [await person(database_url, (Role.REVIEWER, None)) for _ in range(3)]
    for reviewer in panel:
        await make_assignment(db, proposal_id, reviewer.account_id)
    return {
        "fund_id": fund_id,
        "manager": manager,
        "stranger": stranger,
        "applicant": applicant,
        "call_id": call_id,
        "proposal_id": proposal_id,
        "sha256": sha256,
        "reference": reference,
        "panel": panel,
        "due": due,
    }


async def accepted(setting, reviewer) -> reviews.ReviewerAssignment:
    await reviews.answer(reviewer, setting["proposal_id"], "accept", True, "", ORIGIN)
    return await reviews.assignment(reviewer, setting["proposal_id"])


async def audit_events(db, object_ref: str) -> list[tuple[str, dict]]:
    rows = await db.fetch(
        "SELECT action, summary FROM audit.event WHERE object_ref = $1 ORDER BY seq", object_ref
    )
    return [(r["action"], json.loads(r["summary"])) for r in rows]


# The pool ---------------------------------------------------------------------------------------


async def test_a_manager_invites_a_reviewer_who_accepts_and_the_mail_is_in_their_language(
    setting, db, database_url
):
    manager, fund_id = setting["manager"], setting["fund_id"]
    reviewer = setting["panel"][0]
    await db.execute("UPDATE account SET language = 'en' WHERE id = $1", reviewer.account_id)
    await reviewers.invite(manager, fund_id, f"  {reviewer.email.upper()} ", ORIGIN)

    mail = await db.fetchrow(
        "SELECT subject, body, links FROM outbox_mail WHERE recipient = $1 ORDER BY id DESC",
        reviewer.email,
    )
    assert mail["subject"].startswith("Invitation to review for")
    assert "expert reviewer pool" in mail["body"]
    assert mail["links"] == [" /review"]  # a plain link to the desk, no token
    with pytest.raises(Conflict):
        await reviewers.invite(manager, fund_id, reviewer.email, ORIGIN)

    pool = await reviewers.pool(manager, fund_id)
    assert [(m.reviewer_id, m.status) for m in pool if m.reviewer_id == reviewer.account_id] == [
        (reviewer.account_id, "invited")
    ]
    await reviewers.answer_invitation(reviewer, fund_id, True, ORIGIN)
    mine = await reviewers.invitations(reviewer)
    assert [(i.fund_id, i.status) for i in mine] == [(fund_id, "accepted")]
    with pytest.raises(NotFound):  # answered already: nothing left to answer
        await reviewers.answer_invitation(reviewer, fund_id, False, ORIGIN)
    events = await audit_events(db, f"fund:{fund_id}")
    assert ("reviewer_pool.accepted", reviewer.account_id) in [
        (action, summary["after"]["reviewer"]) for action, summary in events
    ]


async def test_only_reviewers_can_be_invited_and_only_by_the_funds_managers(setting):
    manager, fund_id = setting["manager"], setting["fund_id"]
    for address in (setting["applicant"].email, "nobody@example.vn"):
        with pytest.raises(InvalidInput) as refused:
            await reviewers.invite(manager, fund_id, address, ORIGIN)
        assert refused.value.field == "email"
        assert "No expert reviewer has this e-mail address" in refused.value.message
    with pytest.raises(NotFound):
        await reviewers.invite(setting["stranger"], fund_id, setting["panel"][0].email, ORIGIN)
    with pytest.raises(NotFound):
        await reviewers.pool(setting["stranger"], fund_id)


async def test_a_reviewer_declares_and_removes_relations(setting, db):
    reviewer = setting["panel"][0]
    vast = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    with pytest.raises(InvalidForm) as refused:
        await reviewers.declare_relation(reviewer, None, "", "0000-0002-1825-0098", "", ORIGIN)
    assert [p.field for p in refused.value.problems] == ["person_orcid"]
    with pytest.raises(InvalidForm):
        await reviewers.declare_relation(reviewer, None, "  ", "", "", ORIGIN)

    first = await reviewers.declare_relation(reviewer, vast, "", "", "Nơi tôi làm việc", ORIGIN)
    await reviewers.declare_relation(
        reviewer, None, "Lê  Văn Tám", "https://orcid.org/0000-0002-1825-0097", "", ORIGIN
    )
    mine = await reviewers.relations(reviewer)
    assert [(r.organisation is not None, r.person_name, r.person_orcid) for r in mine] == [
        (True, "", ""),
        (False, "Lê Văn Tám", "0000-0002-1825-0097"),
    ]
    other = setting["panel"][1]
    with pytest.raises(NotFound):  # someone else's relation
        await reviewers.remove_relation(other, first, ORIGIN)
    await reviewers.remove_relation(reviewer, first, ORIGIN)
    assert len(await reviewers.relations(reviewer)) == 1
    actions = [a for a, _ in await audit_events(db, f"account:{reviewer.account_id}")]
    assert actions.count("reviewer.relation_declared") == 2
    assert "reviewer.relation_removed" in actions


# Answering an assignment ------------------------------------------------------------------------


async def test_accepting_needs_the_no_conflict_declaration_and_a_conflict_needs_a_note(setting, db):
    first, second, third = setting["panel"]
    proposal_id = setting["proposal_id"]
    with pytest.raises(InvalidInput) as refused:
        await reviews.answer(first, proposal_id, "accept", False, "", ORIGIN)
    assert refused.value.field == "no_conflict"
    with pytest.raises(InvalidInput) as refused:
        await reviews.answer(second, proposal_id, "conflict", False, "  ", ORIGIN)
    assert refused.value.field == "note"
    before = await reviews.assignment(first, proposal_id)
    assert before.status == AssignmentStatus.ASSIGNED
    assert before.copy is None
    assert before.draft is None

    seen = await accepted(setting, first)
    assert seen.status == AssignmentStatus.ACCEPTED
    assert seen.review_status == ReviewStatus.DRAFT
    assert seen.draft.marks == (None, None, None)
    assert seen.copy.title_vi == "Cảm biến lượng tử cho y tế"
    await reviews.answer(second, proposal_id, "conflict", False, "Đồng tác giả năm 2025", ORIGIN)
    await reviews.answer(third, proposal_id, "decline", False, "", ORIGIN)
    with pytest.raises(Conflict):
        await reviews.answer(third, proposal_id, "accept", True, "", ORIGIN)

    assignment_id = seen.assignment_id
    events = await audit_events(db, f"assignment:{assignment_id}")
    assert events[0][0] == "review.assignment_accepted"
    assert events[0][1]["after"]["declared_no_conflict"] is True
    # A conflict found after accepting: declared, and the unsubmitted draft goes.
    await reviews.answer(first, proposal_id, "conflict", False, "Tôi nhận ra nhóm này", ORIGIN)
    assert (
        await db.fetchval("SELECT count(*) FROM review WHERE assignment = $1", assignment_id) == 0
    )
    with pytest.raises(NotFound):
        await reviews.save_review(first, proposal_id, COMPLETE, seen.row_version, ORIGIN)


async def test_an_unassigned_reviewer_and_another_funds_manager_get_not_found(
    setting, database_url
):
    outsider = await person(database_url, (Role.REVIEWER, None))
    proposal_id = setting["proposal_id"]
    for attempt in (
        reviews.assignment(outsider, proposal_id),
        reviews.answer(outsider, proposal_id, "accept", True, "", ORIGIN),
        reviews.save_review(outsider, proposal_id, COMPLETE, 1, ORIGIN),
        reviews.reviewer_file(outsider, proposal_id, setting["sha256"]),
        reviews.proposal_reviews(setting["stranger"], proposal_id),
        reviews.proposal_reviews(outsider, proposal_id),
    ):
        with pytest.raises(NotFound):
            await attempt
    # Assigned but not accepted: no file, no form.
    reviewer = setting["panel"][0]
    with pytest.raises(NotFound):
        await reviews.reviewer_file(reviewer, proposal_id, setting["sha256"])
    with pytest.raises(NotFound):
        await reviews.save_review(reviewer, proposal_id, COMPLETE, 1, ORIGIN)


# The review form ---------------------------------------------------------------------------------


async def test_marks_off_the_scale_or_its_step_are_refused_at_their_field_and_nothing_is_saved(
    setting, db
):
    reviewer = setting["panel"][0]
    seen = await accepted(setting, reviewer)
    stored = await db.fetchrow(
        "SELECT marks, row_version FROM review WHERE id = $1", seen.review_id
    )
    for marks, field in (
        (("3.3", "", ""), "mark-0"),  # off the step (0.5)
        (("", "5.5", ""), "mark-1"),  # above the scale
        (("", "", "-1"), "mark-2"),
        (("", "", "ba"), "mark-2"),
        (("", "3.25", ""), "mark-1"),
    ):
        typed = ReviewInput(marks, ("Nhận xét", "", ""), "")
        with pytest.raises(InvalidForm) as refused:
            await reviews.save_review(
                reviewer, setting["proposal_id"], typed, seen.row_version, ORIGIN
            )
        [problem] = refused.value.problems
        assert problem.field == field
        assert problem.message == "Give a mark from %(low)s to %(high)s in steps of %(step)s."
        assert problem.params == {"low": 0, "high": 5, "step": Decimal("0.5")}
    after = await db.fetchrow("SELECT marks, row_version FROM review WHERE id = $1", seen.review_id)
    assert after == stored

    saved = await reviews.save_review(
        reviewer, setting["proposal_id"], COMPLETE, seen.row_version, ORIGIN
    )
    again = await reviews.assignment(reviewer, setting["proposal_id"])
    assert again.draft.marks == (40, 35, 30)
    assert again.draft.comments[1] == "Tác động lớn\n\nvới dữ liệu mở."
    assert again.row_version == saved.row_version == seen.row_version + 1
    with pytest.raises(StaleEdit):  # another window saved first
        await reviews.save_review(
            reviewer,
            setting["proposal_id"],
            replace(COMPLETE, overall_comment="Khác"),
            seen.row_version,
            ORIGIN,
        )
    events = await audit_events(db, f"review:{seen.review_id}")
    assert events[-1][0] == "review.draft_saved"
    assert events[-1][1]["after"]["changed"] == [
        "mark-0", "mark-1", "mark-2", "comment-0", "comment-1", "comment-2", "overall_comment",
    ]  # fmt: skip


async def test_submitting_needs_every_mark_and_comment_then_locks_the_review(setting, db):
    reviewer = setting["panel"][0]
    proposal_id = setting["proposal_id"]
    seen = await accepted(setting, reviewer)
    incomplete = ReviewInput(("4", "", "3"), ("Tốt", "", ""), "")
    with pytest.raises(InvalidForm) as refused:
        await reviews.submit_review(reviewer, proposal_id, incomplete, seen.row_version, ORIGIN)
    assert [p.field for p in refused.value.problems] == [
        "mark-1", "comment-1", "comment-2", "overall_comment",
    ]  # fmt: skip
    assert {p.message for p in refused.value.problems} == {
        "Give a mark on this criterion.",
        "Write a comment on this criterion.",
        "Write an overall comment.",
    }
    row = await db.fetchrow("SELECT status, marks FROM review WHERE id = $1", seen.review_id)
    assert (row["status"], json.loads(row["marks"])) == ("draft", [None, None, None])

    done = await reviews.submit_review(reviewer, proposal_id, COMPLETE, seen.row_version, ORIGIN)
    assert done.status == ReviewStatus.SUBMITTED
    # The same click again answers the same; any change is refused, saving too.
    again = await reviews.submit_review(reviewer, proposal_id, COMPLETE, 1, ORIGIN)
    assert again.status == ReviewStatus.SUBMITTED
    changed = replace(COMPLETE, overall_comment="Sửa sau khi nộp")
    for action in (reviews.submit_review, reviews.save_review):
        with pytest.raises(Conflict) as locked:
            await action(reviewer, proposal_id, changed, done.row_version, ORIGIN)
        assert "locked" in locked.value.message
    submitted = await reviews.assignment(reviewer, proposal_id)
    assert submitted.draft.overall_comment == COMPLETE.overall_comment
    events = await audit_events(db, f"review:{seen.review_id}")
    assert [a for a, _ in events].count("review.submitted") == 1
    assert events[-1][1]["after"]["marks"] == [40, 35, 30]


async def test_after_the_review_deadline_nothing_is_saved_submitted_or_accepted(setting):
    first, second, _ = setting["panel"]
    proposal_id = setting["proposal_id"]
    seen = await accepted(setting, first)
    late = at(setting["due"])  # the deadline instant itself is late
    for action in (reviews.save_review, reviews.submit_review):
        with pytest.raises(Conflict) as refused:
            await action(first, proposal_id, COMPLETE, seen.row_version, late)
        assert refused.value.message == reviews.REVIEW_CLOSED
        assert refused.value.params["closes_at"].endswith("(GMT+7)")
    with pytest.raises(Conflict):
        await reviews.answer(second, proposal_id, "accept", True, "", late)
    just_in_time = at(setting["due"] - timedelta(microseconds=1))
    await reviews.submit_review(first, proposal_id, COMPLETE, seen.row_version, just_in_time)


async def test_a_manager_reopens_a_submitted_review_with_a_reason_audited_and_mailed(setting, db):
    reviewer = setting["panel"][0]
    proposal_id, manager = setting["proposal_id"], setting["manager"]
    seen = await accepted(setting, reviewer)
    await reviews.submit_review(reviewer, proposal_id, COMPLETE, seen.row_version, ORIGIN)
    with pytest.raises(InvalidInput) as refused:
        await reviews.reopen(manager, proposal_id, seen.review_id, "  ", ORIGIN)
    assert refused.value.field == "reason"
    with pytest.raises(NotFound):
        await reviews.reopen(setting["stranger"], proposal_id, seen.review_id, "Lý do", ORIGIN)
    with pytest.raises(NotFound):  # a reviewer is no manager
        await reviews.reopen(reviewer, proposal_id, seen.review_id, "Lý do", ORIGIN)

    reason = "Nhận xét tiêu chí 2 chưa nêu căn cứ."
    await reviews.reopen(manager, proposal_id, seen.review_id, reason, ORIGIN)
    with pytest.raises(Conflict):  # a draft again: nothing to reopen
        await reviews.reopen(manager, proposal_id, seen.review_id, reason, ORIGIN)
    again = await reviews.assignment(reviewer, proposal_id)
    assert (again.review_status, again.reopen_reason) == (ReviewStatus.DRAFT, reason)
    events = await audit_events(db, f"review:{seen.review_id}")
    action, summary = events[-1]
    assert action == "review.reopened"
    assert summary["after"]["reason"] == reason
    body = await db.fetchval(
        "SELECT body FROM outbox_mail WHERE recipient = $1 ORDER BY id DESC", reviewer.email
    )
    assert reason in body
    board = await reviews.proposal_reviews(manager, proposal_id)
    [line] = [r for r in board.reviews if r.review_id == seen.review_id]
    assert line.reopen_reason == reason
    # The reviewer changes it and submits again.
    changed = replace(COMPLETE, comments=("A", "Căn cứ: bảng 3.", "C"))
    await reviews.submit_review(reviewer, proposal_id, changed, again.row_version, ORIGIN)


async def test_other_reviews_show_only_after_ones_own_and_only_when_the_call_says_so(setting, db):
    first, second, _ = setting["panel"]
    proposal_id = setting["proposal_id"]
    mine = await accepted(setting, first)
    theirs = await accepted(setting, second)
    await reviews.submit_review(second, proposal_id, COMPLETE, theirs.row_version, ORIGIN)
    assert (await reviews.assignment(first, proposal_id)).others == ()
    await reviews.submit_review(first, proposal_id, COMPLETE, mine.row_version, ORIGIN)
    shown = (await reviews.assignment(first, proposal_id)).others
    assert [(o.number, o.draft.marks) for o in shown] == [(1, (40, 35, 30))]
    assert shown[0].reviewer_name  # an open call: names are shown

    await db.execute("UPDATE call SET blind_review = true WHERE id = $1", setting["call_id"])
    blind = (await reviews.assignment(first, proposal_id)).others
    assert blind[0].reviewer_name is None
    await db.execute(
        "UPDATE call SET reviewers_see_others = false WHERE id = $1", setting["call_id"]
    )
    assert (await reviews.assignment(first, proposal_id)).others == ()


async def test_a_blind_copy_has_no_applicant_and_serves_the_stripped_file(setting, db):
    reviewer = setting["panel"][0]
    proposal_id = setting["proposal_id"]
    open_copy = (await accepted(setting, reviewer)).copy
    assert open_copy.applicant_shown
    assert open_copy.organisation is not None
    assert open_copy.pi_name == "Nguyễn Thị Hoa"
    assert await reviews.reviewer_file(reviewer, proposal_id, setting["sha256"]) == (
        setting["sha256"],
        "thuyet-minh.pdf",
    )
    await db.execute("UPDATE call SET blind_review = true WHERE id = $1", setting["call_id"])
    blind = (await reviews.assignment(reviewer, proposal_id)).copy
    assert not blind.applicant_shown
    assert (blind.organisation, blind.pi_name, blind.pi_orcid, blind.team) == (None, None, None, ())
    [item] = blind.files
    assert item.sha256 != setting["sha256"]
    assert item.filename == f"{setting['reference']}-description-1.pdf"
    with pytest.raises(NotFound):  # the original is not theirs to fetch
        await reviews.reviewer_file(reviewer, proposal_id, setting["sha256"])
    assert await reviews.reviewer_file(reviewer, proposal_id, item.sha256) == (
        item.sha256,
        item.filename,
    )


# Review mail ------------------------------------------------------------------------------------


async def test_new_assignments_are_mailed_once_per_reviewer_without_the_title(
    setting, db, database_url
):
    reviewer = await person(database_url, (Role.REVIEWER, None))
    made = [await make_assignment(db, setting["proposal_id"], reviewer.account_id)]
    other_call = await open_call(
        setting["manager"], setting["fund_id"], title_vi="Đặt hàng thứ hai"
    )
    organisation_id = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    second, *_ = await submitted_proposal(
        setting["applicant"], other_call, organisation_id, "Đề xuất thứ hai", PostgresStorage()
    )
    made.append(await make_assignment(db, second, reviewer.account_id))
    assert await reviews.notify_assigned(made) == 1
    [body] = await db.fetch("SELECT body FROM outbox_mail WHERE recipient = $1", reviewer.email)
    assert setting["reference"] in body["body"]
    assert "Đặt hàng thứ hai" in body["body"]
    assert "Cảm biến lượng tử" not in body["body"]  # no title: calls may be blind
    assert "(GMT+7)" in body["body"]


def test_the_reminder_job_is_registered_and_periodic():
    assert "reviews:send_reminders" in worker.app.tasks
    periodic = {task.task.name for task in worker.app.periodic_registry.periodic_tasks.values()}
    assert "reviews:send_reminders" in periodic


async def test_reminders_go_three_days_before_the_deadline_once_per_assignment(setting, db):
    first, second, third = setting["panel"]
    proposal_id = setting["proposal_id"]
    await accepted(setting, first)
    done = await accepted(setting, second)
    await reviews.submit_review(second, proposal_id, COMPLETE, done.row_version, ORIGIN)
    # `third` has not answered: nothing to remind of.
    due = setting["due"]
    assert await reviews.send_reminders(due - timedelta(days=3, minutes=1)) == 0
    assert await reviews.send_reminders(due - timedelta(days=2)) >= 1
    assert await reviews.send_reminders(due - timedelta(days=1)) == 0  # once only
    subject = translate_in("vi", "Reminder: reviews due soon")
    reminded = await db.fetch(
        "SELECT recipient, body FROM outbox_mail WHERE subject = $1 AND recipient = ANY($2)",
        subject,
        [first.email, second.email, third.email],
    )
    assert [r["recipient"] for r in reminded] == [first.email]
    assert setting["reference"] in reminded[0]["body"]
    assert await reviews.send_reminders(due + timedelta(minutes=1)) == 0
