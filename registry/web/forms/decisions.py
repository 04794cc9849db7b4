"""The decision form: one outcome, amount and reason per ranked proposal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from registry.domain.decisions import Choice, Standing
from registry.domain.errors import InvalidInput, Problems
from registry.domain.money import format_vnd, parse_vnd
from registry.domain.reviews import OutcomeKind


def choices_from_form(values: Mapping[str, str], standings: Iterable[Standing]) -> list[Choice]:
    """The manager's choices; every unreadable field at once (InvalidForm)."""
    problems = Problems()
    choices = []
    for standing in standings:
        key = standing.proposal
        outcome = values.get(f"outcome-{key}", "")
        if outcome not in set(OutcomeKind):
            problems.add(
                InvalidInput(
                    "Choose an outcome for %(ref)s.", field=f"outcome-{key}", ref=standing.reference
                )
            )
            continue
        amount = 0
        if outcome == OutcomeKind.FUNDED:
            amount = (
                problems.read(
                    lambda key=key: parse_vnd(
                        values.get(f"amount-{key}", ""), field=f"amount-{key}"
                    ),
                    0,
                )
                or 0
            )
        choices.append(
            Choice(key, OutcomeKind(outcome), amount, values.get(f"reason-{key}", "").strip())
        )
    problems.raise_any()
    return choices


def form_fields(choices: Iterable[Choice]) -> dict[str, str]:
    """Form values showing `choices` (amounts grouped as people type them)."""
    fields: dict[str, str] = {}
    for choice in choices:
        fields[f"outcome-{choice.proposal}"] = str(choice.outcome)
        fields[f"amount-{choice.proposal}"] = (
            format_vnd(choice.amount_vnd, "vi").removesuffix(" ₫") if choice.amount_vnd else ""
        )
        fields[f"reason-{choice.proposal}"] = choice.reason
    return fields
