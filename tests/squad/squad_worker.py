"""A separate process calling the squad, for tests that need more than one process.

Usage: python squad_worker.py route | complete PROMPT | route-complete PROMPT | storm N GO_FILE
Settings come from the environment the test passes. Prints one JSON document.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import load_settings
from sophia_cli.core.squad import router
from sophia_cli.core.squad.request import CompletionRequest


def request(text: str) -> CompletionRequest:
    return CompletionRequest(
        messages=[{"role": "user", "content": text}], max_tokens=20, use_cache=False
    )


def storm(threads: int, go_file: Path) -> dict[str, object]:
    """`threads` concurrent calls, started together once `go_file` exists."""
    settings = load_settings()
    router.route(settings, request("warm up"))  # load config and connect before the start
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        try:
            router.complete(settings, request(f"question {index:04d}"))
            outcome = "ok"
        except SophiaError as exc:
            outcome = exc.code
        except Exception as exc:  # noqa: BLE001 - reported to the test as data
            outcome = f"unexpected {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    while not go_file.exists():
        time.sleep(0.01)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"outcomes": outcomes}


def main(args: list[str]) -> None:
    settings = load_settings()
    if args[0] == "route":
        print(router.route(settings, request("hello")).model_dump_json())
    elif args[0] == "route-complete":
        planned = router.route(settings, request("hello")).model_dump(mode="json")
        answered = router.complete(settings, request(args[1])).model_dump(mode="json")
        print(json.dumps({"route": planned, "complete": answered}))
    elif args[0] == "complete":
        print(router.complete(settings, request(args[1])).model_dump_json())
    elif args[0] == "storm":
        print(json.dumps(storm(int(args[1]), Path(args[2]))))


if __name__ == "__main__":
    main(sys.argv[1:])
