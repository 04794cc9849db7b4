"""Who may see or do what: pure predicates over an `Actor` and the object's scope.

A rule answers for one object, given the organisation and fund it belongs to (its `Target`).
Rules compose with `|` and `&` (as pretalx's `submission/rules.py` does with django-rules), so
a permission reads as a sentence: `is_member | is_admin`. Services never test roles
themselves: they ask `services.scopes`, which turns these rules into `NotFound` for a single
object and into id lists for `WHERE ... = ANY(...)` clauses, so a person never learns that an
object they may not see exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from registry.domain.accounts import Actor, Role


@dataclass(frozen=True, slots=True)
class Target:
    """What an object belongs to, as far as permissions care."""

    organisation: int | None = None
    fund: int | None = None
    #: Reviewers who accepted the object's assignment (declaring no conflict).
    reviewers: frozenset[int] = frozenset()
    #: The call hides applicants from reviewers.
    blind: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    test: Callable[[Actor, Target], bool]

    def __call__(self, actor: Actor | None, target: Target | None = None) -> bool:
        # A privileged role counts only once its second factor is given.
        return actor is not None and actor.fully_signed_in and self.test(actor, target or Target())

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} | {other.name}", lambda a, t: self.test(a, t) or other.test(a, t))

    def __and__(self, other: Rule) -> Rule:
        return Rule(
            f"{self.name} & {other.name}", lambda a, t: self.test(a, t) and other.test(a, t)
        )


def member_organisations(actor: Actor) -> frozenset[int]:
    """Organisations the actor is a confirmed member of (applicant grants)."""
    return actor.scopes(Role.APPLICANT)


def managed_funds(actor: Actor) -> frozenset[int]:
    return actor.scopes(Role.FUND_MANAGER)


is_admin = Rule("is_admin", lambda actor, _: actor.has(Role.ADMIN))
is_member = Rule(
    "is_member", lambda actor, target: target.organisation in member_organisations(actor)
)
is_fund_manager = Rule("is_fund_manager", lambda actor, target: target.fund in managed_funds(actor))
is_reviewer = Rule("is_reviewer", lambda actor, _: actor.has(Role.REVIEWER))
is_assigned_reviewer = Rule(
    "is_assigned_reviewer",
    lambda actor, target: actor.has(Role.REVIEWER) and actor.account_id in target.reviewers,
)
call_is_open_review = Rule("call_is_open_review", lambda _, target: not target.blind)

#: Draft, attach, submit, withdraw and read the receipts of an organisation's proposals.
may_write_proposal = is_member
#: Draft, publish and change a fund's calls; see their proposals' aggregates (dashboard).
may_manage_call = is_fund_manager
#: Grant and revoke roles, disable accounts, see everyone's account.
may_manage_people = is_admin
#: The confirmed members of an organisation.
may_see_members = is_member | is_admin
#: The managers of a fund.
may_see_fund_managers = is_fund_manager | is_admin
#: Answer invitations, declare conflicts, see own assignments.
may_review_at_all = is_reviewer
#: Read a submitted proposal and score it: reviewers who accepted its assignment.
may_review = is_assigned_reviewer
#: The title of a proposal on one's own assignment: in an open call at once; in a blind call
#: only once the reviewer accepted it (before that, its reference, call and technologies).
may_see_title = may_review | (is_reviewer & call_is_open_review)
#: See who applied (organisation, team names, ORCIDs, attachment originals): everyone who may
#: read the proposal except reviewers of a blind call.
may_see_applicant = is_member | is_fund_manager | is_admin | (
    is_assigned_reviewer & call_is_open_review
)
#: Assign reviewers, see every review, enter consensus, rank, propose and approve outcomes
#: (approving also needs a second person: services.decisions).
may_decide = is_fund_manager
#: Issue and correct a fund's decision documents (a batch job a manager started issues as the
#: system: services.documents).
may_issue_documents = is_fund_manager
