"""Asana part of the dataset: one workspace, teams, users, projects and tasks."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sophia_cli.sandbox import names
from sophia_cli.sandbox.clock import days_ago, iso_ms, parse_iso
from sophia_cli.sandbox.dataset import AsanaData, Person, Record, scaled

WORKSPACE_GID = "1200000000000001"
TASK_GID_BASE = 1_204_500_000_000_000


def compact(record: Record) -> Record:
    """The compact form Asana nests inside other records."""
    return {"gid": record["gid"], "resource_type": record["resource_type"], "name": record["name"]}


def build(rng: random.Random, anchor: datetime, scale: float, staff: list[Person]) -> AsanaData:
    """Users, projects (one archived) and tasks, some overdue, over the last two years."""
    workspace = {
        "gid": WORKSPACE_GID,
        "resource_type": "workspace",
        "name": names.OUR_COMPANY,
        "is_organization": True,
        "email_domains": [names.OUR_DOMAIN],
    }
    teams = {}
    for i, team in enumerate(names.TEAMS):
        gid = str(1200000000000201 + i)
        teams[gid] = {"gid": gid, "resource_type": "team", "name": team}
    n_users = min(len(staff), scaled(30, scale, 8))
    start = max(0, min(len(staff) - n_users, len(staff) // 5))
    users = {}
    for person in staff[start : start + n_users]:
        gid = str(1200000000000101 + person.index)
        users[gid] = {
            "gid": gid,
            "resource_type": "user",
            "name": person.name,
            "email": person.email,
            "workspaces": [compact(workspace)],
        }
    projects = build_projects(rng, anchor, scaled(12, scale, 4), teams, users)
    tasks = build_tasks(rng, anchor, scaled(1500, scale, 40), projects, users, workspace)
    next_gid = TASK_GID_BASE + (len(tasks) + 1) * 7
    data = AsanaData(workspace, teams, users, projects, tasks, next_gid)
    # Subtasks draw from their own stream, so adding them changed no other generated value.
    add_subtasks(random.Random(f"{rng.random()}:subtasks"), data, 0.08)
    return data


def add_subtask(asana: AsanaData, parent: Record, name: str, assignee: Record | None) -> Record:
    """A subtask of `parent`: in no project's task list, reachable through its parent only."""
    gid = str(asana.next_gid)
    asana.next_gid += 7
    created = parse_iso(parent["created_at"])
    project = asana.projects[parent["_project"]]
    task = new_task(
        gid, name, project, asana.workspace, assignee, created, created, parent["due_on"], None
    )
    task.update(parent=compact(parent), projects=[], memberships=[], _parent=parent["gid"])
    parent["num_subtasks"] += 1
    asana.tasks[gid] = task
    return task


def add_subtasks(rng: random.Random, asana: AsanaData, share: float) -> None:
    """One to three subtasks under about `share` of the tasks."""
    users = sorted(asana.users)
    for gid in sorted(asana.tasks):
        parent = asana.tasks[gid]
        if parent.get("_parent") or rng.random() >= share:
            continue
        for n in range(rng.randint(1, 3)):
            name = f"{parent['name']}: step {n + 1}"
            add_subtask(asana, parent, name, asana.users[rng.choice(users)])


def build_projects(
    rng: random.Random,
    anchor: datetime,
    count: int,
    teams: dict[str, Record],
    users: dict[str, Record],
) -> dict[str, Record]:
    """Projects over the last two years; the last one archived."""
    projects = {}
    pool = list(names.PROJECT_NAMES)
    rng.shuffle(pool)
    for i in range(count):
        gid = str(1200000000100001 + i * 3)
        created = days_ago(anchor, rng.uniform(60, 700))
        team = teams[rng.choice(sorted(teams))]
        name = pool[i % len(pool)] + (f" {i // len(pool) + 1}" if i >= len(pool) else "")
        projects[gid] = {
            "gid": gid,
            "resource_type": "project",
            "name": name,
            "archived": i == count - 1,
            "created_at": iso_ms(created),
            "modified_at": iso_ms(days_ago(anchor, rng.uniform(0.2, 40))),
            "team": compact(team),
            "owner": compact(users[rng.choice(sorted(users))]),
            "completed": False,
            "color": rng.choice(("dark-blue", "light-green", "dark-orange")),
            "permalink_url": f"https://app.asana.com/1/{WORKSPACE_GID}/project/{gid}",
            "_created": created,
        }
    return projects


def build_tasks(
    rng: random.Random,
    anchor: datetime,
    count: int,
    projects: dict[str, Record],
    users: dict[str, Record],
    workspace: Record,
) -> dict[str, Record]:
    """Tasks spread over projects; ~20% of past-due tasks are left overdue."""
    tasks = {}
    project_ids, user_ids = sorted(projects), sorted(users)
    for i in range(count):
        project = projects[rng.choice(project_ids)]
        lifetime = max(1.0, (anchor - project["_created"]).total_seconds() / 86400 - 0.5)
        created = anchor - timedelta(days=rng.uniform(0.3, lifetime))
        due = (created + timedelta(days=rng.uniform(3, 45))).date()
        overdue_possible = due < anchor.date()
        completed = rng.random() < (0.8 if overdue_possible else 0.15)
        completed_at = None
        if completed:
            latest = min(
                anchor - timedelta(minutes=30),
                datetime(due.year, due.month, due.day, tzinfo=anchor.tzinfo) + timedelta(days=10),
            )
            completed_at = created + (latest - created) * rng.uniform(0.2, 1.0)
        modified = max(created, completed_at or created) + timedelta(minutes=rng.uniform(1, 600))
        modified = min(modified, anchor - timedelta(minutes=1))
        gid = str(TASK_GID_BASE + i * 7)
        assignee = rng.choice(user_ids) if rng.random() < 0.9 else None
        name = f"{rng.choice(names.TASK_VERBS)} {rng.choice(names.TASK_OBJECTS)}"
        tasks[gid] = new_task(
            gid,
            name,
            project,
            workspace,
            users.get(assignee or ""),
            created,
            modified,
            due.isoformat(),
            completed_at,
        )
    return tasks


def new_task(
    gid: str,
    name: str,
    project: Record,
    workspace: Record,
    assignee: Record | None,
    created: datetime,
    modified: datetime,
    due_on: str | None,
    completed_at: datetime | None,
) -> Record:
    """A task with the full field set (compact or `opt_fields` views are cut from it)."""
    return {
        "gid": gid,
        "resource_type": "task",
        "name": name,
        "resource_subtype": "default_task",
        "completed": completed_at is not None,
        "completed_at": iso_ms(completed_at) if completed_at else None,
        "created_at": iso_ms(created),
        "modified_at": iso_ms(modified),
        "assignee": compact(assignee) if assignee else None,
        "due_on": due_on,
        "due_at": None,
        "start_on": None,
        "notes": f"{name}. See the {project['name']} brief for context.",
        "num_subtasks": 0,
        "parent": None,
        "projects": [compact(project)],
        "memberships": [
            {
                "project": compact(project),
                "section": {
                    "gid": str(int(project["gid"]) + 1),
                    "resource_type": "section",
                    "name": "Done" if completed_at else "In progress",
                },
            }
        ],
        "workspace": compact(workspace),
        "custom_fields": [],
        "permalink_url": f"https://app.asana.com/1/{workspace['gid']}/task/{gid}",
        "_project": project["gid"],
    }
