-- HubSpot's deal pipelines and their stages (docs/warehouse-contract.md). Deals refer to both
-- by id; these tables give the ids their labels, their display order and, for a stage, its
-- probability and closed/won meaning. A stage id is unique only inside its pipeline.

CREATE TABLE hubspot.pipelines (
    id             text PRIMARY KEY,
    label          text,
    display_order  integer,
    archived       boolean NOT NULL DEFAULT false,
    created_at     timestamptz,
    updated_at     timestamptz
);

CREATE TABLE hubspot.pipeline_stages (
    id             text NOT NULL,
    pipeline_id    text NOT NULL,
    label          text,
    display_order  integer,
    probability    numeric,
    is_closed      boolean,
    is_won         boolean,
    archived       boolean NOT NULL DEFAULT false,
    created_at     timestamptz,
    updated_at     timestamptz,
    PRIMARY KEY (pipeline_id, id)
);

-- The reader role sees new tables of the synced schemas through 0004's default privileges
-- only when the migrating user created them; grant explicitly so either way works.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader') THEN
        GRANT SELECT ON hubspot.pipelines, hubspot.pipeline_stages TO sophia_reader;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;
