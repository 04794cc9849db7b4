"""Proposals: what a draft holds (team, budget, milestones, attached document kinds), the
eligibility checklist that gates submission, and the fingerprints of what was submitted
(content digest, receipt number).

Pure rules; the web layer reads drafts from forms (`web/forms/proposals.py`). Money is whole
VND. A draft may be incomplete while it is being written, but never malformed: format
problems are refused at save, completeness is the checklist's job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from registry.domain.calls import received_in_time
from registry.domain.errors import N_, InvalidInput

TITLE_MAX = 300
ABSTRACT_MAX = 5000
NAME_MAX = 200
MILESTONE_MAX = 500
TEAM_ROWS_MAX = 30
MILESTONE_ROWS_MAX = 24
DURATION_MAX_MONTHS = 60
#: Co-funding shares are kept in thousandths of the total budget.
PERMILLE = 1000


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class TeamMember:
    name: str
    orcid: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Milestone:
    month: int
    text: str


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
        return self.own_vnd * PERMILLE >= required_permille * self.total_vnd


def totals(lines: tuple[BudgetLine, ...]) -> BudgetTotals:
    for line in lines:
        if line.requested_vnd < 0 or line.own_vnd < 0:
            raise InvalidInput("Amounts cannot be negative.", field="budget")
    return BudgetTotals(
        sum(line.requested_vnd for line in lines), sum(line.own_vnd for line in lines)
    )


class AttachmentKind(StrEnum):
    """The kinds of documents a proposal attaches and a call can require."""

    DESCRIPTION = "description"  # thuyết minh đề tài
    CVS = "cvs"  # lý lịch khoa học
    BUDGET_JUSTIFICATION = "budget_justification"
    ENDORSEMENT = "endorsement"  # văn bản xác nhận của tổ chức chủ trì
    OTHER = "other"


# The draft ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    title_vi: str = ""
    title_en: str = ""
    abstract_vi: str = ""
    abstract_en: str = ""
    technologies: tuple[int, ...] = ()
    pi_name: str = ""
    pi_orcid: str = ""
    team: tuple[TeamMember, ...] = ()
    budget: tuple[BudgetLine, ...] = ()
    duration_months: int | None = None
    milestones: tuple[Milestone, ...] = ()

    @property
    def totals(self) -> BudgetTotals:
        return totals(self.budget)

    def to_json(self) -> dict[str, Any]:
        return {
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "abstract_vi": self.abstract_vi,
            "abstract_en": self.abstract_en,
            "technologies": list(self.technologies),
            "pi_name": self.pi_name,
            "pi_orcid": self.pi_orcid,
            "team": [{"name": m.name, "orcid": m.orcid, "role": m.role} for m in self.team],
            "budget": [
                {"category": str(b.category), "requested": b.requested_vnd, "own": b.own_vnd}
                for b in self.budget
            ],
            "duration_months": self.duration_months,
            "milestones": [{"month": m.month, "text": m.text} for m in self.milestones],
        }

    def changes_from(self, earlier: Draft) -> tuple[str, ...]:
        """The fields (to_json's keys, in form order) that differ from `earlier`."""
        before, after = earlier.to_json(), self.to_json()
        return tuple(name for name in after if after[name] != before[name])

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Draft:
        return cls(
            title_vi=data.get("title_vi", ""),
            title_en=data.get("title_en", ""),
            abstract_vi=data.get("abstract_vi", ""),
            abstract_en=data.get("abstract_en", ""),
            technologies=tuple(data.get("technologies", ())),
            pi_name=data.get("pi_name", ""),
            pi_orcid=data.get("pi_orcid", ""),
            team=tuple(TeamMember(**m) for m in data.get("team", ())),
            budget=tuple(
                BudgetLine(BudgetCategory(b["category"]), b["requested"], b["own"])
                for b in data.get("budget", ())
            ),
            duration_months=data.get("duration_months"),
            milestones=tuple(Milestone(**m) for m in data.get("milestones", ())),
        )


# Eligibility ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRules:
    """What a call asks of every proposal."""

    opens_at: datetime
    closes_at: datetime
    technologies: frozenset[int]
    min_request_vnd: int
    max_request_vnd: int
    cofunding_permille: int
    required_attachments: tuple[AttachmentKind, ...]

    def is_open(self, at: datetime) -> bool:
        return self.opens_at <= at and received_in_time(at, self.closes_at)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the eligibility checklist; `message` says what is wrong when not `ok`."""

    key: str
    ok: bool
    field: str
    message: str = ""
    params: dict[str, object] = field(default_factory=dict)


REQUIRED_FIELDS = (
    ("title_vi", N_("Vietnamese title")),
    ("abstract_vi", N_("Vietnamese abstract")),
    ("pi_name", N_("Principal investigator")),
    ("duration_months", N_("Duration")),
    ("milestones", N_("Milestones")),
)


def checklist(
    draft: Draft,
    rules: CallRules,
    *,
    attachment_kinds: frozenset[str],
    organisation_verified: bool,
    at: datetime,
) -> tuple[Check, ...]:
    """Every rule submission must pass, each with its reason; all must be ok to submit."""
    missing = [label for name, label in REQUIRED_FIELDS if not _filled(draft, name)]
    chosen = frozenset(draft.technologies)
    sums = draft.totals
    absent = [kind for kind in rules.required_attachments if kind not in attachment_kinds]
    return (
        Check(
            "open",
            rules.is_open(at),
            "call",
            N_("The call is not open for submissions."),
        ),
        Check(
            "complete",
            not missing,
            "title_vi",
            N_("Still to fill in: %(fields)s."),
            {"fields": missing},
        ),
        Check(
            "technology",
            bool(chosen) and chosen <= rules.technologies,
            "technologies",
            N_("Choose at least one technology, all among those the call funds.")
            if not chosen
            else N_("Some chosen technologies are not eligible in this call."),
        ),
        Check(
            "amount",
            rules.min_request_vnd <= sums.requested_vnd <= rules.max_request_vnd,
            "budget",
            N_("The amount requested must be between %(low)s and %(high)s."),
            {"low": rules.min_request_vnd, "high": rules.max_request_vnd},
        ),
        Check(
            "cofunding",
            sums.cofunding_met(rules.cofunding_permille),
            "budget",
            N_("Own funds must be at least %(share)s of the total budget."),
            # The share written out for messages; the page writes it in its own language.
            {
                "share": format_permille(rules.cofunding_permille),
                "permille": rules.cofunding_permille,
            },
        ),
        Check(
            "attachments",
            not absent,
            "attachments",
            N_("Attach the required documents: %(kinds)s."),
            {"kinds": absent},
        ),
        Check(
            "organisation",
            organisation_verified,
            "organisation",
            N_("Your organisation has not been verified by the registry yet."),
        ),
    )


def _filled(draft: Draft, name: str) -> bool:
    value = getattr(draft, name)
    return value is not None and value != "" and value != ()


def format_permille(permille: int) -> str:
    whole, rest = divmod(permille, 10)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest}%"


def blocking(checks: tuple[Check, ...]) -> list[Check]:
    return [check for check in checks if not check.ok]


# What was submitted --------------------------------------------------------------------------


def content_digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a submitted version (sorted keys, no spaces, UTF-8),
    so anyone holding the content can recompute the receipt's hash."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def proposal_reference(fund_code: str, year: int, proposal_id: int) -> str:
    return f"{fund_code.upper()}-{year}-{proposal_id:06d}"


def receipt_number(reference: str, version: int) -> str:
    return f"{reference}-V{version}"
