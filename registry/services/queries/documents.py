"""SQL of issued decision documents (services/documents.py; tables in migrations/…t12_05…)."""

#: Issuing holds the fund's counter row while it renders and signs (the number is printed on
#: the PDF): other issues for the fund wait their turn here, longer than a web query may.
ISSUE_WAIT_SECONDS = 120
ISSUE_TIMEOUT = f"SET LOCAL statement_timeout = '{ISSUE_WAIT_SECONDS}s'"

#: An approved outcome and what its documents name: the proposal as submitted, its
#: organisation, the call and the issuing fund.
OUTCOME = """
    SELECT po.id AS outcome, po.outcome AS kind, po.proposal, d.call, c.fund,
           c.title_vi AS call_title, v.content->'proposal'->>'title_vi' AS proposal_title,
           v.content->>'reference' AS reference, o.name_vi AS organisation
      FROM proposal_outcome po
      JOIN call_decision d ON d.id = po.decision AND d.status = 'approved'
      JOIN call c ON c.id = d.call
      JOIN proposal p ON p.id = po.proposal
      JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
      JOIN organisation o ON o.id = p.organisation
     WHERE po.id = $1"""

#: A call whose outcomes are approved.
APPROVED_CALL = """
    SELECT c.id AS call, c.fund, c.title_vi AS call_title
      FROM call c
      JOIN call_decision d ON d.call = c.id AND d.status = 'approved'
     WHERE c.id = $1"""

#: The approved outcomes of a call, for a batch (ids in rank order).
CALL_OUTCOMES = """
    SELECT po.id FROM proposal_outcome po
      JOIN call_decision d ON d.id = po.decision AND d.status = 'approved'
     WHERE d.call = $1 ORDER BY po.rank NULLS LAST, po.id"""

FUND = "SELECT id, code, short_name, name_vi FROM fund WHERE id = $1"

#: Makes the fund's counter for the year if this is its first decision of the year.
ENSURE_COUNTER = """
    INSERT INTO decision_number (fund, year, last) VALUES ($1, $2, 0)
    ON CONFLICT (fund, year) DO NOTHING"""

#: Takes the counter: issues for the same fund and year queue here until this commits or
#: rolls back, so the next number is always the last committed one plus one.
LOCK_COUNTER = """
    SELECT last FROM decision_number WHERE fund = $1 AND year = $2 FOR UPDATE"""

ADVANCE_COUNTER = "UPDATE decision_number SET last = $3 WHERE fund = $1 AND year = $2"

_DOCUMENT = """
    SELECT d.id, d.kind, d.call, d.proposal, d.outcome, d.fund, f.name_vi AS fund_name,
           d.year, d.number, d.number_label, d.subject, d.issued_at, d.sha256, d.size,
           d.verification_code, d.signer,
           r.verification_code AS replaces_code, r.number_label AS replaces_label,
           n.verification_code AS replaced_by_code, n.number_label AS replaced_by_label
      FROM decision_document d
      JOIN fund f ON f.id = d.fund
      LEFT JOIN decision_document r ON r.id = d.replaces
      LEFT JOIN decision_document n ON n.id = d.replaced_by"""

#: The document of an outcome (or, $1 null, of the call $3) of a kind that nothing replaced.
LIVE = (
    _DOCUMENT
    + """
     WHERE d.kind = $2 AND d.replaced_by IS NULL
       AND (d.outcome = $1 OR ($1::bigint IS NULL AND d.outcome IS NULL AND d.call = $3))"""
)

BY_ID = _DOCUMENT + " WHERE d.id = $1"
BY_CODE = _DOCUMENT + " WHERE d.verification_code = $1"
BY_SHA256 = _DOCUMENT + " WHERE d.sha256 = $1 ORDER BY d.id LIMIT 1"
OF_CALL = _DOCUMENT + " WHERE d.call = $1 ORDER BY d.year, d.number"

FOR_UPDATE = "SELECT id, replaced_by FROM decision_document WHERE id = $1 FOR UPDATE"

NAME_FILE = """
    INSERT INTO blob (sha256, size) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING"""

INSERT = """
    INSERT INTO decision_document
        (id, kind, call, proposal, outcome, fund, year, number, number_label, subject,
         issued_at, issued_by, sha256, size, verification_code, replaces, signer)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"""

NEXT_ID = "SELECT nextval(pg_get_serial_sequence('decision_document', 'id'))"

#: The replaced document names its replacement before the replacement is inserted (the
#: foreign key is checked at commit), so at no moment are two documents live.
MARK_REPLACED = "UPDATE decision_document SET replaced_by = $2 WHERE id = $1"

#: Who issues a call's documents and the call they are about (decision_content.compose).
ISSUING = """
    SELECT f.name_vi AS fund_name, f.code, f.short_name, op.name_vi AS operator,
           c.title_vi AS call_title, approver.display_name AS approver
      FROM call c
      JOIN fund f ON f.id = c.fund
      LEFT JOIN organisation op ON op.id = f.operator
      JOIN call_decision d ON d.call = c.id AND d.status = 'approved'
      JOIN account approver ON approver.id = d.approved_by
     WHERE c.id = $1"""

#: A call's approved outcomes as its documents name them, from the versions submitted (one
#: outcome with $2, else all, funded first in rank order).
PROJECTS = """
    SELECT po.id AS outcome, po.outcome AS kind, po.rank, po.amount_vnd, po.proposal,
           v.content->>'reference' AS reference,
           v.content->'proposal'->>'title_vi' AS title,
           v.content->'proposal'->>'pi_name' AS principal_investigator,
           (v.content->'proposal'->>'duration_months')::int AS duration_months,
           o.name_vi AS organisation
      FROM proposal_outcome po
      JOIN call_decision d ON d.id = po.decision AND d.status = 'approved'
      JOIN proposal p ON p.id = po.proposal
      JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
      JOIN organisation o ON o.id = p.organisation
     WHERE d.call = $1 AND ($2::bigint IS NULL OR po.id = $2)
     ORDER BY po.rank NULLS LAST, po.id"""

#: The submitter of an outcome's proposal, whom its document is mailed to.
APPLICANT = """
    SELECT a.email, a.language, v.content->>'reference' AS reference,
           v.content->'proposal'->>'title_vi' AS title, c.title_vi AS call_title,
           f.name_vi AS fund_name
      FROM proposal_outcome po
      JOIN proposal p ON p.id = po.proposal
      JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
      JOIN account a ON a.id = v.submitted_by AND a.disabled_at IS NULL
      JOIN call c ON c.id = p.call
      JOIN fund f ON f.id = c.fund
     WHERE po.id = $1"""

# Issue batches (services/document_batches.py) ---------------------------------------------

CALL_FUND = "SELECT fund FROM call WHERE id = $1"

#: Documents a call's approved decision needs: its own and one per outcome.
NEEDED = "SELECT 1 + count(*) FROM (" + CALL_OUTCOMES + ") o"

#: The call's batch that has not finished (at most one: issue_batch_running).
RUNNING_BATCH = "SELECT id FROM issue_batch WHERE call = $1 AND finished_at IS NULL FOR UPDATE"

#: Jobs of a batch not yet done (waiting, or running now).
PENDING_JOBS = """
    SELECT count(*) FROM procrastinate_jobs
     WHERE task_name = 'documents:issue' AND status IN ('todo', 'doing')
       AND (args->>'batch_id')::bigint = $1"""

INSERT_BATCH = """
    INSERT INTO issue_batch (call, signer_on_behalf, signer_title, signer_name, started_by, total)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"""

BATCH = """
    SELECT id, call, signer_on_behalf, signer_title, signer_name, total, finished_at
      FROM issue_batch WHERE id = $1"""

#: Live (not replaced) documents of a call: what a batch has issued so far.
ISSUED = "SELECT count(*) FROM decision_document WHERE call = $1 AND replaced_by IS NULL"

#: Closes the batch once every document it needs is issued (each job tries; one succeeds).
FINISH_BATCH = """
    UPDATE issue_batch b SET finished_at = now()
     WHERE b.id = $1 AND b.finished_at IS NULL
       AND b.total <= (SELECT count(*) FROM decision_document d
                        WHERE d.call = b.call AND d.replaced_by IS NULL)"""

CLOSE_BATCH = "UPDATE issue_batch SET finished_at = now() WHERE id = $1"

#: The call's latest batch, how far it got and how many of its jobs gave up.
PROGRESS = """
    SELECT b.id, b.total, b.started_at, b.finished_at, b.signer_on_behalf, b.signer_title,
           b.signer_name, a.display_name AS started_by,
           (SELECT count(*) FROM decision_document d
             WHERE d.call = b.call AND d.replaced_by IS NULL) AS issued,
           (SELECT count(*) FROM procrastinate_jobs j
             WHERE j.task_name = 'documents:issue' AND j.status = 'failed'
               AND (j.args->>'batch_id')::bigint = b.id) AS failed
      FROM issue_batch b
      JOIN account a ON a.id = b.started_by
     WHERE b.call = $1
     ORDER BY b.id DESC LIMIT 1"""

#: The issue desk's call: its title and, once its outcomes are approved, who approved them.
ISSUE_DESK = """
    SELECT c.id, c.fund, c.title_vi, c.title_en, approver.display_name AS approver
      FROM call c
      LEFT JOIN call_decision d ON d.call = c.id AND d.status = 'approved'
      LEFT JOIN account approver ON approver.id = d.approved_by
     WHERE c.id = $1"""
