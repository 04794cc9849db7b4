import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.demo import AMOUNT_RANGES, generate

pytestmark = pytest.mark.unit
VOCABULARY = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "demo_vocabulary.json").read_text()
)
FUNDS = [("nafosted", "grant"), ("natif", "loan"), ("investment", "investment")]


def test_the_same_seed_gives_the_same_projects():
    assert list(generate(50, VOCABULARY, FUNDS, seed=7)) == list(
        generate(50, VOCABULARY, FUNDS, seed=7)
    )


@given(st.integers(min_value=0, max_value=10_000))
def test_generated_projects_are_consistent(seed):
    kinds = dict(FUNDS)
    for project in generate(20, VOCABULARY, FUNDS, seed=seed):
        low, high = AMOUNT_RANGES[kinds[project.fund_code]]
        assert type(project.amount_vnd) is int
        assert low <= project.amount_vnd <= high
        assert project.ends_on > project.starts_on
        assert project.technology_slugs
        assert set(project.technology_slugs) <= set(VOCABULARY["topics"])
        assert project.code.startswith("DEMO-")
        assert "{" not in project.title_vi + project.abstract_vi + project.title_en
        assert unicodedata.is_normalized("NFC", project.title_vi + project.abstract_vi)


def test_codes_are_unique_and_numbered_from_the_first():
    codes = [p.code for p in generate(100, VOCABULARY, FUNDS, first_number=5)]
    assert codes[0] == "DEMO-0000005"
    assert len(set(codes)) == 100
