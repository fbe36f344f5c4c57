"""The HTTP face of sophia (FastAPI); imported only by `sophia serve` and tests."""

from pathlib import Path

# Variables `sophia serve` sets for its worker processes, which load settings themselves.
ENV_FILE_VARIABLE = "SOPHIA_SERVE_ENV_FILE"
DIRECTORY_VARIABLE = "SOPHIA_SERVE_DIR"
LEGACY_PORT_VARIABLE = "SOPHIA_SERVE_LEGACY_PORT"


def served_directory() -> Path:
    """The project folder `sophia serve` read its env files from (found like the CLI's)."""
    import os

    from sophia_cli.core.env.project import find_project_dir

    return Path(os.environ.get(DIRECTORY_VARIABLE) or find_project_dir(Path.cwd()))
