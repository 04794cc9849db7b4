"""Automatic reviewer assignment: 2,000 proposals x 300 reviewers, 3 reviewers per proposal,
about 5% of the pairs conflicted, balanced loads (the default bounds).

Proposals come from the demo generator (registry.domain.demo, fixtures/demo_vocabulary.json):
Vietnamese titles and abstracts over the 14 strategic technologies. Each reviewer declares one
to three fields, a few keywords from those fields' topics (some typed without diacritics, some
in English) and has zero to four past projects. Pure computation: no database.

Prints the median time of the affinity table and of the solver over `--repeats` runs (target:
both together under 10 s), and the total affinity of the optimal plan next to the greedy
baseline's (it must be at least as high; greedy may find no plan at all under the bounds).
Exits 1 when a target is missed.

    .venv/bin/python bench/assignment.py [--proposals 2000] [--reviewers 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.domain import assignment, demo  # noqa: E402
from registry.domain.text import fold  # noqa: E402

TARGET_SECONDS = 10.0
PER_PROPOSAL = 3
CONFLICT_SHARE = 0.05


def build(n_proposals: int, n_reviewers: int, seed: int = 57):
    vocabulary = json.loads((ROOT / "fixtures" / "demo_vocabulary.json").read_text())
    reference = json.loads((ROOT / "fixtures" / "reference.json").read_text())
    slugs = sorted(vocabulary["topics"])
    technology_id = {slug: number for number, slug in enumerate(slugs, start=1)}
    names = {
        technology_id[t["slug"]]: t["name_vi"]
        for t in reference["technologies"]
        if t["slug"] in technology_id
    }
    funds = [("demo-fund", "grant")]
    proposals = [
        assignment.ProposalProfile(
            proposal=number,
            technologies=frozenset(technology_id[s] for s in project.technology_slugs),
            title=project.title_vi,
            abstract=project.abstract_vi,
        )
        for number, project in enumerate(
            demo.generate(n_proposals, vocabulary, funds, seed=seed), start=1
        )
    ]
    past_projects = list(demo.generate(n_reviewers * 2, vocabulary, funds, seed=seed + 1))
    by_field: dict[str, list[demo.DemoProject]] = {}
    for project in past_projects:
        by_field.setdefault(project.technology_slugs[0], []).append(project)
    rng = random.Random(seed)
    reviewers = []
    for account in range(1, n_reviewers + 1):
        fields = rng.sample(slugs, k=rng.choice((1, 1, 2, 2, 3)))
        topics = [rng.choice(vocabulary["topics"][f]) for f in fields for _ in range(2)]
        keywords = []
        for topic in topics:
            style = rng.random()
            if style < 0.6:
                keywords.append(topic["vi"])
            elif style < 0.8:
                keywords.append(fold(topic["vi"]))  # typed without diacritics
            else:
                keywords.append(topic["en"])
        past = [
            f"{p.title_vi}. {p.abstract_vi}"
            for p in rng.sample(by_field.get(fields[0], []), k=rng.randint(0, 4))
        ]
        reviewers.append(
            assignment.ReviewerProfile(
                account=account,
                fields=frozenset(technology_id[f] for f in fields),
                keywords=", ".join(keywords),
                past=tuple(past),
            )
        )
    excluded = {
        (p.proposal, r.account)
        for p in proposals
        for r in reviewers
        if rng.random() < CONFLICT_SHARE
    }
    return proposals, reviewers, excluded, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=2000)
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    proposals, reviewers, excluded, _names = build(options.proposals, options.reviewers)
    low, high = assignment.balanced_bounds(len(proposals), len(reviewers), PER_PROPOSAL)
    ids = [p.proposal for p in proposals]
    accounts = [r.account for r in reviewers]
    affinity_times, solve_times = [], []
    plan = None
    for _ in range(options.repeats):
        assignment._reviewer_terms.cache_clear()
        assignment._proposal_terms.cache_clear()
        started = time.perf_counter()
        ignore = assignment.common_terms(f"{p.title}\n{p.abstract}" for p in proposals)
        table = assignment.AffinityTable(reviewers, proposals, ignore=ignore)
        affinity_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plan = assignment.assign(
            ids, accounts, table, excluded, per_proposal=PER_PROPOSAL, min_load=low, max_load=high
        )
        solve_times.append(time.perf_counter() - started)
    assert plan is not None
    started = time.perf_counter()
    baseline = assignment.greedy(
        ids, accounts, table, excluded, per_proposal=PER_PROPOSAL, min_load=low, max_load=high
    )
    greedy_time = time.perf_counter() - started
    # Looser loads, where greedy finds a plan too: the totals compare like for like.
    loose_bounds = {"per_proposal": PER_PROPOSAL, "min_load": 0, "max_load": high + 2}
    loose = assignment.greedy(ids, accounts, table, excluded, **loose_bounds)
    optimal_loose = assignment.assign(ids, accounts, table, excluded, **loose_bounds)
    affinity_median = statistics.median(affinity_times)
    solve_median = statistics.median(solve_times)
    whole = affinity_median + solve_median
    print(
        f"{len(proposals)} proposals x {len(reviewers)} reviewers, {PER_PROPOSAL} per proposal, "
        f"{len(excluded)} conflicted pairs ({len(excluded) / (len(ids) * len(accounts)):.1%}), "
        f"loads {low}..{high}"
    )
    print(f"affinity table  median {affinity_median:6.2f} s over {options.repeats} runs")
    print(f"optimal plan    median {solve_median:6.2f} s")
    print(f"whole           {whole:6.2f} s (target < {TARGET_SECONDS:.0f} s)")
    print(f"total affinity  optimal {plan.total:,} (mean {plan.total / len(plan.pairs):.0f})")
    if baseline is None:
        print(f"                greedy: no plan within loads {low}..{high} ({greedy_time:.2f} s)")
    else:
        print(f"                greedy  {baseline.total:,} ({greedy_time:.2f} s)")
    if loose is None:
        print(f"loads 0..{high + 2}: greedy finds no plan either")
    else:
        print(
            f"loads 0..{high + 2}: optimal {optimal_loose.total:,}, greedy {loose.total:,} "
            f"(+{optimal_loose.total - loose.total:,})"
        )
    failed = whole >= TARGET_SECONDS
    if baseline is not None and plan.total < baseline.total:
        failed = True
    if loose is not None and optimal_loose.total < loose.total:
        failed = True
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
