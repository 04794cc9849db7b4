"""A call's outcomes: the rules a manager's proposed outcomes keep, and the preview."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.decisions import Choice, Standing, check, suggested_choices
from registry.domain.errors import InvalidForm
from registry.domain.reviews import OutcomeKind

FUNDED, RESERVE, REJECTED = OutcomeKind.FUNDED, OutcomeKind.RESERVE, OutcomeKind.REJECTED


def standings() -> tuple[Standing, ...]:
    return (
        Standing(1, "P-1", 600, 1, FUNDED),
        Standing(2, "P-2", 300, 2, FUNDED),
        Standing(3, "P-3", 500, 3, RESERVE),
        Standing(4, "P-4", 200, None, REJECTED),  # below a threshold
    )


def messages(error: pytest.ExceptionInfo[InvalidForm]) -> list[str]:
    return [p.message % p.params for p in error.value.problems]


def test_the_funding_line_as_proposed_needs_no_reasons() -> None:
    preview = check(standings(), suggested_choices(standings()), budget_vnd=1000)
    assert preview.funded_vnd == 900
    assert preview.remaining_vnd == 100
    assert preview.count(FUNDED) == 2
    assert preview.count(RESERVE) == 1
    assert preview.departures == frozenset()


def test_a_reduced_amount_needs_a_reason_and_then_frees_budget() -> None:
    choices = list(suggested_choices(standings()))
    choices[0] = Choice(1, FUNDED, 400)
    with pytest.raises(InvalidForm) as error:
        check(standings(), choices, budget_vnd=1000)
    assert messages(error) == ["Say why P-1 departs from the funding line (outcome or amount)."]

    choices[0] = Choice(1, FUNDED, 400, "Thiết bị đã có sẵn")
    preview = check(standings(), choices, budget_vnd=1000)
    assert preview.funded_vnd == 700
    assert preview.departures == {1}


def test_a_proposal_below_a_threshold_is_never_funded() -> None:
    choices = list(suggested_choices(standings()))
    choices[3] = Choice(4, FUNDED, 100, "Ưu tiên vùng")
    with pytest.raises(InvalidForm) as error:
        check(standings(), choices, budget_vnd=10_000)
    assert "P-4 did not pass the thresholds" in messages(error)[0]


def test_over_budget_and_over_request_are_refused_with_every_problem_at_once() -> None:
    choices = [
        Choice(1, FUNDED, 700, "x"),  # more than requested
        Choice(2, FUNDED, 300),
        Choice(3, FUNDED, 500, "Bổ sung"),
        Choice(4, REJECTED),
    ]
    with pytest.raises(InvalidForm) as error:
        check(standings(), choices, budget_vnd=1000)
    assert messages(error) == ["P-1 cannot receive more than it requested."]

    choices[0] = Choice(1, FUNDED, 600)
    with pytest.raises(InvalidForm) as error:
        check(standings(), choices, budget_vnd=1000)
    assert messages(error) == ["The funded total exceeds the call's budget by 400 đồng."]


def test_every_submitted_proposal_needs_an_outcome() -> None:
    with pytest.raises(InvalidForm) as error:
        check(standings(), suggested_choices(standings())[:3], budget_vnd=1000)
    assert messages(error) == ["Choose an outcome for every submitted proposal."]


def test_unknown_or_repeated_proposals_mean_the_list_changed() -> None:
    choices = [*suggested_choices(standings()), Choice(99, REJECTED)]
    with pytest.raises(InvalidForm) as error:
        check(standings(), choices, budget_vnd=1000)
    assert messages(error) == ["The list of proposals changed. Reload the page."]


@st.composite
def call_outcomes(draw: st.DrawFn) -> tuple[tuple[Standing, ...], list[Choice], int]:
    n = draw(st.integers(1, 8))
    rows = []
    for i in range(n):
        eligible = draw(st.booleans())
        rows.append(
            Standing(
                i + 1,
                f"P-{i + 1}",
                draw(st.integers(1, 10**9)),
                i + 1 if eligible else None,
                draw(st.sampled_from([FUNDED, RESERVE])) if eligible else REJECTED,
            )
        )
    choices = [
        Choice(
            s.proposal,
            outcome := draw(st.sampled_from(list(OutcomeKind))),
            draw(st.integers(0, s.requested_vnd + 1)) if outcome == FUNDED else 0,
            draw(st.sampled_from(["", "lý do"])),
        )
        for s in rows
    ]
    return tuple(rows), choices, draw(st.integers(0, 5 * 10**9))


@given(call_outcomes())
def test_an_accepted_preview_never_exceeds_the_budget_nor_funds_the_ineligible(
    case: tuple[tuple[Standing, ...], list[Choice], int],
) -> None:
    rows, choices, budget = case
    try:
        preview = check(rows, choices, budget)
    except InvalidForm:
        return
    by_id = {s.proposal: s for s in rows}
    assert preview.funded_vnd <= budget
    for choice in preview.choices:
        if choice.outcome == FUNDED:
            standing = by_id[choice.proposal]
            assert standing.eligible
            assert 0 < choice.amount_vnd <= standing.requested_vnd
        if choice.proposal in preview.departures:
            assert choice.reason.strip()
