"""Property tests for the per-address sign-in slowdown and the marks that name what was typed
(registry/domain/accounts.py): a shared address is slowed, never refused, and typed text is
never kept as such."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.accounts import (
    ADDRESS_FREE_FAILURES,
    LONGEST_SLOWDOWN,
    identifier_mark,
    slowdown,
    throttle_key,
)

pytestmark = pytest.mark.unit

failures = st.integers(min_value=0, max_value=1_000_000)


@given(failures)
def test_slowdown_is_free_then_positive_and_capped(n):
    wait = slowdown(n)
    if n <= ADDRESS_FREE_FAILURES:
        assert wait == timedelta(0)
    else:
        assert timedelta(0) < wait <= LONGEST_SLOWDOWN


@given(failures)
def test_slowdown_never_decreases(n):
    assert slowdown(n + 1) >= slowdown(n)


def test_slowdown_reaches_its_cap_within_a_few_failures():
    assert slowdown(ADDRESS_FREE_FAILURES + 10) == LONGEST_SLOWDOWN


@given(st.text(min_size=1, max_size=300))
def test_a_mark_never_contains_what_was_typed_and_is_stable(typed):
    mark = identifier_mark(typed, "k" * 32)
    assert mark == identifier_mark(typed, "k" * 32)
    assert mark != identifier_mark(typed, "another key" * 3)
    assert len(mark) == len("unknown-") + 20
    assert len(typed) < 4 or typed not in mark


def test_throttle_keys_name_the_account_and_the_address():
    assert throttle_key("account:12", "192.0.2.1") == "account:12@192.0.2.1"
    assert throttle_key("unknown-0123", None) == "account:unknown-0123@unknown"
