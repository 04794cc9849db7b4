"""The review form: `mark-N` and `comment-N` per criterion and `overall_comment`, as typed
(`domain.reviews.read_review` reads them against the criteria), and a review written back
into those fields."""

from __future__ import annotations

from collections.abc import Mapping

from registry.domain.calls import CRITERIA_ROWS_MAX
from registry.domain.reviews import ReviewDraft, ReviewInput
from registry.domain.scoring import format_mark


def review_input(values: Mapping[str, str]) -> ReviewInput:
    """The posted review form's fields (a call has at most CRITERIA_ROWS_MAX criteria)."""
    return ReviewInput(
        marks=tuple(values.get(f"mark-{i}", "") for i in range(CRITERIA_ROWS_MAX)),
        comments=tuple(values.get(f"comment-{i}", "") for i in range(CRITERIA_ROWS_MAX)),
        overall_comment=values.get("overall_comment", ""),
    )


def review_fields(draft: ReviewDraft) -> dict[str, str]:
    """A review as its form's field values (the inverse of review_input)."""
    values = {"overall_comment": draft.overall_comment}
    for index, (mark, comment) in enumerate(zip(draft.marks, draft.comments, strict=True)):
        values[f"mark-{index}"] = "" if mark is None else format_mark(mark)
        values[f"comment-{index}"] = comment
    return values
