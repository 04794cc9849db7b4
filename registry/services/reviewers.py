"""Reviewers: each fund's pool (a manager invites a reviewer by e-mail address, the reviewer
accepts or declines from their desk) and the relations a reviewer declares once, for every
call: organisations and people whose proposals they must never review.

Managers reach only their own funds' pools (others are NotFound); a reviewer answers only
their own invitations and keeps only their own relations. Each change is one transaction that
ends with its audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry import database
from registry.domain.accounts import Actor, Origin, normalise_email
from registry.domain.catalogue import Localized
from registry.domain.errors import Conflict, InvalidForm, InvalidInput, NotFound
from registry.domain.identifiers import is_valid_orcid
from registry.domain.permissions import Target, may_manage_call, may_review_at_all
from registry.domain.reviews import NOTE_MAX, PoolStatus
from registry.domain.text import clean
from registry.i18n import N_
from registry.services import audit, clock, mail, scopes
from registry.services.queries import reviews as sql

#: Relations one reviewer may declare.
RELATIONS_MAX = 100
PERSON_NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class PoolMember:
    reviewer_id: int
    display_name: str
    email: str
    orcid: str
    organisation: Localized | None
    expertise: tuple[Localized, ...]
    keywords: str
    status: PoolStatus
    invited_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Invitation:
    """A fund's invitation as the reviewer sees it."""

    fund_id: int
    fund_name: Localized
    status: PoolStatus
    invited_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Relation:
    id: int
    organisation: Localized | None
    person_name: str
    person_orcid: str
    note: str
    created_at: datetime


def _localized(vi: str | None, en: str | None) -> Localized | None:
    return Localized(vi, en or None) if vi else None


async def technology_names(ids: list[int]) -> dict[int, Localized]:
    rows = await database.fetch(sql.TECHNOLOGY_NAMES, sorted(set(ids)))
    return {r["id"]: Localized(r["name_vi"], r["name_en"]) for r in rows}


# The pool ---------------------------------------------------------------------------------------


async def invite(actor: Actor, fund_id: int, email: str, origin: Origin) -> int:
    """Invite the reviewer with this e-mail address to the fund's pool and mail them (in their
    language). Only accounts holding the reviewer role can be invited; one already invited or
    in the pool is a Conflict; one who declined may be invited again."""
    scopes.require(may_manage_call, actor, Target(fund=fund_id))
    address = normalise_email(email)
    if not address:
        raise InvalidInput("Enter the reviewer's e-mail address.", field="email")
    async with database.transaction():
        reviewer = await database.fetchrow(sql.REVIEWER_BY_EMAIL, address)
        if reviewer is None:
            raise InvalidInput(
                "No expert reviewer has this e-mail address. The person registers first, "
                "and an administrator gives them the reviewer role.",
                field="email",
            )
        pool_id = await database.fetchval(sql.INVITE, fund_id, reviewer["id"], actor.account_id)
        if pool_id is None:
            raise Conflict(
                "%(name)s is already invited to this fund's pool or in it.",
                name=reviewer["display_name"],
            )
        fund = await database.fetchrow(sql.FUND_NAME, fund_id)
        language = reviewer["language"] or "vi"
        await mail.enqueue(
            reviewer["email"],
            language,
            N_("Invitation to review for %(fund)s"),
            N_(
                "%(manager)s invites you to the expert reviewer pool of %(fund)s.\n\n"
                "Accept or decline on your review desk: %(desk)s\n\n"
                "Reviewers of the pool are asked to review proposals of the fund's calls; "
                "you can decline each of them, or declare a conflict of interest."
            ),
            {
                "manager": actor.display_name,
                "fund": fund["name_en"]
                if language == "en" and fund["name_en"]
                else fund["name_vi"],
                "desk": mail.page_link("/review"),
            },
        )
        await audit.record(
            "reviewer_pool.invited",
            f"fund:{fund_id}",
            actor=actor,
            origin=origin,
            after={"reviewer": reviewer["id"], "status": str(PoolStatus.INVITED)},
        )
    return pool_id


async def pool(actor: Actor, fund_id: int) -> tuple[PoolMember, ...]:
    """The fund's pool, accepted first, for its managers."""
    scopes.require(may_manage_call, actor, Target(fund=fund_id))
    rows = await database.fetch(sql.POOL, fund_id)
    names = await technology_names([t for r in rows for t in r["expertise"] or ()])
    return tuple(
        PoolMember(
            reviewer_id=r["reviewer"],
            display_name=r["display_name"],
            email=r["email"],
            orcid=r["orcid"] or "",
            organisation=_localized(r["organisation_vi"], r["organisation_en"]),
            expertise=tuple(names[t] for t in r["expertise"] or () if t in names),
            keywords=r["keywords"],
            status=PoolStatus(r["status"]),
            invited_at=r["invited_at"],
            answered_at=r["answered_at"],
        )
        for r in rows
    )


async def invitations(actor: Actor) -> tuple[Invitation, ...]:
    """The pools the reviewer is invited to or belongs to, newest first."""
    scopes.require(may_review_at_all, actor)
    rows = await database.fetch(sql.MY_POOLS, actor.account_id)
    return tuple(
        Invitation(
            fund_id=r["fund"],
            fund_name=Localized(r["name_vi"], r["name_en"]),
            status=PoolStatus(r["status"]),
            invited_at=r["invited_at"],
            answered_at=r["answered_at"],
        )
        for r in rows
    )


async def answer_invitation(actor: Actor, fund_id: int, accept: bool, origin: Origin) -> None:
    """Accept or decline one's own open invitation (NotFound if there is none)."""
    scopes.require(may_review_at_all, actor)
    status = PoolStatus.ACCEPTED if accept else PoolStatus.DECLINED
    async with database.transaction():
        answered = await database.fetchval(
            sql.ANSWER_INVITATION, fund_id, actor.account_id, str(status), clock.arrival(origin)
        )
        if answered is None:
            raise NotFound()
        await audit.record(
            f"reviewer_pool.{status}",
            f"fund:{fund_id}",
            actor=actor,
            origin=origin,
            before={"status": str(PoolStatus.INVITED)},
            after={"reviewer": actor.account_id, "status": str(status)},
        )


# Declared relations -----------------------------------------------------------------------------


async def relations(actor: Actor) -> tuple[Relation, ...]:
    scopes.require(may_review_at_all, actor)
    rows = await database.fetch(sql.RELATIONS, actor.account_id)
    return tuple(
        Relation(
            id=r["id"],
            organisation=_localized(r["organisation_vi"], r["organisation_en"]),
            person_name=r["person_name"],
            person_orcid=r["person_orcid"],
            note=r["note"],
            created_at=r["created_at"],
        )
        for r in rows
    )


async def declare_relation(
    actor: Actor,
    organisation_id: int | None,
    person_name: str,
    person_orcid: str,
    note: str,
    origin: Origin,
) -> int:
    """Declare an organisation (from the registry's list) or a person (by name, ORCID iD or
    both) whose proposals the reviewer must never be assigned."""
    scopes.require(may_review_at_all, actor)
    name = clean(person_name)
    orcid = person_orcid.strip().upper().removeprefix("HTTPS://ORCID.ORG/")
    note = clean(note)
    problems = []
    if organisation_id is None and not name and not orcid:
        problems.append(
            InvalidInput(
                "Choose an organisation, or give a person's name or ORCID iD.",
                field="relation_organisation",
            )
        )
    if len(name) > PERSON_NAME_MAX:
        problems.append(
            InvalidInput(
                "Use at most %(count)s characters.", field="person_name", count=PERSON_NAME_MAX
            )
        )
    if orcid and not is_valid_orcid(orcid):
        problems.append(
            InvalidInput(
                "This ORCID iD is not valid (format 0000-0002-1825-0097).", field="person_orcid"
            )
        )
    if len(note) > NOTE_MAX:
        problems.append(
            InvalidInput("Use at most %(count)s characters.", field="relation_note", count=NOTE_MAX)
        )
    if problems:
        raise InvalidForm(problems)
    async with database.transaction():
        if organisation_id is not None and not await database.fetchval(
            sql.ORGANISATION_EXISTS, organisation_id
        ):
            raise InvalidInput(
                "Choose an organisation from the list.", field="relation_organisation"
            )
        if await database.fetchval(sql.COUNT_RELATIONS, actor.account_id) >= RELATIONS_MAX:
            raise Conflict("You can declare at most %(count)s relations.", count=RELATIONS_MAX)
        relation_id = await database.fetchval(
            sql.INSERT_RELATION, actor.account_id, organisation_id, name, orcid, note
        )
        await audit.record(
            "reviewer.relation_declared",
            actor.ref,
            actor=actor,
            origin=origin,
            after={
                "relation": relation_id,
                "organisation": organisation_id,
                "person_name": name,
                "person_orcid": orcid,
            },
        )
    return relation_id


async def remove_relation(actor: Actor, relation_id: int, origin: Origin) -> None:
    scopes.require(may_review_at_all, actor)
    async with database.transaction():
        removed = await database.fetchrow(sql.DELETE_RELATION, relation_id, actor.account_id)
        if removed is None:
            raise NotFound()
        await audit.record(
            "reviewer.relation_removed",
            actor.ref,
            actor=actor,
            origin=origin,
            before={"relation": relation_id, **dict(removed)},
        )
