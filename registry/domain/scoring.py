"""Scoring against a call's published criteria: scales, criteria, thresholds, weights,
tie-break rules, the presets a fund starts from, and their JSON form (frozen per version).

Marks are kept in tenths of a point as integers (0-5 in steps of 0.5 is 0..50 in steps of 5),
weights in thousandths: no floats anywhere a sum, a threshold or a ranking depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from registry.domain.catalogue import Localized
from registry.domain.errors import InvalidInput

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
        # Excellence then Impact; Impact first for innovation actions (Horizon Europe IA rules).
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


def format_weight(thousandths: int) -> str:
    """1500 -> "1.5", 1000 -> "1" (a ranking weight, exactly, without floats)."""
    whole, rest = divmod(thousandths, WEIGHT_ONE)
    return f"{whole}" if rest == 0 else f"{whole}." + f"{rest:03d}".rstrip("0")


def format_mark(tenths: int) -> str:
    whole, rest = divmod(tenths, TENTHS)
    return f"{whole}" if rest == 0 else f"{whole}.{rest}"
