"""`sophia ask` through a warm worker answers exactly as the CLI in its own process does.

The first question starts a worker; later ones are forked from it with the caller's streams,
environment and folder. These tests run the real console entry (`python -m sophia_cli`) as
separate processes, against the fixture company in PostgreSQL and Redis. Timings are in
bench/ask.py.
"""

from __future__ import annotations

import contextlib
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophia_cli.warm import address
from sophia_cli.warm.client import command_word

QUESTION = ("ask", "won revenue by owner last quarter", "--as-of", "2026-07-15")
REFUSED = ("ask", "what is the meaning of life", "--as-of", "2026-07-15")


class Warm:
    """A private runtime folder for workers, and the environment that reaches it."""

    def __init__(self, env: dict[str, str], runtime: Path) -> None:
        self.env = env
        self.runtime = runtime

    @property
    def folder(self) -> Path:
        return self.runtime / "sophia"

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        python: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *python, "-m", "sophia_cli", *args],
            env=self.env if env is None else env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def sockets(self) -> list[Path]:
        return sorted(self.folder.glob("*.sock")) if self.folder.is_dir() else []

    def pids(self) -> list[int]:
        found = sorted(self.folder.glob("*.pid")) if self.folder.is_dir() else []
        return [int(path.read_text()) for path in found]

    def wait_for_workers(self, count: int = 1) -> None:
        deadline = time.monotonic() + 60
        while len(self.sockets()) < count or len(self.pids()) < count:
            assert time.monotonic() < deadline, f"no worker listens: {self.logs()}"
            time.sleep(0.05)

    def logs(self) -> str:
        return "".join(path.read_text() for path in self.folder.glob("*.log"))

    def started(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Ask once in this process's own way (no worker yet), then wait for the worker."""
        assert self.sockets() == []
        first = self.run(*args, cwd=cwd)
        self.wait_for_workers()
        return first


@pytest.fixture
def warm(company_env: dict[str, str]) -> Iterator[Warm]:
    runtime = Path(tempfile.mkdtemp(prefix="sw-", dir="/tmp"))  # short: sockets live here
    env = {**os.environ, "SOPHIA_WARM": "on", "XDG_RUNTIME_DIR": str(runtime)}
    env["SOPHIA_WARM_IDLE_S"] = "120"
    yield Warm(env, runtime)
    for pid in Warm(env, runtime).pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(runtime, ignore_errors=True)


def _held(lock: Path) -> bool:
    """Whether a worker still holds its address's lock."""
    import fcntl

    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_second_question_is_answered_by_the_worker_exactly_as_the_first(warm: Warm) -> None:
    first = warm.started(*QUESTION)
    second = warm.run(*QUESTION)
    assert first.returncode == second.returncode == 0, first.stderr
    assert "Alex Kim" in first.stdout and "led by Alex Kim" in first.stderr
    assert (second.stdout, second.stderr) == (first.stdout, first.stderr)


def test_a_warm_answer_does_not_import_the_cli_in_the_callers_process(warm: Warm) -> None:
    warm.started(*QUESTION)
    result = warm.run(*QUESTION, "--json", python=("-X", "importtime"))
    assert result.returncode == 0 and '"won_revenue"' in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "sophia_cli.warm.client" in imported  # the trace is of the caller
    assert not {"typer", "pydantic", "psycopg", "redis", "sophia_cli.cli.main"} & imported


def test_a_refusal_keeps_its_message_and_exit_code_when_warm(warm: Warm) -> None:
    cold = warm.run(*REFUSED, env={**warm.env, "SOPHIA_WARM": "off"})
    warm.started(*QUESTION)
    answered = warm.run(*REFUSED)
    assert cold.returncode == answered.returncode == 3
    assert (answered.stdout, answered.stderr) == (cold.stdout, cold.stderr)


def test_json_errors_stay_json_when_warm(warm: Warm) -> None:
    warm.started(*QUESTION)
    result = warm.run("--json", *REFUSED)
    assert result.returncode == 3 and result.stdout.startswith("{")


def test_settings_files_are_read_afresh_for_every_warm_question(
    warm: Warm, tmp_path: Path, pg_admin_url: str
) -> None:
    url = warm.env.pop("DATABASE_URL")  # from the project's file, not the environment
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env.master").write_text(f"DATABASE_URL={url}\n")
    assert warm.started(*QUESTION, cwd=project).returncode == 0
    missing = url.replace("dbname=", "dbname=sophia_no_such_db_") if "dbname=" in url else None
    missing = missing or url.rsplit("/", 1)[0] + "/sophia_no_such_db"
    (project / ".env.master").write_text(f"DATABASE_URL={missing}\n")
    answered = warm.run(*QUESTION, cwd=project)
    cold = warm.run(*QUESTION, cwd=project, env={**warm.env, "SOPHIA_WARM": "off"})
    assert answered.returncode == cold.returncode != 0
    assert answered.stderr == cold.stderr and "sophia_no_such_db" in answered.stderr


def test_each_question_reads_the_settings_of_the_folder_it_was_asked_from(
    warm: Warm, tmp_path: Path
) -> None:
    url = warm.env.pop("DATABASE_URL")
    good, broken = tmp_path / "good" / "sub", tmp_path / "broken"
    good.mkdir(parents=True)
    broken.mkdir()
    (tmp_path / "good" / ".env.master").write_text(f"DATABASE_URL={url}\n")
    (broken / ".env.master").write_text("DATABASE_URL=postgresql://127.0.0.1:1/nowhere\n")
    warm.started(*QUESTION, cwd=good)
    assert warm.run(*QUESTION, cwd=good).returncode == 0  # found upwards, as git does
    assert warm.run(*QUESTION, cwd=broken).returncode != 0
    assert len(warm.sockets()) == 1  # both answered by the one worker of this environment


def test_another_environment_gets_a_worker_of_its_own(warm: Warm) -> None:
    warm.started(*QUESTION)
    other = {**warm.env, "REDIS_KEY_PREFIX": warm.env["REDIS_KEY_PREFIX"] + "other:"}
    assert warm.run(*QUESTION, env=other).returncode == 0
    warm.wait_for_workers(2)
    assert len(set(warm.pids())) == 2


def test_warm_off_starts_no_worker(warm: Warm) -> None:
    result = warm.run(*QUESTION, env={**warm.env, "SOPHIA_WARM": "off"})
    assert result.returncode == 0
    time.sleep(1)
    assert warm.sockets() == [] and warm.pids() == []


def test_other_commands_start_no_worker(warm: Warm) -> None:
    assert warm.run("--version").returncode == 0
    assert warm.run("query", "SELECT 1").returncode == 0
    time.sleep(1)
    assert warm.sockets() == []


def test_a_worker_stops_after_its_idle_time_and_leaves_nothing(warm: Warm) -> None:
    warm.env["SOPHIA_WARM_IDLE_S"] = "1"
    assert warm.run(*QUESTION).returncode == 0  # starts a worker that will find nothing to do
    lock = warm.folder / f"ask-{address.fingerprint(warm.env)}.lock"
    deadline = time.monotonic() + 60
    while not lock.exists():  # the worker took its address (it may be gone already)
        assert time.monotonic() < deadline, warm.logs()
        time.sleep(0.05)
    while _held(lock):
        assert time.monotonic() < deadline, "the idle worker did not stop"
        time.sleep(0.1)
    assert warm.sockets() == [] and warm.pids() == [] and warm.logs() == ""


def test_a_killed_worker_is_replaced_and_the_question_still_answered(warm: Warm) -> None:
    first = warm.started(*QUESTION)
    (old,) = warm.pids()
    os.kill(old, signal.SIGKILL)
    while _alive(old):
        time.sleep(0.05)
    assert len(warm.sockets()) == 1  # it could not clean up: the socket is stale
    again = warm.run(*QUESTION)
    assert again.returncode == 0 and again.stdout == first.stdout
    deadline = time.monotonic() + 60
    while not [pid for pid in warm.pids() if pid != old and _alive(pid)]:
        assert time.monotonic() < deadline, warm.logs()
        time.sleep(0.05)
    assert warm.run(*QUESTION).stdout == first.stdout


def test_a_worker_that_cannot_start_is_not_started_again_for_every_question(warm: Warm) -> None:
    warm.folder.mkdir(mode=0o700)
    blocker = warm.folder / f"ask-{address.fingerprint(warm.env)}.sock"
    blocker.mkdir()  # something that is not a socket holds the address
    assert warm.run(*QUESTION).returncode == 0
    deadline = time.monotonic() + 60
    while not blocker.with_suffix(".failed").exists():
        assert time.monotonic() < deadline, warm.logs()
        time.sleep(0.05)
    assert warm.run(*QUESTION).returncode == 0 and warm.run(*QUESTION).returncode == 0
    time.sleep(2)
    assert warm.logs().count("Traceback") == 1 and warm.pids() == []


def test_a_runtime_folder_others_can_read_is_never_used(warm: Warm) -> None:
    warm.folder.mkdir(mode=0o755)
    warm.folder.chmod(0o755)
    result = warm.run(*QUESTION)
    assert result.returncode == 0
    time.sleep(1)
    assert warm.sockets() == []


def test_a_worker_socket_only_its_user_can_open(warm: Warm) -> None:
    warm.started(*QUESTION)
    (sock,) = warm.sockets()
    assert sock.stat().st_mode & 0o077 == 0 and warm.folder.stat().st_mode & 0o077 == 0


def test_a_terminal_gets_the_same_table_warm_as_cold(warm: Warm) -> None:
    cold = _in_terminal([*QUESTION], {**warm.env, "SOPHIA_WARM": "off"})
    warm.started(*QUESTION)
    answered = _in_terminal([*QUESTION], warm.env)
    assert "│" in cold or "┃" in cold or "─" in cold  # a drawn table, not tab-separated rows
    assert answered == cold


def test_ctrl_c_reaches_the_question_running_in_the_worker(warm: Warm, tmp_path: Path) -> None:
    hole = _BlackHole()
    url = warm.env.pop("DATABASE_URL")
    (tmp_path / ".env.master").write_text(f"DATABASE_URL={url}\n")
    warm.started(*QUESTION, cwd=tmp_path)
    (tmp_path / ".env.master").write_text(
        f"DATABASE_URL=postgresql://postgres@127.0.0.1:{hole.port}/stuck?connect_timeout=60\n"
    )
    caller = subprocess.Popen(
        [sys.executable, "-m", "sophia_cli", *QUESTION, "--no-cache"],
        env=warm.env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert hole.connected.wait(30), "the question never reached the database"
    caller.send_signal(signal.SIGINT)
    caller.communicate(timeout=30)
    assert caller.returncode == 130  # as Typer ends an interrupted command in its own process
    assert hole.hung_up(30), "the worker's child still holds the connection"
    hole.close()


def test_the_worker_has_loaded_everything_a_question_imports(company_env: dict[str, str]) -> None:
    probe = """
import sys
from sophia_cli.warm.worker import preload
command = preload()
before = set(sys.modules)
from sophia_cli.cli.main import run
for args in sys.argv[1:]:
    run(["ask", args, "--as-of", "2026-07-15", "--no-cache"], command)
    run(["--json", "ask", args, "--as-of", "2026-07-15"], command)
sys.stderr.write("NEW=" + ",".join(sorted(set(sys.modules) - before)))
"""
    questions = [QUESTION[1], REFUSED[1], "list the deals we lost last month"]
    done = subprocess.run(
        [sys.executable, "-c", probe, *questions],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    head, _, new = done.stderr.rpartition("NEW=")
    assert head and new == "", done.stderr[-2000:]


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["ask", "q"], "ask"),
        (["--json", "ask", "q"], "ask"),
        (["--env-file", "x.env", "--debug", "ask", "q"], "ask"),
        (["--dir=proj", "ask"], "ask"),
        (["sync", "run"], "sync"),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_command_is_found_after_global_options(argv: list[str], word: str | None) -> None:
    assert command_word(argv) == word


def test_the_address_follows_environment_and_code_not_the_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sophia_cli

    package = tmp_path / "sophia_cli"
    shutil.copytree(Path(sophia_cli.__file__).parent, package)
    monkeypatch.setattr(sophia_cli, "__file__", str(package / "__init__.py"))
    env = {"DATABASE_URL": "postgresql://a/b", "PWD": "/x", "SHLVL": "1"}
    same = address.fingerprint({**env, "PWD": "/elsewhere", "SHLVL": "3"})
    assert address.fingerprint(env) == same
    assert address.fingerprint({**env, "DATABASE_URL": "postgresql://a/c"}) != same
    edited = package / "core" / "bi" / "ask.py"
    os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 10**9))
    assert address.fingerprint(env) != same


def _in_terminal(argv: list[str], env: dict[str, str]) -> str:
    """Run `sophia ARGV` with a pseudo-terminal as stdin, stdout and stderr; all it drew."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sophia_cli", *argv],
        env={**env, "TERM": "xterm", "COLUMNS": "120"},
        stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(controller)
    return b"".join(chunks).decode()


class _BlackHole:
    """A TCP port that accepts connections and never answers (a hung database)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)
            self.connected.set()

    def hung_up(self, timeout: float) -> bool:
        """Whether the first client closed its connection within `timeout` seconds."""
        conn = self.held[0]
        conn.settimeout(timeout)
        try:
            while conn.recv(4096):  # what libpq sent first, never answered
                pass
        except TimeoutError:
            return False
        except ConnectionResetError:  # closed with that data unread: a reset
            return True
        return True

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()
