-- Questions people pin on the BI page's dashboard, per token subject. The reader role that
-- `ask` and `query` run as is granted only sync_runs and sync_state in this schema
-- (store/reader_role.py), so no question or guarded SQL can read anyone's pins.

CREATE TABLE IF NOT EXISTS sophia.pinned_questions (
    id          bigserial PRIMARY KEY,
    subject     text NOT NULL,
    question    text NOT NULL CHECK (char_length(question) BETWEEN 1 AND 2000),
    title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, question)
);
CREATE INDEX IF NOT EXISTS pinned_questions_subject_idx
    ON sophia.pinned_questions (subject, position);
