"""Property tests for the pure account rules in registry/domain/accounts.py: login backoff,
password rules, one-time codes and e-mail normalisation."""

from __future__ import annotations

import base64
import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from registry.domain.accounts import (
    FREE_FAILURES,
    LONGEST_DELAY,
    PASSWORD_MAX,
    PASSWORD_MIN,
    backoff,
    common_passwords,
    email_problem,
    normalise_email,
    password_problem,
    totp_step,
)
from registry.domain.errors import InvalidInput
from tests.strategies import vietnamese_letter

pytestmark = pytest.mark.unit

STEP = timedelta(seconds=30)
scopes = st.sampled_from(sorted(FREE_FAILURES))
failures = st.integers(min_value=0, max_value=100_000)


def _seconds(delay: timedelta | None) -> float:
    return 0.0 if delay is None else delay.total_seconds()


# Login backoff --------------------------------------------------------------------------------


@given(scopes, failures)
def test_backoff_is_free_then_positive_and_capped(scope, n):
    delay = backoff(scope, n)
    if n <= FREE_FAILURES[scope]:
        assert delay is None
    else:
        assert delay is not None
        assert timedelta(0) < delay <= LONGEST_DELAY == timedelta(minutes=15)


@given(scopes, failures)
def test_backoff_never_decreases_as_failures_add_up(scope, n):
    assert _seconds(backoff(scope, n + 1)) >= _seconds(backoff(scope, n))


@given(scopes, st.integers(min_value=1, max_value=100))
def test_backoff_doubles_until_the_cap(scope, extra):
    n = FREE_FAILURES[scope] + extra
    assert backoff(scope, n + 1) == min(2 * backoff(scope, n), LONGEST_DELAY)


def test_account_is_blocked_well_before_100_consecutive_failures():
    # NIST SP 800-63B 5.2.2: never more than 100 consecutive failures without a lock.
    first_block = next(n for n in range(1, 101) if backoff("account", n) is not None)
    assert first_block <= 10
    assert all(backoff("account", n) is not None for n in range(first_block, 101))
    blocked = sum(
        (backoff("account", n) for n in range(1, 100) if backoff("account", n)), timedelta(0)
    )
    assert blocked >= timedelta(hours=12)  # 100 guesses take at least half a day


# Passwords ------------------------------------------------------------------------------------

word = st.lists(vietnamese_letter, min_size=2, max_size=10).map("".join)
passphrases = st.lists(word, min_size=4, max_size=12, unique_by=str.lower).map(" ".join)


@given(passphrases)
@example("Trời hôm nay đẹp quá")
@example("ĐẤT HIẾM TRÍ TUỆ")
def test_a_passphrase_of_four_or_more_words_is_accepted_unless_common(passphrase):
    assume(PASSWORD_MIN <= len(passphrase) <= PASSWORD_MAX)
    # Four distinct words cannot be one shorter string repeated; the few-distinct-characters
    # rule still applies, so words like "aa ab ba bb" are left out.
    assume(len(set(passphrase.lower())) >= 5)
    problem = password_problem(passphrase)
    assert (problem is None) == (passphrase.lower() not in common_passwords())


def test_common_passwords_are_refused_whatever_their_length():
    long_common = sorted(p for p in common_passwords() if PASSWORD_MIN <= len(p) <= 40)[:300]
    assert long_common
    for password in long_common:
        assert password_problem(password) is not None, password
        assert password_problem(password.upper()) is not None, password


@given(st.text(max_size=PASSWORD_MIN - 1))
def test_too_short_is_always_refused(password):
    problem = password_problem(password)
    assert isinstance(problem, InvalidInput)
    assert problem.field == "password"
    assert problem.params == {"count": PASSWORD_MIN}


@given(st.text(min_size=PASSWORD_MAX + 1, max_size=4 * PASSWORD_MAX))
def test_too_long_is_always_refused(password):
    problem = password_problem(password)
    assert isinstance(problem, InvalidInput)
    assert problem.params == {"count": PASSWORD_MAX}


@given(passphrases, st.text(min_size=1, max_size=200))
def test_password_rules_never_truncate(passphrase, tail):
    """An accepted password with characters added beyond the limit is refused, not cut back
    to its accepted prefix; the rules only answer and never change what they are given."""
    assume(PASSWORD_MIN <= len(passphrase) <= PASSWORD_MAX)
    assume(password_problem(passphrase) is None)
    longer = passphrase + "x" * (PASSWORD_MAX - len(passphrase)) + tail
    before = str(longer)
    problem = password_problem(longer)
    assert isinstance(problem, InvalidInput)
    assert problem.params == {"count": PASSWORD_MAX}
    assert longer == before


@given(st.text(max_size=300), st.text(max_size=80))
def test_password_problem_only_answers_none_or_a_field_message(password, email):
    problem = password_problem(password, email=email)
    assert problem is None or (isinstance(problem, InvalidInput) and problem.field == "password")


# One-time codes -------------------------------------------------------------------------------

secrets_ = st.binary(min_size=15, max_size=40).map(lambda raw: base64.b32encode(raw).decode())
moments = st.datetimes(
    min_value=datetime(2001, 1, 1),  # hypothesis takes naive bounds
    max_value=datetime(2099, 12, 31),
    timezones=st.just(UTC),
)


def _codes(secret: str, steps: range) -> dict[int, str]:
    totp = pyotp.TOTP(secret)
    return {step: totp.generate_otp(step) for step in steps}


@given(secrets_, moments, st.sampled_from([-1, 0, 1]))
def test_a_code_is_accepted_within_one_step_either_way(secret, at, drift):
    step = pyotp.TOTP(secret).timecode(at)
    codes = _codes(secret, range(step - 2, step + 3))
    assume(len(set(codes.values())) == len(codes))  # a 1-in-a-million coincidence aside
    assert totp_step(secret, codes[step], at + drift * STEP, None) == step
    assert totp_step(secret, f" {codes[step][:3]} {codes[step][3:]} ", at, None) == step


@given(secrets_, moments, st.sampled_from([-2, 2, 3, -5]))
def test_a_code_is_refused_further_than_one_step_away(secret, at, drift):
    step = pyotp.TOTP(secret).timecode(at)
    codes = _codes(secret, range(step - 8, step + 9))
    assume(len(set(codes.values())) == len(codes))
    assert totp_step(secret, codes[step], at + drift * STEP, None) is None


@given(secrets_, moments, st.integers(min_value=0, max_value=3))
def test_a_code_is_refused_once_its_step_was_used(secret, at, later):
    step = pyotp.TOTP(secret).timecode(at)
    codes = _codes(secret, range(step - 2, step + 3))
    assume(len(set(codes.values())) == len(codes))
    assert totp_step(secret, codes[step], at, step + later) is None
    assert totp_step(secret, codes[step], at, step - 1) == step


def _not_six_ascii_digits(text: str) -> bool:
    return re.fullmatch(r"[0-9]{6}", "".join(text.split())) is None


@given(secrets_, moments, st.text(max_size=20).filter(_not_six_ascii_digits))
@example(pyotp.random_base32(), datetime.now(UTC), "١٢٣٤٥٦")  # Arabic-Indic digits
@example(pyotp.random_base32(), datetime.now(UTC), "¹²³⁴⁵⁶")  # superscripts: isdigit() too
@example(pyotp.random_base32(), datetime.now(UTC), "12345")
@example(pyotp.random_base32(), datetime.now(UTC), "1234567")
def test_anything_but_six_digits_is_refused_without_error(secret, at, code):
    assert totp_step(secret, code, at, None) is None


@given(
    secrets_,
    moments,
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=6, max_size=6).filter(
        lambda text: not text.isascii()
    ),
)
def test_unicode_digits_are_refused_without_error(secret, at, code):
    assert totp_step(secret, code, at, None) is None


# E-mail ---------------------------------------------------------------------------------------

local_parts = st.lists(
    vietnamese_letter | st.sampled_from("._-+0123456789"), min_size=1, max_size=30
).map("".join)
domains = st.lists(
    st.lists(vietnamese_letter, min_size=1, max_size=12).map("".join), min_size=2, max_size=4
).map(".".join)
addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)


@given(st.text(max_size=300))
@example("İ@EXAMPLE.VN")
@example(" \u00a0Ngô@Việt.VN\t")
def test_normalise_email_is_idempotent(value):
    once = normalise_email(value)
    assert normalise_email(once) == once


@given(st.text(max_size=300) | addresses)
def test_nfd_and_nfc_inputs_normalise_alike(value):
    nfd = unicodedata.normalize("NFD", value)
    nfc = unicodedata.normalize("NFC", value)
    assert normalise_email(nfd) == normalise_email(nfc)


@given(addresses)
def test_plain_addresses_are_accepted_in_any_case_and_form(address):
    assume(len(address) <= 254)
    for form in ("NFC", "NFD"):
        normalised = normalise_email(unicodedata.normalize(form, address).upper())
        assert email_problem(normalised) is None
        assert normalised == normalise_email(address)


@given(st.text(max_size=400))
def test_email_problem_only_answers(value):
    problem = email_problem(normalise_email(value))
    assert problem is None or (isinstance(problem, InvalidInput) and problem.field == "email")
    if len(normalise_email(value)) > 254:
        assert problem is not None
