"""SQL of proposals, their attachments, submitted versions and near-duplicate flags
(services/proposals.py, attachments.py, submissions.py, call_dashboard.py)."""

_PROPOSAL = """
    SELECT p.id, p.call, p.organisation, p.status, p.draft, p.row_version,
           p.submitted_version, p.created_at, p.updated_at,
           o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           o.verified_at IS NOT NULL AS organisation_verified
    FROM proposal p JOIN organisation o ON o.id = p.organisation
    WHERE p.id = $1"""

PROPOSAL = _PROPOSAL
# NO KEY UPDATE: serialises changes to this proposal without blocking the key-share locks
# other submissions take when they flag it as a near-duplicate (a deadlock otherwise).
PROPOSAL_FOR_UPDATE = _PROPOSAL + " FOR NO KEY UPDATE OF p"

ATTACHMENTS = """
    SELECT id, kind, filename, sha256, stripped_sha256, size, pages, uploaded_at
    FROM attachment WHERE proposal = $1 ORDER BY kind, id"""

VERSIONS = """
    SELECT number, receipt_no, received_at, content_sha256
    FROM proposal_version WHERE proposal = $1 ORDER BY number DESC"""

ORGANISATIONS = """
    SELECT id, name_vi, name_en FROM organisation WHERE id = ANY($1::int[])
    ORDER BY sort_key COLLATE "C" """

#: The newest 200 proposals of the given organisations.
#: `unsubmitted`: the draft or its files differ from the last submitted version (files by
#: their SHA-256, as submissions.unsubmitted_changes compares them in full).
SUMMARIES = """
    SELECT p.id, p.call, p.status, p.submitted_version, p.updated_at, p.created_at,
           p.draft->>'title_vi' AS title, c.title_vi AS call_title_vi,
           c.title_en AS call_title_en, c.closes_at, f.code AS fund_code,
           v.content IS NOT NULL AND (
               v.content->'proposal' IS DISTINCT FROM p.draft
               OR (SELECT coalesce(array_agg(a.sha256::text ORDER BY a.sha256), '{}')
                   FROM attachment a WHERE a.proposal = p.id)
                  IS DISTINCT FROM
                  (SELECT coalesce(array_agg(x->>'sha256' ORDER BY x->>'sha256'), '{}')
                   FROM jsonb_array_elements(v.content->'files') x)
           ) AS unsubmitted
    FROM proposal p JOIN call c ON c.id = p.call JOIN fund f ON f.id = c.fund
    LEFT JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    WHERE p.organisation = ANY($1::int[])
    ORDER BY p.updated_at DESC LIMIT 200"""

INSERT_PROPOSAL = """
    INSERT INTO proposal (call, organisation, created_by, draft)
    VALUES ($1, $2, $3, $4::jsonb) RETURNING id"""

SAVE_DRAFT = """
    UPDATE proposal SET draft = $2::jsonb, requested_vnd = $3, own_vnd = $4,
        technologies = $5::int[], row_version = row_version + 1, updated_at = now()
    WHERE id = $1 RETURNING row_version"""

WITHDRAW = """
    UPDATE proposal SET status = 'withdrawn', withdrawn_at = $2, updated_at = now()
    WHERE id = $1"""

# Attachments ----------------------------------------------------------------------------------

INSERT_BLOBS = """
    INSERT INTO blob (sha256, size) VALUES ($1, $2), ($3, $4) ON CONFLICT (sha256) DO NOTHING"""

INSERT_ATTACHMENT = """
    INSERT INTO attachment (proposal, kind, filename, sha256, stripped_sha256, size, pages,
        uploaded_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"""

DELETE_ATTACHMENT = """
    DELETE FROM attachment WHERE id = $1 AND proposal = $2 RETURNING kind, sha256"""

#: The name of a file some submitted version of the proposal holds.
VERSION_FILE_NAME = """
    SELECT f->>'filename' FROM proposal_version v, jsonb_array_elements(v.content->'files') f
    WHERE v.proposal = $1 AND f->>'sha256' = $2 LIMIT 1"""

# Submissions ----------------------------------------------------------------------------------

VERSION_BY_KEY = """
    SELECT number, content FROM proposal_version WHERE proposal = $1 AND submit_key = $2"""

INSERT_VERSION = """
    INSERT INTO proposal_version (proposal, number, submit_key, content, content_sha256,
        criteria_version, received_at, receipt_no, submitted_by, fingerprint)
    VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, registry_fold($10))
    RETURNING id"""

MARK_SUBMITTED = """
    UPDATE proposal SET status = 'submitted', submitted_version = $2, withdrawn_at = NULL,
        updated_at = now()
    WHERE id = $1"""

VERSION = """
    SELECT v.receipt_no, v.received_at, v.content_sha256, v.content,
           a.display_name AS submitted_by
    FROM proposal_version v JOIN account a ON a.id = v.submitted_by
    WHERE v.proposal = $1 AND v.number = $2"""

VERSION_CONTENT = "SELECT content FROM proposal_version WHERE proposal = $1 AND number = $2"

ACCOUNT_LANGUAGE = "SELECT language FROM account WHERE id = $1"

RECEIPT_CHECK = """
    SELECT v.receipt_no, v.number, v.received_at, v.content_sha256, c.title_vi, c.title_en,
           f.name_vi AS fund_name_vi, f.name_en AS fund_name_en
    FROM proposal_version v JOIN proposal p ON p.id = v.proposal
    JOIN call c ON c.id = p.call JOIN fund f ON f.id = c.fund
    WHERE v.receipt_no = $1 AND v.content_sha256 = $2"""

#: The trigram GiST index the bounded check walks nearest first (migration
#: …2026_12_03t09_00…); a signature of 256 bytes, since fingerprints are a title and an abstract
#: (about 1,500 characters) and the default 12 bytes would match nearly every row.
DUPLICATE_CANDIDATES = """
CREATE INDEX proposal_version_fingerprint_nearest ON proposal_version
    USING gist (fingerprint gist_trgm_ops(siglen = 256));"""

#: Other proposals' latest submitted versions that read much like version $1 (at least
#: pg_trgm.similarity_threshold), the 10 most alike. Bounded: only the 50 versions nearest by
#: trigram distance are compared, walked from the GiST index, instead of every version whose
#: trigrams the GIN index matches; the 10 most alike are among those 50 unless 40 of them are
#: stale or own versions. Medians on generated proposals (bench/duplicates.py, 2 shared cores,
#: PostgreSQL 15; EXPLAIN ANALYZE: a GiST "Order By" index scan stopping at 50 rows):
#:   N=2,000:  GIN `%` (before) 2,049 ms; `%` + LIMIT 50 49 ms; GiST `<->` LIMIT 50 54 ms
#:   N=20,000: GIN `%` (before) 24,963 ms; `%` + LIMIT 50 309 ms; GiST `<->` LIMIT 50 117 ms
#: `%` with a cap still builds the whole bitmap first, so it grows with N; the GiST walk does not.
NEAREST_PROPOSAL_DUPLICATES = """
    SELECT c.proposal, round(c.similarity * 100) AS similarity
    FROM proposal_version me
    CROSS JOIN LATERAL (
        SELECT v.proposal, v.number, similarity(v.fingerprint, me.fingerprint) AS similarity
        FROM proposal_version v WHERE v.proposal <> me.proposal
        ORDER BY v.fingerprint <-> me.fingerprint LIMIT 50) c
    JOIN proposal p ON p.id = c.proposal AND p.submitted_version = c.number
    WHERE me.id = $1
      AND c.similarity >= current_setting('pg_trgm.similarity_threshold')::real
    ORDER BY c.similarity DESC, c.proposal LIMIT 10"""

FLAG_PROPOSAL_DUPLICATES = (
    "INSERT INTO duplicate_flag (version, other_proposal, similarity)\n"
    "    SELECT $1, proposal, similarity FROM (" + NEAREST_PROPOSAL_DUPLICATES + ") nearest\n"
    "    ON CONFLICT (version, other_proposal) WHERE other_proposal IS NOT NULL DO NOTHING"
)

#: Funded projects whose title reads much like the title of version $1 (titles are short: the
#: GIN index's `%` stays cheap).
FLAG_PROJECT_DUPLICATES = """
    INSERT INTO duplicate_flag (version, other_project, similarity)
    SELECT $1, p.id, round(similarity(registry_fold(p.title_vi), me.title) * 100)
    FROM (SELECT registry_fold(content->'proposal'->>'title_vi') AS title
          FROM proposal_version WHERE id = $1) me
    JOIN project p ON registry_fold(p.title_vi) % me.title
    ORDER BY similarity(registry_fold(p.title_vi), me.title) DESC, p.id LIMIT 10
    ON CONFLICT (version, other_project) WHERE other_project IS NOT NULL DO NOTHING"""

#: A re-run of the job for version $1 replaces its flags (others' versions may have changed).
CLEAR_DUPLICATE_FLAGS = "DELETE FROM duplicate_flag WHERE version = $1"

# The call dashboard ---------------------------------------------------------------------------

COUNT_BY_STATUS = """
    SELECT status, count(*)::int AS n FROM proposal WHERE call = $1 GROUP BY status"""

#: Submitted proposals and the amount they request, per technology.
SUBMITTED_BY_TECHNOLOGY = """
    SELECT t.name_vi, t.name_en, count(*)::int AS n,
           coalesce(sum(r.requested), 0)::bigint AS requested
    FROM proposal p
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    CROSS JOIN LATERAL (SELECT coalesce(sum((b->>'requested')::bigint), 0) AS requested
                        FROM jsonb_array_elements(v.content->'proposal'->'budget') b) r
    CROSS JOIN LATERAL jsonb_array_elements_text(v.content->'proposal'->'technologies') tid
    JOIN technology t ON t.id = tid::int
    WHERE p.call = $1 AND p.status = 'submitted'
    GROUP BY t.id ORDER BY n DESC, t.sort_key COLLATE "C" """

REQUESTED_TOTAL = """
    SELECT coalesce(sum((b->>'requested')::bigint), 0)::bigint
    FROM proposal p
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version,
    jsonb_array_elements(v.content->'proposal'->'budget') b
    WHERE p.call = $1 AND p.status = 'submitted'"""

#: Near-duplicate flags of the call's submitted proposals. The other proposal is described by
#: its latest *submitted* content (never its draft) and its fund, so the service can show it
#: by name only to those who manage that fund.
DUPLICATES = """
    SELECT p.id, p.created_at, v.content->'proposal'->>'title_vi' AS title, d.similarity,
           d.other_proposal, oc.fund AS other_fund, ov.content->'proposal'->>'title_vi'
               AS other_proposal_title, op.created_at AS other_created_at,
           ofund.code AS other_fund_code,
           d.other_project, pr.title_vi AS other_project_title
    FROM duplicate_flag d
    JOIN proposal_version v ON v.id = d.version
    JOIN proposal p ON p.id = v.proposal AND p.submitted_version = v.number
    LEFT JOIN proposal op ON op.id = d.other_proposal
    LEFT JOIN call oc ON oc.id = op.call
    LEFT JOIN fund ofund ON ofund.id = oc.fund
    LEFT JOIN proposal_version ov ON ov.proposal = op.id AND ov.number = op.submitted_version
    LEFT JOIN project pr ON pr.id = d.other_project
    WHERE p.call = $1 AND p.status = 'submitted'
    ORDER BY d.similarity DESC, p.id LIMIT 200"""

#: The call's submitted proposals (withdrawn ones too), each as its latest submitted version
#: says (never its draft): organisation, title, technologies, requested amount, and the
#: highest near-duplicate similarity flagged for that version.
SUBMISSIONS = """
    SELECT p.id, p.created_at, p.status, p.organisation,
           o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           v.number AS version, v.received_at, v.content->'proposal'->>'title_vi' AS title,
           v.content->'proposal'->'technologies' AS technologies,
           (SELECT coalesce(sum((b->>'requested')::bigint), 0)
            FROM jsonb_array_elements(v.content->'proposal'->'budget') b)::bigint AS requested,
           (SELECT max(d.similarity) FROM duplicate_flag d WHERE d.version = v.id)::int
               AS similarity
    FROM proposal p
    JOIN organisation o ON o.id = p.organisation
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    WHERE p.call = $1
    ORDER BY v.received_at, p.id"""

#: One proposal's latest submitted version, for its call's managers to read.
SUBMITTED_PROPOSAL = """
    SELECT p.id, p.call, p.status, p.created_at,
           o.name_vi AS organisation_vi, o.name_en AS organisation_en,
           v.number AS version, v.received_at, v.receipt_no, v.content_sha256, v.content,
           a.display_name AS submitted_by
    FROM proposal p
    JOIN organisation o ON o.id = p.organisation
    JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
    JOIN account a ON a.id = v.submitted_by
    WHERE p.id = $1"""
