"""Expert review: each fund's reviewer pool, conflicts reviewers declare, assignments of
reviewers to proposals, the reviews with their marks, consensus marks, and the outcomes a
manager proposes for a call and a second manager approves.

Schema only. Marks are integer tenths and amounts whole đồng (domain.scoring, domain.money);
statuses are the values of the enums in domain.reviews.
"""

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from registry.tables.accounts import Account
from registry.tables.calls import Call
from registry.tables.catalogue import Fund, Organisation
from registry.tables.proposals import Proposal


class ReviewerPool(Table, tablename="reviewer_pool"):
    """A reviewer a fund's manager invited to its pool (unique per fund and reviewer)."""

    fund = ForeignKey(references=Fund, on_delete=OnDelete.cascade, index=True)
    reviewer = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    #: invited, accepted or declined (domain.reviews.PoolStatus).
    status = Varchar(length=12, default="invited")
    invited_by = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    invited_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None)


class ReviewerRelation(Table, tablename="reviewer_relation"):
    """A relation a reviewer declared once, for every call: an organisation or a person they
    must never review."""

    reviewer = ForeignKey(references=Account, on_delete=OnDelete.cascade, index=True)
    organisation = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.cascade)
    person_name = Text(default="")
    person_orcid = Varchar(length=19, default="")
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Assignment(Table, tablename="review_assignment"):
    """A reviewer asked to review a proposal (unique per proposal and reviewer)."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, index=True)
    reviewer = ForeignKey(references=Account, on_delete=OnDelete.restrict, index=True)
    #: assigned, accepted, declined or conflict (domain.reviews.AssignmentStatus).
    status = Varchar(length=12, default="assigned")
    #: How well the reviewer fits, 0..1000 (domain.assignment), and the shared terms why.
    affinity = SmallInt(default=0)
    shared_terms = Array(base_column=Text(), default=list)
    #: auto or manual.
    source = Varchar(length=8, default="manual")
    assigned_by = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    assigned_at = Timestamptz(default=TimestamptzNow())
    #: When the reviewer accepted (declaring no conflict), declined or declared a conflict.
    answered_at = Timestamptz(null=True, default=None)
    answer_note = Text(default="")
    #: When the reviewer was reminded of the review deadline (once per assignment).
    reminded_at = Timestamptz(null=True, default=None)


class Review(Table, tablename="review"):
    """One reviewer's marks and comments on one assignment; locked once submitted."""

    assignment = ForeignKey(references=Assignment, on_delete=OnDelete.cascade, unique=True)
    #: The submitted proposal version and criteria version the review judges.
    version = Integer()
    criteria_version = Integer()
    #: Tenths per criterion in criteria order; null where not yet given.
    marks = JSONB()
    comments = JSONB()
    overall_comment = Text(default="")
    #: draft or submitted (domain.reviews.ReviewStatus).
    status = Varchar(length=12, default="draft")
    row_version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    reopened_at = Timestamptz(null=True, default=None)
    reopen_reason = Text(default="")


class Consensus(Table, tablename="review_consensus"):
    """Marks agreed by a rapporteur or the manager; they replace the aggregate (individual
    reviews stay visible to managers)."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, unique=True)
    marks = JSONB()
    justification = Text()
    entered_by = ForeignKey(references=Account, on_delete=OnDelete.restrict)
    entered_at = Timestamptz(default=TimestamptzNow())


class CallDecision(Table, tablename="call_decision"):
    """The outcomes a manager proposes for a whole call; another manager of the fund approves
    them (two-person rule). Approved decisions are final."""

    call = ForeignKey(references=Call, on_delete=OnDelete.restrict, index=True)
    #: proposed, approved or withdrawn (domain.reviews.DecisionStatus).
    status = Varchar(length=12, default="proposed")
    budget_vnd = BigInt()
    funded_vnd = BigInt()
    #: How the ranking was computed (criteria version, aggregation, policy), as proposed.
    basis = JSONB()
    proposed_by = ForeignKey(references=Account, on_delete=OnDelete.restrict)
    proposed_at = Timestamptz(default=TimestamptzNow())
    approved_by = ForeignKey(references=Account, null=True, on_delete=OnDelete.restrict)
    approved_at = Timestamptz(null=True, default=None)
    #: The call's public aggregates frozen at approval (domain.public_record.CallStatistics:
    #: counts, budget used, per-criterion distributions of official marks; never a review).
    public_statistics = JSONB(null=True, default=None)


class Outcome(Table, tablename="proposal_outcome"):
    """One proposal's outcome in a call decision."""

    decision = ForeignKey(references=CallDecision, on_delete=OnDelete.cascade, index=True)
    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.restrict, index=True)
    #: funded, reserve or rejected (domain.reviews.OutcomeKind).
    outcome = Varchar(length=10)
    #: Whole đồng: the requested or a reduced amount when funded, else 0.
    amount_vnd = BigInt(default=0)
    reason = Text(default="")
    rank = Integer(null=True, default=None)
