"""The ranking desk's forms: the what-if panel (a GET form: criterion-N-weight and
criterion-N-threshold rows as on the call form, overall_threshold, budget_vnd, policy; an empty
field keeps the call's value) and the consensus form (consensus-N marks, justification).

Values are read here into domain values; the rules (scale, step, limits) are the domain's.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry.domain.calls import CRITERIA_ROWS_MAX
from registry.domain.consensus import mark_field
from registry.domain.errors import InvalidForm, InvalidInput, Problems
from registry.domain.money import parse_vnd
from registry.domain.scoring import (
    TENTHS,
    WEIGHT_MAX,
    WEIGHT_ONE,
    Criteria,
    FundingPolicy,
    Scenario,
    format_mark,
    format_weight,
)
from registry.domain.text import whole_number
from registry.web.forms import COMMON_PARAMETERS, reject_unknown
from registry.web.forms.calls import parse_decimal

#: Marks are read in tenths up to this (100 points): the criterion's scale decides the rest.
_MARK_READ_MAX = 1000


def page_number(params: Mapping[str, str]) -> int | None:
    """The ranking table's `page`: 1 when not given, None for `all`."""
    reject_unknown(params, frozenset({"page"}) | COMMON_PARAMETERS)
    text = params.get("page", "").strip()
    if not text:
        return 1
    if text == "all":
        return None
    number = whole_number(text, low=1, high=100_000)
    if number is None:
        raise InvalidInput("Choose a page number, or all.", field="page")
    return number


def _weight_field(row: int) -> str:
    return f"criterion-{row}-weight"


def _threshold_field(row: int) -> str:
    return f"criterion-{row}-threshold"


def what_if_parameters(criteria: Criteria) -> frozenset[str]:
    rows = range(len(criteria.items))
    return (
        frozenset({"overall_threshold", "budget_vnd", "policy"})
        | {_weight_field(row) for row in rows}
        | {_threshold_field(row) for row in rows}
        | COMMON_PARAMETERS
    )


def scenario_from_query(params: Mapping[str, str], criteria: Criteria) -> Scenario:
    """The panel's changes; a field left empty keeps the call's value. InvalidForm names every
    field that cannot be read or is out of the domain's range (Scenario.apply)."""
    reject_unknown(params, what_if_parameters(criteria))
    problems = Problems()

    def number(name: str, *, scale: int, high: int) -> int | None:
        text = params.get(name, "").strip()
        if not text:
            return None
        return problems.read(
            lambda: parse_decimal(text, field=name, scale=scale, low=0, high=high), None
        )

    rows = range(len(criteria.items))
    weights = [number(_weight_field(row), scale=WEIGHT_ONE, high=WEIGHT_MAX) for row in rows]
    thresholds = [
        number(_threshold_field(row), scale=TENTHS, high=item.scale.high)
        for row, item in zip(rows, criteria.items, strict=True)
    ]
    overall = number(
        "overall_threshold", scale=TENTHS, high=sum(c.scale.high for c in criteria.items)
    )
    budget_text = params.get("budget_vnd", "").strip()
    budget = (
        problems.read(lambda: parse_vnd(budget_text, field="budget_vnd")) if budget_text else None
    )
    policy_text = params.get("policy", "").strip()
    policy = None
    if policy_text:
        if policy_text in set(FundingPolicy):
            policy = FundingPolicy(policy_text)
        else:
            problems.add(InvalidInput("Choose stop or skip.", field="policy"))
    scenario = Scenario(
        weights=_or_call(weights, [c.weight for c in criteria.items]),
        thresholds=_or_call(thresholds, [c.threshold for c in criteria.items]),
        overall_threshold=overall,
        budget_vnd=budget,
        policy=policy,
    )
    try:  # the ranges too, so every problem shows at once
        scenario.apply(criteria)
    except InvalidForm as error:
        problems.found.extend(error.problems)
    problems.raise_any()
    return scenario


def _or_call(values: list[int | None], call: list[int]) -> tuple[int, ...] | None:
    """None when no row was changed; else every row, the call's value where left empty."""
    if all(v is None for v in values):
        return None
    return tuple(call[i] if v is None else v for i, v in enumerate(values))


def scenario_fields(criteria: Criteria, budget_vnd: int, policy: FundingPolicy) -> dict[str, str]:
    """The call's own values, as the panel's fields show them before any change."""
    fields = {
        "overall_threshold": format_mark(criteria.overall_threshold),
        "budget_vnd": str(budget_vnd),
        "policy": str(policy),
    }
    for row, item in enumerate(criteria.items):
        fields[_weight_field(row)] = format_weight(item.weight)
        fields[_threshold_field(row)] = format_mark(item.threshold)
    return fields


def consensus_from_form(
    values: Mapping[str, str],
) -> tuple[tuple[int | None, ...], str, list[InvalidInput]]:
    """(marks in tenths, one per consensus-N field the form has, None where empty or
    unreadable; the justification as typed; the problems of reading). The form has one field
    per criterion; the service checks their number, scales, steps and the justification, and
    refuses any None, so an unreadable mark is never saved."""
    problems: list[InvalidInput] = []
    marks: list[int | None] = []
    for index in range(CRITERIA_ROWS_MAX):
        name = mark_field(index)
        if name not in values:
            break
        text = values[name].strip()
        if not text:
            marks.append(None)
            continue
        try:
            marks.append(parse_decimal(text, field=name, scale=TENTHS, low=0, high=_MARK_READ_MAX))
        except InvalidInput:
            problems.append(InvalidInput("Enter a mark such as 3.5.", field=name))
            marks.append(None)
    return tuple(marks), values.get("justification", ""), problems


def merged(first: list[InvalidInput], error: InvalidForm | InvalidInput) -> InvalidForm:
    """One form error: the reading problems first (shown at their fields), then the rules'."""
    later = error.problems if isinstance(error, InvalidForm) else [error]
    return InvalidForm([*first, *later])
