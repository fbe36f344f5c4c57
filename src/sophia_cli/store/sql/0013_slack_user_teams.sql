-- Slack users' workspace: `team_id` as users.list gives it, and whether the user belongs to
-- another organisation (a Slack Connect guest: another team than auth.test's, or flagged
-- `is_stranger`), so search and answers can tell customers and partners from colleagues.

ALTER TABLE slack.users
    ADD COLUMN team_id      text,
    ADD COLUMN is_external  boolean NOT NULL DEFAULT false;
