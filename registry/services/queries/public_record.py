"""SQL for the public record: funded outcomes becoming catalogue projects."""

#: A decision's funded outcomes with what the public record keeps of each: the latest submitted
#: version's content (never the draft), the organisation and the call. Reviews are not read.
FUNDED_OUTCOMES = """
SELECT o.proposal, o.amount_vnd, p.organisation, p.call, c.fund, org.province, org.is_demo,
       v.content::text AS content
  FROM proposal_outcome o
  JOIN proposal p ON p.id = o.proposal
  JOIN call c ON c.id = p.call
  JOIN organisation org ON org.id = p.organisation
  JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
 WHERE o.decision = $1 AND o.outcome = 'funded'
 ORDER BY o.rank NULLS LAST, o.proposal
"""

#: One project per proposal: approving twice (never allowed, but cheap to guard) adds nothing.
INSERT_PROJECT = """
INSERT INTO project (code, title_vi, title_en, abstract_vi, abstract_en, organisation, fund,
                     amount_vnd, starts_on, ends_on, province, sort_key, is_demo, call, proposal)
VALUES (
    -- The proposal's reference, unless a catalogue or imported project already has it as its
    -- code: then the reference and the proposal's id, unique as the proposal is.
    CASE WHEN EXISTS (SELECT 1 FROM project WHERE code = $1 AND proposal IS DISTINCT FROM $15)
         THEN $1 || '-P' || $15 ELSE $1 END,
    $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (proposal) DO NOTHING
RETURNING id
"""

#: Only technologies the catalogue knows (a proposal names them by id).
INSERT_TECHNOLOGIES = """
INSERT INTO project_technology (project, technology)
SELECT $1, t.id FROM technology t WHERE t.id = ANY($2::int[])
"""

SAVE_STATISTICS = """
UPDATE call_decision SET public_statistics = $2::text::jsonb WHERE id = $1
"""
