"""SQL of a call's ranking desk (services/ranking.py): the call with the criteria version ranking
uses, its submitted proposals, their reviews and consensus marks.

Each statement reads the whole call at once, so the ranking page costs the same few queries
whatever the number of proposals (tests/integration/test_ranking_service.py counts them).
"""

from registry.services.queries.calls import _CALL_COLUMNS

#: The call as `services.calls.call_from_row` reads it, with the criteria of its latest frozen
#: version (the one ranking uses; the edited criteria before publication) and how its marks
#: combine and its budget is walked.
CALL = f"""
    SELECT {_CALL_COLUMNS}, coalesce(cc.criteria, c.criteria) AS criteria,
           c.aggregation, c.funding_policy
    FROM call c JOIN fund f ON f.id = c.fund
    LEFT JOIN call_criteria cc ON cc.call = c.id AND cc.version = c.criteria_version
    WHERE c.id = $1"""

#: Submitted proposals, described by their latest submitted version (never the draft): the
#: amount requested there, its technologies and receipt time. The version's content is read
#: once per row (OFFSET 0 keeps the lateral from being inlined): each `->` on the stored,
#: compressed JSON would decompress all of it again (2,000 proposals: 108 ms with five reads,
#: 70 ms with one, on a busy machine).
PROPOSALS = """
    SELECT p.id, c->>'reference' AS reference, p.submitted_version AS version,
           d->>'title_vi' AS title_vi, d->>'title_en' AS title_en,
           o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           (SELECT coalesce(sum((b->>'requested')::bigint), 0)
            FROM jsonb_array_elements(d->'budget') b)::bigint AS requested_vnd,
           ARRAY(SELECT t::int FROM jsonb_array_elements_text(d->'technologies') t)
               AS technologies,
           v.received_at, v.criteria_version
    FROM proposal p
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    CROSS JOIN LATERAL (SELECT v.content AS c, v.content->'proposal' AS d OFFSET 0) content
    JOIN organisation o ON o.id = p.organisation
    WHERE p.call = $1 AND p.status = 'submitted'
    ORDER BY p.id"""

#: The call of a submitted proposal (the manager's page of one proposal).
SUBMITTED_PROPOSAL_CALL = "SELECT call FROM proposal WHERE id = $1 AND status = 'submitted'"

# Every assignment of the call's submitted proposals, with its review when there is one: the
# assignments give the count of reviewers assigned, the reviews their marks. In no particular
# order (the service orders each proposal's few): sorting 6,000 rows here cost more than the
# rest of the statement.
_ASSIGNMENTS = """
    SELECT a.proposal, a.id AS assignment_id, a.reviewer, a.status AS assignment_status,
           r.status, r.marks::text AS marks{more}
    FROM review_assignment a
    JOIN proposal p ON p.id = a.proposal
    LEFT JOIN review r ON r.assignment = a.id{join}
    WHERE p.call = $1 AND p.status = 'submitted'{proposal}"""

#: For ranking alone: reviewers, statuses and marks.
ASSIGNMENTS = _ASSIGNMENTS.format(more="", join="", proposal="")

_REVIEW_COLUMNS = """, r.id, acc.display_name AS reviewer_name, r.comments::text AS comments,
           r.overall_comment, r.submitted_at"""
_REVIEWER = "\n    JOIN account acc ON acc.id = a.reviewer"
#: Every review (drafts too) with its reviewer's name and its comments.
REVIEWS = _ASSIGNMENTS.format(more=_REVIEW_COLUMNS, join=_REVIEWER, proposal="")
#: One proposal's ($2).
PROPOSAL_REVIEWS = _ASSIGNMENTS.format(
    more=_REVIEW_COLUMNS, join=_REVIEWER, proposal=" AND p.id = $2"
)

CONSENSUS = """
    SELECT k.proposal, k.marks::text AS marks, k.justification,
           acc.display_name AS entered_by_name, k.entered_at
    FROM review_consensus k
    JOIN proposal p ON p.id = k.proposal
    JOIN account acc ON acc.id = k.entered_by
    WHERE p.call = $1 AND p.status = 'submitted'"""

# Consensus --------------------------------------------------------------------------------------

#: The proposal a consensus is entered for, locked against another manager's entry meanwhile,
#: with its call's fund, the criteria ranking uses and whether the call's outcomes are final.
CONSENSUS_TARGET = """
    SELECT p.id, p.call, p.status, c.fund, coalesce(cc.criteria, c.criteria) AS criteria,
           EXISTS (SELECT FROM call_decision d WHERE d.call = c.id AND d.status = 'approved')
               AS decided
    FROM proposal p
    JOIN call c ON c.id = p.call
    LEFT JOIN call_criteria cc ON cc.call = c.id AND cc.version = c.criteria_version
    WHERE p.id = $1
    FOR NO KEY UPDATE OF p"""

CURRENT_CONSENSUS = """
    SELECT marks::text AS marks, justification FROM review_consensus WHERE proposal = $1"""

SAVE_CONSENSUS = """
    INSERT INTO review_consensus (proposal, marks, justification, entered_by, entered_at)
    VALUES ($1, $2::jsonb, $3, $4, now())
    ON CONFLICT (proposal) DO UPDATE SET marks = EXCLUDED.marks,
        justification = EXCLUDED.justification, entered_by = EXCLUDED.entered_by,
        entered_at = EXCLUDED.entered_at"""

CLEAR_CONSENSUS = """
    DELETE FROM review_consensus WHERE proposal = $1 RETURNING marks::text AS marks,
        justification"""
