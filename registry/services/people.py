"""Who holds which role: administrators grant, confirm and revoke roles and disable accounts;
members see their organisation's people; fund managers see the funds they manage.

Every read is scoped to what the actor may see: a miss is NotFound, whether the object does
not exist or belongs to someone else, so existence is never revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry import database
from registry.domain.accounts import SCOPED, Actor, EndReason, Origin, Role
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.domain.permissions import (
    Target,
    may_manage_people,
    may_see_fund_managers,
    may_see_members,
)
from registry.i18n import N_
from registry.services import audit, mail, scopes, sessions


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: int
    role: Role
    scope_id: int | None
    scope_name: str | None
    pending: bool


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    email: str
    display_name: str
    organisation_name: str | None
    verified: bool
    disabled: bool
    totp_enrolled: bool
    created_at: datetime
    #: Memberships and new organisations the person asked for, not yet decided.
    waiting: int
    grants: tuple[GrantRow, ...] = ()


_PERSON = (
    "SELECT a.id, a.email, a.display_name, o.name_vi AS organisation_name, "
    "a.email_verified_at IS NOT NULL AS verified, a.disabled_at IS NOT NULL AS disabled, "
    "a.totp_enrolled_at IS NOT NULL AS totp_enrolled, a.created_at, "
    "(SELECT count(*) FROM account_role w WHERE w.account = a.id AND w.pending) + "
    "(SELECT count(*) FROM organisation_request r WHERE r.account = a.id "
    "AND r.state = 'pending') AS waiting "
    "FROM account a LEFT JOIN organisation o ON o.id = a.organisation "
)


def _person(row, grants: tuple[GrantRow, ...] = ()) -> Person:  # type: ignore[no-untyped-def]
    return Person(**dict(row), grants=grants)


async def _grants(account_id: int) -> tuple[GrantRow, ...]:
    rows = await database.fetch(
        "SELECT g.id, g.role, coalesce(g.organisation, g.fund) AS scope_id, "
        "coalesce(o.name_vi, f.name_vi) AS scope_name, g.pending FROM account_role g "
        "LEFT JOIN organisation o ON o.id = g.organisation LEFT JOIN fund f ON f.id = g.fund "
        "WHERE g.account = $1 ORDER BY g.role, g.id",
        account_id,
    )
    return tuple(GrantRow(**{**dict(r), "role": Role(r["role"])}) for r in rows)


async def list_people(actor: Actor) -> list[Person]:
    scopes.require(may_manage_people, actor)
    # Whoever waits for a decision first: an administrator's work list.
    rows = await database.fetch(
        f"SELECT * FROM ({_PERSON}) p ORDER BY p.waiting > 0 DESC, p.created_at DESC, p.id DESC "
        "LIMIT 500"
    )
    return [_person(row) for row in rows]


async def get_person(actor: Actor, account_id: int) -> Person:
    scopes.require(may_manage_people, actor)
    row = await database.fetchrow(_PERSON + "WHERE a.id = $1", account_id)
    if row is None:
        raise NotFound()
    return _person(row, await _grants(account_id))


async def _scope_exists(role: Role, scope_id: int | None) -> bool:
    kind = SCOPED.get(role)
    if kind is None:
        return scope_id is None
    if scope_id is None:
        return False
    table = "organisation" if kind == "organisation" else "fund"
    return bool(await database.fetchval(f"SELECT 1 FROM {table} WHERE id = $1", scope_id))


async def privileges_changed(account_id: int) -> None:
    # A role change ends the person's sessions: they sign in again under the new rights
    # (and a fresh session id), with the second factor if the new role needs one.
    await sessions.end_all(account_id, EndReason.ROLE_CHANGED)


async def grant(
    actor: Actor, account_id: int, role: Role, scope_id: int | None, origin: Origin
) -> None:
    scopes.require(may_manage_people, actor)
    await get_person(actor, account_id)
    if not await _scope_exists(role, scope_id):
        raise InvalidInput(
            "Choose the organisation or fund this role applies to.", field="scope_id"
        )
    column = SCOPED.get(role)
    async with database.transaction():
        grant_id = await database.fetchval(
            "INSERT INTO account_role (account, role, organisation, fund) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
            account_id,
            role.value,
            scope_id if column == "organisation" else None,
            scope_id if column == "fund" else None,
        )
        if grant_id is None:
            raise Conflict("This person already has this role.")
        await privileges_changed(account_id)
        await audit.record(
            "role.granted",
            f"account:{account_id}",
            actor=actor,
            origin=origin,
            after={"role": role.value, "scope": scope_id},
        )


async def _change_grant(account_id: int, grant_id: int, sql: str) -> dict:
    row = await database.fetchrow(sql, grant_id, account_id)
    if row is None:
        raise NotFound()
    await privileges_changed(account_id)
    return {"role": row["role"], "scope": row["scope_id"]}


async def _tell_about_membership(account_id: int, organisation_id: int, confirmed: bool) -> None:
    """Mail the applicant the decision on the membership they asked for, in their language."""
    row = await database.fetchrow(
        "SELECT a.email, a.language, o.name_vi FROM account a, organisation o "
        "WHERE a.id = $1 AND o.id = $2",
        account_id,
        organisation_id,
    )
    if confirmed:
        subject = N_("Your membership was confirmed")
        body = N_(
            "An administrator confirmed that you work for %(organisation)s: you can now draft "
            "and submit proposals for it. Sign in again to use your new role: %(link)s"
        )
    else:
        subject = N_("Your membership was not confirmed")
        body = N_(
            "An administrator did not confirm that you work for %(organisation)s. If this is "
            "a mistake, ask your organisation to contact the registry's administrators, or "
            "ask again from your account page: %(link)s"
        )
    await mail.enqueue(
        row["email"], row["language"] or "vi", subject, body,
        {"organisation": row["name_vi"], "link": mail.page_link("/account")},
    )  # fmt: skip


async def confirm_grant(actor: Actor, account_id: int, grant_id: int, origin: Origin) -> None:
    scopes.require(may_manage_people, actor)
    async with database.transaction():
        summary = await _change_grant(
            account_id,
            grant_id,
            "UPDATE account_role SET pending = false, granted_at = now() "
            "WHERE id = $1 AND account = $2 AND pending "
            "RETURNING role, coalesce(organisation, fund) AS scope_id",
        )
        if summary["role"] == Role.APPLICANT:
            await _tell_about_membership(account_id, summary["scope"], confirmed=True)
        await audit.record(
            "role.confirmed",
            f"account:{account_id}",
            actor=actor,
            origin=origin,
            after=summary,
        )


#: Held while a change may leave the registry without an administrator: such changes happen
#: one after the other, each counting the administrators that the ones before it left.
_ADMINS_LOCK = 5_710_001


async def _keep_an_administrator(account_id: int) -> None:
    """Refuse a change that leaves no active administrator but `account_id`'s (whose admin role
    or account is going): two administrators removing each other at the same moment must not
    both succeed, or nobody could ever manage people again."""
    await database.fetchval("SELECT pg_advisory_xact_lock($1)", _ADMINS_LOCK)
    active = await database.fetch(
        "SELECT DISTINCT g.account FROM account_role g JOIN account a ON a.id = g.account "
        "WHERE g.role = 'admin' AND NOT g.pending AND a.disabled_at IS NULL",
    )
    accounts = {row["account"] for row in active}
    if account_id in accounts and not accounts - {account_id}:
        raise Conflict(
            "This is the last administrator: give another person the administrator role first."
        )


async def revoke(actor: Actor, account_id: int, grant_id: int, origin: Origin) -> None:
    scopes.require(may_manage_people, actor)
    if account_id == actor.account_id:
        raise Conflict("You cannot remove your own roles; ask another administrator.")
    async with database.transaction():
        held = await database.fetchrow(
            "SELECT role, pending FROM account_role WHERE id = $1 AND account = $2",
            grant_id,
            account_id,
        )
        if held is not None and held["role"] == Role.ADMIN and not held["pending"]:
            await _keep_an_administrator(account_id)
        summary = await _change_grant(
            account_id,
            grant_id,
            "DELETE FROM account_role WHERE id = $1 AND account = $2 "
            "RETURNING role, coalesce(organisation, fund) AS scope_id",
        )
        if held["pending"] and summary["role"] == Role.APPLICANT:  # a request refused
            await _tell_about_membership(account_id, summary["scope"], confirmed=False)
        await audit.record(
            "role.revoked",
            f"account:{account_id}",
            actor=actor,
            origin=origin,
            before=summary,
        )


async def set_disabled(actor: Actor, account_id: int, disabled: bool, origin: Origin) -> None:
    """Disabling ends every session of the account at once."""
    scopes.require(may_manage_people, actor)
    if account_id == actor.account_id:
        raise Conflict("You cannot disable your own account.")
    async with database.transaction():
        if disabled:
            await _keep_an_administrator(account_id)
        changed = await database.fetchval(
            "UPDATE account SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) "
            "END WHERE id = $1 RETURNING id",
            account_id,
            disabled,
        )
        if changed is None:
            raise NotFound()
        ended = await sessions.end_all(account_id) if disabled else 0
        await audit.record(
            "account.disabled" if disabled else "account.enabled",
            f"account:{account_id}",
            actor=actor,
            origin=origin,
            after={"sessions_ended": ended},
        )


# Scoped views for members and managers -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Members:
    organisation_id: int
    organisation_name: str
    people: list[Person]


async def organisation_members(actor: Actor, organisation_id: int) -> Members:
    """The confirmed members of an organisation the actor belongs to (or any, for admins)."""
    scopes.require(may_see_members, actor, Target(organisation=organisation_id))
    name = await database.fetchval(
        "SELECT name_vi FROM organisation WHERE id = $1", organisation_id
    )
    if name is None:
        raise NotFound()
    rows = await database.fetch(
        _PERSON + "JOIN account_role g ON g.account = a.id AND g.role = 'applicant' "
        "AND NOT g.pending WHERE g.organisation = $1 ORDER BY a.display_name",
        organisation_id,
    )
    return Members(organisation_id, name, [_person(row) for row in rows])


@dataclass(frozen=True, slots=True)
class ManagedFund:
    fund_id: int
    name: str
    managers: list[Person]


async def managed_fund(actor: Actor, fund_id: int) -> ManagedFund:
    """A fund the actor manages (or any, for admins), with its managers."""
    scopes.require(may_see_fund_managers, actor, Target(fund=fund_id))
    name = await database.fetchval("SELECT name_vi FROM fund WHERE id = $1", fund_id)
    if name is None:
        raise NotFound()
    rows = await database.fetch(
        _PERSON + "JOIN account_role g ON g.account = a.id AND g.role = 'fund_manager' "
        "WHERE g.fund = $1 ORDER BY a.display_name",
        fund_id,
    )
    return ManagedFund(fund_id, name, [_person(row) for row in rows])
