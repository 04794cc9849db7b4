"""Scoring against a call's published criteria: scales, criteria, thresholds, weights,
tie-break rules, the presets a fund starts from, and their JSON form (frozen per version);
then the reviews' aggregation, the ranking, the funding line, the what-if panel and the
reviewers' calibration (pure functions over values the services load).

Marks are kept in tenths of a point as integers (0-5 in steps of 0.5 is 0..50 in steps of 5),
weights in thousandths: no floats anywhere a sum, a threshold or a ranking depends on it.
Aggregated marks are exact (Fraction: a mean of three is a third of a tenth); floats appear
only in the calibration, which is shown beside the official figures and never feeds them.
"""

from __future__ import annotations

import functools
import gc
import math
import operator
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import chain, compress, groupby, pairwise, repeat, starmap
from itertools import count as count_from_zero
from typing import Any, ParamSpec, TypeVar

from registry.domain.catalogue import Localized
from registry.domain.errors import InvalidInput, Problems

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

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
                low=mark_number(self.low),
                high=mark_number(self.high),
                step=mark_number(self.step),
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
    #: Lower proposal id first: applied last by `rank`, so ties always resolve the same way.
    #: Not a choice a call offers (see CALL_TIE_BREAKS).
    PROPOSAL_ORDER = "proposal_order"


#: The tie-break rules a call chooses among and orders; PROPOSAL_ORDER always comes after them.
CALL_TIE_BREAKS = (
    TieBreak.UNCOVERED_TOPICS_FIRST,
    TieBreak.CRITERION_ORDER,
    TieBreak.EARLIER_SUBMISSION,
)


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


def mark_number(tenths: int) -> Decimal:
    """A mark as a number for a message: messages format numbers in the reader's language
    (i18n.translate_in), `0,5` in Vietnamese, where format_mark's `0.5` is for form values."""
    return Decimal(tenths) / TENTHS


def weight_number(thousandths: int) -> Decimal:
    """A ranking weight as a number for a message (see mark_number)."""
    return Decimal(thousandths) / WEIGHT_ONE


def format_weight(thousandths: int) -> str:
    """1500 -> "1.5", 1000 -> "1" (a ranking weight, exactly, without floats)."""
    whole, rest = divmod(thousandths, WEIGHT_ONE)
    return f"{whole}" if rest == 0 else f"{whole}." + f"{rest:03d}".rstrip("0")


def format_mark(tenths: int) -> str:
    whole, rest = divmod(tenths, TENTHS)
    return f"{whole}" if rest == 0 else f"{whole}.{rest}"


def format_fraction(value: Fraction, places: int = 2) -> str:
    """An exact value for display, rounded half up (away from zero): 11/3 -> "3.67"."""
    scale = 10**places
    scaled = abs(value) * scale
    rounded = math.floor(scaled + Fraction(1, 2))
    sign = "-" if value < 0 and rounded else ""
    whole, rest = divmod(rounded, scale)
    return f"{sign}{whole}" if not places else f"{sign}{whole}.{rest:0{places}d}"


def format_points(tenths: Fraction, places: int = 2) -> str:
    """An official mark, total or score (kept in tenths) in points: 110/3 -> "3.67"."""
    return format_fraction(Fraction(tenths) / TENTHS, places)


# Aggregation, ranking and the funding line -----------------------------------------------------


def _collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` with the cyclic garbage collector paused (reference counting still
    frees everything as usual). Ranking 10,000 proposals builds some 50,000 objects that
    outlive the call; each burst of them triggers collections that walk every live object,
    although none of these objects is in a reference cycle: measured, a third of the time of
    rank + funding_line. Collection resumes when the outermost call returns."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():  # paused already (a nested call): leave it to the outer one
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


class Aggregation(StrEnum):
    MEDIAN = "median"
    MEAN = "mean"


class FundingPolicy(StrEnum):
    """What the line does at a proposal that does not fit in what is left of the budget."""

    STOP = "stop"  # the line stops there: it and everything after go to the reserve list
    SKIP = "skip"  # it goes to the reserve list; the walk goes on with the next that fits


#: A spread of reviewers' marks on a criterion at or above this (tenths) flags a disagreement.
DISAGREEMENT_SPREAD = 20


@dataclass(frozen=True, slots=True)
class ReviewScores:
    """One submitted review."""

    reviewer: int  # account id
    marks: tuple[int, ...]  # tenths, one per criterion, in criteria order


@dataclass(frozen=True, slots=True)
class Candidate:
    """A submitted proposal as ranking sees it."""

    proposal: int
    requested_vnd: int
    submitted_at: datetime  # UTC, for EARLIER_SUBMISSION
    technologies: frozenset[int]  # for UNCOVERED_TOPICS_FIRST
    reviews: tuple[ReviewScores, ...]
    #: Tenths per criterion; when set it IS the official mark (the reviews' aggregate is not used).
    consensus: tuple[int, ...] | None = None


def _aggregate_all(
    reviews: Sequence[tuple[tuple[int, ...], ...]], method: Aggregation
) -> tuple[list[tuple[int, ...]], list[int]]:
    """Per candidate (its reviews' marks), the official marks as numerators over a
    denominator (1, 2 or the number of reviews): exact, and cheap to compare without building
    Fractions. Candidates with the same number of reviews go through map() together, so no
    Python code runs per candidate."""
    counts = list(map(len, reviews))
    numerators: list[tuple[int, ...]] = [()] * len(reviews)
    denominators = [1] * len(reviews)
    for number in set(counts):
        if number == 0:
            raise ValueError("no marks to aggregate")
        which = [i for i, n in enumerate(counts) if n == number]
        # Per candidate, its marks criterion by criterion (zip of its reviews' marks).
        columns = starmap(zip, map(reviews.__getitem__, which))
        middle = number // 2
        if method == Aggregation.MEAN:
            values = map(map, repeat(sum), columns)
            denominator = number
        elif number % 2:
            ordered = map(map, repeat(sorted), columns)
            values = map(map, repeat(operator.itemgetter(middle)), ordered)
            denominator = 1
        else:  # the median of an even number is the mean of the two middle marks
            ordered = map(map, repeat(sorted), columns)
            pairs = map(map, repeat(operator.itemgetter(middle - 1, middle)), ordered)
            values = map(map, repeat(sum), pairs)
            denominator = 2
        for i, marks in zip(which, map(tuple, values), strict=True):
            numerators[i] = marks
            denominators[i] = denominator
    return numerators, denominators


def aggregate(
    marks_per_review: Sequence[tuple[int, ...]], method: Aggregation
) -> tuple[Fraction, ...]:
    """Each criterion's median or mean of the reviews' marks (tenths), exactly."""
    if len(set(map(len, marks_per_review))) > 1:
        raise ValueError("reviews with different numbers of marks")
    numerators, denominators = _aggregate_all([tuple(marks_per_review)], Aggregation(method))
    return tuple(Fraction(n, denominators[0]) for n in numerators[0])


@dataclass(frozen=True, slots=True)
class OfficialMarks:
    """Every reviewed candidate with its official marks as integers over one shared
    denominator, so ranking compares exact values with integer arithmetic (a Fraction costs
    about 1 us per operation: too slow for 10,000 proposals). Computed once, ranked under as
    many criteria variants as the what-if panel asks for."""

    denominator: int
    candidates: tuple[Candidate, ...]
    marks: tuple[tuple[int, ...], ...]  # per candidate: official marks x denominator
    _fractions: list[Any] = field(default_factory=list, repr=False, compare=False)

    def fractions(self) -> tuple[list[tuple[Fraction, ...]], _Fractions]:
        """Per candidate, its official marks as Fractions, and numerator -> Fraction over the
        denominator: built on first use, then shared by every ranking of these marks."""
        if not self._fractions:
            fractions = _Fractions(self.denominator)
            marks = list(map(tuple, map(map, repeat(fractions.__getitem__), self.marks)))
            self._fractions.extend((marks, fractions))
        return self._fractions[0], self._fractions[1]


_MARKS = operator.attrgetter("marks")
_REVIEWS = operator.attrgetter("reviews")
_CONSENSUS = operator.attrgetter("consensus")
_PROPOSAL = operator.attrgetter("proposal")


@_collector_paused
def official_marks(candidates: Iterable[Candidate], method: Aggregation) -> OfficialMarks:
    """Consensus marks where set, else the reviews' aggregate; candidates with neither are
    left out (the caller shows them as awaiting reviews)."""
    method = Aggregation(method)
    given = tuple(candidates)
    if len(set(map(_PROPOSAL, given))) != len(given):
        raise ValueError("a proposal given twice")
    reviewed = tuple(c for c in given if c.consensus is not None or c.reviews)
    official: list[tuple[int, ...] | None] = list(map(_CONSENSUS, reviewed))
    pending = [i for i, marks in enumerate(official) if marks is None]
    reviews = list(
        map(tuple, map(map, repeat(_MARKS), map(_REVIEWS, map(reviewed.__getitem__, pending))))
    )
    if len(set(map(len, chain(chain.from_iterable(reviews), filter(None, official))))) > 1:
        raise ValueError("marks for different numbers of criteria")
    numerators, denominators = _aggregate_all(reviews, method)
    over = [1] * len(official)  # each one's denominator; consensus marks are whole tenths
    for i, marks, denominator in zip(pending, numerators, denominators, strict=True):
        official[i] = marks
        over[i] = denominator
    common = math.lcm(*set(over))
    scaled = [
        marks if d == common else tuple(m * (common // d) for m in marks)
        for marks, d in zip(official, over, strict=True)
    ]
    return OfficialMarks(common, reviewed, tuple(scaled))


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate's place in the ranking. Built in bulk by _instances (without calling
    __init__): give it no __post_init__."""

    proposal: int
    marks: tuple[Fraction, ...]  # official per-criterion marks, tenths (consensus or aggregate)
    total: Fraction  # unweighted sum, tenths: thresholds apply to this and to marks
    score: Fraction  # weighted sum, tenths (sum of mark x weight / 1000): orders the ranking
    failed: tuple[int, ...]  # indexes of criteria below their threshold
    failed_overall: bool  # total below the overall threshold
    rank: int | None  # 1.. among eligible candidates; None when eliminated
    #: The rule that put it below its upper neighbour when their scores tie; None when the
    #: score alone decides (or it is first, or eliminated).
    separated_by: TieBreak | None

    @property
    def eligible(self) -> bool:
        return not self.failed and not self.failed_overall


class _Fractions(dict[int, Fraction]):
    """Numerator -> Fraction over a fixed denominator, each built once: official marks take few
    distinct values, and building a Fraction costs more than the rest of ranking one proposal."""

    def __init__(self, denominator: int) -> None:
        super().__init__()
        self.denominator = denominator

    def __missing__(self, numerator: int) -> Fraction:
        value = self[numerator] = Fraction(numerator, self.denominator)
        return value


def _rules(criteria: Criteria) -> tuple[TieBreak, ...]:
    rules = tuple(dict.fromkeys(TieBreak(rule) for rule in criteria.tie_breaks))
    if TieBreak.PROPOSAL_ORDER in rules:  # nothing after it can ever decide
        return rules[: rules.index(TieBreak.PROPOSAL_ORDER) + 1]
    return (*rules, TieBreak.PROPOSAL_ORDER)


class _Ranking:
    """One ranking in progress. Candidates are indexes into OfficialMarks' tuples and every
    per-candidate value sits in a list built by map(), so most of the work runs in C (map,
    zip, sort) rather than in Python code per proposal."""

    def __init__(self, criteria: Criteria, official: OfficialMarks) -> None:
        size = len(criteria.items)
        if any(len(m) != size for m in official.marks):
            raise ValueError(f"official marks for {size} criteria expected")
        self.candidates = official.candidates
        self.marks = official.marks
        self.proposals = list(map(_PROPOSAL, official.candidates))
        denominator = official.denominator
        self.thresholds = tuple(c.threshold * denominator for c in criteria.items)
        weights = tuple(c.weight for c in criteria.items)
        mul = operator.mul
        self.scores = [sum(map(mul, m, weights)) for m in self.marks]
        self.totals = list(map(sum, self.marks))
        overall = criteria.overall_threshold * denominator
        self.failed_overall = [total < overall for total in self.totals]
        ge = operator.ge
        self.passes = [all(map(ge, m, self.thresholds)) for m in self.marks]
        rules = _rules(criteria)
        #: The rules that compare two proposals on their own: one part each of a tie key.
        self.static = [r for r in rules if r is not TieBreak.UNCOVERED_TOPICS_FIRST]
        self.dynamic = len(self.static) < len(rules)
        #: How many static rules come before UNCOVERED_TOPICS_FIRST.
        self.split = rules.index(TieBreak.UNCOVERED_TOPICS_FIRST) if self.dynamic else 0
        self.order = criteria.tie_break_order or tuple(range(size))

    def failed(self, i: int) -> tuple[int, ...]:
        """Indexes of the criteria candidate i fails."""
        if self.passes[i]:
            return ()
        return tuple(compress(count_from_zero(), map(operator.lt, self.marks[i], self.thresholds)))

    def sort_keys(self, eligible: list[int]) -> list[tuple[Any, ...]]:
        """Per eligible candidate: (-score, then one part per static rule), smaller first."""
        parts: list[Iterable[Any]] = [map(operator.neg, map(self.scores.__getitem__, eligible))]
        for rule in self.static:
            if rule is TieBreak.CRITERION_ORDER:
                order = self.order
                getter = operator.itemgetter(*order) if len(order) > 1 else _one(order[0])
                marks = map(getter, map(self.marks.__getitem__, eligible))
                parts.append(map(tuple, map(map, repeat(operator.neg), marks)))
            elif rule is TieBreak.EARLIER_SUBMISSION:
                parts.append(map(_SUBMITTED, map(self.candidates.__getitem__, eligible)))
            else:
                parts.append(map(self.proposals.__getitem__, eligible))
        return list(zip(*parts, strict=True))

    def place(self) -> tuple[list[int], list[int], list[TieBreak | None]]:
        """The eligible in rank order, the rule that separated each from the one above (when
        their scores tie), and the eliminated by score then proposal id."""
        everyone = range(len(self.marks))
        eligible = [i for i in everyone if self.passes[i] and not self.failed_overall[i]]
        eliminated = [i for i in everyone if not self.passes[i] or self.failed_overall[i]]
        eliminated.sort(key=self.proposals.__getitem__)
        eliminated.sort(key=self.scores.__getitem__, reverse=True)  # stable: ties by id
        keys = self.sort_keys(eligible)
        ranked = sorted(range(len(eligible)), key=keys.__getitem__)
        placed = [eligible[n] for n in ranked]
        keys = [keys[n] for n in ranked]
        if not self.dynamic:
            return placed, eliminated, self._separations(keys, placed, {}, [])
        placed, keys, covered, brought = self._uncovered_first(placed, keys)
        return placed, eliminated, self._separations(keys, placed, covered, brought)

    def _uncovered_first(
        self, placed: list[int], keys: list[tuple[Any, ...]]
    ) -> tuple[list[int], list[tuple[Any, ...]], dict[int, int], list[bool]]:
        """Apply UNCOVERED_TOPICS_FIRST to the order of the static rules. It depends on who is
        ranked above, so it is applied by walking: among proposals tied on the score and the
        rules before it (already in the order of the rules after it), one with a technology
        no proposal above covers goes next; the others keep their order and follow once no
        tied one brings anything new (a covered proposal never becomes uncovered).

        Returns the new order, its keys, technology -> place of the first proposal covering
        it, and per place whether that proposal covered something new."""
        candidates = self.candidates
        covered: dict[int, int] = {}
        brought: list[bool] = []
        order: list[int] = []
        width = self.split + 1
        prefixes = [key[:width] for key in keys]
        for _, tied in groupby(zip(prefixes, range(len(placed)), strict=True), key=_FIRST):
            run = [n for _, n in tied]
            deferred = []
            for n in run:
                have = candidates[placed[n]].technologies
                if len(run) > 1 and covered.keys() >= have:
                    deferred.append(n)
                    continue
                new = False
                for technology in have:
                    if technology not in covered:
                        covered[technology] = len(order)
                        new = True
                order.append(n)
                brought.append(new)
            order.extend(deferred)  # all covered by now, in the order of the later rules
            brought.extend([False] * len(deferred))
        return [placed[n] for n in order], [keys[n] for n in order], covered, brought

    def _separations(
        self,
        keys: list[tuple[Any, ...]],
        placed: list[int],
        covered: Mapping[int, int],
        brought: list[bool],
    ) -> list[TieBreak | None]:
        """Per place, the first rule on which that proposal differs from the one above when
        their scores tie. UNCOVERED_TOPICS_FIRST judges both against what the proposals above
        the upper one cover (`covered` holds the place each technology was first covered);
        when the upper one brought nothing new, no tied one could (it would have gone first)."""
        separated: list[TieBreak | None] = [None] * len(keys)
        for place in range(1, len(keys)):
            upper, lower = keys[place - 1], keys[place]
            if upper[0] != lower[0]:
                continue
            differs = 1
            while upper[differs] == lower[differs]:  # keys differ: they end with the id
                differs += 1
            if self.dynamic and differs > self.split and brought[place - 1]:
                above = place - 1
                have = self.candidates[placed[place]].technologies
                if not any(covered[t] >= above for t in have):
                    separated[place] = TieBreak.UNCOVERED_TOPICS_FIRST
                    continue
            separated[place] = self.static[differs - 1]
        return separated


def _one(index: int) -> Callable[[tuple[int, ...]], tuple[int]]:
    return lambda marks: (marks[index],)


_SUBMITTED = operator.attrgetter("submitted_at")
_FIRST = operator.itemgetter(0)


@_collector_paused
def rank_official(criteria: Criteria, official: OfficialMarks) -> tuple[Ranked, ...]:
    """`rank` on marks already aggregated (the what-if panel ranks them under several
    criteria variants)."""
    ranking = _Ranking(criteria, official)
    placed, eliminated, separated = ranking.place()
    everyone = placed + eliminated
    marks, fractions = official.fractions()
    score_of = _Fractions(official.denominator * WEIGHT_ONE).__getitem__
    return _instances(
        Ranked,
        len(everyone),
        (
            map(ranking.proposals.__getitem__, everyone),
            map(marks.__getitem__, everyone),
            map(fractions.__getitem__, map(ranking.totals.__getitem__, everyone)),
            map(score_of, map(ranking.scores.__getitem__, everyone)),
            chain(repeat((), len(placed)), map(ranking.failed, eliminated)),
            map(ranking.failed_overall.__getitem__, everyone),
            chain(range(1, len(placed) + 1), repeat(None, len(eliminated))),
            chain(separated, repeat(None, len(eliminated))),
        ),
    )


def _instances(cls: type[T], size: int, columns: Sequence[Iterable[Any]]) -> tuple[T, ...]:
    """`size` instances of a frozen, slotted dataclass, given each field's values in field
    order. Each field is set over all instances at once by map() over its slot descriptor:
    half the time of calling the generated __init__ (object.__setattr__ per field) for each
    instance, measured 7.5 against 16 ms for 10,000 Ranked. For result classes only: no
    __post_init__ or default runs, so every field must be given."""
    instances = list(map(object.__new__, repeat(cls, size)))
    names = [f.name for f in fields(cls)]
    if len(names) != len(columns):
        raise TypeError(f"{cls.__name__} has {len(names)} fields, not {len(columns)}")
    for name, values in zip(names, columns, strict=True):
        deque(map(getattr(cls, name).__set__, instances, values), maxlen=0)
    return tuple(instances)


@_collector_paused
def rank(
    criteria: Criteria, candidates: Iterable[Candidate], method: Aggregation
) -> tuple[Ranked, ...]:
    """The eligible candidates in rank order, then the eliminated ones (by score, then proposal
    id). Candidates without a review or a consensus are left out.

    Ties on the score are broken by the call's rules in its order (UNCOVERED_TOPICS_FIRST: a
    proposal with a technology no proposal ranked above it covers goes first; CRITERION_ORDER:
    the higher official mark on the criteria in `tie_break_order`; EARLIER_SUBMISSION), then
    by PROPOSAL_ORDER, so the same input always gives the same order."""
    return rank_official(criteria, official_marks(candidates, method))


class Line(StrEnum):
    FUNDED = "funded"
    RESERVE = "reserve"
    ELIMINATED = "eliminated"


@dataclass(frozen=True, slots=True)
class LineEntry:
    """A ranked candidate on the funding line. Built in bulk by _instances: no __post_init__."""

    ranked: Ranked
    line: Line
    amount_vnd: int  # amount funded; 0 unless funded
    cumulative_vnd: int  # total funded up to and including this entry
    #: What funding it takes: the amount set for it (a reduced one) or else the requested one.
    asked_vnd: int = 0


_RANKED_PROPOSAL = operator.attrgetter("ranked.proposal")


@dataclass(frozen=True, slots=True)
class FundingLine:
    budget_vnd: int
    policy: FundingPolicy
    entries: tuple[LineEntry, ...]  # rank order, eliminated last
    funded_vnd: int
    _places: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        places = dict(
            zip(map(_RANKED_PROPOSAL, self.entries), range(len(self.entries)), strict=True)
        )
        object.__setattr__(self, "_places", places)

    def of(self, proposal: int) -> LineEntry:
        """The entry of a proposal (KeyError if it was not ranked)."""
        return self.entries[self._places[proposal]]

    def _on(self, line: Line) -> tuple[int, ...]:
        return tuple(e.ranked.proposal for e in self.entries if e.line is line)

    @property
    def funded(self) -> tuple[int, ...]:
        return self._on(Line.FUNDED)

    @property
    def reserve(self) -> tuple[int, ...]:
        """In rank order."""
        return self._on(Line.RESERVE)

    @property
    def eliminated(self) -> tuple[int, ...]:
        return self._on(Line.ELIMINATED)

    @property
    def remaining_vnd(self) -> int:
        return self.budget_vnd - self.funded_vnd


@_collector_paused
def funding_line(
    ranked: Sequence[Ranked],
    requested: Mapping[int, int],
    budget_vnd: int,
    policy: FundingPolicy,
    amounts: Mapping[int, int] | None = None,
) -> FundingLine:
    """Walk the eligible in rank order and fund each at `amounts.get(p, requested[p])` while
    the budget lasts. At one that does not fit, STOP sends it and all after it to the reserve
    list; SKIP sends only it there and goes on with the next. The funded total never exceeds
    the budget."""
    policy = FundingPolicy(policy)
    if budget_vnd < 0:
        raise ValueError("negative budget")
    eligible = [r for r in ranked if r.rank is not None]
    if any(a.rank > b.rank for a, b in pairwise(eligible)):
        eligible.sort(key=_RANK)
    order = eligible + [r for r in ranked if r.rank is None]
    proposals = list(map(_PROPOSAL, order))
    asked = list(map(requested.__getitem__, proposals))
    if amounts:
        asked = list(map(amounts.get, proposals, asked))
    if asked and min(asked) < 0:
        raise ValueError("a negative amount")
    lines: list[Line] = []
    funded, cumulative = 0, []
    stop = policy is FundingPolicy.STOP
    for amount in asked[: len(eligible)]:
        if funded + amount <= budget_vnd:
            funded += amount
            lines.append(Line.FUNDED)
        else:
            lines.append(Line.RESERVE)
            if stop:
                break
        cumulative.append(funded)
    reserve = len(eligible) - len(lines)
    lines += [Line.RESERVE] * reserve + [Line.ELIMINATED] * (len(order) - len(eligible))
    cumulative += [funded] * (len(order) - len(cumulative))
    given = [a if line is Line.FUNDED else 0 for a, line in zip(asked, lines, strict=True)]
    entries = _instances(LineEntry, len(order), (order, lines, given, cumulative, asked))
    return FundingLine(budget_vnd, policy, entries, funded)


_RANK = operator.attrgetter("rank")


#: A ranking weight a call (or the what-if panel) may set, in thousandths (as the call form).
WEIGHT_MIN = 1
WEIGHT_MAX = 10 * WEIGHT_ONE


@dataclass(frozen=True, slots=True)
class Scenario:
    """The what-if panel's changes; None keeps the call's value."""

    weights: tuple[int, ...] | None = None  # thousandths per criterion
    thresholds: tuple[int, ...] | None = None  # tenths per criterion
    overall_threshold: int | None = None  # tenths
    budget_vnd: int | None = None
    policy: FundingPolicy | None = None

    def apply(self, criteria: Criteria) -> Criteria:
        """The criteria with these changes, checked like the call form checks them (fields
        named like its fields); InvalidForm lists every problem."""
        size = len(criteria.items)
        weights = (
            self.weights if self.weights is not None else tuple(c.weight for c in criteria.items)
        )
        thresholds = (
            self.thresholds
            if self.thresholds is not None
            else tuple(c.threshold for c in criteria.items)
        )
        if len(weights) != size or len(thresholds) != size:
            raise ValueError(f"a scenario for {len(weights)}/{len(thresholds)} of {size} criteria")
        overall = (
            criteria.overall_threshold if self.overall_threshold is None else self.overall_threshold
        )
        problems = Problems()
        for row, (item, weight, threshold) in enumerate(
            zip(criteria.items, weights, thresholds, strict=True)
        ):
            if not WEIGHT_MIN <= weight <= WEIGHT_MAX:
                problems.add(
                    _out_of_range(f"criterion-{row}-weight", WEIGHT_MIN, WEIGHT_MAX, weight_number)
                )
            scale = item.scale
            if not scale.low <= threshold <= scale.high:
                problems.add(
                    _out_of_range(f"criterion-{row}-threshold", scale.low, scale.high, mark_number)
                )
            elif (threshold - scale.low) % scale.step:
                problems.add(
                    InvalidInput(
                        "Thresholds are marks: use steps of %(step)s.",
                        field=f"criterion-{row}-threshold",
                        step=mark_number(scale.step),
                    )
                )
        highest = sum(c.scale.high for c in criteria.items)
        if not 0 <= overall <= highest:
            problems.add(_out_of_range("overall_threshold", 0, highest, mark_number))
        if self.budget_vnd is not None and self.budget_vnd < 0:
            problems.add(InvalidInput("Amounts cannot be negative.", field="budget_vnd"))
        problems.raise_any()
        items = tuple(
            replace(item, weight=weight, threshold=threshold)
            for item, weight, threshold in zip(criteria.items, weights, thresholds, strict=True)
        )
        return replace(criteria, items=items, overall_threshold=overall)


def _out_of_range(
    field_name: str, low: int, high: int, show: Callable[[int], Decimal]
) -> InvalidInput:
    return InvalidInput(
        "Enter a number from %(low)s to %(high)s.", field=field_name, low=show(low), high=show(high)
    )


@dataclass(frozen=True, slots=True)
class WhatIf:
    before: FundingLine
    after: FundingLine
    entered: tuple[int, ...]  # newly funded, in the rank order of `after`
    left: tuple[int, ...]  # no longer funded, in the rank order of `before`

    def ranks(self, proposal: int) -> tuple[int | None, int | None]:
        """The proposal's rank before and after (None: eliminated)."""
        return self.before.of(proposal).ranked.rank, self.after.of(proposal).ranked.rank

    @property
    def moved(self) -> tuple[int, ...]:
        """Proposals whose rank or line changed, in the order of `after`."""
        return tuple(
            e.ranked.proposal
            for e in self.after.entries
            if (b := self.before.of(e.ranked.proposal)).line is not e.line
            or b.ranked.rank != e.ranked.rank
        )


@_collector_paused
def what_if(
    criteria: Criteria,
    candidates: Iterable[Candidate],
    method: Aggregation,
    budget_vnd: int,
    policy: FundingPolicy,
    scenario: Scenario,
    amounts: Mapping[int, int] | None = None,
) -> WhatIf:
    """The funding line as the call stands and under the scenario's changes. Saves nothing:
    the marks are aggregated once and ranked under both sets of criteria."""
    changed = scenario.apply(criteria)
    official = official_marks(candidates, method)
    requested = {c.proposal: c.requested_vnd for c in official.candidates}
    ranked = rank_official(criteria, official)
    before = funding_line(ranked, requested, budget_vnd, policy, amounts)
    if changed != criteria:
        ranked = rank_official(changed, official)
    after = funding_line(
        ranked,
        requested,
        budget_vnd if scenario.budget_vnd is None else scenario.budget_vnd,
        policy if scenario.policy is None else scenario.policy,
        amounts,
    )
    was, now = set(before.funded), set(after.funded)
    return WhatIf(
        before,
        after,
        entered=tuple(p for p in after.funded if p not in was),
        left=tuple(p for p in before.funded if p not in now),
    )


@dataclass(frozen=True, slots=True)
class Calibration:
    """Display only: never an input to `rank` or `funding_line`."""

    #: Proposal -> per criterion, the mean over its reviews of each reviewer's normalised mark
    #: (z-score against that reviewer's marks on the criterion over their reviews in the call;
    #: 0.0 from a reviewer with one review or no spread).
    z_marks: Mapping[int, tuple[float, ...]]
    #: Proposal -> the calibrated score: z-marks weighted like the ranking (weight / 1000).
    z_score: Mapping[int, float]
    #: Proposal -> criteria indexes where its reviewers' marks spread DISAGREEMENT_SPREAD or more.
    disagreements: Mapping[int, tuple[int, ...]]


@_collector_paused
def calibrate(criteria: Criteria, candidates: Iterable[Candidate]) -> Calibration:
    """Per-reviewer normalisation and disagreement flags for proposals with reviews. Sums use
    math.fsum (exactly rounded), so the figures do not depend on the order reviews came in."""
    reviewed = [c for c in candidates if c.reviews]
    size = len(criteria.items)
    by_reviewer: dict[int, list[tuple[int, ...]]] = {}
    for candidate in reviewed:
        for review in candidate.reviews:
            if len(review.marks) != size:
                raise ValueError(f"proposal {candidate.proposal}: {size} marks expected")
            by_reviewer.setdefault(review.reviewer, []).append(review.marks)
    scales = {reviewer: _reviewer_scale(marks, size) for reviewer, marks in by_reviewer.items()}
    weights = [c.weight / WEIGHT_ONE for c in criteria.items]
    sub, truediv = operator.sub, operator.truediv
    z_marks: dict[int, tuple[float, ...]] = {}
    z_score: dict[int, float] = {}
    disagreements: dict[int, tuple[int, ...]] = {}
    for candidate in reviewed:
        normalised = []
        for review in candidate.reviews:
            means, deviations = scales[review.reviewer]
            normalised.append(map(truediv, map(sub, review.marks, means), deviations))
        count = len(normalised)
        z = tuple(total / count for total in map(math.fsum, zip(*normalised, strict=True)))
        z_marks[candidate.proposal] = z
        z_score[candidate.proposal] = math.fsum(map(operator.mul, weights, z))
        columns = list(zip(*map(_MARKS, candidate.reviews), strict=True))
        spreads = map(sub, map(max, columns), map(min, columns))
        wide = map(operator.ge, spreads, repeat(DISAGREEMENT_SPREAD))
        disagreements[candidate.proposal] = tuple(compress(count_from_zero(), wide))
    return Calibration(z_marks, z_score, disagreements)


def _reviewer_scale(marks: list[tuple[int, ...]], size: int) -> tuple[list[float], list[float]]:
    """Per criterion, the mean and the population standard deviation of one reviewer's marks;
    an infinite deviation where there is nothing to compare (one review, or all marks equal),
    so that their normalised marks come out as 0.0."""
    if len(marks) < 2:
        return [float(m) for m in marks[0]], [math.inf] * size
    means, deviations = [], []
    for column in zip(*marks, strict=True):
        mean = math.fsum(column) / len(column)
        deviation = math.sqrt(math.fsum((m - mean) ** 2 for m in column) / len(column))
        means.append(mean)
        deviations.append(deviation or math.inf)
    return means, deviations
