-- Gong deletes calls (docs/warehouse-contract.md). Sync re-lists a recent window every run; a
-- call the window no longer returns keeps its row with `deleted` true (its participants and
-- transcript sentences are removed), so counts and answers stop including it.

ALTER TABLE gong.calls ADD COLUMN deleted boolean NOT NULL DEFAULT false;
ALTER TABLE gong.calls ADD COLUMN deleted_at timestamptz;
