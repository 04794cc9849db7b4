"""SQL of reviewer assignment (services/assignments.py): a call's submitted proposals, its
fund's reviewer pool, what the conflict rules need, and the assignments themselves."""

#: Serialises assignment changes of one call (automatic and by hand), so two managers never
#: plan on the same loads. NO KEY UPDATE: a proposal inserted meanwhile (its foreign key
#: takes KEY SHARE on the call) is not held up.
LOCK_CALL = "SELECT id FROM call WHERE id = $1 FOR NO KEY UPDATE"

#: The call's submitted proposals with what their latest version says.
SUBMITTED_PROPOSALS = """
    SELECT p.id, p.organisation, p.created_at, v.content->'proposal' AS draft,
        o.name_vi AS organisation_vi, o.name_en AS organisation_en
    FROM proposal p
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    JOIN organisation o ON o.id = p.organisation
    WHERE p.call = $1 AND p.status = 'submitted'
    ORDER BY p.id"""

#: One proposal and its call, for assignments by hand.
PROPOSAL = """
    SELECT p.id, p.call, p.organisation, p.created_at, p.status, p.submitted_version,
        c.fund, c.reviewers_per_proposal, f.code AS fund_code,
        v.content->'proposal' AS draft,
        o.name_vi AS organisation_vi, o.name_en AS organisation_en
    FROM proposal p
    JOIN call c ON c.id = p.call
    JOIN fund f ON f.id = c.fund
    JOIN organisation o ON o.id = p.organisation
    LEFT JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    WHERE p.id = $1"""

#: The fund's reviewers who accepted its invitation and may still review ($2: one of them,
#: or null for all).
POOL = """
    SELECT a.id, a.display_name, coalesce(a.orcid, '') AS orcid, a.organisation,
        a.expertise, a.keywords,
        array(SELECT r.organisation FROM account_role r
              WHERE r.account = a.id AND r.role = 'applicant' AND NOT r.pending
                AND r.organisation IS NOT NULL) AS member_of
    FROM reviewer_pool rp JOIN account a ON a.id = rp.reviewer
    WHERE rp.fund = $1 AND rp.status = 'accepted' AND a.disabled_at IS NULL
      AND ($2::int IS NULL OR a.id = $2)
      AND EXISTS (SELECT FROM account_role r
                  WHERE r.account = a.id AND r.role = 'reviewer' AND NOT r.pending)
    ORDER BY a.id"""

RELATIONS = """
    SELECT reviewer, organisation, person_name, person_orcid FROM reviewer_relation
    WHERE reviewer = ANY($1::int[])"""

#: Every submitted version since $1, with the people on it: who applied together. All of
#: them, not only those naming a pool reviewer: people are matched by folded name in Python
#: (domain.conflicts), which SQL's unaccent need not agree with to the letter.
COLLABORATIONS = """
    SELECT v.proposal, p.organisation, v.received_at, v.receipt_no, p.created_by,
        v.submitted_by, v.content->'proposal'->>'pi_name' AS pi_name,
        v.content->'proposal'->>'pi_orcid' AS pi_orcid,
        coalesce(v.content->'proposal'->'team', '[]') AS team
    FROM proposal_version v JOIN proposal p ON p.id = v.proposal
    WHERE v.received_at >= $1"""

#: Past proposals of the given reviewers (written by them, or naming their ORCID iD as PI or
#: team member), latest version each: their past work, for affinity.
PAST_WORK = """
    SELECT p.id, p.created_by, v.content->'proposal'->>'title_vi' AS title_vi,
        v.content->'proposal'->>'abstract_vi' AS abstract_vi,
        upper(v.content->'proposal'->>'pi_orcid') AS pi_orcid,
        array(SELECT upper(m->>'orcid')
              FROM jsonb_array_elements(coalesce(v.content->'proposal'->'team', '[]')) m)
            AS team_orcids
    FROM proposal p
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    WHERE p.call <> $3 AND (
        p.created_by = ANY($1::int[])
        OR upper(v.content->'proposal'->>'pi_orcid') = ANY($2::text[])
        OR EXISTS (SELECT FROM jsonb_array_elements(coalesce(v.content->'proposal'->'team',
                                                             '[]')) m
                   WHERE upper(m->>'orcid') = ANY($2::text[])))"""

TECHNOLOGY_NAMES = "SELECT id, name_vi FROM technology"

#: The call's assignments, every status, with the reviewer's name and whether a review was
#: started (such an assignment is never removed).
CALL_ASSIGNMENTS = """
    SELECT ra.id, ra.proposal, ra.reviewer, ra.status, ra.affinity, ra.shared_terms,
        ra.source, ra.assigned_at, a.display_name,
        EXISTS (SELECT FROM review rv WHERE rv.assignment = ra.id) AS has_review
    FROM review_assignment ra
    JOIN proposal p ON p.id = ra.proposal
    JOIN account a ON a.id = ra.reviewer
    WHERE p.call = $1
    ORDER BY ra.proposal, ra.affinity DESC, ra.id"""

#: One proposal's assignments, as CALL_ASSIGNMENTS gives them.
PROPOSAL_ASSIGNMENTS = """
    SELECT ra.id, ra.proposal, ra.reviewer, ra.status, ra.affinity, ra.shared_terms,
        ra.source, ra.assigned_at, a.display_name,
        EXISTS (SELECT FROM review rv WHERE rv.assignment = ra.id) AS has_review
    FROM review_assignment ra
    JOIN account a ON a.id = ra.reviewer
    WHERE ra.proposal = $1
    ORDER BY ra.affinity DESC, ra.id"""

#: New assignments in bulk: (proposal, reviewer, affinity, shared terms as a JSON array).
INSERT_ASSIGNMENTS = """
    INSERT INTO review_assignment
        (proposal, reviewer, status, affinity, shared_terms, source, assigned_by)
    SELECT x.proposal, x.reviewer, 'assigned', x.affinity,
        array(SELECT jsonb_array_elements_text(x.shared::jsonb)), $5, $6
    FROM unnest($1::int[], $2::int[], $3::int[], $4::text[])
        AS x(proposal, reviewer, affinity, shared)
    ON CONFLICT (proposal, reviewer) DO NOTHING
    RETURNING id, proposal, reviewer"""

#: Removes an assignment nobody has started reviewing; answered ones (declined, conflict)
#: stay as the reviewer's record.
DELETE_ASSIGNMENT = """
    DELETE FROM review_assignment ra
    WHERE ra.proposal = $1 AND ra.reviewer = $2 AND ra.status IN ('assigned', 'accepted')
      AND NOT EXISTS (SELECT FROM review rv WHERE rv.assignment = ra.id)
    RETURNING ra.id, ra.status, ra.affinity, ra.source"""

ASSIGNMENT = """
    SELECT ra.id, ra.status, EXISTS (SELECT FROM review rv WHERE rv.assignment = ra.id)
        AS has_review
    FROM review_assignment ra WHERE ra.proposal = $1 AND ra.reviewer = $2"""
