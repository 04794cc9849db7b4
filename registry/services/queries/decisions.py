"""SQL for a call's decision: the proposed or approved outcomes and their approval."""

LIVE_DECISION = """
SELECT d.id, d.call, d.status, d.budget_vnd, d.funded_vnd, d.basis::text AS basis,
       d.proposed_by, p.display_name AS proposed_by_name, d.proposed_at,
       d.approved_by, a.display_name AS approved_by_name, d.approved_at
  FROM call_decision d
  JOIN account p ON p.id = d.proposed_by
  LEFT JOIN account a ON a.id = d.approved_by
 WHERE d.call = $1 AND d.status IN ('proposed', 'approved')
"""

DECISION_FOR_UPDATE = """
SELECT id, call, status, proposed_by, basis::text AS basis
  FROM call_decision WHERE id = $1 FOR UPDATE
"""

OUTCOMES = """
SELECT proposal, outcome, amount_vnd, reason, rank
  FROM proposal_outcome WHERE decision = $1 ORDER BY rank NULLS LAST, proposal
"""

WITHDRAW_PROPOSED = """
UPDATE call_decision SET status = 'withdrawn' WHERE call = $1 AND status = 'proposed'
RETURNING id
"""

INSERT_DECISION = """
INSERT INTO call_decision (call, status, budget_vnd, funded_vnd, basis, proposed_by, proposed_at)
VALUES ($1, 'proposed', $2, $3, $4::text::jsonb, $5, $6)
RETURNING id
"""

INSERT_OUTCOMES = """
INSERT INTO proposal_outcome (decision, proposal, outcome, amount_vnd, reason, rank)
SELECT $1, o.proposal, o.outcome, o.amount_vnd, o.reason, o.rank
  FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int[])
       AS o(proposal, outcome, amount_vnd, reason, rank)
"""

APPROVE = """
UPDATE call_decision SET status = 'approved', approved_by = $2, approved_at = $3
 WHERE id = $1 AND status = 'proposed'
"""

WITHDRAW = "UPDATE call_decision SET status = 'withdrawn' WHERE id = $1 AND status = 'proposed'"
