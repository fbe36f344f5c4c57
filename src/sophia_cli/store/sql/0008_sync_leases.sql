-- One lease per source keeps two syncs of it apart. A row, not a session advisory lock:
-- through a transaction pooler (PgBouncer, Neon's pooled endpoint, RDS Proxy) a session
-- lock stays on whichever server connection took it. The holder renews `expires_at` while
-- it runs; a crashed holder's lease simply expires and the next run takes it over.
CREATE TABLE sophia.sync_leases (
    source        text PRIMARY KEY,
    holder        text NOT NULL,
    acquired_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
