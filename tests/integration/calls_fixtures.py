"""Builders for call and proposal tests: people with roles (as Actors, their rows made
directly in the database) and calls made through the services."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from registry.domain.accounts import Actor, Grant, Origin, Role
from registry.domain.calls import CallSpec
from registry.domain.proposals import BudgetCategory, BudgetLine, Draft, Milestone
from registry.domain.scoring import PRESETS
from registry.services import calls

ORIGIN = Origin("203.0.113.7", "vi")
_serial = itertools.count()


async def person(database_url: str, *grants: tuple[Role, str]) -> Actor:
    """An account with `grants` as (role, organisation or fund code)."""
    conn = await asyncpg.connect(database_url)
    try:
        email = f"call-{next(_serial)}-{secrets.token_hex(3)}@example.vn"
        account_id = await conn.fetchval(
            "INSERT INTO account (email, display_name, password_hash, email_verified_at) "
            "VALUES ($1, 'Người thử', 'x', now()) RETURNING id",
            email,
        )
        scoped = []
        for role, code in grants:
            table = "organisation" if role == Role.APPLICANT else "fund"
            scope = await conn.fetchval(f"SELECT id FROM {table} WHERE code = $1", code)
            await conn.execute(
                f"INSERT INTO account_role (account, role, {table}) VALUES ($1, $2, $3)",
                account_id,
                role,
                scope,
            )
            scoped.append(Grant(role, scope))
    finally:
        await conn.close()
    return Actor(account_id, email, "Người thử", frozenset(scoped), True, True)


async def technology_ids() -> list[int]:
    return [tech_id for tech_id, _ in await calls.eligible_technologies()]


async def spec(**changes) -> CallSpec:
    now = datetime.now(UTC)
    base = CallSpec(
        title_vi="Đặt hàng nghiên cứu trí tuệ nhân tạo 2027",
        title_en="AI research call 2027",
        description_vi="Mô tả",
        description_en="",
        technologies=tuple((await technology_ids())[:3]),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        budget_vnd=10_000_000_000,
        min_request_vnd=500_000_000,
        max_request_vnd=3_000_000_000,
        cofunding_permille=200,
        required_attachments=(),
        reviewers_per_proposal=3,
        blind_review=False,
        criteria=PRESETS["horizon_ria"],
    )
    return replace(base, **changes)


async def open_call(manager: Actor, fund_id: int, **changes) -> int:
    call_id = await calls.create_call(manager, fund_id, await spec(**changes), ORIGIN)
    call = await calls.managed_call(manager, call_id)
    await calls.publish_call(manager, call_id, call.row_version, ORIGIN)
    return call_id


def complete_draft(
    technologies: tuple[int, ...], title: str = "Mô hình ngôn ngữ tiếng Việt"
) -> Draft:
    """A draft that passes every rule of `spec()`'s call (1 billion asked, 30% own funds)."""
    return Draft(
        title_vi=title,
        abstract_vi=f"Nghiên cứu {title.lower()} cho dịch vụ công, dữ liệu mở và đánh giá.",
        technologies=technologies[:1],
        pi_name="Nguyễn Thị Hoa",
        budget=(
            BudgetLine(BudgetCategory.PERSONNEL, 700_000_000, 300_000_000),
            BudgetLine(BudgetCategory.EQUIPMENT, 300_000_000, 130_000_000),
        ),
        duration_months=24,
        milestones=(Milestone(12, "Bộ dữ liệu"), Milestone(24, "Mô hình")),
    )
