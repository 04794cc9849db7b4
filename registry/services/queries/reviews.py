"""SQL of expert review: fund reviewer pools, relations reviewers declare, a reviewer's
assignments and reviews, the manager's view of a proposal's reviews, and review mail
(services/reviewers.py, services/reviews.py)."""

# The pool ---------------------------------------------------------------------------------------

#: An active account holding a confirmed reviewer role, by its (normalised) e-mail address.
REVIEWER_BY_EMAIL = """
    SELECT a.id, a.display_name, a.email, a.language FROM account a
    WHERE a.email = $1 AND a.disabled_at IS NULL
      AND EXISTS (SELECT FROM account_role r
                  WHERE r.account = a.id AND r.role = 'reviewer' AND NOT r.pending)"""

#: A new invitation, or a new one after a refusal; nothing (no row) when the reviewer is
#: already invited or in the pool.
INVITE = """
    INSERT INTO reviewer_pool (fund, reviewer, invited_by) VALUES ($1, $2, $3)
    ON CONFLICT (fund, reviewer) DO UPDATE
        SET status = 'invited', invited_by = $3, invited_at = now(), answered_at = NULL
        WHERE reviewer_pool.status = 'declined'
    RETURNING id"""

FUND_NAME = "SELECT name_vi, name_en FROM fund WHERE id = $1"

POOL = """
    SELECT rp.reviewer, a.display_name, a.email, a.orcid, a.expertise, a.keywords,
           o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           rp.status, rp.invited_at, rp.answered_at
    FROM reviewer_pool rp
    JOIN account a ON a.id = rp.reviewer
    LEFT JOIN organisation o ON o.id = a.organisation
    WHERE rp.fund = $1
    ORDER BY CASE rp.status WHEN 'accepted' THEN 0 WHEN 'invited' THEN 1 ELSE 2 END,
             a.display_name, rp.reviewer
    LIMIT 2000"""

#: The pools a reviewer is invited to or belongs to.
MY_POOLS = """
    SELECT rp.fund, f.name_vi, f.name_en, rp.status, rp.invited_at, rp.answered_at
    FROM reviewer_pool rp JOIN fund f ON f.id = rp.fund
    WHERE rp.reviewer = $1
    ORDER BY rp.invited_at DESC
    LIMIT 200"""

ANSWER_INVITATION = """
    UPDATE reviewer_pool SET status = $3, answered_at = $4
    WHERE fund = $1 AND reviewer = $2 AND status = 'invited'
    RETURNING id"""

TECHNOLOGY_NAMES = """
    SELECT id, name_vi, name_en FROM technology WHERE id = ANY($1::int[])
    ORDER BY sort_key COLLATE "C", id"""

# Declared relations -----------------------------------------------------------------------------

RELATIONS = """
    SELECT r.id, r.organisation, o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           r.person_name, r.person_orcid, r.note, r.created_at
    FROM reviewer_relation r LEFT JOIN organisation o ON o.id = r.organisation
    WHERE r.reviewer = $1
    ORDER BY r.id"""

COUNT_RELATIONS = "SELECT count(*) FROM reviewer_relation WHERE reviewer = $1"

ORGANISATION_EXISTS = "SELECT EXISTS (SELECT FROM organisation WHERE id = $1 AND NOT is_demo)"

INSERT_RELATION = """
    INSERT INTO reviewer_relation (reviewer, organisation, person_name, person_orcid, note)
    VALUES ($1, $2, $3, $4, $5) RETURNING id"""

DELETE_RELATION = """
    DELETE FROM reviewer_relation WHERE id = $1 AND reviewer = $2
    RETURNING organisation, person_name, person_orcid"""

KEYWORDS = "SELECT keywords FROM account WHERE id = $1"

# A reviewer's assignments -----------------------------------------------------------------------

#: One assignment of a reviewer, with what its permissions and pages need: the proposal's
#: organisation and fund, the call's review settings, the review if there is one. Only
#: submitted proposals are reviewed.
_ASSIGNMENT = """
    SELECT a.id, a.proposal, a.status, a.assigned_at, a.answered_at, a.answer_note,
           p.organisation, p.submitted_version, p.created_at,
           c.id AS call, c.fund, c.title_vi AS call_title_vi, c.title_en AS call_title_en,
           c.blind_review, c.review_closes_at, c.reviewers_see_others,
           f.code AS fund_code, f.name_vi AS fund_name_vi, f.name_en AS fund_name_en,
           r.id AS review, r.version, r.criteria_version, r.marks, r.comments,
           r.overall_comment, r.status AS review_status, r.row_version, r.updated_at,
           r.submitted_at, r.reopened_at, r.reopen_reason
    FROM review_assignment a
    JOIN proposal p ON p.id = a.proposal AND p.status = 'submitted'
    JOIN call c ON c.id = p.call
    JOIN fund f ON f.id = c.fund
    LEFT JOIN review r ON r.assignment = a.id
    WHERE a.proposal = $1 AND a.reviewer = $2"""

ASSIGNMENT = _ASSIGNMENT
#: Every change of an assignment or its review locks the assignment first (the manager's
#: reopen too), so they happen one after the other; ASSIGNMENT is read after the lock, in a
#: statement of its own, so it sees the review as the change before left it (a locking read
#: would re-check only the locked row and could show the review as it was).
LOCK_ASSIGNMENT = """
    SELECT id FROM review_assignment WHERE proposal = $1 AND reviewer = $2 FOR UPDATE"""

#: A reviewer's desk: every assignment of a submitted proposal, deadline soonest first. The
#: version shown is the one the review judges, else the latest submitted.
DESK = """
    SELECT a.proposal, a.status, a.assigned_at, a.answered_at, p.organisation, p.created_at,
           c.id AS call, c.fund, c.title_vi AS call_title_vi, c.title_en AS call_title_en,
           c.blind_review, c.review_closes_at, f.code AS fund_code,
           v.content->'proposal'->>'title_vi' AS title,
           v.content->'proposal'->'technologies' AS technologies,
           r.status AS review_status, r.submitted_at
    FROM review_assignment a
    JOIN proposal p ON p.id = a.proposal AND p.status = 'submitted'
    JOIN call c ON c.id = p.call
    JOIN fund f ON f.id = c.fund
    LEFT JOIN review r ON r.assignment = a.id
    JOIN proposal_version v ON v.proposal = p.id
        AND v.number = coalesce(r.version, p.submitted_version)
    WHERE a.reviewer = $1
    ORDER BY a.status <> 'assigned', c.review_closes_at NULLS LAST, a.assigned_at, a.id
    LIMIT 500"""

ANSWER_ASSIGNMENT = """
    UPDATE review_assignment SET status = $2, answered_at = $3, answer_note = $4
    WHERE id = $1"""

VERSION = """
    SELECT number, content, criteria_version FROM proposal_version
    WHERE proposal = $1 AND number = $2"""

ORGANISATION_NAME = "SELECT name_vi, name_en FROM organisation WHERE id = $1"

# Reviews ----------------------------------------------------------------------------------------

INSERT_REVIEW = """
    INSERT INTO review (assignment, version, criteria_version, marks, comments)
    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) RETURNING id"""

#: A conflict declared after accepting: the unsubmitted draft goes with the assignment.
DELETE_DRAFT_REVIEW = "DELETE FROM review WHERE assignment = $1 AND status = 'draft'"

SAVE_REVIEW = """
    UPDATE review SET marks = $2::jsonb, comments = $3::jsonb, overall_comment = $4,
        row_version = row_version + 1, updated_at = now()
    WHERE id = $1 RETURNING row_version"""

SUBMIT_REVIEW = """
    UPDATE review SET status = 'submitted', submitted_at = $2, row_version = row_version + 1,
        updated_at = now()
    WHERE id = $1 RETURNING row_version"""

#: The other reviewers' submitted reviews of a proposal (names for open calls only: the
#: service leaves them out of a blind call's answer).
OTHER_REVIEWS = """
    SELECT r.id, acc.display_name, r.criteria_version, r.marks, r.comments, r.overall_comment,
           r.submitted_at
    FROM review r
    JOIN review_assignment a ON a.id = r.assignment
    JOIN account acc ON acc.id = a.reviewer
    WHERE a.proposal = $1 AND a.reviewer <> $2 AND a.status = 'accepted'
      AND r.status = 'submitted'
    ORDER BY a.id"""

# The manager's view -----------------------------------------------------------------------------

MANAGED_PROPOSAL = """
    SELECT p.id, p.organisation, p.status, p.submitted_version, p.created_at,
           c.id AS call, c.fund, c.title_vi AS call_title_vi, c.title_en AS call_title_en,
           c.review_closes_at, f.code AS fund_code,
           o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           v.content->'proposal'->>'title_vi' AS title
    FROM proposal p
    JOIN call c ON c.id = p.call
    JOIN fund f ON f.id = c.fund
    JOIN organisation o ON o.id = p.organisation
    LEFT JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    WHERE p.id = $1"""

PROPOSAL_REVIEWS = """
    SELECT a.id AS assignment, a.reviewer, acc.display_name, acc.email, a.status,
           a.answered_at, a.answer_note, a.source,
           r.id AS review, r.status AS review_status, r.criteria_version, r.marks, r.comments,
           r.overall_comment, r.updated_at, r.submitted_at, r.reopened_at, r.reopen_reason
    FROM review_assignment a
    JOIN account acc ON acc.id = a.reviewer
    LEFT JOIN review r ON r.assignment = a.id
    WHERE a.proposal = $1
    ORDER BY a.id"""

#: A review of the proposal, for reopening: its assignment locked first, as every change of a
#: review does (LOCK_ASSIGNMENT), then the review read.
LOCK_REVIEW_ASSIGNMENT = """
    SELECT a.id FROM review_assignment a JOIN review r ON r.assignment = a.id
    WHERE r.id = $1 AND a.proposal = $2
    FOR UPDATE OF a"""

REVIEW_TO_REOPEN = """
    SELECT r.id, r.status, a.id AS assignment, a.reviewer, acc.email, acc.language
    FROM review r
    JOIN review_assignment a ON a.id = r.assignment
    JOIN account acc ON acc.id = a.reviewer
    WHERE r.id = $1 AND a.proposal = $2"""

REOPEN_REVIEW = """
    UPDATE review SET status = 'draft', reopened_at = $2, reopen_reason = $3,
        row_version = row_version + 1, updated_at = now()
    WHERE id = $1"""

# Mail -------------------------------------------------------------------------------------------

#: Assignments not answered yet, with what their invitation mail says: the proposal's
#: reference and call, never its title or applicant (blind calls).
TO_NOTIFY = """
    SELECT a.id, a.reviewer, acc.email, acc.language, p.created_at, a.proposal,
           c.title_vi, c.title_en, c.review_closes_at, f.code AS fund_code
    FROM review_assignment a
    JOIN account acc ON acc.id = a.reviewer AND acc.disabled_at IS NULL
    JOIN proposal p ON p.id = a.proposal
    JOIN call c ON c.id = p.call
    JOIN fund f ON f.id = c.fund
    WHERE a.id = ANY($1::int[]) AND a.status = 'assigned'
    ORDER BY a.reviewer, a.id"""

#: Accepted assignments whose review is not submitted, due within the window ($1, $2], not
#: reminded yet; locked so that two workers never remind twice.
DUE_REMINDERS = """
    SELECT a.id, a.reviewer, acc.email, acc.language, p.created_at, a.proposal,
           c.title_vi, c.title_en, c.review_closes_at, f.code AS fund_code
    FROM review_assignment a
    JOIN account acc ON acc.id = a.reviewer AND acc.disabled_at IS NULL
    JOIN proposal p ON p.id = a.proposal AND p.status = 'submitted'
    JOIN call c ON c.id = p.call
    JOIN fund f ON f.id = c.fund
    LEFT JOIN review r ON r.assignment = a.id
    WHERE a.status = 'accepted' AND a.reminded_at IS NULL
      AND (r.id IS NULL OR r.status = 'draft')
      AND c.review_closes_at > $1 AND c.review_closes_at <= $2
    ORDER BY a.reviewer, a.id
    LIMIT $3
    FOR UPDATE OF a SKIP LOCKED"""

MARK_REMINDED = "UPDATE review_assignment SET reminded_at = $2 WHERE id = ANY($1::int[])"
