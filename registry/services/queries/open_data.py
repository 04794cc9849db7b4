"""SQL for open data: funded projects as published (no demo data, nothing from reviews)."""

#: Funded projects, optionally of one fund ($1) or one call ($2), oldest first. A project made by
#: an approval carries the approval's time; reviews, scores and drafts are never joined.
FUNDED_PROJECTS = """
SELECT p.id, p.code, p.title_vi, coalesce(p.abstract_vi, '') AS abstract_vi, p.amount_vnd,
       p.starts_on, p.ends_on, coalesce(p.province, o.province) AS province,
       o.code AS organisation_code, o.name_vi AS organisation_name, o.tax_number,
       f.code AS fund_code, f.name_vi AS fund_name, c.id AS call_id, c.title_vi AS call_title,
       (SELECT d.approved_at FROM proposal_outcome po
          JOIN call_decision d ON d.id = po.decision AND d.status = 'approved'
         WHERE po.proposal = p.proposal AND po.outcome = 'funded' LIMIT 1) AS approved_at,
       coalesce((SELECT string_agg(t.name_vi, '; ' ORDER BY t.sort_key COLLATE "C")
                   FROM project_technology pt JOIN technology t ON t.id = pt.technology
                  WHERE pt.project = p.id), '') AS technologies
  FROM project p
  JOIN organisation o ON o.id = p.organisation
  JOIN fund f ON f.id = p.fund
  LEFT JOIN call c ON c.id = p.call
 WHERE NOT p.is_demo
   AND ($1::int IS NULL OR p.fund = $1)
   AND ($2::int IS NULL OR p.call = $2)
 ORDER BY p.id
"""

#: Whether FUNDED_PROJECTS finds any (a 360Giving package needs one): the same rows, read
#: until the first.
HAS_FUNDED_PROJECTS = f"SELECT EXISTS ({FUNDED_PROJECTS})"

#: A published call whose outcomes are approved, with the aggregates frozen at approval.
CALL_RESULTS = """
SELECT c.id, c.title_vi, c.title_en, f.id AS fund_id, f.name_vi AS fund_vi,
       f.name_en AS fund_en, d.approved_at, d.public_statistics::text AS statistics
  FROM call c
  JOIN fund f ON f.id = c.fund
  JOIN call_decision d ON d.call = c.id AND d.status = 'approved'
 WHERE c.id = $1 AND c.published_at IS NOT NULL AND d.public_statistics IS NOT NULL
"""

#: The call's funded projects as the catalogue shows them.
CALL_PROJECTS = """
SELECT p.id, p.title_vi, p.title_en, o.name_vi AS organisation_vi,
       o.name_en AS organisation_en, p.amount_vnd
  FROM project p JOIN organisation o ON o.id = p.organisation
 WHERE p.call = $1
 ORDER BY p.amount_vnd DESC, p.id
"""

#: Ids of published calls with approved outcomes among $1 (for links to their results).
CALLS_WITH_RESULTS = """
SELECT c.id FROM call c JOIN call_decision d ON d.call = c.id AND d.status = 'approved'
 WHERE c.id = ANY($1::int[]) AND c.published_at IS NOT NULL AND d.public_statistics IS NOT NULL
"""
