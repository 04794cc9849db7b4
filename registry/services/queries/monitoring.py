"""SQL for the Resolution 57 monitoring page: aggregates of funded projects, calls and labs.
Each amount comes with its demo part, so every figure can say how much of it is demo data."""

#: Funded amounts per technology and start year (a project counts under each technology).
BY_TECHNOLOGY_YEAR = """
SELECT t.id, t.name_vi, t.name_en, extract(year FROM p.starts_on)::int AS year,
       sum(p.amount_vnd)::bigint AS amount_vnd,
       coalesce(sum(p.amount_vnd) FILTER (WHERE p.is_demo), 0)::bigint AS demo_vnd,
       count(*)::int AS projects
  FROM project p
  JOIN project_technology pt ON pt.project = p.id
  JOIN technology t ON t.id = pt.technology
 GROUP BY t.id, t.name_vi, t.name_en, t.sort_key, year
 ORDER BY t.sort_key COLLATE "C", t.id, year
"""

#: Funded amounts per province (the project's, else its organisation's) and start year.
BY_PROVINCE_YEAR = """
SELECT coalesce(p.province, o.province) AS province, extract(year FROM p.starts_on)::int AS year,
       sum(p.amount_vnd)::bigint AS amount_vnd,
       coalesce(sum(p.amount_vnd) FILTER (WHERE p.is_demo), 0)::bigint AS demo_vnd,
       count(*)::int AS projects
  FROM project p JOIN organisation o ON o.id = p.organisation
 WHERE coalesce(p.province, o.province) IS NOT NULL
 GROUP BY 1, 2
 ORDER BY 1, 2
"""

TOTALS = """
SELECT count(*)::int AS projects, coalesce(sum(amount_vnd), 0)::bigint AS amount_vnd,
       (count(*) FILTER (WHERE is_demo))::int AS demo_projects,
       coalesce(sum(amount_vnd) FILTER (WHERE is_demo), 0)::bigint AS demo_vnd,
       (SELECT count(*) FROM laboratory)::int AS laboratories,
       (SELECT count(*) FROM exchange)::int AS exchanges
  FROM project
"""

#: Key laboratories per technology (a lab counts under each technology it works on).
LABS_PER_TECHNOLOGY = """
SELECT t.id, t.name_vi, t.name_en, count(lt.laboratory)::int AS laboratories
  FROM technology t LEFT JOIN laboratory_technology lt ON lt.technology = t.id
 GROUP BY t.id, t.name_vi, t.name_en, t.sort_key
 ORDER BY laboratories DESC, t.sort_key COLLATE "C", t.id
"""

#: Published calls taking proposals at $1.
OPEN_CALLS = """
SELECT c.id, c.title_vi, nullif(c.title_en, '') AS title_en, f.name_vi AS fund_vi,
       f.name_en AS fund_en, c.closes_at, c.budget_vnd
  FROM call c JOIN fund f ON f.id = c.fund
 WHERE c.published_at IS NOT NULL AND c.opens_at <= $1 AND c.closes_at > $1
 ORDER BY c.closes_at, c.id
"""

#: Funded amounts per start year, every project counted once.
BY_YEAR = """
SELECT extract(year FROM starts_on)::int AS year, sum(amount_vnd)::bigint AS amount_vnd,
       coalesce(sum(amount_vnd) FILTER (WHERE is_demo), 0)::bigint AS demo_vnd,
       count(*)::int AS projects
  FROM project GROUP BY 1 ORDER BY 1
"""

#: Changes whenever projects are added or replaced (approvals, demo and reference loads);
#: projects are never edited in place. An index-only scan of the primary key.
PROJECTS_VERSION = "SELECT coalesce(max(id), 0) AS last, count(*) AS n FROM project"
