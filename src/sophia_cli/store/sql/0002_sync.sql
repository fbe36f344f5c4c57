-- What `sophia sync` needs beyond the contract of 0001: tombstones for records that vanish
-- from an API, the keys that make child rows upsertable, and columns the connectors use to
-- decide what to re-read. Contract columns are untouched.

-- Asana deletes tasks outright; a periodic full sweep marks the ones that disappeared.
ALTER TABLE asana.tasks
    ADD COLUMN notes       text,
    ADD COLUMN deleted     boolean NOT NULL DEFAULT false,
    ADD COLUMN deleted_at  timestamptz;

-- HubSpot archived records keep their row; archived_at says when HubSpot archived them.
ALTER TABLE hubspot.owners    ADD COLUMN archived_at timestamptz;
ALTER TABLE hubspot.companies ADD COLUMN archived_at timestamptz;
ALTER TABLE hubspot.contacts  ADD COLUMN archived_at timestamptz;
ALTER TABLE hubspot.deals     ADD COLUMN archived_at timestamptz;

-- Slack: whether the bot can read a channel, and thread activity so unchanged threads are
-- not re-read; messages gone from a re-read window are marked deleted.
ALTER TABLE slack.channels ADD COLUMN is_member boolean NOT NULL DEFAULT true;
ALTER TABLE slack.messages
    ADD COLUMN latest_reply  text,
    ADD COLUMN deleted       boolean NOT NULL DEFAULT false,
    ADD COLUMN deleted_at    timestamptz;

-- Gong child rows get natural keys so re-reading a call upserts instead of duplicating.
ALTER TABLE gong.call_participants ADD COLUMN party_id text;
CREATE UNIQUE INDEX call_participants_key
    ON gong.call_participants (call_id, party_id) NULLS NOT DISTINCT;
CREATE UNIQUE INDEX transcripts_key
    ON gong.transcripts (call_id, speaker_id, start_ms) NULLS NOT DISTINCT;

-- Run records: where a run came from, and notes such as unreadable channels.
ALTER TABLE sophia.sync_runs ADD COLUMN notes jsonb;
CREATE INDEX sync_runs_status_idx ON sophia.sync_runs (source, stream, status, finished_at DESC);
