"""Fund calls and the criteria they publish; proposals, their submitted versions, attachments
and near-duplicate flags.

Schema only. A call's criteria are edited as `call.criteria` (JSON, domain.calls.Criteria) and
frozen into `call_criteria` rows at publication and at every later change: a submitted version
names the criteria version in force when it was received, so a later change never reaches it.
"""

from piccolo.columns import (
    JSONB,
    UUID,
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
from registry.tables.catalogue import Fund, Organisation, Project


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
    #: Criteria being edited (domain.calls.Criteria as JSON); frozen into call_criteria.
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


class Proposal(Table, tablename="proposal"):
    """An organisation's proposal to a call: the draft being edited, and where it stands."""

    call = ForeignKey(references=Call, on_delete=OnDelete.restrict, index=True)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    created_by = ForeignKey(references=Account, on_delete=OnDelete.restrict)
    #: draft, submitted or withdrawn (domain.proposals.Status).
    status = Varchar(length=12, default="draft")
    #: The draft's fields (domain.proposals.Draft as JSON).
    draft = JSONB()
    #: Requested and own amounts of the draft's budget, kept for dashboards (whole đồng).
    requested_vnd = BigInt(default=0)
    own_vnd = BigInt(default=0)
    technologies = Array(base_column=Integer(), default=list)
    row_version = Integer(default=1)
    #: Number of the latest submitted version; 0 before the first submission.
    submitted_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    withdrawn_at = Timestamptz(null=True, default=None)


class Blob(Table, tablename="blob"):
    """A stored file, named by the SHA-256 of its bytes (REGISTRY_DATA_DIR/blobs/ab/abcd...)."""

    sha256 = Varchar(length=64, unique=True)
    size = BigInt()
    stored_at = Timestamptz(default=TimestamptzNow())


class Attachment(Table, tablename="attachment"):
    """A PDF attached to a proposal's draft. Submitted versions copy the list into their
    manifest, so removing it from the draft never changes history."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=30)
    filename = Text()
    sha256 = Varchar(length=64)
    #: The copy without author metadata that blind reviewers get.
    stripped_sha256 = Varchar(length=64)
    size = BigInt()
    pages = Integer()
    uploaded_by = ForeignKey(references=Account, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class ProposalVersion(Table, tablename="proposal_version"):
    """One submission, read-only once written: the content as received and its receipt."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.restrict)
    number = Integer()
    #: The submit form's idempotency key: a repeated click or retry finds this row.
    submit_key = UUID()
    #: The draft as submitted, attachments included (domain.proposals.manifest).
    content = JSONB()
    content_sha256 = Varchar(length=64)
    criteria_version = Integer()
    received_at = Timestamptz()
    receipt_no = Varchar(length=40, unique=True)
    submitted_by = ForeignKey(references=Account, on_delete=OnDelete.restrict)
    #: Folded title and abstract, compared by trigram similarity for near-duplicates.
    fingerprint = Text()


class DuplicateFlag(Table, tablename="duplicate_flag"):
    """A submitted version that looks much like another proposal or a funded project; shown
    to the fund's managers only."""

    version = ForeignKey(references=ProposalVersion, on_delete=OnDelete.cascade, index=True)
    other_proposal = ForeignKey(references=Proposal, null=True, on_delete=OnDelete.cascade)
    other_project = ForeignKey(references=Project, null=True, on_delete=OnDelete.cascade)
    #: Trigram similarity in percent.
    similarity = SmallInt()
    created_at = Timestamptz(default=TimestamptzNow())
