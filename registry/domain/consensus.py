"""Consensus marks: what a rapporteur or the manager agrees for a proposal after its reviews,
replacing the aggregate of the reviewers' marks (the reviews themselves stay as they are).

Pure rules: one mark per criterion of the criteria ranking uses, each on that criterion's
scale and step, and a justification, without which a consensus is never recorded.
"""

from __future__ import annotations

from registry.domain.errors import InvalidForm, InvalidInput, Problems
from registry.domain.scoring import Criteria
from registry.domain.text import clean_limited

JUSTIFICATION_MAX = 5000


def mark_field(index: int) -> str:
    """The form field of the consensus mark on criterion `index`."""
    return f"consensus-{index}"


def check_consensus(
    criteria: Criteria, marks: tuple[int | None, ...], justification: str
) -> tuple[tuple[int, ...], str]:
    """The marks (tenths) and the cleaned justification, or InvalidForm naming each problem at
    its field: a missing or off-scale mark, a missing or overlong justification."""
    problems = Problems()
    if len(marks) != len(criteria.items):
        raise InvalidForm([InvalidInput("Give one mark for each criterion.", field=mark_field(0))])
    checked: list[int] = []
    for index, (mark, criterion) in enumerate(zip(marks, criteria.items, strict=True)):
        if mark is None:
            problems.add(InvalidInput("Give a mark for this criterion.", field=mark_field(index)))
            continue
        try:
            checked.append(criterion.scale.check(mark))
        except InvalidInput as problem:
            problems.add(InvalidInput(problem.message, field=mark_field(index), **problem.params))
    text = problems.read(
        lambda: clean_limited(justification, field="justification", limit=JUSTIFICATION_MAX), ""
    )
    if text == "" and not any(p.field == "justification" for p in problems.found):
        problems.add(
            InvalidInput(
                "Say why the panel agreed these marks: a consensus needs a justification.",
                field="justification",
            )
        )
    problems.raise_any()
    return tuple(checked), text or ""
