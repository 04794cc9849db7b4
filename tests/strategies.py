"""Hypothesis strategies for domain values."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from registry.domain.catalogue import Localized
from registry.domain.scoring import (
    CALL_TIE_BREAKS,
    WEIGHT_MIN,
    Candidate,
    Criteria,
    Criterion,
    ReviewScores,
)
from registry.domain.text import ALPHABET

TONES = ["", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"]

#: One Vietnamese letter, any tone (where it composes), either case.
vietnamese_letter = st.builds(
    lambda base, tone, upper: (
        unicodedata.normalize("NFC", base + tone).upper()
        if upper
        else unicodedata.normalize("NFC", base + tone)
    ),
    st.sampled_from(list(ALPHABET)),
    st.sampled_from(TONES),
    st.booleans(),
)
vietnamese_word = st.lists(vietnamese_letter, min_size=1, max_size=8).map("".join)
vietnamese_text = st.lists(vietnamese_word, min_size=1, max_size=6).map(" ".join)
amounts = st.integers(min_value=-(10**15), max_value=10**15)


# Scoring and ranking (registry.domain.scoring) ---------------------------------------------------

#: Marks from a narrow set, so that equal scores (ties) come up often.
review_marks = st.sampled_from([20, 30, 35, 40, 45, 50])
SUBMISSIONS_OPEN = datetime(2026, 3, 1, tzinfo=UTC)


@st.composite
def call_criteria(draw: st.DrawFn, max_items: int = 4) -> Criteria:
    """Criteria on the 0-5 scale: thresholds, weights, any choice and order of tie-breaks."""
    size = draw(st.integers(min_value=1, max_value=max_items))
    items = tuple(
        Criterion(
            Localized(f"Tiêu chí {i}"),
            Localized("Hướng dẫn"),
            threshold=draw(st.sampled_from([0, 20, 30, 35])),
            weight=draw(st.sampled_from([WEIGHT_MIN, 500, 1000, 1000, 1500, 3000])),
        )
        for i in range(size)
    )
    rules = draw(st.permutations(CALL_TIE_BREAKS))
    return Criteria(
        items=items,
        overall_threshold=draw(st.sampled_from(range(0, 35 * size + 1, 5))),
        tie_breaks=tuple(rules[: draw(st.integers(min_value=0, max_value=len(rules)))]),
        tie_break_order=tuple(draw(st.permutations(range(size)))),
    )


@st.composite
def call_candidates(draw: st.DrawFn, criteria: Criteria, max_size: int = 8) -> list[Candidate]:
    """Proposals of one call with 0-4 reviews each (from a pool of 6 reviewers), sometimes a
    consensus; requested amounts, submission times and technologies that often coincide."""
    size = len(criteria.items)
    # Some calls draw from one or two marks only, so that many proposals tie.
    palette = draw(st.sampled_from([[40], [35, 40], [20, 30, 35, 40, 45, 50]]))
    marks = st.tuples(*[st.sampled_from(palette)] * size)
    proposals = draw(
        st.lists(st.integers(min_value=1, max_value=10_000), max_size=max_size, unique=True)
    )
    candidates = []
    for proposal in proposals:
        reviewers = draw(st.lists(st.integers(1, 6), max_size=4, unique=True))
        candidates.append(
            Candidate(
                proposal=proposal,
                requested_vnd=draw(st.integers(min_value=0, max_value=20)) * 100_000_000,
                submitted_at=SUBMISSIONS_OPEN + timedelta(minutes=draw(st.integers(0, 3))),
                technologies=draw(st.frozensets(st.integers(1, 4), max_size=2)),
                reviews=tuple(ReviewScores(r, draw(marks)) for r in reviewers),
                consensus=draw(st.none() | st.none() | st.none() | marks),
            )
        )
    return candidates


#: A call budget in VND, in the same steps as requested amounts so that exact fits happen.
budgets = st.integers(min_value=0, max_value=60).map(lambda n: n * 100_000_000)
