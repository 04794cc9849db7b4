"""Automatic assignment of reviewers: affinity from text, then the best plan under the rules.

Affinity (0..1000, an integer) says how well a reviewer's declared fields, keywords and past
proposals or projects fit a proposal's technologies, title and abstract. Words are compared
folded, as search does (`Trí tuệ` = `tri tue`), without function words, and adjacent syllables
also count as one term: most Vietnamese words are two syllables, and "trí tuệ nhân tạo" shares
far more with "tri tue nhan tao" than "tri" with "tue". Each component saturates, so a reviewer
listing many keywords is not drowned and one listing few is not favoured without a match.

The plan gives every proposal exactly `per_proposal` distinct reviewers, never an excluded pair
(conflicts, declines), each reviewer's load within [min_load, max_load], with the greatest
total affinity. That is a transportation problem: its linear programme is solved by HiGHS
through scipy (see `_solve`), never by a loop of our own, and every plan is checked against the
rules before it is returned. `greedy` (best pair first) is kept only as the benchmark's baseline.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse

from registry.domain.errors import InvalidInput
from registry.domain.text import collation_key, fold, nfc

# Terms ----------------------------------------------------------------------------------------

#: Words that carry no subject, compared before folding (lower case, NFC) so that "từ" (from)
#: is dropped while "tự" (self, as in "tự động") and "tử" ("điện tử") are kept. Function words
#: spelled like a content word once marks are left out ("khi"/"khí", "do"/"đo", "sau"/"sâu",
#: "trong"/"trồng") are kept for keywords typed without marks; `common_terms` drops them from
#: a call's texts instead.
STOP_WORDS = frozenset(
    word
    for line in (
        "và của các những là với về để có được một này đó theo tại từ trên dưới bằng như",
        "hoặc hay thì mà nhằm sự việc nhiều đến vào ở đã sẽ đang cũng không nên vì nếu nhưng",
        "giữa trước gồm ít nhất hơn rất cùng đối nhau mỗi mọi vừa",
        "va cua cac voi mot",  # typed without marks, where no content word folds to them
        "a an the of and or for in on at to with by from into as is are be this that these",
        "those its their our we it based using use used via new novel towards toward study",
        "studies research development develop developing application applications applied",
        "system systems technology technologies approach method methods",
    )
    for word in line.split()
)
#: Two-syllable words every proposal in this registry uses ("research", "develop", "apply",
#: "technology", "system"...): dropped with both syllables, so they neither score nor explain.
GENERIC_PAIRS = frozenset(
    {
        "nghien cuu",
        "phat trien",
        "ung dung",
        "cong nghe",
        "giai phap",
        "xay dung",
        "danh gia",
        "trien khai",
        "thuc hien",
        "hieu qua",
        "nang cao",
        "du an",
        "de tai",
        "ket qua",
        "muc tieu",
        "viet nam",
        "thu nghiem",
        "he thong",
        "linh vuc",
        "dap ung",
        "phuc vu",
        "yeu cau",
    }
)
#: A letter run, optionally joined by hyphens ("các-bon", "RISC-V" stay one word).
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def _tokens(text: str) -> list[tuple[str, str] | None]:
    """(folded, shown) per word in order; None where a dropped word breaks adjacency."""
    words: list[tuple[str, str] | None] = []
    for match in _TOKEN.finditer(nfc(text).lower()):
        shown = match.group()
        if shown in STOP_WORDS or shown.isdigit():
            words.append(None)
            continue
        words.append((fold(shown).replace("-", ""), shown))
    # Generic two-syllable words go with both syllables.
    for index in range(len(words) - 1):
        first, second = words[index], words[index + 1]
        if first and second and f"{first[0]} {second[0]}" in GENERIC_PAIRS:
            words[index] = words[index + 1] = None
    return words


def _terms_of(words: Sequence[tuple[str, str] | None]) -> set[str]:
    """Single words (two letters or more) and pairs of adjacent kept words ("tri tue")."""
    found: set[str] = set()
    previous: tuple[str, str] | None = None
    for word in words:
        if word is not None:
            if len(word[0]) > 1:
                found.add(word[0])
            if previous is not None:
                found.add(f"{previous[0]} {word[0]}")
        previous = word
    return found


def terms(text: str) -> frozenset[str]:
    """The folded terms of a text: its words and adjacent word pairs, without stop words."""
    return frozenset(_terms_of(_tokens(text)))


#: A shared pair of syllables is worth this many shared single words.
PAIR_WEIGHT = 3


def weight(found: Iterable[str]) -> int:
    return sum(PAIR_WEIGHT if " " in term else 1 for term in found)


def common_terms(texts: Iterable[str], *, share_permille: int = 200) -> frozenset[str]:
    """Terms in more than `share_permille`/1000 of the texts (at least 5 texts): boilerplate
    of one call ("bài báo khoa học") that would explain nothing about a fit."""
    counts: dict[str, int] = {}
    total = 0
    for text in texts:
        total += 1
        for term in terms(text):
            counts[term] = counts.get(term, 0) + 1
    if total < 5:
        return frozenset()
    return frozenset(t for t, n in counts.items() if n * 1000 > total * share_permille)


# Profiles and affinity ------------------------------------------------------------------------

#: The most a component adds to the 0..1000 affinity: declared fields weigh most.
TECHNOLOGY_POINTS = 500
KEYWORD_POINTS = 300
PAST_POINTS = 200
#: Shared term weight at which keywords and past work reach their full points.
KEYWORDS_ENOUGH = 10
PAST_ENOUGH = 15
#: Terms shown to explain an affinity.
MAX_SHARED = 5
#: A lone shared word explains only from this length ("graphene", "robot"): a Vietnamese
#: syllable alone says little, and once folded it may be another word ("mô" = "mở").
MIN_SHOWN_WORD = 4


@dataclass(frozen=True, slots=True)
class ReviewerProfile:
    account: int
    fields: frozenset[int] = frozenset()  # technology ids
    keywords: str = ""
    past: tuple[str, ...] = ()  # titles and abstracts of their past proposals and projects


@dataclass(frozen=True, slots=True)
class ProposalProfile:
    proposal: int
    technologies: frozenset[int] = frozenset()
    title: str = ""
    abstract: str = ""


@dataclass(frozen=True, slots=True)
class Affinity:
    score: int  # 0..1000
    #: What explains it, best first: shared technology names, then shared terms as the
    #: proposal writes them.
    shared: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _ReviewerTerms:
    keywords: frozenset[str]
    keywords_weight: int
    past: frozenset[str]
    past_weight: int


@functools.lru_cache(maxsize=4096)
def _reviewer_terms(profile: ReviewerProfile, ignore: frozenset[str]) -> _ReviewerTerms:
    keywords = terms(profile.keywords) - ignore
    past = frozenset().union(*(terms(text) for text in profile.past)) - ignore
    return _ReviewerTerms(keywords, weight(keywords), past, weight(past))


@dataclass(frozen=True, slots=True)
class _ProposalTerms:
    terms: frozenset[str]
    words: tuple[tuple[str, str] | None, ...]  # in the text's order, to show phrases


@functools.lru_cache(maxsize=4096)
def _proposal_terms(profile: ProposalProfile, ignore: frozenset[str]) -> _ProposalTerms:
    words = tuple(_tokens(f"{profile.title}\n{profile.abstract}"))
    return _ProposalTerms(frozenset(_terms_of(words)) - ignore, words)


def _part(points: int, shared: int, offered: int, enough: int) -> int:
    """`points` scaled by the shared weight, full once it reaches what the reviewer offers or
    `enough`, whichever is less."""
    scale = min(offered, enough)
    return points * min(shared, scale) // scale if scale else 0


def _technology_part(shared: int, asked: int) -> int:
    return TECHNOLOGY_POINTS * shared // asked if asked else 0


def affinity(
    reviewer: ReviewerProfile,
    proposal: ProposalProfile,
    technology_names: Mapping[int, str],
    *,
    ignore: frozenset[str] = frozenset(),
) -> Affinity:
    """How well the reviewer fits the proposal, and the shared terms that say why.
    `ignore`: terms too common to count (`common_terms` of the call's proposals)."""
    mine = _reviewer_terms(reviewer, ignore)
    theirs = _proposal_terms(proposal, ignore)
    shared_fields = reviewer.fields & proposal.technologies
    by_keyword = mine.keywords & theirs.terms
    by_past = mine.past & theirs.terms
    score = (
        _technology_part(len(shared_fields), len(proposal.technologies))
        + _part(KEYWORD_POINTS, weight(by_keyword), mine.keywords_weight, KEYWORDS_ENOUGH)
        + _part(PAST_POINTS, weight(by_past), mine.past_weight, PAST_ENOUGH)
    )
    names = sorted((technology_names.get(t, str(t)) for t in shared_fields), key=collation_key)
    shown = [
        *names,
        *_explain(by_keyword, theirs.words),
        *_explain(by_past - by_keyword, theirs.words),
    ]
    return Affinity(score, tuple(dict.fromkeys(shown))[:MAX_SHARED])


def _explain(shared: Collection[str], words: Sequence[tuple[str, str] | None]) -> list[str]:
    """Shared terms as the proposal writes them: runs of shared pairs as one phrase
    ("trí tuệ nhân tạo" rather than "trí tuệ", "tuệ nhân", "nhân tạo"), longest first, then
    longer shared words no phrase shows; in the order the proposal has them otherwise."""
    phrases: dict[str, int] = {}
    in_phrases: set[str] = set()
    run: list[tuple[str, str]] = []
    for word in (*words, None):
        if word is not None and run and f"{run[-1][0]} {word[0]}" in shared:
            run.append(word)
            continue
        if len(run) > 1:
            phrases.setdefault(" ".join(shown for _, shown in run), len(run))
            in_phrases.update(folded for folded, _ in run)
        run = [word] if word is not None else []
    singles: dict[str, str] = {}
    for word in words:
        if word is None:
            continue
        folded, written = word
        if folded in shared and folded not in in_phrases and len(folded) >= MIN_SHOWN_WORD:
            singles.setdefault(folded, written)
    longest_first = sorted(phrases, key=lambda phrase: -phrases[phrase])
    return [*longest_first, *singles.values()]


class AffinityTable(Mapping[tuple[int, int], int]):
    """Affinity scores of every (proposal, reviewer) pair, computed at once with sparse
    term matrices (2,000 x 300 pairs in well under a second); the same numbers `affinity`
    gives pair by pair."""

    def __init__(
        self,
        reviewers: Sequence[ReviewerProfile],
        proposals: Sequence[ProposalProfile],
        *,
        ignore: frozenset[str] = frozenset(),
    ) -> None:
        self.proposals = tuple(p.proposal for p in proposals)
        self.reviewers = tuple(r.account for r in reviewers)
        self._proposal_row = {p: i for i, p in enumerate(self.proposals)}
        self._reviewer_column = {r: j for j, r in enumerate(self.reviewers)}
        self.scores = self._compute(reviewers, proposals, ignore)

    @staticmethod
    def _compute(
        reviewers: Sequence[ReviewerProfile],
        proposals: Sequence[ProposalProfile],
        ignore: frozenset[str],
    ) -> np.ndarray:
        vocabulary: dict[str, int] = {}
        shapes: list[tuple[list[int], list[int], list[int], int]] = []

        def incidence(sets: Sequence[Collection[str]], weighted: bool) -> int:
            """Note a rows x vocabulary matrix (built once the vocabulary is complete)."""
            rows, columns, values = [], [], []
            for row, items in enumerate(sets):
                for item in items:
                    rows.append(row)
                    columns.append(vocabulary.setdefault(item, len(vocabulary)))
                    values.append(PAIR_WEIGHT if weighted and " " in item else 1)
            shapes.append((rows, columns, values, len(sets)))
            return len(shapes) - 1

        mine = [_reviewer_terms(r, ignore) for r in reviewers]
        # Technologies share the vocabulary as "#id", which no folded term can be.
        proposal_terms = incidence([_proposal_terms(p, ignore).terms for p in proposals], False)
        proposal_tech = incidence([{f"#{t}" for t in p.technologies} for p in proposals], False)
        keyword_terms = incidence([m.keywords for m in mine], True)
        past_terms = incidence([m.past for m in mine], True)
        reviewer_fields = incidence([{f"#{t}" for t in r.fields} for r in reviewers], False)
        width = max(len(vocabulary), 1)
        matrices = [
            sparse.csr_array(
                (np.array(values, dtype=np.int64), (rows, columns)), shape=(height, width)
            )
            for rows, columns, values, height in shapes
        ]

        def shared(reviewer_side: int, proposal_side: int) -> np.ndarray:
            """Shared weight per (proposal, reviewer)."""
            product = matrices[proposal_side] @ matrices[reviewer_side].T
            return np.asarray(product.toarray(), dtype=np.int64)

        asked = np.array([len(p.technologies) for p in proposals], dtype=np.int64)[:, None]
        tech = np.where(
            asked > 0,
            TECHNOLOGY_POINTS * shared(reviewer_fields, proposal_tech) // np.maximum(asked, 1),
            0,
        )

        def part(points: int, found: np.ndarray, offered: list[int], enough: int) -> np.ndarray:
            scale = np.minimum(np.array(offered, dtype=np.int64), enough)[None, :]
            return np.where(scale > 0, points * np.minimum(found, scale) // np.maximum(scale, 1), 0)

        keywords = part(
            KEYWORD_POINTS,
            shared(keyword_terms, proposal_terms),
            [m.keywords_weight for m in mine],
            KEYWORDS_ENOUGH,
        )
        past = part(
            PAST_POINTS,
            shared(past_terms, proposal_terms),
            [m.past_weight for m in mine],
            PAST_ENOUGH,
        )
        return tech + keywords + past

    def row_of(self, proposal: int) -> int:
        return self._proposal_row[proposal]

    def column_of(self, reviewer: int) -> int:
        return self._reviewer_column[reviewer]

    def __getitem__(self, pair: tuple[int, int]) -> int:
        proposal, reviewer = pair
        return int(self.scores[self._proposal_row[proposal], self._reviewer_column[reviewer]])

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((p, r) for p in self.proposals for r in self.reviewers)

    def __len__(self) -> int:
        return len(self.proposals) * len(self.reviewers)


# The plan -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    #: (proposal, reviewer), sorted.
    pairs: tuple[tuple[int, int], ...]
    total: int  # total affinity
    _by_proposal: dict[int, tuple[int, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]], affinity: Mapping[tuple[int, int], int]) -> Plan:
        ordered = tuple(sorted(pairs))
        by_proposal: dict[int, list[int]] = {}
        for proposal, reviewer in ordered:
            by_proposal.setdefault(proposal, []).append(reviewer)
        total = sum(affinity.get(pair, 0) for pair in ordered)
        return cls(ordered, total, {p: tuple(rs) for p, rs in by_proposal.items()})

    def reviewers_of(self, proposal: int) -> tuple[int, ...]:
        return self._by_proposal.get(proposal, ())

    def loads(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _, reviewer in self.pairs:
            counts[reviewer] = counts.get(reviewer, 0) + 1
        return counts


def balanced_bounds(n_proposals: int, n_reviewers: int, per_proposal: int) -> tuple[int, int]:
    """The default load bounds: every reviewer within one review of the average."""
    if n_reviewers <= 0:
        raise InvalidInput("Invite reviewers to the fund's pool first.", field="reviewers")
    reviews = n_proposals * per_proposal
    return reviews // n_reviewers, -(-reviews // n_reviewers)


def _listing(labels: Mapping[int, str], keys: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(labels.get(key, str(key)) for key in keys[:limit])
    return shown + (", …" if len(keys) > limit else "")


@dataclass(frozen=True, slots=True)
class _Problem:
    """What is left to assign, as arrays over the sorted proposals and reviewers: the pairs
    that may be added (neither excluded nor kept), how many reviewers each proposal still
    needs, and the load bounds left to each reviewer once kept assignments count."""

    proposals: tuple[int, ...]
    reviewers: tuple[int, ...]
    rows: np.ndarray  # proposal index of each pair that may be added
    columns: np.ndarray  # its reviewer index
    scores: np.ndarray  # its affinity
    need: np.ndarray  # per proposal
    low: np.ndarray  # per reviewer: fewest further proposals (may be below 0: none needed)
    high: np.ndarray  # per reviewer: most further proposals
    kept: tuple[tuple[int, int], ...]


def _problem(
    proposals: Iterable[int],
    reviewers: Iterable[int],
    affinity: Mapping[tuple[int, int], int],
    excluded: Collection[tuple[int, int]],
    kept: Collection[tuple[int, int]],
    per_proposal: int,
    min_load: int,
    max_load: int,
) -> _Problem:
    ps, rs = tuple(sorted(set(proposals))), tuple(sorted(set(reviewers)))
    row = {p: i for i, p in enumerate(ps)}
    column = {r: j for j, r in enumerate(rs)}
    allowed = np.ones((len(ps), len(rs)), dtype=bool)
    for proposal, reviewer in excluded:
        if proposal in row and reviewer in column:
            allowed[row[proposal], column[reviewer]] = False
    kept_pairs = tuple(sorted({(p, r) for p, r in kept if p in row and r in column}))
    kept_per_proposal = np.zeros(len(ps), dtype=np.int64)
    kept_per_reviewer = np.zeros(len(rs), dtype=np.int64)
    for proposal, reviewer in kept_pairs:
        allowed[row[proposal], column[reviewer]] = False  # never twice
        kept_per_proposal[row[proposal]] += 1
        kept_per_reviewer[column[reviewer]] += 1
    if (
        isinstance(affinity, AffinityTable)
        and set(affinity.proposals) >= set(ps)
        and set(affinity.reviewers) >= set(rs)
    ):
        take_rows = [affinity.row_of(p) for p in ps]
        take_columns = [affinity.column_of(r) for r in rs]
        matrix = affinity.scores[np.ix_(take_rows, take_columns)]
    else:
        matrix = np.zeros((len(ps), len(rs)), dtype=np.int64)
        for (proposal, reviewer), score in affinity.items():
            if proposal in row and reviewer in column:
                matrix[row[proposal], column[reviewer]] = score
    rows, columns = np.nonzero(allowed)
    return _Problem(
        proposals=ps,
        reviewers=rs,
        rows=rows,
        columns=columns,
        scores=matrix[rows, columns].astype(np.int64),
        need=np.maximum(per_proposal - kept_per_proposal, 0),
        low=min_load - kept_per_reviewer,
        high=max_load - kept_per_reviewer,
        kept=kept_pairs,
    )


def _check_feasible(
    problem: _Problem,
    per_proposal: int,
    min_load: int,
    max_load: int,
    proposal_labels: Mapping[int, str],
    reviewer_labels: Mapping[int, str],
) -> None:
    """The plain reasons no plan can exist, each named for the manager."""
    if per_proposal < 1:
        raise InvalidInput("Each proposal needs at least one reviewer.", field="per_proposal")
    if not 0 <= min_load <= max_load:
        raise InvalidInput(
            "The minimum load must be between 0 and the maximum load.", field="min_load"
        )
    n_proposals, n_reviewers = len(problem.proposals), len(problem.reviewers)
    possible = np.bincount(problem.rows, minlength=n_proposals)
    short = [problem.proposals[i] for i in np.flatnonzero(possible < problem.need)]
    if short:
        raise InvalidInput(
            "Too few reviewers without a conflict for %(proposals)s: each proposal needs "
            "%(needed)s. Invite more reviewers to the pool.",
            field="reviewers",
            proposals=_listing(proposal_labels, short),
            needed=per_proposal,
        )
    overloaded = [problem.reviewers[j] for j in np.flatnonzero(problem.high < 0)]
    if overloaded:
        raise InvalidInput(
            "%(reviewers)s already have more than %(max_load)s proposals of this call: raise "
            "the maximum load or remove some of their assignments.",
            field="max_load",
            reviewers=_listing(reviewer_labels, overloaded),
            max_load=max_load,
        )
    reviews = int(problem.need.sum()) + len(problem.kept)
    if reviews > n_reviewers * max_load:
        raise InvalidInput(
            "%(reviewers)s reviewers taking at most %(max_load)s proposals each cannot give "
            "the %(reviews)s reviews needed: raise the maximum load to %(enough)s.",
            field="max_load",
            reviewers=n_reviewers,
            max_load=max_load,
            reviews=reviews,
            enough=-(-reviews // max(n_reviewers, 1)),
        )
    if reviews < n_reviewers * min_load:
        raise InvalidInput(
            "Only %(reviews)s reviews are needed, fewer than %(reviewers)s reviewers with at "
            "least %(min_load)s each: lower the minimum load to %(enough)s.",
            field="min_load",
            reviews=reviews,
            reviewers=n_reviewers,
            min_load=min_load,
            enough=reviews // max(n_reviewers, 1),
        )
    takers = np.bincount(problem.columns, minlength=n_reviewers)
    idle = [problem.reviewers[j] for j in np.flatnonzero(takers < problem.low)]
    if idle:
        raise InvalidInput(
            "%(reviewers)s can review fewer than %(min_load)s of these proposals without a "
            "conflict: lower the minimum load.",
            field="min_load",
            reviewers=_listing(reviewer_labels, idle),
            min_load=min_load,
        )


def assign(
    proposals: Iterable[int],
    reviewers: Iterable[int],
    affinity: Mapping[tuple[int, int], int],
    excluded: Collection[tuple[int, int]],
    *,
    per_proposal: int,
    min_load: int,
    max_load: int,
    kept: Collection[tuple[int, int]] = (),
    proposal_labels: Mapping[int, str] | None = None,
    reviewer_labels: Mapping[int, str] | None = None,
) -> Plan:
    """The plan of greatest total affinity: `per_proposal` distinct reviewers per proposal,
    no excluded (proposal, reviewer) pair, every reviewer's load in [min_load, max_load].

    `kept` pairs are assignments already made: they stay, count towards both bounds, and
    the plan adds only what is missing (a proposal with enough kept reviewers gets none).
    Missing affinities count 0. InvalidInput (naming what blocks it) when no plan exists;
    never a partial plan. The same input gives the same plan, whatever its order."""
    problem = _problem(
        proposals, reviewers, affinity, excluded, kept, per_proposal, min_load, max_load
    )
    labels_p, labels_r = proposal_labels or {}, reviewer_labels or {}
    _check_feasible(problem, per_proposal, min_load, max_load, labels_p, labels_r)
    chosen = _solve(problem, max_load) if len(problem.rows) else np.zeros(0, dtype=bool)
    if chosen is None:
        raise InvalidInput(
            "No plan gives every proposal %(needed)s reviewers without a conflict within "
            "these loads: widen the load bounds or invite more reviewers.",
            field="max_load",
            needed=per_proposal,
        )
    added = [
        (problem.proposals[problem.rows[k]], problem.reviewers[problem.columns[k]])
        for k in np.flatnonzero(chosen)
    ]
    plan = Plan.of([*problem.kept, *added], affinity)
    _verify(plan, problem, per_proposal, min_load, max_load, excluded)
    return plan


#: The first shortlist: each proposal's best reviewers by affinity, and each reviewer's best
#: proposals, so many times the average load.
FIRST_CANDIDATES = 20
REVIEWER_SHORTLIST = 2
#: Rounds of pricing before the whole problem is handed to the solver at once.
MAX_ROUNDS = 30
_TOLERANCE = 1e-6
#: Reduced cost (affinity points) under which a left-out pair joins the shortlist, doubled
#: each round.
NEAR_IMPROVING = 20


def _solve(problem: _Problem, max_load: int) -> np.ndarray | None:
    """Which pairs to add (a boolean per pair), or None when no plan exists.

    The linear programme of the transportation problem is solved by HiGHS (scipy). Its
    constraint matrix is an incidence matrix of a bipartite graph, hence totally unimodular,
    so the solver's vertex solution is already 0/1 (checked, and `milp` asked if not).
    HiGHS takes ~12 s for all 570,000 pairs of 2,000 x 300, so it is first given only each
    proposal's best reviewers and each reviewer's best proposals, then the pairs whose reduced
    cost (from the solver's duals) says they could improve the plan, until the duals prove no
    left-out pair can add even 1 to the total (column generation; 1-4 s for 2,000 x 300).
    """
    candidates = _first_candidates(problem, max_load)
    for round_number in range(MAX_ROUNDS):
        solved = _linear_programme(problem, candidates)
        if solved is None:
            if candidates.all():
                return None
            candidates[:] = True  # the shortlist may be what is infeasible: ask about all
            continue
        values, proposal_dual, reviewer_dual = solved
        # Reduced cost of each pair (the programme minimises minus the affinity).
        reduced = -problem.scores - proposal_dual[problem.rows] - reviewer_dual[problem.columns]
        improving = ~candidates & (reduced < -_TOLERANCE)
        # The duals, extended to the left-out pairs, bound the whole problem's optimum: when
        # the bound is less than 1 above the plan (affinities are integers), the plan is best.
        if float(-reduced[improving].sum()) < 1 - _TOLERANCE:
            break
        # Pairs close to improving join too, closer first: the duals of these degenerate
        # programmes move a little each round, and adding only the improving pairs took up
        # to 11 rounds of ~1 s.
        candidates |= ~candidates & (reduced < NEAR_IMPROVING << round_number)
    else:
        candidates[:] = True
        solved = _linear_programme(problem, candidates)
        if solved is None:
            return None
        values = solved[0]
    chosen = np.zeros(len(problem.rows), dtype=bool)
    indexes = np.flatnonzero(candidates)
    if np.abs(values - np.round(values)).max(initial=0) > _TOLERANCE:
        values = _integer_programme(problem, indexes)
    chosen[indexes[values > 0.5]] = True
    return chosen


def _first_candidates(problem: _Problem, max_load: int) -> np.ndarray:
    """A shortlist that holds the optimum or most of it (a boolean per pair)."""
    n_proposals, n_reviewers = len(problem.proposals), len(problem.reviewers)
    matrix = np.full((n_proposals, n_reviewers), -1, dtype=np.int64)  # -1: may not be added
    matrix[problem.rows, problem.columns] = problem.scores - problem.scores.min(initial=0)
    shortlist = np.zeros((n_proposals, n_reviewers), dtype=bool)
    per_proposal = int(problem.need.max(initial=0))
    best_reviewers = np.argsort(-matrix, axis=1, kind="stable")[
        :, : max(FIRST_CANDIDATES, per_proposal)
    ]
    shortlist[np.arange(n_proposals)[:, None], best_reviewers] = True
    average = -(-int(problem.need.sum()) // max(n_reviewers, 1))
    best_proposals = np.argsort(-matrix, axis=0, kind="stable")[
        : REVIEWER_SHORTLIST * min(average, max_load), :
    ]
    shortlist[best_proposals, np.arange(n_reviewers)[None, :]] = True
    return shortlist[problem.rows, problem.columns]


def _constraints(
    problem: _Problem, indexes: np.ndarray
) -> tuple[sparse.csr_array, sparse.csr_array]:
    """Rows: one per proposal, one per reviewer; columns: the pairs in `indexes`."""
    count = len(indexes)
    ones = np.ones(count)
    columns = np.arange(count)
    by_proposal = sparse.csr_array(
        (ones, (problem.rows[indexes], columns)), shape=(len(problem.proposals), count)
    )
    by_reviewer = sparse.csr_array(
        (ones, (problem.columns[indexes], columns)), shape=(len(problem.reviewers), count)
    )
    return by_proposal, by_reviewer


def _linear_programme(
    problem: _Problem, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """HiGHS on the candidate pairs: (values, proposal duals, reviewer duals), None when
    infeasible."""
    indexes = np.flatnonzero(candidates)
    by_proposal, by_reviewer = _constraints(problem, indexes)
    n_reviewers = len(problem.reviewers)
    result = optimize.linprog(
        -problem.scores[indexes].astype(np.float64),
        A_ub=sparse.vstack([by_reviewer, -by_reviewer]),
        b_ub=np.concatenate([problem.high, -problem.low]).astype(np.float64),
        A_eq=by_proposal,
        b_eq=problem.need.astype(np.float64),
        bounds=(0, 1),
        method="highs",
    )
    if result.status == 2:  # infeasible
        return None
    if result.status != 0:
        raise RuntimeError(f"HiGHS could not solve the assignment: {result.message}")
    loads = result.ineqlin.marginals
    return result.x, result.eqlin.marginals, loads[:n_reviewers] - loads[n_reviewers:]


def _integer_programme(problem: _Problem, indexes: np.ndarray) -> np.ndarray:
    """The same problem with 0/1 variables (HiGHS's branch and bound): only if the linear
    programme ever answers with fractions, which total unimodularity rules out at a vertex."""
    by_proposal, by_reviewer = _constraints(problem, indexes)
    result = optimize.milp(
        -problem.scores[indexes].astype(np.float64),
        constraints=[
            optimize.LinearConstraint(by_proposal, problem.need, problem.need),
            optimize.LinearConstraint(by_reviewer, problem.low, problem.high),
        ],
        integrality=np.ones(len(indexes)),
        bounds=optimize.Bounds(0, 1),
    )
    if result.status != 0:
        raise RuntimeError(f"HiGHS could not solve the assignment: {result.message}")
    return np.round(result.x)


def _verify(
    plan: Plan,
    problem: _Problem,
    per_proposal: int,
    min_load: int,
    max_load: int,
    excluded: Collection[tuple[int, int]],
) -> None:
    """The solver's answer is checked against every rule before anyone sees it."""
    loads = plan.loads()
    refused = set(excluded) - set(problem.kept)
    kept_count = {p: 0 for p in problem.proposals}
    for proposal, _ in problem.kept:
        kept_count[proposal] += 1
    broken = (
        len(set(plan.pairs)) != len(plan.pairs)
        or any(pair in refused for pair in plan.pairs)
        or not set(problem.kept) <= set(plan.pairs)
        or any(
            len(plan.reviewers_of(p)) != max(per_proposal, kept_count[p]) for p in problem.proposals
        )
        or any(not min_load <= loads.get(r, 0) <= max_load for r in problem.reviewers)
    )
    if broken:
        raise AssertionError("the solver returned a plan that breaks the rules")


def greedy(
    proposals: Iterable[int],
    reviewers: Iterable[int],
    affinity: Mapping[tuple[int, int], int],
    excluded: Collection[tuple[int, int]],
    *,
    per_proposal: int,
    min_load: int,
    max_load: int,
    kept: Collection[tuple[int, int]] = (),
) -> Plan | None:
    """The baseline a loop gives (best pair first while the rules allow it), for the
    benchmark; None when it paints itself into a corner."""
    problem = _problem(
        proposals, reviewers, affinity, excluded, kept, per_proposal, min_load, max_load
    )
    order = np.lexsort((problem.columns, problem.rows, -problem.scores))
    need = problem.need.copy()
    room = problem.high.copy()
    taken = np.zeros(len(problem.reviewers), dtype=np.int64)
    added = []
    for k in order:
        row, column = problem.rows[k], problem.columns[k]
        if need[row] > 0 and taken[column] < room[column]:
            need[row] -= 1
            taken[column] += 1
            added.append((problem.proposals[row], problem.reviewers[column]))
    if need.any() or (taken < problem.low).any() or (problem.high < 0).any():
        return None
    return Plan.of([*problem.kept, *added], affinity)
