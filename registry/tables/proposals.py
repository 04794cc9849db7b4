"""Proposals: the draft an organisation edits, its read-only submitted versions, attached
files (stored by SHA-256) and near-duplicate flags.

Schema only. A submitted version names the criteria version in force when it was received
(`call_criteria`), so a later change of the call's criteria never reaches it.
"""

from piccolo.columns import (
    JSONB,
    UUID,
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
from registry.tables.catalogue import Organisation, Project


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
    """A file attachments refer to, named by the SHA-256 of its bytes; the bytes are in the
    configured storage (registry.services.storage: PostgreSQL's `stored_file` by default)."""

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
