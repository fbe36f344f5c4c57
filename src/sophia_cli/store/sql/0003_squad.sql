-- Squad spend log additions: what each call reserved against the budget, and indexes for
-- the day-counter rebuild (sum per squad of one UTC day) and request lookups.
ALTER TABLE sophia.llm_calls ADD COLUMN IF NOT EXISTS reserved_usd numeric(14, 8) NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS llm_calls_called_at_squad_idx ON sophia.llm_calls (called_at, squad);
CREATE INDEX IF NOT EXISTS llm_calls_request_id_idx ON sophia.llm_calls (request_id);
