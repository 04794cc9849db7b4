"""Expert review's states (a reviewer in a fund's pool, an assignment, a review, a call's
decision and each proposal's outcome), a review's marks and comments as the form gives them,
and what a reader of a submitted proposal is shown (`proposal_copy`: blind review).

Pure values; services move rows between these states and write each move to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from registry.domain.catalogue import Localized
from registry.domain.errors import InvalidInput, Problems
from registry.domain.scoring import TENTHS, Criteria, Scale, mark_number
from registry.domain.text import nfc


class PoolStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"  # asked, not answered yet
    ACCEPTED = "accepted"  # the reviewer declared no conflict and may open the proposal
    DECLINED = "declined"
    CONFLICT = "conflict"  # the reviewer declared a conflict of interest


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # locked; a manager may reopen it, with a reason


class DecisionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"  # final
    WITHDRAWN = "withdrawn"


class OutcomeKind(StrEnum):
    FUNDED = "funded"
    RESERVE = "reserve"
    REJECTED = "rejected"


# A review's marks and comments ------------------------------------------------------------------

#: Longest comment on one criterion, and the overall comment (characters).
COMMENT_MAX = 5000
OVERALL_MAX = 10000
#: Longest note with a declined assignment or a declared conflict, and a manager's reason.
NOTE_MAX = 2000
#: Longest keyword list on a reviewer's profile.
KEYWORDS_MAX = 1000

_MARK_TEXT = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,3})?")  # ASCII digits only (fullmatch)
#: Bidirectional controls: invisible, and they make text read in another order than stored.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
)


@dataclass(frozen=True, slots=True)
class ReviewDraft:
    """One reviewer's marks (tenths, None where not given yet) and comments, in the order of
    the criteria of the version they judge."""

    marks: tuple[int | None, ...]
    comments: tuple[str, ...]
    overall_comment: str = ""

    @classmethod
    def blank(cls, criteria: Criteria) -> ReviewDraft:
        count = len(criteria.items)
        return cls((None,) * count, ("",) * count, "")

    def to_json(self) -> dict[str, Any]:
        return {
            "marks": list(self.marks),
            "comments": list(self.comments),
            "overall_comment": self.overall_comment,
        }


def clean_comment(text: str) -> str:
    """NFC without bidirectional controls, line breaks kept (paragraphs matter in a review),
    trailing spaces and surrounding blank lines dropped."""
    lines = nfc(text).translate(_BIDI_CONTROLS).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in lines.split("\n")).strip()


def _mark(text: str, scale: Scale, field: str) -> int | None:
    """A mark as typed (`3.5`, `3,5`) in tenths; empty is None. Anything off the scale or its
    step is the scale's own message, at the criterion's field."""
    text = text.strip()
    if not text:
        return None
    value = Fraction(text.replace(",", ".")) * TENTHS if _MARK_TEXT.fullmatch(text) else None
    try:
        if value is None or value.denominator != 1:
            raise InvalidInput(
                "Give a mark from %(low)s to %(high)s in steps of %(step)s.",
                low=mark_number(scale.low),
                high=mark_number(scale.high),
                step=mark_number(scale.step),
            )
        return scale.check(int(value))
    except InvalidInput as problem:
        raise InvalidInput(problem.message, field=field, **problem.params) from None


def read_review(criteria: Criteria, typed: ReviewInput) -> ReviewDraft:
    """A draft from the review form's fields (`mark-N`, `comment-N`, `overall_comment`), or
    InvalidForm naming each field that cannot be kept: a mark off its criterion's scale or
    step, a comment too long. Missing marks and comments are fine in a draft."""
    problems = Problems()
    marks, comments = typed.marks, typed.comments
    read_marks: list[int | None] = []
    read_comments: list[str] = []
    for index, criterion in enumerate(criteria.items):
        text = marks[index] if index < len(marks) else ""
        read_marks.append(
            problems.read(lambda t=text, c=criterion, i=index: _mark(t, c.scale, f"mark-{i}"))
        )
        comment = clean_comment(comments[index] if index < len(comments) else "")
        if len(comment) > COMMENT_MAX:
            problems.add(
                InvalidInput(
                    "Use at most %(count)s characters.", field=f"comment-{index}", count=COMMENT_MAX
                )
            )
        read_comments.append(comment)
    overall = clean_comment(typed.overall_comment)
    if len(overall) > OVERALL_MAX:
        problems.add(
            InvalidInput(
                "Use at most %(count)s characters.", field="overall_comment", count=OVERALL_MAX
            )
        )
    problems.raise_any()
    return ReviewDraft(tuple(read_marks), tuple(read_comments), overall)


def submission_problems(criteria: Criteria, draft: ReviewDraft) -> list[InvalidInput]:
    """What a review still lacks before it can be submitted: a mark and a comment on every
    criterion, and an overall comment; each problem at its field."""
    problems = []
    for index, _criterion in enumerate(criteria.items):
        mark = draft.marks[index] if index < len(draft.marks) else None
        comment = draft.comments[index] if index < len(draft.comments) else ""
        if mark is None:
            problems.append(InvalidInput("Give a mark on this criterion.", field=f"mark-{index}"))
        if not comment:
            problems.append(
                InvalidInput("Write a comment on this criterion.", field=f"comment-{index}")
            )
    if not draft.overall_comment:
        problems.append(InvalidInput("Write an overall comment.", field="overall_comment"))
    return problems


def scale_choices(scale: Scale) -> tuple[tuple[int, Localized | None], ...]:
    """Every mark of the scale with its label, where the scale has one: a label per mark, or
    (as in Horizon Europe's 0-5 in halves) a label per whole point."""
    marks = scale.marks()
    whole = [m for m in marks if m % TENTHS == 0]
    if len(scale.labels) == len(marks):
        labels = dict(zip(marks, scale.labels, strict=True))
    elif len(scale.labels) == len(whole):
        labels = dict(zip(whole, scale.labels, strict=True))
    else:
        labels = {}
    return tuple((mark, labels.get(mark)) for mark in marks)


# What a reader of a submitted proposal is shown -----------------------------------------------


@dataclass(frozen=True, slots=True)
class FileCopy:
    kind: str
    filename: str
    #: The file served: the original, or the copy stripped of author metadata (blind review).
    sha256: str
    size: int
    pages: int


@dataclass(frozen=True, slots=True)
class ProposalCopy:
    """A submitted version as one reader may see it. Without the right to see the applicant
    (`domain.permissions.may_see_applicant`) it has no organisation, no principal investigator,
    no team names, ORCID iDs or roles, and its files are the stripped copies under neutral
    names: what is hidden is not in the value at all, so no page, JSON answer or mail made
    from it can show it."""

    reference: str
    version: int
    applicant_shown: bool
    title_vi: str
    title_en: str
    abstract_vi: str
    abstract_en: str
    technologies: tuple[int, ...]
    duration_months: int | None
    milestones: tuple[tuple[int, str], ...]
    budget: tuple[tuple[str, int, int], ...]  # category, requested, own (whole đồng)
    organisation: Localized | None
    pi_name: str | None
    pi_orcid: str | None
    #: (name, ORCID iD, role) per member; empty when the applicant is hidden.
    team: tuple[tuple[str, str, str], ...]
    team_size: int
    files: tuple[FileCopy, ...]

    @property
    def requested_vnd(self) -> int:
        return sum(line[1] for line in self.budget)

    @property
    def own_vnd(self) -> int:
        return sum(line[2] for line in self.budget)


def proposal_copy(
    content: Mapping[str, Any],
    *,
    reference: str,
    version: int,
    organisation: Localized,
    see_applicant: bool,
) -> ProposalCopy:
    """A submitted version's content (`services.submissions` writes it) as a reader sees it;
    `see_applicant` is `may_see_applicant` for that reader."""
    draft = content["proposal"]
    team = tuple((m["name"], m.get("orcid", ""), m.get("role", "")) for m in draft.get("team", ()))
    files = tuple(
        # Hidden applicant: the stripped copy, under a name that says only what it is (an
        # uploaded file's own name often carries the author's or the institute's).
        FileCopy(
            item["kind"],
            item["filename"] if see_applicant else f"{reference}-{item['kind']}-{number}.pdf",
            item["sha256"] if see_applicant else item["stripped_sha256"],
            item["size"],
            item["pages"],
        )
        for number, item in enumerate(content.get("files", ()), start=1)
    )
    return ProposalCopy(
        reference=reference,
        version=version,
        applicant_shown=see_applicant,
        title_vi=draft.get("title_vi", ""),
        title_en=draft.get("title_en", ""),
        abstract_vi=draft.get("abstract_vi", ""),
        abstract_en=draft.get("abstract_en", ""),
        technologies=tuple(draft.get("technologies", ())),
        duration_months=draft.get("duration_months"),
        milestones=tuple((m["month"], m["text"]) for m in draft.get("milestones", ())),
        budget=tuple((b["category"], b["requested"], b["own"]) for b in draft.get("budget", ())),
        organisation=organisation if see_applicant else None,
        pi_name=draft.get("pi_name", "") if see_applicant else None,
        pi_orcid=draft.get("pi_orcid", "") if see_applicant else None,
        team=team if see_applicant else (),
        team_size=len(team),
        files=files,
    )


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """The review form's fields as typed: `mark-N` and `comment-N` per criterion, and the
    overall comment; `read_review` makes a ReviewDraft of them."""

    marks: tuple[str, ...]
    comments: tuple[str, ...]
    overall_comment: str
