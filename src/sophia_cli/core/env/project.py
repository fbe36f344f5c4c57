"""Which folder's env files a command reads: the project's, from any of its subfolders.

Like git finding its configuration, sophia walks up from the working directory to the
first folder holding an env file, stopping at the repository root. A `DATABASE_URL` kept in
`.env.master` must not silently vanish because a command ran from `src/`.
"""

from __future__ import annotations

from pathlib import Path

# Any of these marks the project folder; `.env.<environment>` covers development/production.
_ENV_FILES = (".env.master", ".env.example", ".env.development", ".env.production")
_REPOSITORY_MARK = ".git"


def holds_env_files(directory: Path) -> bool:
    return any((directory / name).is_file() for name in _ENV_FILES)


def find_project_dir(start: Path) -> Path:
    """The nearest folder at or above `start` with env files, else the repository root.

    Outside any repository and without env files above, `start` itself: nothing is read
    from folders that merely happen to contain the working directory.
    """
    start = start.resolve()
    for directory in (start, *start.parents):
        if holds_env_files(directory) or (directory / _REPOSITORY_MARK).exists():
            return directory
    return start
