"""The embedded Milvus Lite server process, with a watchdog that ends it when it is orphaned.

`embedded_milvus` starts `python -m sophia_cli.store.milvus_server` instead of Milvus Lite's
own entry point so that the server also exits by itself when

- its data folder is gone (the SOPHIA_HOME it served was deleted: nothing can use it), or
- the process named by `--exit-with PID` has ended. `embedded_milvus` passes the pid from
  SOPHIA_MILVUS_EXIT_WITH_PID when that is set: a test session sets it to its own pid, so no
  server started by a test (or by a `sophia` subprocess of a test) outlives the session, even
  one that was killed. Without it the server is shared and outlives its starter on purpose.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

_POLL_S = 1.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(folder: Path, exit_with: int | None) -> None:
    while True:
        time.sleep(_POLL_S)
        if not folder.is_dir() or (exit_with is not None and not _alive(exit_with)):
            # The same signal `sophia db stop` sends.
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sophia-milvus-server")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", required=True)
    parser.add_argument("--exit-with", type=int, default=None)
    args = parser.parse_args(argv)
    folder = Path(args.data_dir).parent
    watchdog = threading.Thread(target=_watch, args=(folder, args.exit_with), daemon=True)
    watchdog.start()
    from milvus_lite.cmdline import main as milvus_main

    server_args = ["server", "--data-dir", args.data_dir, "--host", args.host, "--port", args.port]
    return int(milvus_main(server_args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
