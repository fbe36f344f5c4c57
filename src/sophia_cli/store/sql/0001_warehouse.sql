-- The warehouse contract of DESIGN.md: one schema per source plus `sophia` for the tool's
-- own state. Column names here are a contract; add columns in later migrations, never
-- rename these. Timestamps are timestamptz (UTC), money is numeric, ids are text.

CREATE SCHEMA IF NOT EXISTS hubspot;
CREATE SCHEMA IF NOT EXISTS asana;
CREATE SCHEMA IF NOT EXISTS slack;
CREATE SCHEMA IF NOT EXISTS gong;
CREATE SCHEMA IF NOT EXISTS sophia;

-- HubSpot ---------------------------------------------------------------------------------

CREATE TABLE hubspot.owners (
    id          text PRIMARY KEY,
    email       text,
    first_name  text,
    last_name   text,
    archived    boolean NOT NULL DEFAULT false,
    updated_at  timestamptz
);

CREATE TABLE hubspot.companies (
    id                   text PRIMARY KEY,
    name                 text,
    domain               text,
    industry             text,
    number_of_employees  integer,
    annual_revenue       numeric,
    owner_id             text,
    created_at           timestamptz,
    updated_at           timestamptz,
    archived             boolean NOT NULL DEFAULT false
);
CREATE INDEX companies_updated_at_idx ON hubspot.companies (updated_at, id);
CREATE INDEX companies_owner_id_idx ON hubspot.companies (owner_id);

CREATE TABLE hubspot.contacts (
    id               text PRIMARY KEY,
    email            text,
    first_name       text,
    last_name        text,
    company_id       text,
    owner_id         text,
    lifecycle_stage  text,
    created_at       timestamptz,
    updated_at       timestamptz,
    archived         boolean NOT NULL DEFAULT false
);
CREATE INDEX contacts_updated_at_idx ON hubspot.contacts (updated_at, id);
CREATE INDEX contacts_company_id_idx ON hubspot.contacts (company_id);
CREATE INDEX contacts_created_at_idx ON hubspot.contacts (created_at);

CREATE TABLE hubspot.deals (
    id          text PRIMARY KEY,
    name        text,
    amount      numeric,
    pipeline    text,
    stage       text,
    close_date  timestamptz,
    is_closed   boolean,
    is_won      boolean,
    owner_id    text,
    company_id  text,
    created_at  timestamptz,
    updated_at  timestamptz,
    archived    boolean NOT NULL DEFAULT false
);
CREATE INDEX deals_updated_at_idx ON hubspot.deals (updated_at, id);
CREATE INDEX deals_close_date_idx ON hubspot.deals (close_date);
CREATE INDEX deals_created_at_idx ON hubspot.deals (created_at);
CREATE INDEX deals_owner_id_idx ON hubspot.deals (owner_id);
CREATE INDEX deals_company_id_idx ON hubspot.deals (company_id);

-- Asana -----------------------------------------------------------------------------------

CREATE TABLE asana.users (
    gid    text PRIMARY KEY,
    name   text,
    email  text
);

CREATE TABLE asana.projects (
    gid          text PRIMARY KEY,
    name         text,
    team_name    text,
    archived     boolean NOT NULL DEFAULT false,
    created_at   timestamptz,
    modified_at  timestamptz
);

CREATE TABLE asana.tasks (
    gid           text PRIMARY KEY,
    project_gid   text,
    name          text,
    assignee_gid  text,
    completed     boolean NOT NULL DEFAULT false,
    completed_at  timestamptz,
    due_on        date,
    created_at    timestamptz,
    modified_at   timestamptz
);
CREATE INDEX tasks_project_gid_idx ON asana.tasks (project_gid);
CREATE INDEX tasks_assignee_gid_idx ON asana.tasks (assignee_gid);
CREATE INDEX tasks_modified_at_idx ON asana.tasks (modified_at, gid);
CREATE INDEX tasks_completed_at_idx ON asana.tasks (completed_at);
CREATE INDEX tasks_created_at_idx ON asana.tasks (created_at);
CREATE INDEX tasks_due_on_idx ON asana.tasks (due_on) WHERE NOT completed;

-- Slack -----------------------------------------------------------------------------------

CREATE TABLE slack.users (
    id         text PRIMARY KEY,
    name       text,
    real_name  text,
    email      text,
    is_bot     boolean NOT NULL DEFAULT false,
    deleted    boolean NOT NULL DEFAULT false
);

CREATE TABLE slack.channels (
    id           text PRIMARY KEY,
    name         text,
    is_private   boolean NOT NULL DEFAULT false,
    is_archived  boolean NOT NULL DEFAULT false,
    created_at   timestamptz
);

CREATE TABLE slack.messages (
    channel_id   text NOT NULL,
    ts           text NOT NULL,
    user_id      text,
    text         text,
    thread_ts    text,
    reply_count  integer NOT NULL DEFAULT 0,
    posted_at    timestamptz,
    PRIMARY KEY (channel_id, ts)
);
CREATE INDEX messages_posted_at_idx ON slack.messages (posted_at);
CREATE INDEX messages_thread_idx ON slack.messages (channel_id, thread_ts);
CREATE INDEX messages_user_id_idx ON slack.messages (user_id);

-- Gong ------------------------------------------------------------------------------------

CREATE TABLE gong.users (
    id          text PRIMARY KEY,
    email       text,
    first_name  text,
    last_name   text
);

CREATE TABLE gong.calls (
    id                text PRIMARY KEY,
    title             text,
    started_at        timestamptz,
    duration_seconds  integer,
    direction         text,
    scope             text,
    primary_user_id   text
);
CREATE INDEX calls_started_at_idx ON gong.calls (started_at);
CREATE INDEX calls_primary_user_id_idx ON gong.calls (primary_user_id);

CREATE TABLE gong.call_participants (
    call_id      text NOT NULL,
    email        text,
    name         text,
    affiliation  text,
    speaker_id   text
);
CREATE INDEX call_participants_call_id_idx ON gong.call_participants (call_id);

CREATE TABLE gong.transcripts (
    call_id     text NOT NULL,
    speaker_id  text,
    start_ms    bigint NOT NULL,
    end_ms      bigint,
    text        text
);
CREATE INDEX transcripts_call_id_idx ON gong.transcripts (call_id, start_ms);

-- sophia: the tool's own state ------------------------------------------------------------

CREATE TABLE sophia.sync_state (
    source      text NOT NULL,
    stream      text NOT NULL,
    cursor      jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream)
);

CREATE TABLE sophia.sync_runs (
    id             bigserial PRIMARY KEY,
    run_id         text NOT NULL,
    source         text NOT NULL,
    stream         text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    rows_inserted  bigint NOT NULL DEFAULT 0,
    rows_updated   bigint NOT NULL DEFAULT 0,
    rows_deleted   bigint NOT NULL DEFAULT 0,
    pages          integer NOT NULL DEFAULT 0,
    retries        integer NOT NULL DEFAULT 0,
    status         text NOT NULL DEFAULT 'running',
    error          text
);
CREATE INDEX sync_runs_source_stream_idx ON sophia.sync_runs (source, stream, started_at DESC);

CREATE TABLE sophia.llm_calls (
    id             bigserial PRIMARY KEY,
    request_id     text NOT NULL,
    called_at      timestamptz NOT NULL DEFAULT now(),
    squad          text,
    deployment     text,
    model          text,
    tokens_in      integer NOT NULL DEFAULT 0,
    tokens_out     integer NOT NULL DEFAULT 0,
    cost_usd       numeric(14, 8) NOT NULL DEFAULT 0,
    latency_ms     integer,
    cache_hit      boolean NOT NULL DEFAULT false,
    outcome        text NOT NULL,
    error          text
);
CREATE INDEX llm_calls_called_at_idx ON sophia.llm_calls (called_at);
