"""The call form: a manager's fields read into a `CallSpec` (every problem at once, each at
its field), and a call written back into field values for editing.

Field names: title_vi ..., opens_at/closes_at/review_closes_at (`datetime-local`, Vietnam time),
money in whole VND, the review settings (aggregation, funding_policy, reviewers_see_others),
criterion-N-name_vi/name_en/guidance_vi/guidance_en/threshold/weight/tie_rank rows, the
overall threshold and the tie_break-N selects.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from registry import formatting
from registry.domain.calls import (
    AGGREGATIONS,
    CRITERIA_ROWS_MAX,
    DESCRIPTION_MAX,
    FUNDING_POLICIES,
    GUIDANCE_MAX,
    NAME_MAX,
    TITLE_MAX,
    CallSpec,
)
from registry.domain.catalogue import Localized
from registry.domain.clock import VIETNAM
from registry.domain.errors import InvalidInput, Problems
from registry.domain.money import parse_vnd
from registry.domain.proposals import AttachmentKind
from registry.domain.scoring import (
    CALL_TIE_BREAKS,
    DEFAULT_SCALE,
    TENTHS,
    WEIGHT_ONE,
    Criteria,
    Criterion,
    TieBreak,
    format_mark,
)
from registry.domain.search import MAX_ID
from registry.domain.text import clean_limited, whole_number


def parse_local_time(value: str, *, field: str) -> datetime:
    """A `datetime-local` field, read as Vietnam time and returned in UTC."""
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None or not 2000 <= local.year <= 2100:
        raise InvalidInput("Enter a date and time such as 2026-12-31 17:00.", field=field)
    return local.replace(tzinfo=VIETNAM).astimezone(UTC)


def parse_decimal(value: str, *, field: str, scale: int, low: int, high: int) -> int:
    """`3`, `3.5` or `3,5` as an integer in 1/scale units (tenths, thousandths), within
    [low, high] in those units."""
    text = value.strip().replace(",", ".")
    whole, _, part = text.partition(".")
    digits = len(str(scale)) - 1
    whole_part = whole_number(whole, low=0, high=high // scale)
    if (
        whole_part is None
        or (part and not (part.isascii() and part.isdigit()))
        or len(part) > digits
    ):
        number = None
    else:
        number = whole_part * scale + int(part.ljust(digits, "0") or 0)
    if number is None or not low <= number <= high:
        raise InvalidInput(
            "Enter a number from %(low)s to %(high)s.",
            field=field,
            low=_decimal(low, scale),
            high=_decimal(high, scale),
        )
    return number


def _decimal(value: int, scale: int) -> str:
    whole, rest = divmod(value, scale)
    if rest == 0:
        return f"{whole}"
    return f"{whole}." + str(rest).rjust(len(str(scale)) - 1, "0").rstrip("0")


def criteria_from_form(form: Mapping[str, str], problems: Problems) -> Criteria | None:
    """Rows criterion-N-name_vi/name_en/guidance_vi/guidance_en/threshold/weight/tie_rank, the
    overall threshold and the tie_break-N selects. Empty rows are dropped; problems are noted
    in `problems`."""
    items: list[Criterion] = []
    ranks: list[int] = []
    for row in range(CRITERIA_ROWS_MAX):
        if not form.get(f"criterion-{row}-name_vi", "").strip():
            continue
        try:
            item, rank = _criterion_row(form, row)
        except InvalidInput as problem:
            problems.add(problem)
            continue
        items.append(item)
        ranks.append(rank)
    if not items and not any((p.field or "").startswith("criterion-") for p in problems.found):
        problems.add(InvalidInput("Publish at least one criterion.", field="criterion-0-name_vi"))
    overall = problems.read(
        lambda: parse_decimal(
            form.get("overall_threshold", "") or "0", field="overall_threshold",
            scale=TENTHS, low=0, high=DEFAULT_SCALE.high * max(len(items), 1),
        ),
        0,
    )  # fmt: skip
    tie_breaks: list[TieBreak] = []
    for row in range(len(CALL_TIE_BREAKS)):
        chosen = form.get(f"tie_break-{row}", "")
        if chosen in CALL_TIE_BREAKS and TieBreak(chosen) not in tie_breaks:
            tie_breaks.append(TieBreak(chosen))
        elif chosen:
            problems.add(InvalidInput("Choose each tie-break rule once.", field=f"tie_break-{row}"))
    if not items:
        return None
    # Criteria compared for ties in the order of their ranks (equal ranks keep row order).
    order = tuple(sorted(range(len(items)), key=lambda i: (ranks[i], i)))
    return Criteria(tuple(items), overall or 0, tuple(tie_breaks), order)


def _criterion_row(form: Mapping[str, str], row: int) -> tuple[Criterion, int]:
    """One criterion row and its tie-break rank, or the row's first problem."""

    def field(name: str) -> str:
        return f"criterion-{row}-{name}"

    def text(name: str, limit: int) -> str:
        return clean_limited(form.get(field(name), ""), field=field(name), limit=limit)

    threshold = parse_decimal(
        form.get(field("threshold"), "").strip() or "0", field=field("threshold"),
        scale=TENTHS, low=DEFAULT_SCALE.low, high=DEFAULT_SCALE.high,
    )  # fmt: skip
    if threshold % DEFAULT_SCALE.step:
        raise InvalidInput(
            "Thresholds are marks: use steps of %(step)s.",
            field=field("threshold"),
            step=format_mark(DEFAULT_SCALE.step),
        )
    weight = parse_decimal(
        form.get(field("weight"), "").strip() or "1", field=field("weight"),
        scale=WEIGHT_ONE, low=1, high=10 * WEIGHT_ONE,
    )  # fmt: skip
    rank = parse_decimal(
        form.get(field("tie_rank"), "").strip() or str(row + 1), field=field("tie_rank"),
        scale=1, low=1, high=CRITERIA_ROWS_MAX,
    )  # fmt: skip
    name = Localized(text("name_vi", NAME_MAX), text("name_en", NAME_MAX) or None)
    guidance = Localized(
        text("guidance_vi", GUIDANCE_MAX), text("guidance_en", GUIDANCE_MAX) or None
    )
    return Criterion(name, guidance, threshold=threshold, weight=weight), rank


def criteria_form_fields(criteria: Criteria) -> dict[str, str]:
    """The criteria as the call form's field values (the inverse of criteria_from_form)."""
    values = {"overall_threshold": format_mark(criteria.overall_threshold)}
    order = criteria.tie_break_order or tuple(range(len(criteria.items)))
    for row, item in enumerate(criteria.items):
        values |= {
            f"criterion-{row}-name_vi": item.name.vi,
            f"criterion-{row}-name_en": item.name.en or "",
            f"criterion-{row}-guidance_vi": item.guidance.vi,
            f"criterion-{row}-guidance_en": item.guidance.en or "",
            f"criterion-{row}-threshold": format_mark(item.threshold),
            f"criterion-{row}-weight": _decimal(item.weight, WEIGHT_ONE),
            f"criterion-{row}-tie_rank": str(order.index(row) + 1),
        }
    for row, rule in enumerate(criteria.tie_breaks):
        values[f"tie_break-{row}"] = str(rule)
    return values


def spec_from_form(
    form: Mapping[str, str], technologies: list[str], attachments: list[str], *, at: datetime
) -> CallSpec:
    """A call from the manager's form, or InvalidForm naming each bad field. `at` stands in
    for a time that cannot be read (only while the form's other problems are collected)."""
    problems = Problems()

    def text(name: str, limit: int) -> str:
        return problems.read(lambda: clean_limited(form.get(name, ""), field=name, limit=limit), "")

    def money(name: str) -> int:
        return problems.read(lambda: parse_vnd(form.get(name, ""), field=name), 0)

    def number(name: str, default: str, *, scale: int, low: int, high: int) -> int:
        return problems.read(
            lambda: parse_decimal(
                form.get(name, "") or default, field=name, scale=scale, low=low, high=high
            ),
            int(default) * scale,
        )

    def local_time(name: str) -> datetime:
        return problems.read(lambda: parse_local_time(form.get(name, ""), field=name), at)

    def choice(name: str, allowed: tuple[str, ...], message: str) -> str:
        chosen = form.get(name, "") or allowed[0]
        if chosen not in allowed:
            problems.add(InvalidInput(message, field=name))
            return allowed[0]
        return chosen

    title_vi = text("title_vi", TITLE_MAX)
    if not title_vi:
        problems.add(InvalidInput("Enter the call's title in Vietnamese.", field="title_vi"))
    chosen = []
    for value in technologies:
        technology = whole_number(value, low=1, high=MAX_ID)
        if technology is None:
            problems.add(
                InvalidInput("Choose technologies from the list in force.", field="technologies")
            )
            break
        chosen.append(technology)
    kinds = []
    for value in attachments:
        if value not in set(AttachmentKind):
            problems.add(
                InvalidInput("Choose document kinds from the list.", field="required_attachments")
            )
            break
        kinds.append(value)
    spec = CallSpec(
        title_vi=title_vi,
        title_en=text("title_en", TITLE_MAX),
        description_vi=text("description_vi", DESCRIPTION_MAX),
        description_en=text("description_en", DESCRIPTION_MAX),
        technologies=tuple(dict.fromkeys(chosen)),
        opens_at=local_time("opens_at"),
        closes_at=local_time("closes_at"),
        budget_vnd=money("budget_vnd"),
        min_request_vnd=money("min_request_vnd"),
        max_request_vnd=money("max_request_vnd"),
        cofunding_permille=number("cofunding_percent", "0", scale=10, low=0, high=999),
        required_attachments=tuple(dict.fromkeys(kinds)),
        reviewers_per_proposal=number("reviewers_per_proposal", "3", scale=1, low=1, high=20),
        blind_review=form.get("blind_review", "") == "on",
        criteria=criteria_from_form(form, problems),  # type: ignore[arg-type]
        review_closes_at=local_time("review_closes_at")
        if form.get("review_closes_at", "").strip()
        else None,
        aggregation=choice("aggregation", AGGREGATIONS, "Choose median or mean."),
        funding_policy=choice("funding_policy", FUNDING_POLICIES, "Choose a funding policy."),
        reviewers_see_others=form.get("reviewers_see_others", "") == "on",
    )
    if not spec.budget_vnd:
        problems.add(InvalidInput("Enter the call's total budget.", field="budget_vnd"))
    if not spec.max_request_vnd:
        problems.add(
            InvalidInput(
                "Enter the largest amount one proposal may ask for.", field="max_request_vnd"
            )
        )
    problems.raise_any()  # criteria_from_form notes a problem whenever it answers None
    return spec


def spec_form_fields(spec: CallSpec) -> dict[str, str]:
    """The call as its form's field values (the inverse of spec_from_form)."""
    return {
        "title_vi": spec.title_vi,
        "title_en": spec.title_en,
        "description_vi": spec.description_vi,
        "description_en": spec.description_en,
        "opens_at": spec.opens_at.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": spec.closes_at.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M"),
        # Amounts grouped as the reader writes them (parse_vnd reads either grouping back).
        "budget_vnd": formatting.number(spec.budget_vnd),
        "min_request_vnd": formatting.number(spec.min_request_vnd),
        "max_request_vnd": formatting.number(spec.max_request_vnd),
        "cofunding_percent": _decimal(spec.cofunding_permille, 10),
        "reviewers_per_proposal": str(spec.reviewers_per_proposal),
        "blind_review": "on" if spec.blind_review else "",
        "review_closes_at": spec.review_closes_at.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M")
        if spec.review_closes_at
        else "",
        "aggregation": spec.aggregation,
        "funding_policy": spec.funding_policy,
        "reviewers_see_others": "on" if spec.reviewers_see_others else "",
    } | criteria_form_fields(spec.criteria)
