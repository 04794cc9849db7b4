"""Joining an organisation: applicants ask to join one the registry lists (a pending applicant
grant) or ask for a new one (an organisation request: name, tax number, address); an
administrator confirms or rejects either. Each decision is mailed to the applicant in their
language and audited; approving a new organisation creates it, confirmed, with the
applicant's membership. What is still waiting shows on both sides (`waiting`, people.py's
list of people).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry import database
from registry.domain.accounts import Actor, Origin, organisation_request_problems, raise_problems
from registry.domain.catalogue import Localized, OrganisationKind
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.domain.permissions import may_manage_people
from registry.domain.text import clean, collation_key
from registry.i18n import N_
from registry.services import audit, mail, people, scopes


@dataclass(frozen=True, slots=True)
class NewOrganisation:
    name: str
    tax_number: str
    address: str

    def cleaned(self) -> NewOrganisation:
        return NewOrganisation(clean(self.name), self.tax_number.strip(), clean(self.address))

    def check(self) -> None:
        raise_problems(*organisation_request_problems(self.name, self.tax_number, self.address))

    @property
    def given(self) -> bool:
        """Whether any of it was typed (a form's three fields left empty ask for nothing)."""
        return bool(self.name.strip() or self.tax_number.strip() or self.address.strip())


@dataclass(frozen=True, slots=True)
class OrganisationRequest:
    id: int
    account_id: int
    name: str
    tax_number: str
    address: str
    #: pending, approved or rejected.
    state: str
    reason: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class Waiting:
    """What an applicant asked for and an administrator has not decided (or has refused)."""

    #: Organisations the person asked to join, not yet confirmed.
    memberships: tuple[Localized, ...]
    #: Their requests for new organisations, newest first (decided ones too).
    requests: tuple[OrganisationRequest, ...]


_REQUEST = (
    "SELECT id, account AS account_id, name, tax_number, address, state, reason, created_at, "
    "decided_at FROM organisation_request "
)


async def insert_request(account_id: int, form: NewOrganisation, origin: Origin) -> int:
    """In the caller's transaction (registration, or `request_organisation`)."""
    request_id = await database.fetchval(
        "INSERT INTO organisation_request (account, name, tax_number, address) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        account_id,
        form.name,
        form.tax_number,
        form.address,
    )
    await audit.record(
        "organisation.requested",
        f"organisation_request:{request_id}",
        actor=f"account:{account_id}",
        origin=origin,
        after={"name": form.name, "tax_number": form.tax_number},
    )
    return request_id


async def request_organisation(actor: Actor, form: NewOrganisation, origin: Origin) -> int:
    form = form.cleaned()
    form.check()
    async with database.transaction():
        pending = await database.fetchval(
            "SELECT count(*) FROM organisation_request WHERE account = $1 AND state = 'pending'",
            actor.account_id,
        )
        if pending >= MAX_PENDING:
            raise Conflict("Wait for an administrator to decide on your earlier requests first.")
        return await insert_request(actor.account_id, form, origin)


#: Requests one person may have waiting at once: enough for real cases, not for a flood.
MAX_PENDING = 3


async def ask_to_join(actor: Actor, organisation_id: int, origin: Origin) -> None:
    """A pending applicant grant for a listed organisation, for an administrator to confirm."""
    known = await database.fetchval(
        "SELECT 1 FROM organisation WHERE id = $1 AND NOT is_demo", organisation_id
    )
    if not known:
        raise InvalidInput("Choose an organisation from the list.", field="organisation")
    async with database.transaction():
        grant_id = await database.fetchval(
            "INSERT INTO account_role (account, role, organisation, pending) "
            "VALUES ($1, 'applicant', $2, true) ON CONFLICT DO NOTHING RETURNING id",
            actor.account_id,
            organisation_id,
        )
        if grant_id is None:
            raise Conflict("You have already asked to join this organisation.")
        await audit.record(
            "role.requested",
            actor.ref,
            actor=actor,
            origin=origin,
            after={"role": "applicant", "scope": organisation_id},
        )


async def waiting(actor: Actor) -> Waiting:
    rows = await database.fetch(
        "SELECT o.name_vi, o.name_en FROM account_role g JOIN organisation o "
        "ON o.id = g.organisation WHERE g.account = $1 AND g.pending ORDER BY g.id",
        actor.account_id,
    )
    requests = await database.fetch(
        _REQUEST + "WHERE account = $1 ORDER BY created_at DESC, id DESC LIMIT 20",
        actor.account_id,
    )
    return Waiting(
        tuple(Localized(r["name_vi"], r["name_en"]) for r in rows),
        tuple(OrganisationRequest(**dict(r)) for r in requests),
    )


async def requests_of(actor: Actor, account_id: int) -> tuple[OrganisationRequest, ...]:
    scopes.require(may_manage_people, actor)
    rows = await database.fetch(
        _REQUEST + "WHERE account = $1 ORDER BY created_at DESC, id DESC", account_id
    )
    return tuple(OrganisationRequest(**dict(r)) for r in rows)


async def _pending_request(request_id: int, account_id: int) -> OrganisationRequest:
    row = await database.fetchrow(
        _REQUEST + "WHERE id = $1 AND account = $2 FOR UPDATE", request_id, account_id
    )
    if row is None:
        raise NotFound()
    if row["state"] != "pending":
        raise Conflict("This request was decided already.")
    return OrganisationRequest(**dict(row))


async def _tell(account_id: int, subject: str, body: str, params: dict[str, object]) -> None:
    """Mail the applicant about a decision, in the language they registered in."""
    row = await database.fetchrow("SELECT email, language FROM account WHERE id = $1", account_id)
    await mail.enqueue(
        row["email"], row["language"] or "vi", subject, body,
        {**params, "link": mail.page_link("/account")},
    )  # fmt: skip


async def approve(
    actor: Actor, account_id: int, request_id: int, kind: OrganisationKind, origin: Origin
) -> int:
    """Create the organisation (confirmed: an administrator checked it) and make the applicant
    a confirmed member; their sessions end (a role change). Returns the organisation's id."""
    scopes.require(may_manage_people, actor)
    async with database.transaction():
        request = await _pending_request(request_id, account_id)
        organisation_id = await database.fetchval(
            "INSERT INTO organisation (code, name_vi, kind, tax_number, sort_key, verified_at) "
            "VALUES ($1, $2, $3, $4, $5, now()) RETURNING id",
            f"request-{request.id}",
            request.name,
            str(kind),
            request.tax_number,
            collation_key(request.name),
        )
        await database.execute(
            "UPDATE organisation_request SET state = 'approved', organisation = $2, "
            "decided_at = now() WHERE id = $1",
            request.id,
            organisation_id,
        )
        await database.execute(
            "UPDATE account SET organisation = coalesce(organisation, $2) WHERE id = $1",
            account_id,
            organisation_id,
        )
        await database.fetchval(
            "INSERT INTO account_role (account, role, organisation) "
            "VALUES ($1, 'applicant', $2) RETURNING id",
            account_id,
            organisation_id,
        )
        await people.privileges_changed(account_id)
        await _tell(
            account_id,
            N_("Your organisation was added to the Registry"),
            N_(
                'An administrator checked "%(name)s" (tax number %(tax_number)s) and added it '
                "to the Registry, with you as a member: you can now draft and submit proposals "
                "for it. Sign in again to use your new role: %(link)s"
            ),
            {"name": request.name, "tax_number": request.tax_number},
        )
        await audit.record(
            "organisation.approved",
            f"organisation_request:{request.id}",
            actor=actor,
            origin=origin,
            after={"organisation": organisation_id, "member": account_id, "kind": str(kind)},
        )
    return organisation_id


async def reject(
    actor: Actor, account_id: int, request_id: int, reason: str, origin: Origin
) -> None:
    scopes.require(may_manage_people, actor)
    reason = clean(reason)
    if not reason or len(reason) > 1000:
        raise InvalidInput(
            "Say why, in at most 1,000 characters: the applicant reads it.", field="reason"
        )
    async with database.transaction():
        request = await _pending_request(request_id, account_id)
        await database.execute(
            "UPDATE organisation_request SET state = 'rejected', reason = $2, "
            "decided_at = now() WHERE id = $1",
            request.id,
            reason,
        )
        await _tell(
            account_id,
            N_("Your request for a new organisation was not accepted"),
            N_(
                'An administrator could not add "%(name)s" to the Registry: %(reason)s\n\n'
                "You can ask again with corrected details, or ask to join an organisation "
                "already listed, from your account page: %(link)s"
            ),
            {"name": request.name, "reason": reason},
        )
        await audit.record(
            "organisation.rejected",
            f"organisation_request:{request.id}",
            actor=actor,
            origin=origin,
            after={"reason": reason},
        )
