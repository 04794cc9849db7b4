"""Pure proposal rules: amounts as people type them, drafts and calls surviving the round trip
through their forms, and the checklist's money rules against exact arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.errors import InvalidForm, InvalidInput, Problems
from registry.domain.money import AMOUNT_MAX, group_thousands, parse_vnd
from registry.domain.proposals import (
    BudgetCategory,
    BudgetLine,
    CallRules,
    Draft,
    Milestone,
    TeamMember,
    checklist,
    content_digest,
)
from registry.domain.scoring import PRESETS
from registry.domain.text import clean
from registry.web.forms.calls import criteria_form_fields, criteria_from_form, spec_from_form
from registry.web.forms.proposals import draft_from_form, form_fields

pytestmark = pytest.mark.unit

amounts = st.integers(min_value=0, max_value=AMOUNT_MAX)
# Text as a saved draft holds it: cleaned (NFC, single spaces, trimmed) on the way in.
words = (
    st.text(
        alphabet=st.sampled_from("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạếềểễệ "),
        min_size=1,
        max_size=40,
    )
    .map(clean)
    .filter(bool)
)


@given(amounts, st.sampled_from([".", ",", " ", "\u00a0"]))
def test_amounts_read_back_however_thousands_are_grouped(amount, separator):
    assert parse_vnd(group_thousands(amount, separator), field="x") == amount
    assert parse_vnd(str(amount), field="x") == amount


@pytest.mark.parametrize("typed", ["1,5", "1.50", "12.3456", "-5", "1e9", "một tỷ", "٣"])
def test_amounts_that_could_be_misread_are_refused(typed):
    with pytest.raises(InvalidInput) as refused:
        parse_vnd(typed, field="budget-personnel-requested")
    assert refused.value.field == "budget-personnel-requested"


drafts = st.builds(
    Draft,
    title_vi=words,
    abstract_vi=words,
    technologies=st.lists(st.integers(1, 50), unique=True, max_size=3).map(tuple),
    pi_name=words,
    team=st.lists(st.builds(TeamMember, name=words, role=words), max_size=3).map(tuple),
    budget=st.lists(
        st.builds(BudgetLine, st.sampled_from(list(BudgetCategory)), amounts, amounts).filter(
            lambda line: line.requested_vnd or line.own_vnd
        ),
        unique_by=lambda line: line.category,
        max_size=6,
    ).map(
        lambda lines: tuple(
            sorted(lines, key=lambda line: list(BudgetCategory).index(line.category))
        )
    ),
    duration_months=st.integers(12, 60),
    milestones=st.lists(st.builds(Milestone, st.integers(1, 12), words), max_size=4).map(
        lambda items: tuple(sorted(items, key=lambda m: m.month))
    ),
)


@given(drafts)
def test_a_draft_survives_its_form_and_its_json(draft):
    values = form_fields(draft)
    assert draft_from_form(values, [str(t) for t in draft.technologies]) == draft
    assert Draft.from_json(draft.to_json()) == draft


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(InvalidForm) as refused:
        draft_from_form(
            {"duration_months": "6", "milestone-0-month": "9", "milestone-0-text": "Mốc",
             "team-0-orcid": "0000-0002-1825-0098", "budget-travel-own": "abc"},
            ["x"],
        )  # fmt: skip
    fields = {problem.field for problem in refused.value.problems}
    assert fields == {"technologies", "team-0-name", "team-0-orcid", "budget-travel-own",
                      "milestone-0-month"}  # fmt: skip


@given(st.sampled_from(sorted(PRESETS)))
def test_criteria_survive_the_call_form(name):
    problems = Problems()
    assert criteria_from_form(criteria_form_fields(PRESETS[name]), problems) == PRESETS[name]
    assert problems.found == []


NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@given(amounts, amounts, amounts, amounts, st.integers(0, 999))
def test_the_amount_and_cofunding_checks_match_exact_arithmetic(
    requested, own, low, high, permille
):
    low, high = min(low, high), max(low, high)
    rules = CallRules(
        opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(days=1),
        technologies=frozenset({1}), min_request_vnd=low, max_request_vnd=high,
        cofunding_permille=permille, required_attachments=(),
    )  # fmt: skip
    draft = Draft(budget=(BudgetLine(BudgetCategory.PERSONNEL, requested, own),))
    found = checklist(
        draft, rules, attachment_kinds=frozenset(), organisation_verified=True, at=NOW
    )
    checks = {check.key: check.ok for check in found}
    assert checks["amount"] == (low <= requested <= high)
    # own / (requested + own) >= permille / 1000, without division or rounding.
    assert checks["cofunding"] == (own * 1000 >= permille * (requested + own))


def test_the_content_digest_ignores_key_order_but_not_content():
    one = {"a": 1, "b": ["trí tuệ", 2]}
    assert content_digest(one) == content_digest({"b": ["trí tuệ", 2], "a": 1})
    assert content_digest(one) != content_digest({"a": 1, "b": ["tri tue", 2]})


def test_over_long_call_texts_are_refused_not_cut():
    form = criteria_form_fields(PRESETS["horizon_ria"]) | {
        "title_vi": "Đợt kêu gọi",
        "description_en": "x" * 10_001,
        "criterion-1-guidance_vi": "y" * 2_001,
    }
    with pytest.raises(InvalidForm) as refused:
        spec_from_form(form, [], [], at=datetime.now(UTC))
    fields = {problem.field for problem in refused.value.problems}
    assert {"description_en", "criterion-1-guidance_vi"} <= fields
