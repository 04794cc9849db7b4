"""Permissions applied to queries: `domain.permissions` rules become `NotFound` for one object
and id lists for `WHERE column = ANY($n)` clauses.

A miss is always NotFound, whether the object is missing or someone else's, so a person
never learns that an object they may not see exists.
"""

from __future__ import annotations

from registry.domain.accounts import Actor
from registry.domain.errors import NotFound
from registry.domain.permissions import Rule, Target, managed_funds, member_organisations


def require(rule: Rule, actor: Actor | None, target: Target | None = None) -> None:
    if not rule(actor, target):
        raise NotFound()


def organisations_of(actor: Actor) -> list[int]:
    """For `organisation = ANY($n)`: the organisations whose proposals the actor writes."""
    return sorted(member_organisations(actor))


def funds_of(actor: Actor) -> list[int]:
    """For `fund = ANY($n)`: the funds whose calls the actor manages."""
    return sorted(managed_funds(actor))
