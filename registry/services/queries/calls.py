"""SQL of calls and their frozen criteria (services/calls.py)."""

# The columns of a call and its fund, as `services.calls.call_from_row` reads them.
_CALL_COLUMNS = """
    c.id, c.fund, c.title_vi, c.title_en, c.description_vi, c.description_en, c.technologies,
    c.opens_at, c.closes_at, c.budget_vnd, c.min_request_vnd, c.max_request_vnd,
    c.cofunding_permille, c.required_attachments, c.reviewers_per_proposal, c.blind_review,
    c.review_closes_at, c.aggregation, c.funding_policy, c.reviewers_see_others,
    c.criteria_version, c.published_at, c.row_version,
    f.name_vi AS fund_name_vi, f.name_en AS fund_name_en, f.code AS fund_code"""

#: The criteria being edited (managers see these).
_EDITED = f"SELECT {_CALL_COLUMNS}, c.criteria FROM call c JOIN fund f ON f.id = c.fund"

#: The criteria of the latest frozen version (what the public and applicants see).
_PUBLISHED = f"""SELECT {_CALL_COLUMNS}, cc.criteria
    FROM call c JOIN fund f ON f.id = c.fund
    JOIN call_criteria cc ON cc.call = c.id AND cc.version = c.criteria_version
    WHERE c.published_at IS NOT NULL"""

CALL = f"{_EDITED} WHERE c.id = $1"
CALL_FOR_UPDATE = f"{_EDITED} WHERE c.id = $1 FOR UPDATE OF c"
FUND_CALLS = f"{_EDITED} WHERE c.fund = $1 ORDER BY c.closes_at DESC"

PUBLISHED_CALL = f"{_PUBLISHED} AND c.id = $1"
#: Open and upcoming calls closing soonest first, then closed ones, newest first.
PUBLISHED_CALLS = f"""{_PUBLISHED} AND ($1::int IS NULL OR c.fund = $1)
    ORDER BY c.closes_at <= now(), CASE WHEN c.closes_at > now() THEN c.closes_at END,
             c.closes_at DESC
    LIMIT 200"""

#: Technologies on a strategic-technology list in force today, in Vietnamese order.
ELIGIBLE_TECHNOLOGIES = """
    SELECT t.id, t.name_vi, t.name_en FROM technology t
    WHERE EXISTS (
        SELECT FROM technology_listing l JOIN technology_list tl ON tl.id = l.technology_list
        WHERE l.technology = t.id
          AND coalesce(tl.effective_from, tl.issued_on, '-infinity') <= current_date
          AND (tl.effective_to IS NULL OR tl.effective_to > current_date))
    ORDER BY t.sort_key COLLATE "C", t.id"""

# $3..$21 are the spec's values, in `services.calls._spec_values` order.
INSERT_CALL = """
    INSERT INTO call (fund, created_by, title_vi, title_en, description_vi, description_en,
        technologies, opens_at, closes_at, budget_vnd, min_request_vnd, max_request_vnd,
        cofunding_permille, required_attachments, reviewers_per_proposal, blind_review,
        criteria, review_closes_at, aggregation, funding_policy, reviewers_see_others)
    VALUES ($1, $2, $3, $4, $5, $6, $7::int[], $8, $9, $10, $11, $12, $13, $14::varchar[],
        $15, $16, $17::jsonb, $18, $19, $20, $21)
    RETURNING id"""

# $2..$20 are the spec's values, in `services.calls._spec_values` order.
UPDATE_CALL = """
    UPDATE call SET (title_vi, title_en, description_vi, description_en, technologies,
        opens_at, closes_at, budget_vnd, min_request_vnd, max_request_vnd, cofunding_permille,
        required_attachments, reviewers_per_proposal, blind_review, criteria,
        review_closes_at, aggregation, funding_policy, reviewers_see_others)
        = ($2, $3, $4, $5, $6::int[], $7, $8, $9, $10, $11, $12, $13::varchar[], $14, $15,
           $16::jsonb, $17, $18, $19, $20),
        criteria_version = $21, row_version = row_version + 1, updated_at = now()
    WHERE id = $1
    RETURNING id"""

PUBLISH_CALL = """
    UPDATE call SET published_at = now(), criteria_version = 1, row_version = row_version + 1,
        updated_at = now()
    WHERE id = $1
    RETURNING id"""

FREEZE_CRITERIA = """
    INSERT INTO call_criteria (call, version, criteria) VALUES ($1, $2, $3::jsonb)
    RETURNING id"""

CRITERIA_VERSION = "SELECT criteria FROM call_criteria WHERE call = $1 AND version = $2"
