-- Asana subtasks are tasks too (docs/warehouse-contract.md): `parent_gid` names the parent
-- task, NULL for a top-level task. Subtasks are not listed by a project's task list, so sync
-- reads them per parent; the index finds a task's subtasks and lets ask count them apart.

ALTER TABLE asana.tasks ADD COLUMN parent_gid text;
CREATE INDEX tasks_parent_gid_idx ON asana.tasks (parent_gid) WHERE parent_gid IS NOT NULL;
