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
