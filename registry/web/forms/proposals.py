"""The proposal form: an applicant's fields read into a `Draft` (format problems refused at
save, each at its field; completeness is the checklist's job), and a draft written back into
field values.

Rows: team-N-name/orcid/role, milestone-N-month/text, budget-<category>-requested/own.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry.domain.accounts import orcid_problem
from registry.domain.errors import N_, InvalidInput, Problems
from registry.domain.money import parse_vnd
from registry.domain.proposals import (
    ABSTRACT_MAX,
    DURATION_MAX_MONTHS,
    MILESTONE_MAX,
    MILESTONE_ROWS_MAX,
    NAME_MAX,
    TEAM_ROWS_MAX,
    TITLE_MAX,
    BudgetCategory,
    BudgetLine,
    Draft,
    Milestone,
    TeamMember,
)
from registry.domain.search import MAX_ID
from registry.domain.text import clean_limited, whole_number
from registry.formatting import number


def parse_whole(value: str, *, field: str, low: int, high: int, message: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    number = whole_number(text, low=low, high=high)
    if number is None:
        raise InvalidInput(message, field=field, low=low, high=high)
    return number


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
        technology = whole_number(value, low=1, high=MAX_ID)
        if technology is None:
            problems.add(InvalidInput("Choose technologies from the list.", field="technologies"))
            break
        if technology not in chosen:
            chosen.append(technology)

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
        # Grouped as the reader writes amounts (and parse_vnd reads back): 2.000.000.000.
        values[f"budget-{line.category}-requested"] = number(line.requested_vnd or None)
        values[f"budget-{line.category}-own"] = number(line.own_vnd or None)
    for row, milestone in enumerate(draft.milestones):
        values[f"milestone-{row}-month"] = str(milestone.month)
        values[f"milestone-{row}-text"] = milestone.text
    return values
