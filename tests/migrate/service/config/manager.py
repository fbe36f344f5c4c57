"""The legacy configuration manager."""

from __future__ import annotations

import sys

from . import defaults
from .defaults import DEFAULTS

STARTED: list[str] = []


def start() -> dict[str, object]:
    STARTED.append("manager")
    return dict(DEFAULTS) | {"source": defaults.__name__}


def main() -> int:
    print(start())
    return 0


if __name__ == "__main__":
    sys.exit(main())
