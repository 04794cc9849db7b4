"""Recovery codes: long enough that a stolen digest cannot be reversed by trying them all,
and accepted however a person types them."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.accounts import new_recovery_codes, normalise_recovery_code

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def test_each_recovery_code_carries_at_least_112_bits():
    for code in new_recovery_codes():
        letters = code.replace("-", "")
        assert set(letters) <= set(ALPHABET)
        assert len(letters) * math.log2(len(ALPHABET)) >= 112, code


def test_ten_different_codes():
    codes = new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10


@given(st.sampled_from(["", " ", "-", " - ", "\t"]), st.booleans())
def test_dashes_spaces_and_capitals_do_not_matter(separator, upper):
    code = new_recovery_codes()[0]
    typed = separator.join(code.split("-"))
    typed = typed.upper() if upper else typed
    assert normalise_recovery_code(typed) == normalise_recovery_code(code)


def test_totp_key_must_be_fernet_keys():
    import pytest

    from registry.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="TOTP_KEY"):
        Settings.from_env({"TOTP_KEY": "not-a-key"})
    good = "dGVzdHMtb25seS10b3RwLWtleS0wMDAwMDAwMDAwMDA="
    other = "b3RoZXItdGVzdHMtb25seS10b3RwLWtleS0wMDAwMDA="
    both = Settings.from_env({"TOTP_KEY": f" {good} , {other} "})
    assert both.resolved_totp_keys() == [good, other]


def test_an_unset_totp_key_is_made_once_and_kept_private(tmp_path):
    import stat

    from registry.settings import Settings

    settings = Settings(data_dir=tmp_path)
    first = settings.resolved_totp_keys()
    assert len(first) == 1
    assert Settings(data_dir=tmp_path).resolved_totp_keys() == first
    assert stat.S_IMODE((tmp_path / "totp_key").stat().st_mode) == 0o600
