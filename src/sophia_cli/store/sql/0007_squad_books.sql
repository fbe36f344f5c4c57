-- The squad's books: who called and for what (chargeback), which model was asked for and what
-- a baseline model would have cost (savings), whether a cost is an estimate awaiting
-- reconciliation (a timed-out or cut call, charged its reservation), cached prompt tokens, the
-- upstream finish reason, and when the call settled. A row is written before its call is made
-- (outcome 'pending', cost = the reservation) and completed after, so the log never misses a
-- call the provider may bill. Budget alerts wait in an outbox until a webhook accepts them.
ALTER TABLE sophia.llm_calls
    ADD COLUMN IF NOT EXISTS caller          text,
    ADD COLUMN IF NOT EXISTS feature         text,
    ADD COLUMN IF NOT EXISTS kind            text NOT NULL DEFAULT 'chat',
    ADD COLUMN IF NOT EXISTS requested_model text,
    ADD COLUMN IF NOT EXISTS baseline_usd    numeric(14, 8),
    ADD COLUMN IF NOT EXISTS estimated       boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS cached_tokens   integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS finish_reason   text,
    ADD COLUMN IF NOT EXISTS attempt         smallint NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS settled_at      timestamptz;
CREATE INDEX IF NOT EXISTS llm_calls_called_at_caller_idx ON sophia.llm_calls (called_at, caller);
CREATE INDEX IF NOT EXISTS llm_calls_pending_idx ON sophia.llm_calls (called_at)
    WHERE outcome = 'pending';

CREATE TABLE IF NOT EXISTS sophia.squad_alerts (
    id            bigserial PRIMARY KEY,
    day           date NOT NULL,
    level         integer NOT NULL,
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    failed_at     timestamptz,
    last_error    text,
    UNIQUE (day, level)
);
CREATE INDEX IF NOT EXISTS squad_alerts_due_idx ON sophia.squad_alerts (next_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
