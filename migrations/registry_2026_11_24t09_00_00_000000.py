"""Audit trail: an append-only, hash-chained event table, and the roles that keep it so.

Hand-written: Piccolo does not model roles, schemas, grants or triggers. The design and what
it must withstand: shared/research/reliability.md, sections 9 and 2.8 (L1-L4).

- `registry_audit_owner` (no login) owns the audit schema, its tables and functions.
- `registry_app` (no login) is what the web application's connections act as (SET ROLE):
  it uses the business tables freely, but may only INSERT into and SELECT from the audit
  trail. Owning nothing there, it can neither disable a trigger nor (not being superuser)
  skip triggers with session_replication_role.
- `audit.chain()` gives each new event its seq, time, previous hash and own hash under the
  lock of the single `audit.head` row; other triggers refuse UPDATE, DELETE and TRUNCATE.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail: hash-chained events, append-only by triggers and grants"

FORWARDS = r"""
-- Roles belong to the whole server and outlive DROP DATABASE (the test database is recreated
-- on every run; other databases may share the server), so create them only when missing. A
-- run on another database may create one between the check and CREATE ROLE: that is fine too.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'registry_audit_owner') THEN
        CREATE ROLE registry_audit_owner NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'registry_app') THEN
        CREATE ROLE registry_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- The business tables: everything the application does, now and for tables the migrations
-- create later (default privileges apply to objects the migrating role creates).
GRANT USAGE ON SCHEMA public TO registry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO registry_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO registry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO registry_app;

-- Owning the schema also gives the owner the CREATE right that ALTER ... OWNER TO needs.
CREATE SCHEMA audit AUTHORIZATION registry_audit_owner;

-- The chain lock and the chain's end. The chain starts from 32 zero bytes
-- (registry.domain.audit.GENESIS).
CREATE TABLE audit.head (
    id int PRIMARY KEY CHECK (id = 1),
    last_seq bigint NOT NULL,
    last_hash bytea NOT NULL
);
INSERT INTO audit.head (id, last_seq, last_hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- seq, at, prev_hash and row_hash are always set by audit.chain(), whatever the insert says.
CREATE TABLE audit.event (
    seq bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL CHECK (actor <> ''),
    action text NOT NULL CHECK (action <> ''),
    object_ref text NOT NULL CHECK (object_ref <> ''),
    client_address text,
    summary jsonb NOT NULL DEFAULT '{}',
    prev_hash bytea NOT NULL,
    row_hash bytea NOT NULL UNIQUE
);

-- SECURITY DEFINER: runs as the owner, so writers need no right on audit.head. The head row
-- lock makes writers take turns until they commit: no two events share a predecessor, and seq
-- has no gaps (an insert that rolls back rolls the head back with it). The hashed text is
-- jsonb's (deterministic) and the time is spelled in UTC, so no session setting changes the
-- bytes. registry/services/audit.py recomputes exactly this text: change both or neither.
CREATE FUNCTION audit.chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
DECLARE
    h audit.head%ROWTYPE;
BEGIN
    SELECT * INTO STRICT h FROM audit.head WHERE id = 1 FOR UPDATE;
    NEW.seq := h.last_seq + 1;
    NEW.at := clock_timestamp();
    NEW.prev_hash := h.last_hash;
    NEW.row_hash := sha256(NEW.prev_hash || convert_to(jsonb_build_array(
        NEW.seq, to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        NEW.actor, NEW.action, NEW.object_ref, NEW.client_address, NEW.summary)::text, 'UTF8'));
    UPDATE audit.head SET last_seq = NEW.seq, last_hash = NEW.row_hash WHERE id = 1;
    RETURN NEW;
END $$;

CREATE FUNCTION audit.refuse() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION 'audit.% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;

-- The head moves only from inside audit.chain() (a trigger firing within a trigger).
CREATE FUNCTION audit.guard_head() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit.head moves only when an event is added: % refused', TG_OP;
END $$;

CREATE TRIGGER event_chain BEFORE INSERT ON audit.event
    FOR EACH ROW EXECUTE FUNCTION audit.chain();
CREATE TRIGGER event_no_change BEFORE UPDATE OR DELETE ON audit.event
    FOR EACH ROW EXECUTE FUNCTION audit.refuse();
-- Row triggers do not fire on TRUNCATE; only a statement trigger catches it.
CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON audit.event
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse();
CREATE TRIGGER head_only_by_chain BEFORE UPDATE OR DELETE ON audit.head
    FOR EACH ROW EXECUTE FUNCTION audit.guard_head();
CREATE TRIGGER head_no_truncate BEFORE TRUNCATE ON audit.head
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse();

ALTER TABLE audit.head OWNER TO registry_audit_owner;
ALTER TABLE audit.event OWNER TO registry_audit_owner;
ALTER FUNCTION audit.chain() OWNER TO registry_audit_owner;
ALTER FUNCTION audit.refuse() OWNER TO registry_audit_owner;
ALTER FUNCTION audit.guard_head() OWNER TO registry_audit_owner;

-- Nobody but the owner and registry_app (and roles that are members of it) sees the trail.
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO registry_app;
GRANT SELECT, INSERT ON audit.event TO registry_app;
GRANT SELECT ON audit.head TO registry_app;
"""

# The roles stay: they belong to the server, and other databases on it may use them.
BACKWARDS = """
DROP SCHEMA IF EXISTS audit CASCADE;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM registry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM registry_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM registry_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM registry_app;
REVOKE ALL ON SCHEMA public FROM registry_app;
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
