"""The container image: one name for what `docker build` tags and what manifests pull.

The Dockerfile labels the image with the same reference (`org.opencontainers.image.ref.name`)
and tests/engines/test_image.py checks the two agree.
"""

from __future__ import annotations

from sophia_cli import __version__

REPOSITORY = "ghcr.io/sophia/sophia"


def default_image() -> str:
    """`REPOSITORY:version`, the tag `docker build -t` gives and `deploy render` uses."""
    return f"{REPOSITORY}:{__version__}"
