"""Expert review from the reviewer's side: their desk, the answer to each assignment (no
conflict of interest declared, declined, or a conflict declared), reading the submitted
version, the review form (saved as it is typed, submitted once complete, then locked), the
other reviews once one's own is in, and the manager's reopening of a submitted review. Also
the review mail: invitations to new assignments (`notify_assigned`, for whoever creates them)
and reminders before the review deadline (`send_reminders`, a periodic job).

A reviewer reaches only their own assignments; reading and scoring need the assignment
accepted (`domain.permissions.may_review`). What a reviewer sees of the applicant is decided
in one place, `_copy`, by `domain.permissions.may_see_applicant`: in a blind call the copy
has no organisation, names, ORCID iDs or original files at all. Every change is one
transaction that ends with its audit event; deadlines are judged at the instant the request
arrived (`domain.clock`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.catalogue import Localized
from registry.domain.clock import VIETNAM
from registry.domain.errors import Conflict, InvalidForm, InvalidInput, NotFound, StaleEdit
from registry.domain.permissions import (
    Target,
    may_decide,
    may_review,
    may_review_at_all,
    may_see_applicant,
    may_see_title,
)
from registry.domain.proposals import proposal_reference
from registry.domain.reviews import (
    NOTE_MAX,
    AssignmentStatus,
    ProposalCopy,
    ReviewDraft,
    ReviewInput,
    ReviewStatus,
    clean_comment,
    proposal_copy,
    read_review,
    submission_problems,
)
from registry.domain.scoring import Criteria
from registry.i18n import N_, translate_in
from registry.services import audit, calls, clock, mail, scopes
from registry.services.queries import reviews as sql
from registry.services.reviewers import Invitation, invitations, technology_names

#: Reminders go out this long before the review deadline.
REMIND_BEFORE = timedelta(days=3)
#: Assignments one run of the reminder job takes at a time.
REMINDER_BATCH = 500

REVIEW_CLOSED = N_("Reviews were due by %(closes_at)s. The review can no longer be changed.")
LOCKED = N_("This review is submitted and locked. A fund manager can reopen it.")
CHANGED_ELSEWHERE = N_(
    "This review was changed in another window since you opened it. What you typed is shown "
    "here: save again to keep it, or reload the page to see the other version."
)


def vietnam_time(moment: datetime) -> str:
    """A moment as mail and messages show it in both languages: `05/03/2026 17:00 (GMT+7)`."""
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") + " (GMT+7)"


@dataclass(frozen=True, slots=True)
class AssignmentItem:
    """One line of a reviewer's desk."""

    proposal_id: int
    reference: str
    call_id: int
    call_title: Localized
    #: None while a blind call's assignment is not accepted (domain.permissions.may_see_title).
    title: str | None
    technologies: tuple[Localized, ...]
    status: AssignmentStatus
    review_status: ReviewStatus | None
    review_closes_at: datetime | None
    blind: bool


@dataclass(frozen=True, slots=True)
class Desk:
    invitations: tuple[Invitation, ...]
    assignments: tuple[AssignmentItem, ...]


@dataclass(frozen=True, slots=True)
class OtherReview:
    """Another reviewer's submitted review, as a reviewer who submitted theirs sees it."""

    number: int
    #: None in a blind call: reviewers do not learn each other's names there either.
    reviewer_name: str | None
    criteria: Criteria
    draft: ReviewDraft
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewerAssignment:
    """One assignment as its reviewer sees it: before accepting, only what the declaration
    needs; once accepted, the submitted version (as `_copy` allows) and the review."""

    assignment_id: int
    proposal_id: int
    reference: str
    call_id: int
    call_title: Localized
    fund_name: Localized
    blind: bool
    status: AssignmentStatus
    answered_at: datetime | None
    answer_note: str
    review_closes_at: datetime | None
    title: str | None
    technologies: tuple[Localized, ...]
    copy: ProposalCopy | None = None
    review_id: int | None = None
    review_status: ReviewStatus | None = None
    criteria: Criteria | None = None
    draft: ReviewDraft | None = None
    row_version: int = 0
    submitted_at: datetime | None = None
    reopened_at: datetime | None = None
    reopen_reason: str = ""
    others: tuple[OtherReview, ...] = ()
    #: Others' reviews exist to be shown once one's own is submitted (call setting).
    others_after_submitting: bool = False

    def open_at(self, at: datetime) -> bool:
        """The review can still be saved and submitted at `at`."""
        return self.review_closes_at is None or at < self.review_closes_at

    @property
    def editable(self) -> bool:
        return self.review_status == ReviewStatus.DRAFT


@dataclass(frozen=True, slots=True)
class SavedReview:
    row_version: int
    status: ReviewStatus


# Reading one's assignments ------------------------------------------------------------------


def _reference(row: Any, proposal_key: str = "proposal") -> str:
    return proposal_reference(row["fund_code"], row["created_at"].year, row[proposal_key])


def _target(actor: Actor, row: Any) -> Target:
    """The assignment's proposal as the permission rules see it. Its reviewers are the
    accepted ones; only whether the actor is among them matters here."""
    accepted = row["status"] == AssignmentStatus.ACCEPTED
    return Target(
        organisation=row["organisation"],
        fund=row["fund"],
        reviewers=frozenset({actor.account_id}) if accepted else frozenset(),
        blind=row["blind_review"],
    )


async def _assignment(actor: Actor, proposal_id: int, *, lock: bool = False) -> Any:
    """The actor's own assignment to a submitted proposal; NotFound for anything else."""
    scopes.require(may_review_at_all, actor)
    if lock:
        await database.fetchval(sql.LOCK_ASSIGNMENT, proposal_id, actor.account_id)
    row = await database.fetchrow(sql.ASSIGNMENT, proposal_id, actor.account_id)
    if row is None:
        raise NotFound()
    return row


async def _criteria(
    call_id: int, version: int, cache: dict[int, Criteria] | None = None
) -> Criteria:
    if cache is not None and version in cache:
        return cache[version]
    criteria = await calls.criteria_version(call_id, version)
    if cache is not None:
        cache[version] = criteria
    return criteria


def _draft(row: Any) -> ReviewDraft:
    return ReviewDraft(
        tuple(json.loads(row["marks"])),
        tuple(json.loads(row["comments"])),
        row["overall_comment"],
    )


async def _copy(actor: Actor, target: Target, row: Any, content: dict[str, Any]) -> ProposalCopy:
    """The one place that decides what a reviewer sees of the applicant: the submitted
    version, stripped of every identity unless `may_see_applicant` holds."""
    see_applicant = may_see_applicant(actor, target)
    organisation = Localized("")
    if see_applicant:
        name = await database.fetchrow(sql.ORGANISATION_NAME, row["organisation"])
        organisation = Localized(name["name_vi"], name["name_en"])
    return proposal_copy(
        content,
        reference=_reference(row),
        version=row["version"],
        organisation=organisation,
        see_applicant=see_applicant,
    )


async def desk(actor: Actor) -> Desk:
    """The reviewer's pool invitations and assignments, those still to answer first."""
    scopes.require(may_review_at_all, actor)
    rows = await database.fetch(sql.DESK, actor.account_id)
    technologies = [json.loads(r["technologies"] or "[]") for r in rows]
    names = await technology_names([t for ids in technologies for t in ids])
    items = []
    for row, ids in zip(rows, technologies, strict=True):
        target = _target(actor, row)
        items.append(
            AssignmentItem(
                proposal_id=row["proposal"],
                reference=_reference(row),
                call_id=row["call"],
                call_title=Localized(row["call_title_vi"], row["call_title_en"] or None),
                title=row["title"] if may_see_title(actor, target) else None,
                technologies=tuple(names[t] for t in ids if t in names),
                status=AssignmentStatus(row["status"]),
                review_status=ReviewStatus(row["review_status"]) if row["review_status"] else None,
                review_closes_at=row["review_closes_at"],
                blind=row["blind_review"],
            )
        )
    return Desk(await invitations(actor), tuple(items))


async def assignment(actor: Actor, proposal_id: int) -> ReviewerAssignment:
    """One of the reviewer's assignments: before accepting, reference, call, technologies (and
    the title in an open call); once accepted, the submitted version and the review."""
    row = await _assignment(actor, proposal_id)
    target = _target(actor, row)
    status = AssignmentStatus(row["status"])
    number = row["version"] or row["submitted_version"]
    version = await database.fetchrow(sql.VERSION, proposal_id, number)
    content = json.loads(version["content"])
    names = await technology_names(content["proposal"].get("technologies", []))
    base = ReviewerAssignment(
        assignment_id=row["id"],
        proposal_id=proposal_id,
        reference=_reference(row),
        call_id=row["call"],
        call_title=Localized(row["call_title_vi"], row["call_title_en"] or None),
        fund_name=Localized(row["fund_name_vi"], row["fund_name_en"]),
        blind=row["blind_review"],
        status=status,
        answered_at=row["answered_at"],
        answer_note=row["answer_note"],
        review_closes_at=row["review_closes_at"],
        title=content["proposal"]["title_vi"] if may_see_title(actor, target) else None,
        technologies=tuple(names.values()),
    )
    if not may_review(actor, target) or row["review"] is None:
        return base
    criteria = await _criteria(row["call"], row["criteria_version"])
    review_status = ReviewStatus(row["review_status"])
    others: tuple[OtherReview, ...] = ()
    if review_status == ReviewStatus.SUBMITTED and row["reviewers_see_others"]:
        others = await _others(actor, row)
    return replace(
        base,
        copy=await _copy(actor, target, row, content),
        review_id=row["review"],
        review_status=review_status,
        criteria=criteria,
        draft=_draft(row),
        row_version=row["row_version"],
        submitted_at=row["submitted_at"],
        reopened_at=row["reopened_at"],
        reopen_reason=row["reopen_reason"],
        others=others,
        others_after_submitting=row["reviewers_see_others"],
    )


async def _others(actor: Actor, row: Any) -> tuple[OtherReview, ...]:
    """The other submitted reviews; names only where the call is not blind."""
    rows = await database.fetch(sql.OTHER_REVIEWS, row["proposal"], actor.account_id)
    cache: dict[int, Criteria] = {}
    others = []
    for number, other in enumerate(rows, start=1):
        others.append(
            OtherReview(
                number=number,
                reviewer_name=None if row["blind_review"] else other["display_name"],
                criteria=await _criteria(row["call"], other["criteria_version"], cache),
                draft=_draft(other),
                submitted_at=other["submitted_at"],
            )
        )
    return tuple(others)


async def reviewer_file(actor: Actor, proposal_id: int, sha256: str) -> tuple[str, str]:
    """(sha256, file name) of a file of the version under review, as the reviewer's copy
    names it: in a blind call only the stripped copies exist for them."""
    seen = await assignment(actor, proposal_id)
    for item in seen.copy.files if seen.copy else ():
        if item.sha256 == sha256:
            return item.sha256, item.filename
    raise NotFound()


# Answering an assignment ------------------------------------------------------------------------

ANSWERS = {
    "accept": AssignmentStatus.ACCEPTED,
    "decline": AssignmentStatus.DECLINED,
    "conflict": AssignmentStatus.CONFLICT,
}


def _require_before_deadline(row: Any, at: datetime) -> None:
    closes = row["review_closes_at"]
    if closes is not None and at >= closes:
        raise Conflict(REVIEW_CLOSED, closes_at=vietnam_time(closes))


async def answer(
    actor: Actor, proposal_id: int, choice: str, no_conflict: bool, note: str, origin: Origin
) -> AssignmentStatus:
    """The reviewer's answer: accept (declaring no conflict of interest: `no_conflict` must
    be ticked), decline, or declare a conflict (with a note saying what it is). A conflict can
    still be declared after accepting, until the review is submitted; its draft goes."""
    status = ANSWERS.get(choice)
    if status is None:
        raise InvalidInput("Choose whether you accept this review.", field="answer")
    note = clean_comment(note)
    if len(note) > NOTE_MAX:
        raise InvalidInput("Use at most %(count)s characters.", field="note", count=NOTE_MAX)
    if status == AssignmentStatus.ACCEPTED and not no_conflict:
        raise InvalidInput(
            "Declare that you have no conflict of interest with this proposal before opening it.",
            field="no_conflict",
        )
    if status == AssignmentStatus.CONFLICT and not note:
        raise InvalidInput("Say briefly what the conflict of interest is.", field="note")
    at = clock.arrival(origin)
    async with database.transaction():
        row = await _assignment(actor, proposal_id, lock=True)
        before = AssignmentStatus(row["status"])
        if before != AssignmentStatus.ASSIGNED and not (
            status == AssignmentStatus.CONFLICT and before == AssignmentStatus.ACCEPTED
        ):
            raise Conflict("You have already answered this assignment.")
        if row["review_status"] == ReviewStatus.SUBMITTED:
            raise Conflict(LOCKED)
        if status == AssignmentStatus.ACCEPTED:
            _require_before_deadline(row, at)
            await _start_review(row)
        if before == AssignmentStatus.ACCEPTED:
            await database.execute(sql.DELETE_DRAFT_REVIEW, row["id"])
        await database.execute(sql.ANSWER_ASSIGNMENT, row["id"], str(status), at, note)
        await audit.record(
            f"review.assignment_{status}",
            f"assignment:{row['id']}",
            actor=actor,
            origin=origin,
            before={"status": str(before)},
            after={
                "proposal": proposal_id,
                "status": str(status),
                "declared_no_conflict": status == AssignmentStatus.ACCEPTED,
                "note": note,
            },
        )
    return status


async def _start_review(row: Any) -> int:
    """An empty review of the latest submitted version, against its frozen criteria."""
    version = await database.fetchrow(sql.VERSION, row["proposal"], row["submitted_version"])
    criteria = await _criteria(row["call"], version["criteria_version"])
    blank = ReviewDraft.blank(criteria)
    return await database.fetchval(
        sql.INSERT_REVIEW,
        row["id"],
        version["number"],
        version["criteria_version"],
        json.dumps(list(blank.marks)),
        json.dumps(list(blank.comments)),
    )


# The review form --------------------------------------------------------------------------------


async def _open_review(actor: Actor, proposal_id: int, at: datetime) -> tuple[Any, Criteria]:
    """The actor's accepted assignment's review, locked, and its criteria."""
    row = await _assignment(actor, proposal_id, lock=True)
    scopes.require(may_review, actor, _target(actor, row))
    if row["review"] is None:
        raise NotFound()
    return row, await _criteria(row["call"], row["criteria_version"])


async def _store(row: Any, draft: ReviewDraft) -> int:
    return await database.fetchval(
        sql.SAVE_REVIEW,
        row["review"],
        json.dumps(list(draft.marks)),
        json.dumps(list(draft.comments), ensure_ascii=False),
        draft.overall_comment,
    )


def _changed(before: ReviewDraft, after: ReviewDraft) -> list[str]:
    """Which fields changed (names as in the form), for the audit trail."""
    marks = zip(before.marks, after.marks, strict=True)
    comments = zip(before.comments, after.comments, strict=True)
    fields = [f"mark-{i}" for i, (old, new) in enumerate(marks) if old != new]
    fields += [f"comment-{i}" for i, (old, new) in enumerate(comments) if old != new]
    if before.overall_comment != after.overall_comment:
        fields.append("overall_comment")
    return fields


async def save_review(
    actor: Actor, proposal_id: int, typed: ReviewInput, row_version: int, origin: Origin
) -> SavedReview:
    """Store the draft if nobody changed it since `row_version` (autosave and Save). Marks off
    their scale or step are refused with nothing stored; a submitted review is locked; after
    the review deadline nothing is saved."""
    at = clock.arrival(origin)
    async with database.transaction():
        row, criteria = await _open_review(actor, proposal_id, at)
        if row["review_status"] != ReviewStatus.DRAFT:
            raise Conflict(LOCKED)
        _require_before_deadline(row, at)
        draft = read_review(criteria, typed)
        stored = _draft(row)
        if row["row_version"] != row_version:
            raise StaleEdit(CHANGED_ELSEWHERE)
        if draft == stored:
            return SavedReview(row["row_version"], ReviewStatus.DRAFT)
        new_version = await _store(row, draft)
        await audit.record(
            "review.draft_saved",
            f"review:{row['review']}",
            actor=actor,
            origin=origin,
            after={"proposal": proposal_id, "changed": _changed(stored, draft)},
        )
    return SavedReview(new_version, ReviewStatus.DRAFT)


async def submit_review(
    actor: Actor, proposal_id: int, typed: ReviewInput, row_version: int, origin: Origin
) -> SavedReview:
    """Save what is on screen and submit it, in one transaction: every criterion needs a mark
    on its scale and a comment, and the review an overall comment (each missing one named at
    its field; nothing is stored then). Submitted, the review is locked. A repeated click with
    the same content answers as the first did."""
    at = clock.arrival(origin)
    async with database.transaction():
        row, criteria = await _open_review(actor, proposal_id, at)
        draft = read_review(criteria, typed)
        stored = _draft(row)
        if row["review_status"] == ReviewStatus.SUBMITTED:
            if draft == stored:
                return SavedReview(row["row_version"], ReviewStatus.SUBMITTED)
            raise Conflict(LOCKED)
        _require_before_deadline(row, at)
        if draft != stored and row["row_version"] != row_version:
            raise StaleEdit(CHANGED_ELSEWHERE)
        problems = submission_problems(criteria, draft)
        if problems:
            raise InvalidForm(problems)
        if draft != stored:
            await _store(row, draft)
        new_version = await database.fetchval(sql.SUBMIT_REVIEW, row["review"], at)
        await audit.record(
            "review.submitted",
            f"review:{row['review']}",
            actor=actor,
            origin=origin,
            after={
                "proposal": proposal_id,
                "version": row["version"],
                "criteria_version": row["criteria_version"],
                "marks": list(draft.marks),
                "submitted_at": at,
            },
        )
    return SavedReview(new_version, ReviewStatus.SUBMITTED)


# The manager's view -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManagedReview:
    """One assignment of a proposal and its review, as the fund's managers see it."""

    assignment_id: int
    reviewer_id: int
    reviewer_name: str
    reviewer_email: str
    status: AssignmentStatus
    answered_at: datetime | None
    answer_note: str
    source: str
    review_id: int | None
    review_status: ReviewStatus | None
    criteria: Criteria | None
    draft: ReviewDraft | None
    updated_at: datetime | None
    submitted_at: datetime | None
    reopened_at: datetime | None
    reopen_reason: str


@dataclass(frozen=True, slots=True)
class ProposalReviews:
    proposal_id: int
    reference: str
    title: str
    organisation: Localized
    call_id: int
    call_title: Localized
    review_closes_at: datetime | None
    reviews: tuple[ManagedReview, ...]


async def _managed_proposal(actor: Actor, proposal_id: int) -> Any:
    row = await database.fetchrow(sql.MANAGED_PROPOSAL, proposal_id)
    if row is None:
        raise NotFound()
    scopes.require(may_decide, actor, Target(organisation=row["organisation"], fund=row["fund"]))
    return row


async def proposal_reviews(actor: Actor, proposal_id: int) -> ProposalReviews:
    """Every assignment of a proposal of the manager's fund, with each review's marks and
    comments per criterion (drafts too, marked as such)."""
    row = await _managed_proposal(actor, proposal_id)
    cache: dict[int, Criteria] = {}
    lines = []
    for r in await database.fetch(sql.PROPOSAL_REVIEWS, proposal_id):
        has_review = r["review"] is not None
        lines.append(
            ManagedReview(
                assignment_id=r["assignment"],
                reviewer_id=r["reviewer"],
                reviewer_name=r["display_name"],
                reviewer_email=r["email"],
                status=AssignmentStatus(r["status"]),
                answered_at=r["answered_at"],
                answer_note=r["answer_note"],
                source=r["source"],
                review_id=r["review"],
                review_status=ReviewStatus(r["review_status"]) if has_review else None,
                criteria=await _criteria(row["call"], r["criteria_version"], cache)
                if has_review
                else None,
                draft=_draft(r) if has_review else None,
                updated_at=r["updated_at"],
                submitted_at=r["submitted_at"],
                reopened_at=r["reopened_at"],
                reopen_reason=r["reopen_reason"] or "",
            )
        )
    return ProposalReviews(
        proposal_id=proposal_id,
        reference=proposal_reference(row["fund_code"], row["created_at"].year, proposal_id),
        title=row["title"] or "",
        organisation=Localized(row["organisation_vi"], row["organisation_en"]),
        call_id=row["call"],
        call_title=Localized(row["call_title_vi"], row["call_title_en"] or None),
        review_closes_at=row["review_closes_at"],
        reviews=tuple(lines),
    )


async def reopen(
    actor: Actor, proposal_id: int, review_id: int, reason: str, origin: Origin
) -> None:
    """A fund manager reopens a submitted review, with a reason the reviewer is mailed and
    the audit trail keeps; the review becomes a draft its reviewer can change and submit
    again (before the review deadline)."""
    row = await _managed_proposal(actor, proposal_id)
    reason = clean_comment(reason)
    if not reason:
        raise InvalidInput("Give the reason for reopening the review.", field="reason")
    if len(reason) > NOTE_MAX:
        raise InvalidInput("Use at most %(count)s characters.", field="reason", count=NOTE_MAX)
    at = clock.arrival(origin)
    async with database.transaction():
        await database.fetchval(sql.LOCK_REVIEW_ASSIGNMENT, review_id, proposal_id)
        review = await database.fetchrow(sql.REVIEW_TO_REOPEN, review_id, proposal_id)
        if review is None:
            raise NotFound()
        if review["status"] != ReviewStatus.SUBMITTED:
            raise Conflict("Only a submitted review can be reopened.")
        await database.execute(sql.REOPEN_REVIEW, review_id, at, reason)
        language = review["language"] or "vi"
        reference = proposal_reference(row["fund_code"], row["created_at"].year, proposal_id)
        await mail.enqueue(
            review["email"],
            language,
            N_("Your review of %(reference)s was reopened"),
            N_(
                "A manager of the fund reopened your submitted review of proposal "
                "%(reference)s, for this reason:\n\n%(reason)s\n\nChange it and submit it "
                "again on your review desk: %(desk)s"
            ),
            {"reference": reference, "reason": reason, "desk": mail.page_link("/review")},
        )
        await audit.record(
            "review.reopened",
            f"review:{review_id}",
            actor=actor,
            origin=origin,
            before={"status": str(ReviewStatus.SUBMITTED)},
            after={
                "proposal": proposal_id,
                "reviewer": review["reviewer"],
                "status": str(ReviewStatus.DRAFT),
                "reason": reason,
            },
        )


# Review mail ------------------------------------------------------------------------------------


def _mail_lines(rows: Iterable[Any], language: str) -> str:
    """One line per assignment: reference and call, the deadline when there is one. Never
    the title or anything of the applicant (blind calls)."""
    lines = []
    for row in rows:
        title = row["title_en"] if language == "en" and row["title_en"] else row["title_vi"]
        line = f"- {_reference(row)} · {title}"
        if row["review_closes_at"] is not None:
            due = translate_in(
                language,
                N_("due %(closes_at)s"),
                {"closes_at": vietnam_time(row["review_closes_at"])},
            )
            line += f" ({due})"
        lines.append(line)
    return "\n".join(lines)


def _by_reviewer(rows: Sequence[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row["reviewer"], []).append(row)
    return grouped


async def notify_assigned(assignment_ids: Sequence[int]) -> int:
    """Queue the invitation mail for new assignments, one message per reviewer listing theirs
    (in the reviewer's language), in the caller's transaction. Call it where the assignments
    are made; answered ones are left out. Returns the number of messages queued."""
    rows = await database.fetch(sql.TO_NOTIFY, sorted(set(assignment_ids)))
    grouped = _by_reviewer(rows)
    for reviewer_rows in grouped.values():
        first = reviewer_rows[0]
        language = first["language"] or "vi"
        await mail.enqueue(
            first["email"],
            language,
            N_("Proposals to review: %(count)s"),
            N_(
                "You are asked to review these proposals:\n\n%(lines)s\n\nOn your review desk, "
                "declare for each that you have no conflict of interest before you open it, "
                "or decline it, or declare a conflict: %(desk)s"
            ),
            {
                "count": len(reviewer_rows),
                "lines": _mail_lines(reviewer_rows, language),
                "desk": mail.page_link("/review"),
            },
        )
    return len(grouped)


async def send_reminders(at: datetime | None = None) -> int:
    """Remind reviewers of accepted, unsubmitted reviews due within REMIND_BEFORE: one
    message per reviewer, each assignment reminded once (concurrent runs skip each other's
    rows). Returns the number of assignments reminded."""
    now = at or clock.now()
    reminded = 0
    while True:
        async with database.transaction():
            rows = await database.fetch(sql.DUE_REMINDERS, now, now + REMIND_BEFORE, REMINDER_BATCH)
            for reviewer_rows in _by_reviewer(rows).values():
                first = reviewer_rows[0]
                language = first["language"] or "vi"
                await mail.enqueue(
                    first["email"],
                    language,
                    N_("Reminder: reviews due soon"),
                    N_(
                        "Your reviews of these proposals are not submitted yet:\n\n%(lines)s\n\n"
                        "After the deadline they can no longer be saved or submitted. Your "
                        "review desk: %(desk)s"
                    ),
                    {
                        "lines": _mail_lines(reviewer_rows, language),
                        "desk": mail.page_link("/review"),
                    },
                )
            await database.execute(sql.MARK_REMINDED, [r["id"] for r in rows], now)
        reminded += len(rows)
        if len(rows) < REMINDER_BATCH:
            return reminded
