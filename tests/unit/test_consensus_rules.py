"""Consensus marks: one per criterion, each on its criterion's scale and step, with a
justification; every problem named at its field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.consensus import JUSTIFICATION_MAX, check_consensus, mark_field
from registry.domain.errors import InvalidForm
from registry.domain.scoring import PRESETS

pytestmark = pytest.mark.unit

CRITERIA = PRESETS["horizon_ria"]  # three criteria, 0 to 5 in steps of 0.5
ON_SCALE = st.sampled_from(list(CRITERIA.items[0].scale.marks()))
OFF_SCALE = st.integers(-100, 200).filter(lambda m: m not in CRITERIA.items[0].scale.marks())
TEXT = st.text(min_size=1, max_size=200).filter(lambda t: t.split())


@given(st.tuples(ON_SCALE, ON_SCALE, ON_SCALE), TEXT)
def test_marks_on_the_scale_with_a_justification_are_kept(marks, justification):
    checked, text = check_consensus(CRITERIA, marks, justification)
    assert checked == marks
    assert text == " ".join(text.split())
    assert text


@given(st.tuples(ON_SCALE, ON_SCALE, ON_SCALE), st.integers(0, 2), OFF_SCALE, TEXT)
def test_a_mark_off_the_scale_is_named_at_its_field(marks, index, wrong, justification):
    bad = tuple(wrong if i == index else m for i, m in enumerate(marks))
    with pytest.raises(InvalidForm) as refused:
        check_consensus(CRITERIA, bad, justification)
    assert [p.field for p in refused.value.problems] == [mark_field(index)]
    assert refused.value.problems[0].message.startswith("Give a mark from")


@given(st.tuples(ON_SCALE, ON_SCALE, ON_SCALE), st.sampled_from(["", " ", "\n\t "]))
def test_no_consensus_without_a_justification(marks, blank):
    with pytest.raises(InvalidForm) as refused:
        check_consensus(CRITERIA, marks, blank)
    assert [p.field for p in refused.value.problems] == ["justification"]


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidForm) as refused:
        check_consensus(CRITERIA, (None, 33, 50), "x" * (JUSTIFICATION_MAX + 1))
    assert [p.field for p in refused.value.problems] == [
        mark_field(0),
        mark_field(1),
        "justification",
    ]


@pytest.mark.parametrize("marks", [(), (30, 30), (30, 30, 30, 30)])
def test_one_mark_per_criterion(marks):
    with pytest.raises(InvalidForm):
        check_consensus(CRITERIA, marks, "Thống nhất")
