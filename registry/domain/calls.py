"""Fund calls: published criteria and their presets, budget arithmetic and the deadline rule.

Pure rules (issue 4). Marks are kept in tenths of a point as integers (0-5 in steps of 0.5 is
0..50 in steps of 5), weights in thousandths, money in whole VND: no floats anywhere a sum,
a threshold or a ranking depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from registry.domain.catalogue import Localized
from registry.domain.errors import InvalidInput, Problems
from registry.domain.money import parse_vnd
from registry.domain.text import clean_limited

TENTHS = 10
WEIGHT_ONE = 1000


@dataclass(frozen=True, slots=True)
class Scale:
    """Marks from `low` to `high` (tenths) in `step`s, each with a label."""

    low: int = 0
    high: int = 50
    step: int = 5
    labels: tuple[Localized, ...] = ()

    def marks(self) -> range:
        return range(self.low, self.high + 1, self.step)

    def check(self, mark: int) -> int:
        if mark not in self.marks():
            raise InvalidInput(
                "Give a mark from %(low)s to %(high)s in steps of %(step)s.",
                field="mark",
                low=format_mark(self.low),
                high=format_mark(self.high),
                step=format_mark(self.step),
            )
        return mark


HORIZON_LABELS = (
    Localized("Không đáp ứng", "Not addressed"),
    Localized("Kém", "Poor"),
    Localized("Trung bình", "Fair"),
    Localized("Khá", "Good"),
    Localized("Rất khá", "Very good"),
    Localized("Xuất sắc", "Excellent"),
)
DEFAULT_SCALE = Scale(labels=HORIZON_LABELS)


@dataclass(frozen=True, slots=True)
class Criterion:
    name: Localized
    guidance: Localized
    threshold: int  # tenths: below it on this criterion eliminates
    weight: int = WEIGHT_ONE  # thousandths; for ranking only, never for thresholds
    scale: Scale = DEFAULT_SCALE


class TieBreak(StrEnum):
    UNCOVERED_TOPICS_FIRST = "uncovered_topics_first"
    CRITERION_ORDER = "criterion_order"  # higher mark on the first listed criterion, then next
    EARLIER_SUBMISSION = "earlier_submission"


@dataclass(frozen=True, slots=True)
class Criteria:
    items: tuple[Criterion, ...]
    overall_threshold: int  # tenths, on the unweighted sum
    tie_breaks: tuple[TieBreak, ...] = (TieBreak.CRITERION_ORDER,)
    #: Order of criteria for CRITERION_ORDER tie-breaks (indexes into items).
    tie_break_order: tuple[int, ...] = ()

    def passes(self, marks: tuple[int, ...]) -> bool:
        """Every criterion at or above its threshold and the plain sum at or above the
        overall threshold. Weights play no part here."""
        return all(m >= c.threshold for m, c in zip(marks, self.items, strict=True)) and (
            sum(marks) >= self.overall_threshold
        )

    def tie_break_items(self) -> tuple[Criterion, ...]:
        """The criteria in the order they break ties (CRITERION_ORDER)."""
        return tuple(self.items[i] for i in self.tie_break_order or range(len(self.items)))

    def ranking_score(self, marks: tuple[int, ...]) -> int:
        """Weighted sum in tenths x thousandths (an exact integer)."""
        return sum(m * c.weight for m, c in zip(marks, self.items, strict=True))


def _criterion(vi: str, en: str, guide_vi: str, guide_en: str, weight: int = WEIGHT_ONE):  # type: ignore[no-untyped-def]
    return Criterion(Localized(vi, en), Localized(guide_vi, guide_en), threshold=30, weight=weight)


def horizon(impact_weight: int) -> Criteria:
    excellence = _criterion(
        "Tính xuất sắc", "Excellence",
        "Mục tiêu, tính mới, phương pháp luận.", "Objectives, novelty, methodology.",
    )  # fmt: skip
    impact = _criterion(
        "Tác động", "Impact",
        "Kết quả, lộ trình tác động, phổ biến và khai thác.",
        "Outcomes, pathways to impact, dissemination and exploitation.",
        impact_weight,
    )  # fmt: skip
    implementation = _criterion(
        "Tổ chức thực hiện", "Implementation",
        "Kế hoạch công việc, nguồn lực, năng lực nhóm.", "Work plan, resources, team capacity.",
    )  # fmt: skip
    innovation = impact_weight != WEIGHT_ONE
    return Criteria(
        items=(excellence, impact, implementation),
        overall_threshold=100,
        tie_breaks=(TieBreak.UNCOVERED_TOPICS_FIRST, TieBreak.CRITERION_ORDER),
        # Excellence then Impact; Impact first for innovation actions (domain.md §3).
        tie_break_order=(1, 0, 2) if innovation else (0, 1, 2),
    )


PRESETS: dict[str, Criteria] = {
    "horizon_ria": horizon(WEIGHT_ONE),
    "horizon_ia": horizon(1500),
    "nafosted_basic": Criteria(
        items=(
            _criterion(
                "Giá trị khoa học",
                "Scientific merit",
                "Tính mới, ý nghĩa khoa học.",
                "Novelty and scientific significance.",
            ),
            _criterion(
                "Năng lực nhóm nghiên cứu",
                "Research team",
                "Công bố quốc tế gần đây, kinh nghiệm.",
                "Recent international publications.",
            ),
            _criterion(
                "Tính khả thi",
                "Feasibility",
                "Phương pháp, kế hoạch, kinh phí hợp lý.",
                "Methods, plan, sound budget.",
            ),
        ),
        overall_threshold=100,
        tie_break_order=(0, 1, 2),
    ),
}


def _localized(value: Localized) -> dict[str, str]:
    return {"vi": value.vi, "en": value.en or ""}


def criteria_to_json(criteria: Criteria) -> dict[str, Any]:
    return {
        "items": [
            {
                "name": _localized(c.name),
                "guidance": _localized(c.guidance),
                "threshold": c.threshold,
                "weight": c.weight,
                "scale": {
                    "low": c.scale.low,
                    "high": c.scale.high,
                    "step": c.scale.step,
                    "labels": [_localized(label) for label in c.scale.labels],
                },
            }
            for c in criteria.items
        ],
        "overall_threshold": criteria.overall_threshold,
        "tie_breaks": [str(t) for t in criteria.tie_breaks],
        "tie_break_order": list(criteria.tie_break_order),
    }


def criteria_from_json(data: Mapping[str, Any]) -> Criteria:
    def localized(value: Mapping[str, str]) -> Localized:
        return Localized(value["vi"], value.get("en") or None)

    return Criteria(
        items=tuple(
            Criterion(
                name=localized(c["name"]),
                guidance=localized(c["guidance"]),
                threshold=c["threshold"],
                weight=c["weight"],
                scale=Scale(
                    c["scale"]["low"],
                    c["scale"]["high"],
                    c["scale"]["step"],
                    tuple(localized(label) for label in c["scale"]["labels"]),
                ),
            )
            for c in data["items"]
        ),
        overall_threshold=data["overall_threshold"],
        tie_breaks=tuple(TieBreak(t) for t in data["tie_breaks"]),
        tie_break_order=tuple(data["tie_break_order"]),
    )


def format_mark(tenths: int) -> str:
    whole, rest = divmod(tenths, TENTHS)
    return f"{whole}" if rest == 0 else f"{whole}.{rest}"


# Budget --------------------------------------------------------------------------------------


class BudgetCategory(StrEnum):
    PERSONNEL = "personnel"
    EQUIPMENT = "equipment"
    MATERIALS = "materials"
    TRAVEL = "travel"
    SUBCONTRACTING = "subcontracting"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class BudgetLine:
    category: BudgetCategory
    requested_vnd: int  # from the fund
    own_vnd: int = 0  # co-funding by the organisation


@dataclass(frozen=True, slots=True)
class BudgetTotals:
    requested_vnd: int
    own_vnd: int

    @property
    def total_vnd(self) -> int:
        return self.requested_vnd + self.own_vnd

    def cofunding_met(self, required_permille: int) -> bool:
        """own / total >= required / 1000, compared without division."""
        return self.own_vnd * WEIGHT_ONE >= required_permille * self.total_vnd


def totals(lines: tuple[BudgetLine, ...]) -> BudgetTotals:
    for line in lines:
        if line.requested_vnd < 0 or line.own_vnd < 0:
            raise InvalidInput("Amounts cannot be negative.", field="budget")
    return BudgetTotals(
        sum(line.requested_vnd for line in lines), sum(line.own_vnd for line in lines)
    )


# Deadline ------------------------------------------------------------------------------------


def received_in_time(received_at: datetime, closes_at: datetime) -> bool:
    """The server's receipt time decides: strictly before the closing time. A submission
    received at the closing instant is late."""
    return received_at < closes_at


class AttachmentKind(StrEnum):
    """The kinds of documents a proposal attaches and a call can require."""

    DESCRIPTION = "description"  # thuyết minh đề tài
    CVS = "cvs"  # lý lịch khoa học
    BUDGET_JUSTIFICATION = "budget_justification"
    ENDORSEMENT = "endorsement"  # văn bản xác nhận của tổ chức chủ trì
    OTHER = "other"


# The call form -------------------------------------------------------------------------------

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
CRITERIA_ROWS_MAX = 8
NAME_MAX = 200
GUIDANCE_MAX = 2000
TITLE_MAX = 300
DESCRIPTION_MAX = 10000


@dataclass(frozen=True, slots=True)
class CallSpec:
    """Everything a fund manager sets on a call (times in UTC, money in whole VND)."""

    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    technologies: tuple[int, ...]
    opens_at: datetime
    closes_at: datetime
    budget_vnd: int
    min_request_vnd: int
    max_request_vnd: int
    cofunding_permille: int
    required_attachments: tuple[str, ...]
    reviewers_per_proposal: int
    blind_review: bool
    criteria: Criteria


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
    if (
        not whole.isascii()
        or not whole.isdigit()
        or (part and not (part.isascii() and part.isdigit()))
        or len(part) > digits
    ):
        number = None
    else:
        number = int(whole) * scale + int(part.ljust(digits, "0") or 0)
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
    for row in range(len(TieBreak)):
        chosen = form.get(f"tie_break-{row}", "")
        if chosen in set(TieBreak) and TieBreak(chosen) not in tie_breaks:
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
    form: Mapping[str, str], technologies: list[str], attachments: list[str]
) -> CallSpec:
    """A call from the manager's form, or InvalidForm naming each bad field."""
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
        return problems.read(lambda: parse_local_time(form.get(name, ""), field=name), now)

    now = datetime.now(UTC)
    title_vi = text("title_vi", TITLE_MAX)
    if not title_vi:
        problems.add(InvalidInput("Enter the call's title in Vietnamese.", field="title_vi"))
    chosen = []
    for value in technologies:
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) < 2**31:
            problems.add(
                InvalidInput("Choose technologies from the list in force.", field="technologies")
            )
            break
        chosen.append(int(value))
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
        "budget_vnd": str(spec.budget_vnd),
        "min_request_vnd": str(spec.min_request_vnd),
        "max_request_vnd": str(spec.max_request_vnd),
        "cofunding_percent": _decimal(spec.cofunding_permille, 10),
        "reviewers_per_proposal": str(spec.reviewers_per_proposal),
        "blind_review": "on" if spec.blind_review else "",
    } | criteria_form_fields(spec.criteria)
