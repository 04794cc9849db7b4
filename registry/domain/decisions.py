"""A call's outcomes: what the funding line suggests, the rules a manager's proposal must keep,
and the preview a second manager approves.

Pure rules over integers (whole đồng). The ranking and the funding line come from
`domain.scoring`; here each submitted proposal is a `Standing` (where the line put it), and
the manager's `Choice`s are checked against it: nobody below a threshold is funded, no funded
amount exceeds the request, the funded total stays within the budget, and every departure
from the line (a reduced amount, a skipped rank) says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from registry.domain.errors import InvalidForm, InvalidInput
from registry.domain.reviews import OutcomeKind

REASON_MAX = 1000


@dataclass(frozen=True, slots=True)
class Standing:
    """A submitted proposal as the funding line left it."""

    proposal: int
    reference: str
    requested_vnd: int
    #: Rank among proposals that pass every threshold; None when eliminated or not reviewed.
    rank: int | None
    #: What the funding line suggests: funded (at the requested amount), reserve or rejected.
    suggested: OutcomeKind

    @property
    def eligible(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True, slots=True)
class Choice:
    """The outcome a manager chose for one proposal."""

    proposal: int
    outcome: OutcomeKind
    amount_vnd: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Preview:
    """Every outcome with the totals against the budget: what the approver sees."""

    budget_vnd: int
    choices: tuple[Choice, ...]  # in the standings' order (rank, then the rest)
    #: Proposals whose outcome or amount differs from the funding line's suggestion.
    departures: frozenset[int]

    @property
    def funded_vnd(self) -> int:
        return sum(c.amount_vnd for c in self.choices if c.outcome == OutcomeKind.FUNDED)

    @property
    def remaining_vnd(self) -> int:
        return self.budget_vnd - self.funded_vnd

    def count(self, outcome: OutcomeKind) -> int:
        return sum(1 for c in self.choices if c.outcome == outcome)


def suggested_choices(standings: Iterable[Standing]) -> tuple[Choice, ...]:
    """The funding line as choices: funded at the requested amount, the rest as it placed them."""
    return tuple(
        Choice(
            s.proposal,
            s.suggested,
            s.requested_vnd if s.suggested == OutcomeKind.FUNDED else 0,
        )
        for s in standings
    )


def _departs(standing: Standing, choice: Choice) -> bool:
    if choice.outcome != standing.suggested:
        return True
    return choice.outcome == OutcomeKind.FUNDED and choice.amount_vnd != standing.requested_vnd


def preview_of(
    standings: Iterable[Standing], choices: Iterable[Choice], budget_vnd: int
) -> Preview:
    """The preview of choices already checked (a stored decision), in the standings' order."""
    by_proposal = {s.proposal: s for s in standings}
    chosen = {c.proposal: c for c in choices}
    ordered = tuple(chosen[p] for p in by_proposal if p in chosen) + tuple(
        c for p, c in chosen.items() if p not in by_proposal
    )
    return Preview(
        budget_vnd,
        ordered,
        frozenset(
            c.proposal
            for c in ordered
            if c.proposal in by_proposal and _departs(by_proposal[c.proposal], c)
        ),
    )


def _problem(choice: Choice, standing: Standing) -> InvalidInput | None:
    field = f"outcome-{choice.proposal}"
    ref = standing.reference
    if choice.outcome == OutcomeKind.FUNDED:
        if not standing.eligible:
            return InvalidInput(
                "%(ref)s did not pass the thresholds (or has no reviews) and cannot be funded.",
                field=field,
                ref=ref,
            )
        if choice.amount_vnd <= 0:
            return InvalidInput("Give the amount funded for %(ref)s.", field=field, ref=ref)
        if choice.amount_vnd > standing.requested_vnd:
            return InvalidInput(
                "%(ref)s cannot receive more than it requested.", field=field, ref=ref
            )
    elif choice.amount_vnd != 0:
        return InvalidInput(
            "Only a funded proposal receives an amount (%(ref)s).", field=field, ref=ref
        )
    if len(choice.reason) > REASON_MAX:
        return InvalidInput("The reason for %(ref)s is too long.", field=field, ref=ref)
    if _departs(standing, choice) and not choice.reason.strip():
        return InvalidInput(
            "Say why %(ref)s departs from the funding line (outcome or amount).",
            field=field,
            ref=ref,
        )
    return None


def check(standings: Iterable[Standing], choices: Iterable[Choice], budget_vnd: int) -> Preview:
    """The preview of a complete, valid set of choices; every problem at once otherwise."""
    by_proposal: Mapping[int, Standing] = {s.proposal: s for s in standings}
    chosen: dict[int, Choice] = {}
    problems: list[InvalidInput] = []
    for choice in choices:
        standing = by_proposal.get(choice.proposal)
        if standing is None or choice.proposal in chosen:
            problems.append(InvalidInput("The list of proposals changed. Reload the page."))
            continue
        chosen[choice.proposal] = choice
        problems.extend(p for p in [_problem(choice, standing)] if p is not None)
    if not problems and chosen.keys() != by_proposal.keys():
        problems.append(InvalidInput("Choose an outcome for every submitted proposal."))
    preview = preview_of(by_proposal.values(), chosen.values(), budget_vnd)
    if not problems and preview.funded_vnd > budget_vnd:
        problems.append(
            InvalidInput(
                "The funded total exceeds the call's budget by %(over)s đồng.",
                over=f"{preview.funded_vnd - budget_vnd:,}".replace(",", "."),
            )
        )
    if problems:
        raise InvalidForm(problems)
    return preview
