-- Event-stream positions (Asana's `sync` tokens): one per watched resource, a project for its
-- tasks or a parent task for its subtasks. A token is written in the same transaction as
-- what its events changed, so a crash re-reads the events instead of losing them. `scope` is
-- the project a parent task belongs to (the project itself for a project's token).

CREATE TABLE sophia.sync_tokens (
    source      text NOT NULL,
    resource    text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('project', 'task')),
    scope       text NOT NULL,
    token       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, resource)
);
CREATE INDEX sync_tokens_scope_idx ON sophia.sync_tokens (source, scope);
