"""Hypothesis strategies for domain values."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

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
