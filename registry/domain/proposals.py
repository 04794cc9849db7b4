"""Proposals: what a draft holds, reading it from a form, the eligibility checklist that gates
submission, and the fingerprints of what was submitted (content digest, receipt number).

Pure rules (issue 4). Money is whole VND; a draft may be incomplete while it is being written,
but never malformed: format problems are refused at save, completeness is the checklist's job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from registry.domain.accounts import orcid_problem
from registry.domain.calls import (
    AttachmentKind,
    BudgetCategory,
    BudgetLine,
    BudgetTotals,
    received_in_time,
    totals,
)
from registry.domain.errors import InvalidInput, Problems
from registry.domain.money import parse_vnd
from registry.domain.text import clean_limited

TITLE_MAX = 300
ABSTRACT_MAX = 5000
NAME_MAX = 200
MILESTONE_MAX = 500
TEAM_ROWS_MAX = 30
MILESTONE_ROWS_MAX = 24
DURATION_MAX_MONTHS = 60


def N_(message: str) -> str:
    """Marks a message for the catalogues (the web layer translates it)."""
    return message


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


# Reading the form ----------------------------------------------------------------------------


def parse_whole(value: str, *, field: str, low: int, high: int, message: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InvalidInput(message, field=field, low=low, high=high)
    return int(text)


def draft_from_form(form: Mapping[str, str], technologies: list[str]) -> Draft:
    """A draft from the proposal form's fields, or InvalidForm naming each bad field.

    Rows: team-N-name/orcid/role, milestone-N-month/text, budget-<category>-requested/own.
    Empty rows are dropped, so the plain form can always offer spare ones.
    """
    problems = Problems()

    def text(name: str, limit: int) -> str:
        return problems.read(lambda: clean_limited(form.get(name, ""), field=name, limit=limit), "")

    duration = problems.read(
        lambda: parse_whole(
            form.get("duration_months", ""),
            field="duration_months",
            low=1,
            high=DURATION_MAX_MONTHS,
            message=N_("Give the duration in whole months, from %(low)s to %(high)s."),
        )
    )
    chosen: list[int] = []
    for value in technologies:
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) < 2**31:
            problems.add(InvalidInput("Choose technologies from the list.", field="technologies"))
            break
        if int(value) not in chosen:
            chosen.append(int(value))

    team: list[TeamMember] = []
    for row in range(TEAM_ROWS_MAX):
        name = text(f"team-{row}-name", NAME_MAX)
        orcid = text(f"team-{row}-orcid", 19)
        role = text(f"team-{row}-role", NAME_MAX)
        if not (name or orcid or role):
            continue
        if not name:
            problems.add(InvalidInput("Enter the member's name.", field=f"team-{row}-name"))
        problem = orcid_problem(orcid)
        problems.add(InvalidInput(problem.message, field=f"team-{row}-orcid") if problem else None)
        team.append(TeamMember(name, orcid, role))

    budget: list[BudgetLine] = []
    for category in BudgetCategory:
        requested, own = (
            problems.read(
                lambda f=f"budget-{category}-{part}": parse_vnd(form.get(f, ""), field=f), 0
            )
            for part in ("requested", "own")
        )
        if requested or own:
            budget.append(BudgetLine(category, requested, own))

    milestones: list[Milestone] = []
    for row in range(MILESTONE_ROWS_MAX):
        month_field, text_field = f"milestone-{row}-month", f"milestone-{row}-text"
        milestone_text = text(text_field, MILESTONE_MAX)
        month = problems.read(
            lambda f=month_field: parse_whole(
                form.get(f, ""),
                field=f,
                low=1,
                high=DURATION_MAX_MONTHS,
                message=N_("Give the month as a whole number from %(low)s to %(high)s."),
            )
        )
        if month is None and not milestone_text:
            continue
        if month is None:
            problems.add(InvalidInput("Give the month this milestone is due.", field=month_field))
        elif duration is not None and month > duration:
            problems.add(
                InvalidInput(
                    "The milestone falls after the end of the project (month %(month)s).",
                    field=month_field,
                    month=duration,
                )
            )
        if not milestone_text:
            problems.add(InvalidInput("Describe the milestone.", field=text_field))
        milestones.append(Milestone(month or 0, milestone_text))

    pi_orcid = text("pi_orcid", 19)
    problems.add(
        InvalidInput(p.message, field="pi_orcid") if (p := orcid_problem(pi_orcid)) else None
    )
    draft = Draft(
        title_vi=text("title_vi", TITLE_MAX),
        title_en=text("title_en", TITLE_MAX),
        abstract_vi=text("abstract_vi", ABSTRACT_MAX),
        abstract_en=text("abstract_en", ABSTRACT_MAX),
        technologies=tuple(chosen),
        pi_name=text("pi_name", NAME_MAX),
        pi_orcid=pi_orcid,
        team=tuple(team),
        budget=tuple(budget),
        duration_months=duration,
        milestones=tuple(sorted(milestones, key=lambda m: m.month)),
    )
    problems.raise_any()
    return draft


def form_fields(draft: Draft) -> dict[str, str]:
    """The draft as the form's field values (the inverse of draft_from_form)."""
    values = {
        "title_vi": draft.title_vi,
        "title_en": draft.title_en,
        "abstract_vi": draft.abstract_vi,
        "abstract_en": draft.abstract_en,
        "pi_name": draft.pi_name,
        "pi_orcid": draft.pi_orcid,
        "duration_months": "" if draft.duration_months is None else str(draft.duration_months),
    }
    for row, member in enumerate(draft.team):
        values |= {
            f"team-{row}-name": member.name,
            f"team-{row}-orcid": member.orcid,
            f"team-{row}-role": member.role,
        }
    for line in draft.budget:
        values[f"budget-{line.category}-requested"] = str(line.requested_vnd or "")
        values[f"budget-{line.category}-own"] = str(line.own_vnd or "")
    for row, milestone in enumerate(draft.milestones):
        values[f"milestone-{row}-month"] = str(milestone.month)
        values[f"milestone-{row}-text"] = milestone.text
    return values


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
            N_("The amount requested must be between %(low)s and %(high)s đồng."),
            {"low": rules.min_request_vnd, "high": rules.max_request_vnd},
        ),
        Check(
            "cofunding",
            sums.cofunding_met(rules.cofunding_permille),
            "budget",
            N_("Own funds must be at least %(share)s of the total budget."),
            {"share": format_permille(rules.cofunding_permille)},
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
