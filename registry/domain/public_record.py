"""Rules of the public record: a funded project's dates, and the identifiers open data uses.

Pure: the services give the dates and codes, this module only computes with them.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from registry.domain.catalogue import Localized
from registry.domain.clock import VIETNAM
from registry.domain.scoring import Criteria, Criterion, Ranked, Scale
from registry.domain.text import fold

#: org-id.guide's scheme for Vietnamese tax numbers (Mã số thuế): 10 digits, 13 for a branch.
TAX_SCHEME = "VN-TIN"
_TAX_NUMBER = re.compile(r"^\d{10}(\d{3})?$")
#: 360Giving asks for titles under 140 characters.
TITLE_LIMIT = 140


def add_months(start: dt.date, months: int) -> dt.date:
    """`start` moved `months` calendar months on, clamped to the month's last day
    (31 January + 1 month = 28 or 29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def ends_on(starts_on: dt.date, duration_months: int | None) -> dt.date:
    """The last day of a project of `duration_months` months starting on `starts_on` (12
    months when the proposal gave none): the day before the same date `duration_months` on."""
    return add_months(starts_on, duration_months or 12) - dt.timedelta(days=1)


def organisation_id(prefix: str, code: str, tax_number: str | None) -> str:
    """An organisation's identifier in open data: its org-id.guide VN-TIN code when a valid tax
    number is known, else an id scoped to this registry's 360Giving prefix (what the standard
    asks of publishers when no register identifies the organisation)."""
    if tax_number and _TAX_NUMBER.match(tax_number):
        return f"{TAX_SCHEME}-{tax_number}"
    return f"{prefix}-org-{code}"


def grant_id(prefix: str, project_code: str) -> str:
    """A grant's identifier: the publisher's 360Giving prefix and the project's code."""
    return f"{prefix}-{project_code}"


def short_title(title: str) -> str:
    """A title of fewer than 140 characters, cut at a word with an ellipsis when longer."""
    if len(title) < TITLE_LIMIT:
        return title
    head = title[: TITLE_LIMIT - 2]
    cut = head.rsplit(" ", 1)[0] if " " in head.strip() else head
    return cut.rstrip(" ,;:-") + "…"


@dataclass(frozen=True, slots=True)
class FundedGrant:
    """A funded (not demo) project as open data publishes it: what was submitted for
    publication and what the fund approved, nothing from the reviews."""

    project_id: int
    code: str
    title: str
    description: str
    amount_vnd: int
    #: When the fund approved it (a project loaded from a reference list: its start date).
    awarded: dt.datetime | dt.date
    starts_on: dt.date
    ends_on: dt.date
    organisation_code: str
    organisation_name: str
    tax_number: str | None
    province: str | None
    fund_code: str
    fund_name: str
    call_id: int | None
    call_title: str | None

    @property
    def award_date(self) -> dt.date:
        """The day of the award in Vietnam."""
        if isinstance(self.awarded, dt.datetime):
            return self.awarded.astimezone(VIETNAM).date()
        return self.awarded


def fold_slug(text: str) -> str:
    """`TP. Hồ Chí Minh` -> `tp-ho-chi-minh`: a name as an identifier's last part."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _date(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(VIETNAM).isoformat(timespec="seconds")
    return value.isoformat()


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to the day after `end` (a project's planned duration)."""
    after = end + dt.timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    return months if add_months(start, months) <= after else months - 1


def giving_grant(grant: FundedGrant, prefix: str, site: str) -> dict[str, Any]:
    """One grant in the 360Giving Data Standard (1.4.3): amounts as plain numbers in VND,
    dates as YYYY-MM-DD or full date-time with the +07:00 offset; `site` is the public URL."""
    out: dict[str, Any] = {
        "id": grant_id(prefix, grant.code),
        "title": short_title(grant.title),
        "description": grant.description or grant.title,
        "currency": "VND",
        "amountAwarded": grant.amount_vnd,
        "awardDate": _date(grant.awarded),
        "url": f"{site}/projects/{grant.project_id}",
        "plannedDates": [
            {
                "startDate": grant.starts_on.isoformat(),
                "endDate": grant.ends_on.isoformat(),
                "duration": months_between(grant.starts_on, grant.ends_on),
            }
        ],
        "recipientOrganization": [
            {
                "id": organisation_id(prefix, grant.organisation_code, grant.tax_number),
                "name": grant.organisation_name,
                "addressCountry": "VN",
            }
            | ({"addressRegion": grant.province} if grant.province else {})
        ],
        "fundingOrganization": [
            {"id": f"{prefix}-fund-{grant.fund_code}", "name": grant.fund_name}
        ],
    }
    if grant.province:
        out["beneficiaryLocation"] = [
            {"id": f"VN-{fold_slug(grant.province)}", "name": grant.province, "countryCode": "VN"}
        ]
    if grant.call_id is not None:
        out["fromOpenCall"] = "Yes"
        out["grantProgramme"] = [
            {
                "code": f"call-{grant.call_id}",
                "title": grant.call_title,
                "url": f"{site}/calls/{grant.call_id}",
            }
        ]
    return out


def giving_package(
    grants: Sequence[FundedGrant], prefix: str, site: str, publisher: str, issued: dt.datetime
) -> dict[str, Any]:
    """A 360Giving data package of `grants` (the standard asks for at least one grant: an
    empty registry publishes an empty list, which validators flag)."""
    return {
        "version": "1.4",
        "title": "Funded projects",
        "identifier": f"{prefix}-grants",
        "issued": _date(issued),
        "modified": _date(issued),
        "publisher": {"name": publisher, "website": site},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "downloadURL": f"{site}/api/v1/grants.json",
        "grants": [giving_grant(g, prefix, site) for g in grants],
    }


# Per-call transparency ---------------------------------------------------------------------

#: Fewest ranked proposals for which the score distributions are published: with fewer, a bar
#: of one could be read back to one proposal's marks.
MIN_FOR_DISTRIBUTION = 5


@dataclass(frozen=True, slots=True)
class Bin:
    low: int  # tenths, included
    high: int  # tenths: excluded, except in a criterion's last bin
    count: int


@dataclass(frozen=True, slots=True)
class Distribution:
    """How the proposals' official marks (consensus, else the reviewers' aggregate) on one
    criterion spread over the scale: counts of proposals, never a reviewer's mark."""

    name: Localized
    bins: tuple[Bin, ...]


@dataclass(frozen=True, slots=True)
class CallStatistics:
    """What a call's public results page shows, frozen when its outcomes are approved."""

    submitted: int
    #: Ranked and above every threshold.
    eligible: int
    funded: int
    budget_vnd: int
    funded_vnd: int
    #: Empty when fewer than MIN_FOR_DISTRIBUTION proposals were ranked.
    distributions: tuple[Distribution, ...]

    @property
    def success_permille(self) -> int:
        """Funded per thousand submitted, rounded half up (0 when nothing was submitted)."""
        return (
            (self.funded * 2000 + self.submitted) // (2 * self.submitted) if self.submitted else 0
        )

    @property
    def budget_used_permille(self) -> int:
        if not self.budget_vnd:
            return 0
        return (self.funded_vnd * 2000 + self.budget_vnd) // (2 * self.budget_vnd)

    def to_json(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "eligible": self.eligible,
            "funded": self.funded,
            "budget_vnd": self.budget_vnd,
            "funded_vnd": self.funded_vnd,
            "distributions": [
                {
                    "name_vi": d.name.vi,
                    "name_en": d.name.en,
                    "bins": [[b.low, b.high, b.count] for b in d.bins],
                }
                for d in self.distributions
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallStatistics:
        return cls(
            submitted=data["submitted"],
            eligible=data["eligible"],
            funded=data["funded"],
            budget_vnd=data["budget_vnd"],
            funded_vnd=data["funded_vnd"],
            distributions=tuple(
                Distribution(
                    Localized(d["name_vi"], d["name_en"]),
                    tuple(Bin(low, high, count) for low, high, count in d["bins"]),
                )
                for d in data["distributions"]
            ),
        )


def _bin_edges(scale: Scale) -> list[int]:
    """Whole points when the scale is in whole points (0-5 -> 5 bins), else its own steps."""
    span = scale.high - scale.low
    width = 10 if span >= 10 and span % 10 == 0 else scale.step
    return [*range(scale.low, scale.high, width), scale.high]


def distribution(criterion: Criterion, marks: Sequence[Fraction]) -> Distribution:
    """Counts of `marks` (tenths, exact) per bin of the criterion's scale; a mark on an inner
    edge counts in the bin above it, the top mark in the last bin."""
    edges = _bin_edges(criterion.scale)
    counts = [0] * (len(edges) - 1)
    for mark in marks:
        index = bisect.bisect_right(edges, mark) - 1
        counts[min(max(index, 0), len(counts) - 1)] += 1
    return Distribution(
        criterion.name,
        tuple(Bin(low, high, n) for low, high, n in zip(edges, edges[1:], counts, strict=False)),
    )


def call_statistics(
    criteria: Criteria,
    ranked: Sequence[Ranked],
    *,
    submitted: int,
    funded: int,
    budget_vnd: int,
    funded_vnd: int,
) -> CallStatistics:
    """A call's public aggregates from its final ranking and approved outcomes."""
    distributions: tuple[Distribution, ...] = ()
    if len(ranked) >= MIN_FOR_DISTRIBUTION:
        distributions = tuple(
            distribution(criterion, [r.marks[index] for r in ranked])
            for index, criterion in enumerate(criteria.items)
        )
    return CallStatistics(
        submitted=submitted,
        eligible=sum(1 for r in ranked if r.eligible),
        funded=funded,
        budget_vnd=budget_vnd,
        funded_vnd=funded_vnd,
        distributions=distributions,
    )
