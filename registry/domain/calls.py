"""Fund calls: published criteria and their presets, budget arithmetic and the deadline rule.

Pure rules (issue 4). Marks are kept in tenths of a point as integers (0-5 in steps of 0.5 is
0..50 in steps of 5), weights in thousandths, money in whole VND: no floats anywhere a sum,
a threshold or a ranking depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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
    ),
}


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
