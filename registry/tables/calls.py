"""Fund calls and the criteria they publish.

Schema only. A call's criteria are edited as `call.criteria` (JSON, domain.scoring.Criteria) and
frozen into `call_criteria` rows at publication and at every later change: a submitted version
names the criteria version in force when it was received, so a later change never reaches it.
"""

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Boolean,
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
from registry.tables.catalogue import Fund


class Call(Table, tablename="call"):
    fund = ForeignKey(references=Fund, on_delete=OnDelete.restrict, index=True)
    title_vi = Text()
    title_en = Text(default="")
    description_vi = Text(default="")
    description_en = Text(default="")
    #: Eligible strategic technologies: technology ids from the list in force.
    technologies = Array(base_column=Integer(), default=list)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    #: Whole đồng.
    budget_vnd = BigInt()
    min_request_vnd = BigInt(default=0)
    max_request_vnd = BigInt()
    #: Own funds the organisation brings, as thousandths of the proposal's total budget.
    cofunding_permille = SmallInt(default=0)
    #: domain.proposals.AttachmentKind values every proposal must attach.
    required_attachments = Array(base_column=Varchar(length=30), default=list)
    reviewers_per_proposal = SmallInt(default=3)
    blind_review = Boolean(default=False)
    #: Reviews are due by then (reminders go out before it); null until the manager sets it.
    review_closes_at = Timestamptz(null=True, default=None)
    #: How reviewers' marks combine per criterion: median or mean (domain.scoring.Aggregation).
    aggregation = Varchar(length=8, default="median")
    #: A proposal that does not fit what is left: stop or skip (domain.scoring.FundingPolicy).
    funding_policy = Varchar(length=8, default="stop")
    #: Reviewers see the other reviews of a proposal once their own is submitted.
    reviewers_see_others = Boolean(default=True)
    #: Criteria being edited (domain.scoring.Criteria as JSON); frozen into call_criteria.
    criteria = JSONB()
    #: The latest frozen criteria version; 0 until published.
    criteria_version = Integer(default=0)
    published_at = Timestamptz(null=True, default=None)
    #: Bumped by every save: a form carries it back so two editors cannot overwrite each other.
    row_version = Integer(default=1)
    created_by = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CallCriteria(Table, tablename="call_criteria"):
    """One frozen version of a call's published criteria (never updated)."""

    call = ForeignKey(references=Call, on_delete=OnDelete.cascade)
    version = Integer()
    criteria = JSONB()
    published_at = Timestamptz(default=TimestamptzNow())
