"""Issued documents: each signed decision PDF the registry issued, and the counters that number
them per issuing fund and calendar year.

Schema only. The PDF's bytes are in the configured storage under its SHA-256 (a `blob` row
names it, so the storage's sweep keeps it); a document is never changed after issue except to
name the document that replaced it.
"""

from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from registry.tables.accounts import Account
from registry.tables.calls import Call
from registry.tables.catalogue import Fund
from registry.tables.proposals import Proposal
from registry.tables.reviews import Outcome


class DecisionNumber(Table, tablename="decision_number"):
    """The last decision number a fund gave in a calendar year (unique per fund and year).
    Issuing takes this row FOR UPDATE in the transaction that inserts the document, so
    numbers have no gaps and no duplicates, and a failed issue gives its number back."""

    fund = ForeignKey(references=Fund, on_delete=OnDelete.restrict)
    year = Integer()
    last = Integer(default=0)


class DecisionDocument(Table, tablename="decision_document"):
    """A signed decision PDF as issued: unique per (fund, year, number) and per verification
    code; one per (outcome or call, kind) that no later document replaced."""

    #: call_decision, funding, reserve or rejection (domain.documents.DocumentKind).
    kind = Varchar(length=16)
    call = ForeignKey(references=Call, on_delete=OnDelete.restrict, index=True)
    proposal = ForeignKey(references=Proposal, null=True, on_delete=OnDelete.restrict)
    outcome = ForeignKey(references=Outcome, null=True, on_delete=OnDelete.restrict)
    fund = ForeignKey(references=Fund, on_delete=OnDelete.restrict)
    year = Integer()
    number = Integer()
    #: The number as printed, e.g. "07/QĐ-QPTKHCN".
    number_label = Text()
    #: What the decision is about, as shown on /verify (the call's or proposal's title).
    subject = Text(default="")
    issued_at = Timestamptz(default=TimestamptzNow())
    #: Null when the system issued it (a batch job).
    issued_by = ForeignKey(references=Account, null=True, on_delete=OnDelete.restrict)
    #: SHA-256 of the signed PDF, its name in the storage.
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    #: 10 Crockford base32 characters (domain.documents.new_code), printed on the PDF.
    verification_code = Varchar(length=10, unique=True)
    replaces = ForeignKey(references="self", null=True, on_delete=OnDelete.restrict)
    replaced_by = ForeignKey(references="self", null=True, on_delete=OnDelete.restrict)
    #: The signing certificate's subject as signed (the fund's organisation name).
    signer = Text(default="")


class IssueBatch(Table, tablename="issue_batch"):
    """A manager's request to issue every document of a call's approved outcomes: one job per
    document (services.document_batches). Progress is counted from the documents themselves,
    so a batch run again, or a job retried, never counts one twice."""

    call = ForeignKey(references=Call, on_delete=OnDelete.restrict, index=True)
    #: Who signs every document of the batch, as printed in the signing block.
    signer_on_behalf = Text(default="")
    signer_title = Text()
    signer_name = Text()
    started_by = ForeignKey(references=Account, on_delete=OnDelete.restrict)
    started_at = Timestamptz(default=TimestamptzNow())
    #: Documents the batch issues: the call's decision and one per approved outcome.
    total = Integer()
    finished_at = Timestamptz(null=True, default=None)
