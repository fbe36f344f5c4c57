-- The data version the answer cache keys on, read in constant time.
--
-- It used to be derived from `sophia.sync_runs` on every question (the latest finish time and
-- the count of successful runs): a scan that grows with every run, and blind to streams that
-- wrote pages and then failed or stopped partway (their data changed, the version did not, so a
-- cached answer outlived the data it was computed from). Now every statement that records a
-- stream starting, finishing, failing or being abandoned moves a sequence, which is never
-- rolled back and never blocks a concurrent sync; the epoch tells a rebuilt warehouse from the
-- one whose answers may still sit in Redis.
CREATE SEQUENCE sophia.data_version;

CREATE TABLE sophia.data_epoch (epoch text NOT NULL);
-- The latest finish is part of the version too (a clone keeps epoch and count); this makes
-- reading it an index lookup instead of a scan of the run history.
CREATE INDEX sync_runs_finished_at_idx ON sophia.sync_runs (finished_at);
INSERT INTO sophia.data_epoch (epoch) VALUES (md5(random()::text || clock_timestamp()::text));

CREATE FUNCTION sophia.move_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('sophia.data_version');
    RETURN NULL;
END $$;

CREATE TRIGGER sync_runs_move_data_version
    AFTER INSERT OR UPDATE OR DELETE ON sophia.sync_runs
    FOR EACH STATEMENT EXECUTE FUNCTION sophia.move_data_version();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader') THEN
        GRANT SELECT ON sophia.data_version, sophia.data_epoch TO sophia_reader;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;
