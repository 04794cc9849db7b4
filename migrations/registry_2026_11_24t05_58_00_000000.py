"""Search: accent-folding function, the search vectors, and the indexes lists sort by.

Hand-written: Piccolo does not model extensions, functions or tsvector columns.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T05:58:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search vector, folding function and sort indexes"

FORWARDS = """
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- unaccent() is only STABLE (it reads a dictionary found through search_path); this wrapper
-- names the dictionary explicitly so it can be IMMUTABLE and used in stored columns and indexes.
-- The current unaccent rules fold đ to d and drop stand-alone combining marks (NFD input).
CREATE OR REPLACE FUNCTION registry_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, lower($1)) $$;

-- Written by services.search.reindex: the folded words (title A, the rest B) for matching and
-- ranking, and the title's exact words for the exact-diacritic bonus. Both stay small enough to
-- be stored inline and uncompressed (toast_tuple_target): a compressed, out-of-line vector costs
-- a decompression on every row a search touches.
ALTER TABLE search_entry ADD COLUMN search tsvector NOT NULL DEFAULT '';
ALTER TABLE search_entry ADD COLUMN title_exact tsvector NOT NULL DEFAULT '';
ALTER TABLE search_entry SET (toast_tuple_target = 4080);
CREATE INDEX search_entry_search ON search_entry USING gin (search);
CREATE UNIQUE INDEX search_entry_object ON search_entry (kind, object_id);
CREATE INDEX search_term_trigram ON search_term USING gin (term gin_trgm_ops);

CREATE UNIQUE INDEX project_technology_pair ON project_technology (project, technology);
CREATE UNIQUE INDEX laboratory_technology_pair ON laboratory_technology (laboratory, technology);
CREATE INDEX project_newest ON project (starts_on DESC, id DESC);
CREATE INDEX technology_order ON technology (sort_key COLLATE "C", id);
CREATE INDEX organisation_order ON organisation (sort_key COLLATE "C", id);
CREATE INDEX laboratory_order ON laboratory (sort_key COLLATE "C", id);
CREATE UNIQUE INDEX technology_listing_key ON technology_listing (technology_list, technology);
CREATE UNIQUE INDEX technology_product_key ON technology_product (listing, position);

-- Funded totals per technology and per fund, refreshed after projects are loaded
-- (services.search.refresh_summaries), so pages never aggregate a million projects.
CREATE MATERIALIZED VIEW technology_funding AS
    SELECT pt.technology AS technology_id, count(*)::int AS project_count,
           coalesce(sum(p.amount_vnd), 0)::bigint AS funded_total
    FROM project_technology pt JOIN project p ON p.id = pt.project
    GROUP BY pt.technology;
CREATE UNIQUE INDEX technology_funding_key ON technology_funding (technology_id);
CREATE MATERIALIZED VIEW fund_funding AS
    SELECT fund AS fund_id, count(*)::int AS project_count,
           coalesce(sum(amount_vnd), 0)::bigint AS funded_total,
           bool_or(is_demo) AS has_demo
    FROM project GROUP BY fund;
CREATE UNIQUE INDEX fund_funding_key ON fund_funding (fund_id);
"""

BACKWARDS = """
DROP MATERIALIZED VIEW IF EXISTS fund_funding, technology_funding;
DROP INDEX IF EXISTS technology_product_key, technology_listing_key;
DROP INDEX IF EXISTS laboratory_order, organisation_order, technology_order, project_newest,
    laboratory_technology_pair, project_technology_pair, search_term_trigram,
    search_entry_object, search_entry_search;
ALTER TABLE search_entry DROP COLUMN IF EXISTS search, DROP COLUMN IF EXISTS title_exact;
ALTER TABLE search_entry RESET (toast_tuple_target);
DROP FUNCTION IF EXISTS registry_fold(text);
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        async with connection() as conn:
            await conn.execute(FORWARDS)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
