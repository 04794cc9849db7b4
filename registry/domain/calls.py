"""Fund calls: what a manager sets on a call, the limits of its texts, and the deadline rule.

Pure rules. Times are aware UTC datetimes, money is whole VND; the criteria a call publishes
are `domain.scoring.Criteria`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.domain.scoring import Criteria

#: The call form's limits (the form reader enforces them; templates show them).
CRITERIA_ROWS_MAX = 8
NAME_MAX = 200
GUIDANCE_MAX = 2000
TITLE_MAX = 300
DESCRIPTION_MAX = 10000
#: How reviewers' marks combine per criterion, and what the funding line does with a proposal
#: that does not fit the money left: the values of the call's `aggregation` and
#: `funding_policy` columns (the ranking's domain.scoring enums spell the same values).
AGGREGATIONS = ("median", "mean")
FUNDING_POLICIES = ("stop", "skip")


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
    #: Reviews are due by then (UTC); None until the manager sets it.
    review_closes_at: datetime | None = None
    aggregation: str = AGGREGATIONS[0]
    funding_policy: str = FUNDING_POLICIES[0]
    #: Reviewers see the other submitted reviews of a proposal once theirs is submitted.
    reviewers_see_others: bool = True


def received_in_time(received_at: datetime, closes_at: datetime) -> bool:
    """The receipt time decides: strictly before the closing time. A submission received at
    the closing instant is late. Which clock reads `received_at` is `domain.clock`'s rule."""
    return received_at < closes_at
