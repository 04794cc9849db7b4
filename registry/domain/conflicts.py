"""Conflicts of interest between a reviewer and a proposal: the automatic exclusions.

A reviewer never reviews a proposal when they work for the applicant organisation, are on its
team, applied together with that organisation or any of its people in the last three years (a
proposal or a funded project), or declared a relation with either. Two people are the same
person when their ORCID iDs agree (both given), else when their names agree once folded (case,
marks, spacing): cautious on purpose, since a false alarm only costs the manager a look at the
reason, and a missed conflict is what review systems are blamed for.

Team members carry no organisation in a proposal, so "same organisation as a team member" can
only be judged through the people themselves (ON_THE_TEAM, CO_APPLICANT).

Pure: the services gather the facts (accounts, submitted versions, declared relations) and
pass `today`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from registry.domain.errors import N_
from registry.domain.text import clean, fold

#: How far back applying together counts (domain.md: funders use 3 to 5 years).
COLLABORATION_YEARS = 3


def orcid_key(orcid: str) -> str:
    """An ORCID iD as compared: trimmed, upper case (the X check digit), without the URL."""
    return orcid.strip().upper().removeprefix("HTTPS://ORCID.ORG/")


def name_key(name: str) -> str:
    """A name as compared: NFC, spacing collapsed, folded (`Nguyễn  Văn An` = `nguyen van an`)."""
    return fold(clean(name))


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    orcid: str = ""
    #: The compared forms, computed once: conflict checks compare people very often.
    orcid_key: str = field(init=False, compare=False, repr=False)
    name_key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "orcid_key", orcid_key(self.orcid))
        object.__setattr__(self, "name_key", name_key(self.name))

    def same_as(self, other: Person) -> bool:
        """Same ORCID iD when both have one, else the same folded name (never two blanks)."""
        if self.orcid_key and other.orcid_key:
            return self.orcid_key == other.orcid_key
        return bool(self.name_key) and self.name_key == other.name_key

    def index_keys(self) -> tuple[str, ...]:
        """Index keys: anyone `same_as` this person shares at least one of them."""
        keys = []
        if self.orcid_key:
            keys.append("orcid:" + self.orcid_key)
        if self.name_key:
            keys.append("name:" + self.name_key)
        return tuple(keys)


@dataclass(frozen=True, slots=True)
class ReviewerFacts:
    account: int
    name: str
    orcid: str = ""
    organisation: int | None = None
    #: Organisations whose proposals the reviewer may write (applicant roles): worked for too.
    member_of: frozenset[int] = frozenset()
    #: Organisations and people the reviewer declared a relation with (reviewer_relation).
    declared_organisations: frozenset[int] = frozenset()
    declared_people: tuple[Person, ...] = ()
    person: Person = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "person", Person(self.name, self.orcid))


@dataclass(frozen=True, slots=True)
class ProposalFacts:
    proposal: int
    organisation: int
    #: The principal investigator and the team, as the submitted version names them.
    people: tuple[Person, ...] = ()


@dataclass(frozen=True, slots=True)
class Collaboration:
    """People who applied together: a past proposal or a funded project."""

    organisation: int | None
    people: tuple[Person, ...]
    on: dt.date  # submitted, or the project's start
    #: How a manager recognises it (a receipt number, a project code).
    label: str
    #: Accounts that wrote or submitted it: they applied too, whatever the team list says.
    accounts: frozenset[int] = frozenset()
    #: The proposal it was (None for a funded project): never a conflict with itself.
    proposal: int | None = None

    def includes(self, reviewer: ReviewerFacts) -> bool:
        return reviewer.account in self.accounts or any(
            reviewer.person.same_as(p) for p in self.people
        )


@dataclass(frozen=True)
class History:
    """Past collaborations, indexed by account and person keys. Build it with `History.of`."""

    collaborations: tuple[Collaboration, ...] = ()
    index: Mapping[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, collaborations: Iterable[Collaboration]) -> History:
        items = tuple(collaborations)
        index: dict[str, list[int]] = {}
        for position, item in enumerate(items):
            keys = {f"account:{account}" for account in item.accounts}
            keys.update(key for person in item.people for key in person.index_keys())
            for key in keys:
                index.setdefault(key, []).append(position)
        return cls(items, {key: tuple(found) for key, found in index.items()})

    def involving(self, reviewer: ReviewerFacts) -> tuple[Collaboration, ...]:
        """The collaborations the reviewer was part of."""
        keys = (f"account:{reviewer.account}", *reviewer.person.index_keys())
        positions = sorted({p for key in keys for p in self.index.get(key, ())})
        found = (self.collaborations[p] for p in positions)
        return tuple(c for c in found if c.includes(reviewer))


class Reason(StrEnum):
    SAME_ORGANISATION = "same_organisation"
    ON_THE_TEAM = "on_the_team"
    CO_APPLICANT = "co_applicant"  # within COLLABORATION_YEARS
    DECLARED_ORGANISATION = "declared_organisation"
    DECLARED_PERSON = "declared_person"


@dataclass(frozen=True, slots=True)
class ConflictOfInterest:
    """One reason the reviewer may not review the proposal; `message` % `params` explains it
    (an English msgid, translated by the layer that shows it; `date` params are dates)."""

    reason: Reason
    message: str
    params: dict[str, object] = field(default_factory=dict)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def conflicts(
    reviewer: ReviewerFacts,
    proposal: ProposalFacts,
    history: History,
    today: dt.date,
) -> tuple[ConflictOfInterest, ...]:
    """Every conflict of interest between the reviewer and the proposal; none means free."""
    found: list[ConflictOfInterest] = []
    me = reviewer.person
    if (
        proposal.organisation == reviewer.organisation
        or proposal.organisation in reviewer.member_of
    ):
        found.append(
            ConflictOfInterest(
                Reason.SAME_ORGANISATION,
                N_("The reviewer works for the applicant organisation."),
            )
        )
    named = next((p for p in proposal.people if me.same_as(p)), None)
    if named is not None:
        found.append(
            ConflictOfInterest(
                Reason.ON_THE_TEAM,
                N_("The reviewer is on the proposal's team (%(name)s, same ORCID iD).")
                if me.orcid_key and named.orcid_key
                else N_("The reviewer is on the proposal's team (%(name)s, same name)."),
                {"name": named.name},
            )
        )
    since = years_before(today, COLLABORATION_YEARS)
    # The most recent shared collaboration explains best.
    for past in sorted(history.involving(reviewer), key=lambda c: (c.on, c.label), reverse=True):
        if past.proposal == proposal.proposal or not since <= past.on <= today:
            continue
        shared = _shared_with(past, proposal, me)
        if shared is not None:
            found.append(shared)
            break
    if proposal.organisation in reviewer.declared_organisations:
        found.append(
            ConflictOfInterest(
                Reason.DECLARED_ORGANISATION,
                N_("The reviewer declared a relation with the applicant organisation."),
            )
        )
    for declared in reviewer.declared_people:
        named = next((p for p in proposal.people if declared.same_as(p)), None)
        if named is not None:
            found.append(
                ConflictOfInterest(
                    Reason.DECLARED_PERSON,
                    N_("The reviewer declared a relation with %(name)s, on the team."),
                    {"name": named.name},
                )
            )
            break
    return tuple(found)


def _shared_with(
    past: Collaboration, proposal: ProposalFacts, me: Person
) -> ConflictOfInterest | None:
    """The conflict when a past collaboration shares the proposal's organisation or one of its
    people (other than the reviewer, whom ON_THE_TEAM covers)."""
    when = {"years": COLLABORATION_YEARS, "label": past.label, "date": past.on}
    if past.organisation is not None and past.organisation == proposal.organisation:
        return ConflictOfInterest(
            Reason.CO_APPLICANT,
            N_(
                "The reviewer applied together with the applicant organisation in the last "
                "%(years)s years (%(label)s, %(date)s)."
            ),
            when,
        )
    for person in proposal.people:
        if not me.same_as(person) and any(person.same_as(other) for other in past.people):
            return ConflictOfInterest(
                Reason.CO_APPLICANT,
                N_(
                    "The reviewer applied together with %(name)s, on the team, in the last "
                    "%(years)s years (%(label)s, %(date)s)."
                ),
                {"name": person.name, **when},
            )
    return None


def conflicted_pairs(
    reviewers: Iterable[ReviewerFacts],
    proposals: Iterable[ProposalFacts],
    history: History,
    today: dt.date,
) -> dict[tuple[int, int], tuple[ConflictOfInterest, ...]]:
    """{(proposal, reviewer): conflicts} for every conflicted pair, the same as asking
    `conflicts` of every pair, but only the pairs some index says may clash are asked
    (organisation, person keys): 2,000 proposals x 300 reviewers stay quick."""
    proposals = tuple(proposals)
    by_organisation: dict[int, list[ProposalFacts]] = {}
    by_person: dict[str, list[ProposalFacts]] = {}
    for proposal in proposals:
        by_organisation.setdefault(proposal.organisation, []).append(proposal)
        for person in proposal.people:
            for key in person.index_keys():
                by_person.setdefault(key, []).append(proposal)
    since = years_before(today, COLLABORATION_YEARS)

    def near(organisations: Iterable[int | None], people: Iterable[Person]) -> set[int]:
        found = {
            p.proposal for o in organisations if o is not None for p in by_organisation.get(o, ())
        }
        found.update(
            p.proposal
            for person in people
            for key in person.index_keys()
            for p in by_person.get(key, ())
        )
        return found

    found: dict[tuple[int, int], tuple[ConflictOfInterest, ...]] = {}
    facts = {proposal.proposal: proposal for proposal in proposals}
    for reviewer in reviewers:
        recent = [c for c in history.involving(reviewer) if since <= c.on <= today]
        candidates = near(
            [
                reviewer.organisation,
                *reviewer.member_of,
                *reviewer.declared_organisations,
                *(c.organisation for c in recent),
            ],
            [reviewer.person, *reviewer.declared_people, *(p for c in recent for p in c.people)],
        )
        for proposal_id in sorted(candidates):
            reasons = conflicts(reviewer, facts[proposal_id], history, today)
            if reasons:
                found[(proposal_id, reviewer.account)] = reasons
    return found
