-- `sophia ask` and `sophia query` run their SQL as sophia_reader when the connecting user may
-- switch to it: a role that can only read the synced schemas (and the sync run records), so
-- even a statement that slipped past the guard cannot read server files or system catalogs
-- beyond what PUBLIC sees. Creating roles is cluster-wide and may be refused on managed
-- PostgreSQL; then queries run as the connecting user, still in a read-only transaction.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader') THEN
        CREATE ROLE sophia_reader NOLOGIN;
    END IF;
EXCEPTION WHEN OTHERS THEN
    -- duplicate_object/unique_violation when another database's migration raced us,
    -- insufficient_privilege on managed servers: both leave the fallback in place.
    NULL;
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader') THEN
        GRANT USAGE ON SCHEMA hubspot, asana, slack, gong TO sophia_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA hubspot, asana, slack, gong TO sophia_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA hubspot, asana, slack, gong
            GRANT SELECT ON TABLES TO sophia_reader;
        GRANT USAGE ON SCHEMA sophia TO sophia_reader;
        GRANT SELECT ON sophia.sync_runs, sophia.sync_state TO sophia_reader;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader')
       AND NOT pg_has_role(current_user, 'sophia_reader', 'MEMBER') THEN
        EXECUTE format('GRANT sophia_reader TO %I', current_user);
    END IF;
EXCEPTION WHEN OTHERS THEN
    -- membership is cluster-wide too ("tuple concurrently updated" under races).
    NULL;
END $$;
