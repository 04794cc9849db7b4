"""Fund calls: managers draft, publish and change them; everyone reads the published ones.

Publishing freezes the criteria as version 1; any later change of the criteria freezes a new
version. Submitted proposal versions keep the number in force when they were received, so a
change never reaches them. Managers reach only their own funds' calls (others are NotFound).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.calls import AGGREGATIONS, FUNDING_POLICIES, CallSpec
from registry.domain.catalogue import Localized
from registry.domain.errors import N_, Conflict, InvalidForm, InvalidInput, NotFound
from registry.domain.permissions import Target, may_manage_call
from registry.domain.proposals import AttachmentKind, CallRules
from registry.domain.scoring import Criteria, criteria_from_json, criteria_to_json
from registry.services import audit, scopes
from registry.services.queries import calls as sql

CHANGED_ELSEWHERE = N_(
    "Someone else changed this call while you were editing. Reload to see it."
)


@dataclass(frozen=True, slots=True)
class Call:
    id: int
    fund_id: int
    fund_name: Localized
    fund_code: str
    spec: CallSpec
    criteria_version: int
    published_at: datetime | None
    row_version: int

    @property
    def title(self) -> Localized:
        return Localized(self.spec.title_vi, self.spec.title_en or None)

    @property
    def description(self) -> Localized:
        return Localized(self.spec.description_vi, self.spec.description_en or None)

    @property
    def rules(self) -> CallRules:
        spec = self.spec
        return CallRules(
            opens_at=spec.opens_at,
            closes_at=spec.closes_at,
            technologies=frozenset(spec.technologies),
            min_request_vnd=spec.min_request_vnd,
            max_request_vnd=spec.max_request_vnd,
            cofunding_permille=spec.cofunding_permille,
            required_attachments=tuple(AttachmentKind(k) for k in spec.required_attachments),
        )

    def state(self, at: datetime) -> str:
        """draft, upcoming, open or closed."""
        if self.published_at is None:
            return "draft"
        if at < self.spec.opens_at:
            return "upcoming"
        return "open" if self.rules.is_open(at) else "closed"


def call_from_row(row: Any) -> Call:
    spec = CallSpec(
        title_vi=row["title_vi"],
        title_en=row["title_en"],
        description_vi=row["description_vi"],
        description_en=row["description_en"],
        technologies=tuple(row["technologies"]),
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        budget_vnd=row["budget_vnd"],
        min_request_vnd=row["min_request_vnd"],
        max_request_vnd=row["max_request_vnd"],
        cofunding_permille=row["cofunding_permille"],
        required_attachments=tuple(row["required_attachments"]),
        reviewers_per_proposal=row["reviewers_per_proposal"],
        blind_review=row["blind_review"],
        criteria=criteria_from_json(json.loads(row["criteria"])),
        review_closes_at=row["review_closes_at"],
        aggregation=row["aggregation"],
        funding_policy=row["funding_policy"],
        reviewers_see_others=row["reviewers_see_others"],
    )
    return Call(
        id=row["id"],
        fund_id=row["fund"],
        fund_name=Localized(row["fund_name_vi"], row["fund_name_en"]),
        fund_code=row["fund_code"],
        spec=spec,
        criteria_version=row["criteria_version"],
        published_at=row["published_at"],
        row_version=row["row_version"],
    )


def require_managed_fund(actor: Actor, fund_id: int) -> None:
    """Another fund (or none) is NotFound: its existence is not revealed."""
    scopes.require(may_manage_call, actor, Target(fund=fund_id))


async def eligible_technologies() -> tuple[tuple[int, Localized], ...]:
    """Technologies on a strategic-technology list in force today, in Vietnamese order."""
    rows = await database.fetch(sql.ELIGIBLE_TECHNOLOGIES)
    return tuple((r["id"], Localized(r["name_vi"], r["name_en"])) for r in rows)


async def _check_spec(spec: CallSpec) -> None:
    """Rules that need the database, or span several fields (InvalidForm from the caller)."""
    problems: list[InvalidInput] = []
    eligible = {tech_id for tech_id, _ in await eligible_technologies()}
    if not spec.technologies:
        problems.append(
            InvalidInput("Choose the strategic technologies this call funds.", field="technologies")
        )
    elif not set(spec.technologies) <= eligible:
        problems.append(
            InvalidInput("Choose technologies from the list in force.", field="technologies")
        )
    if spec.closes_at <= spec.opens_at:
        problems.append(InvalidInput("The call must close after it opens.", field="closes_at"))
    if spec.review_closes_at is not None and spec.review_closes_at <= spec.closes_at:
        problems.append(
            InvalidInput("Reviews must be due after the call closes.", field="review_closes_at")
        )
    if spec.aggregation not in AGGREGATIONS:
        problems.append(InvalidInput("Choose median or mean.", field="aggregation"))
    if spec.funding_policy not in FUNDING_POLICIES:
        problems.append(InvalidInput("Choose a funding policy.", field="funding_policy"))
    if spec.max_request_vnd > spec.budget_vnd:
        problems.append(
            InvalidInput(
                "The largest amount per proposal cannot exceed the call's budget.",
                field="max_request_vnd",
            )
        )
    if spec.min_request_vnd > spec.max_request_vnd:
        problems.append(
            InvalidInput(
                "The smallest amount per proposal cannot exceed the largest.",
                field="min_request_vnd",
            )
        )
    if problems:
        raise InvalidForm(problems)


def _spec_values(spec: CallSpec) -> list[Any]:
    return [
        spec.title_vi,
        spec.title_en,
        spec.description_vi,
        spec.description_en,
        list(spec.technologies),
        spec.opens_at,
        spec.closes_at,
        spec.budget_vnd,
        spec.min_request_vnd,
        spec.max_request_vnd,
        spec.cofunding_permille,
        list(spec.required_attachments),
        spec.reviewers_per_proposal,
        spec.blind_review,
        json.dumps(criteria_to_json(spec.criteria), ensure_ascii=False),
        spec.review_closes_at,
        spec.aggregation,
        spec.funding_policy,
        spec.reviewers_see_others,
    ]


def _summary(spec: CallSpec) -> dict[str, Any]:
    return {
        "title_vi": spec.title_vi,
        "opens_at": spec.opens_at,
        "closes_at": spec.closes_at,
        "budget_vnd": spec.budget_vnd,
        "min_request_vnd": spec.min_request_vnd,
        "max_request_vnd": spec.max_request_vnd,
        "cofunding_permille": spec.cofunding_permille,
        "technologies": list(spec.technologies),
        "required_attachments": list(spec.required_attachments),
        "blind_review": spec.blind_review,
        "review_closes_at": spec.review_closes_at,
        "aggregation": spec.aggregation,
        "funding_policy": spec.funding_policy,
        "reviewers_see_others": spec.reviewers_see_others,
    }


async def create_call(actor: Actor, fund_id: int, spec: CallSpec, origin: Origin) -> int:
    require_managed_fund(actor, fund_id)
    await _check_spec(spec)
    async with database.transaction():
        call_id = await database.fetchval(
            sql.INSERT_CALL, fund_id, actor.account_id, *_spec_values(spec)
        )
        await audit.record(
            "call.created",
            f"call:{call_id}",
            actor=actor,
            origin=origin,
            after=_summary(spec),
        )
    return call_id


async def managed_call(actor: Actor, call_id: int, *, lock: bool = False) -> Call:
    """A call of a fund the actor manages; NotFound otherwise."""
    row = await database.fetchrow(sql.CALL_FOR_UPDATE if lock else sql.CALL, call_id)
    if row is None:
        raise NotFound()
    scopes.require(may_manage_call, actor, Target(fund=row["fund"]))
    return call_from_row(row)


async def update_call(
    actor: Actor, call_id: int, spec: CallSpec, row_version: int, origin: Origin
) -> None:
    """Save the manager's changes. After publication, changed criteria become a new frozen
    version; proposals already submitted keep the version they were received under."""
    await _check_spec(spec)
    async with database.transaction():
        before = await managed_call(actor, call_id, lock=True)
        if before.row_version != row_version:
            raise Conflict(CHANGED_ELSEWHERE)
        criteria_changed = before.spec.criteria != spec.criteria
        new_version = before.criteria_version + (
            1 if before.published_at is not None and criteria_changed else 0
        )
        await database.fetchval(sql.UPDATE_CALL, call_id, *_spec_values(spec), new_version)
        if new_version != before.criteria_version:
            await _freeze_criteria(call_id, new_version, spec.criteria)
        await audit.record(
            "call.changed",
            f"call:{call_id}",
            actor=actor,
            origin=origin,
            before=_summary(before.spec) | {"criteria_version": before.criteria_version},
            after=_summary(spec) | {"criteria_version": new_version},
        )


async def _freeze_criteria(call_id: int, version: int, criteria: Criteria) -> None:
    await database.fetchval(
        sql.FREEZE_CRITERIA,
        call_id,
        version,
        json.dumps(criteria_to_json(criteria), ensure_ascii=False),
    )


async def publish_call(actor: Actor, call_id: int, row_version: int, origin: Origin) -> None:
    async with database.transaction():
        call = await managed_call(actor, call_id, lock=True)
        if call.row_version != row_version:
            raise Conflict(CHANGED_ELSEWHERE)
        if call.published_at is not None:
            raise Conflict("This call is already published.")
        await _check_spec(call.spec)
        await database.fetchval(sql.PUBLISH_CALL, call_id)
        await _freeze_criteria(call_id, 1, call.spec.criteria)
        await audit.record(
            "call.published",
            f"call:{call_id}",
            actor=actor,
            origin=origin,
            after=_summary(call.spec) | {"criteria_version": 1},
        )


async def fund_calls(actor: Actor, fund_id: int) -> tuple[Call, ...]:
    """Every call of a fund the actor manages, drafts included, newest first."""
    require_managed_fund(actor, fund_id)
    rows = await database.fetch(sql.FUND_CALLS, fund_id)
    return tuple(call_from_row(row) for row in rows)


async def published_call(call_id: int) -> Call:
    """A published call, with the criteria of its latest frozen version (what the public and
    applicants see, whatever a manager is editing)."""
    row = await database.fetchrow(sql.PUBLISHED_CALL, call_id)
    if row is None:
        raise NotFound()
    return call_from_row(row)


async def published_calls(*, fund_id: int | None = None) -> tuple[Call, ...]:
    """Published calls, those closing soonest first, then closed ones (newest first)."""
    rows = await database.fetch(sql.PUBLISHED_CALLS, fund_id)
    return tuple(call_from_row(row) for row in rows)


async def criteria_version(call_id: int, version: int) -> Criteria:
    raw = await database.fetchval(sql.CRITERIA_VERSION, call_id, version)
    if raw is None:
        raise NotFound()
    return criteria_from_json(json.loads(raw))
