"""The openrouter-to-litellm preset: whole URLs, no history rewritten, no secret moved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sophia_cli.core.migrate.run import apply_verified, compute_plan, load_plan

Tree = Callable[[dict[str, bytes | str]], Path]

# Built at run time so this file holds no literal credential.
_KEY = "sk-or-v1-" + hashlib.sha256(b"not a real key").hexdigest()


def _migrate(root: Path) -> None:
    apply_verified(compute_plan(load_plan("openrouter-to-litellm"), root))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            'URL = "https://openrouter.ai/api/v1/chat/completions"\n',
            'URL = "http://localhost:4000/chat/completions"\n',
        ),
        ("base: https://openrouter.ai/api/v1\n", "base: http://localhost:4000\n"),
        ("base: https://openrouter.ai/api/v1/\n", "base: http://localhost:4000/\n"),
        ("GET https://openrouter.ai/api/v1/models\n", "GET http://localhost:4000/models\n"),
    ],
)
def test_api_urls_are_rewritten_whole(make_tree: Tree, before: str, after: str) -> None:
    root = make_tree({"client.py": before})
    _migrate(root)
    assert (root / "client.py").read_text() == after


def test_other_openrouter_urls_and_only_models_are_flagged_not_edited(make_tree: Tree) -> None:
    text = "Keys: https://openrouter.ai/keys\nmodel: openrouter/auto\n"
    root = make_tree({"notes.md": text})
    preview = compute_plan(load_plan("openrouter-to-litellm"), root)
    assert [s.line for s in preview.review] == [1, 2]
    assert preview.changes == []


def test_history_files_are_left_as_they_were_and_listed(make_tree: Tree) -> None:
    history = "## 1.2\n- Calls go through OpenRouter (https://openrouter.ai/api/v1).\n"
    root = make_tree({"CHANGELOG.md": history, "docs/release-notes/1.2.md": history})
    preview = compute_plan(load_plan("openrouter-to-litellm"), root)
    assert preview.changes == []
    assert {n.path for n in preview.not_scanned} == {"CHANGELOG.md", "docs/release-notes/1.2.md"}
    assert {n.reason for n in preview.not_scanned} == {"history file"}


def test_a_secret_value_is_never_moved_to_the_new_name(make_tree: Tree) -> None:
    root = make_tree({"svc.env": f"OPENROUTER_API_KEY={_KEY}\n"})
    preview = compute_plan(load_plan("openrouter-to-litellm"), root)
    assert preview.changes == []
    assert any("set LITELLM_API_KEY in svc.env:1" in f for f in preview.follow_ups)
    assert preview.review[0].reason == "secret value not moved: set LITELLM_API_KEY here by hand"
    assert _KEY not in preview.model_dump_json()


def test_references_to_the_secret_and_templates_are_renamed(make_tree: Tree) -> None:
    root = make_tree(
        {
            ".env.example": "OPENROUTER_API_KEY=CHANGEME\n",
            "app.py": 'import os\nKEY = os.environ["OPENROUTER_API_KEY"]\n',
            "compose.yaml": "environment:\n  OPENROUTER_API_KEY: ${OPENROUTER_API_KEY}\n",
        }
    )
    _migrate(root)
    assert (root / ".env.example").read_text() == "LITELLM_API_KEY=CHANGEME\n"
    assert 'os.environ["LITELLM_API_KEY"]' in (root / "app.py").read_text()
    assert "LITELLM_API_KEY: ${LITELLM_API_KEY}" in (root / "compose.yaml").read_text()


def test_a_ci_secret_rename_carries_a_review_note(make_tree: Tree) -> None:
    workflow = "env:\n  OPENROUTER_API_KEY: ${{ secrets.OPENROUTER_API_KEY }}\n"
    root = make_tree({".github/workflows/ci.yml": workflow})
    preview = compute_plan(load_plan("openrouter-to-litellm"), root)
    notes = [r.note for r in preview.rewrites if r.note]
    assert notes == ["create the CI secret LITELLM_API_KEY before merging"]
    assert "create the CI secret LITELLM_API_KEY" in " ".join(preview.follow_ups)


def test_the_provider_name_is_renamed_in_every_value_form(make_tree: Tree) -> None:
    root = make_tree(
        {
            "squads.yaml": "squad: openrouter\nsquads: [openrouter, aimlapi]\n"
            "fallbacks:\n  - openrouter\n  - aimlapi\n",
            "router.py": "PROVIDER = \"openrouter\"\nif name == 'openrouter':\n    pass\n"
            "openrouter_client = None\n",
            "svc.env": "PRIMARY_SQUAD=openrouter\n",
        }
    )
    _migrate(root)
    assert (root / "squads.yaml").read_text() == (
        "squad: litellm\nsquads: [litellm, aimlapi]\nfallbacks:\n  - litellm\n  - aimlapi\n"
    )
    assert (root / "router.py").read_text() == (
        "PROVIDER = \"litellm\"\nif name == 'litellm':\n    pass\nopenrouter_client = None\n"
    )
    assert (root / "svc.env").read_text() == "PRIMARY_SQUAD=litellm\n"


def test_every_rename_is_listed_with_file_and_line(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    root = make_tree(
        {
            "squads.yaml": "model: openrouter/anthropic/claude-3.5-sonnet\nsquad: openrouter\n",
            "README.md": "Calls go through OpenRouter.\n",
        }
    )
    data = json.loads(sophia("migrate", "run", "openrouter-to-litellm", str(root), "--json").stdout)
    listed = {(r["path"], r["line"], r["old"], r["new"]) for r in data["rewrites"]}
    assert listed == {
        ("squads.yaml", 1, "openrouter/", ""),
        ("squads.yaml", 2, "openrouter", "litellm"),
        ("README.md", 1, "OpenRouter", "LiteLLM"),
    }
