"""The `sophia` console script: a question goes to a warm worker when one is up.

Everything else, and a question when no worker answers, runs in this process through
`sophia_cli.cli.main` (imported only then: it is what the warm path saves).
"""

from __future__ import annotations

import sys
from typing import NoReturn


def main() -> NoReturn:
    """Console-script entry point."""
    args = sys.argv[1:]
    if "ask" in args:  # the only command a worker answers: others skip even the import
        from sophia_cli.warm.client import answer_warm

        code = answer_warm(args)
        if code is not None:
            sys.exit(code)
    from sophia_cli.cli.main import run

    sys.exit(run(args))
