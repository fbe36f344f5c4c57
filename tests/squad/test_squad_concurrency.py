"""The budget can't be overspent: 200 concurrent calls from 4 processes against a small budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from fake_llm import FakeServer

from sophia_cli.core.settings import load_settings
from sophia_cli.core.squad import budget, router
from sophia_cli.core.squad.request import CompletionRequest

WORKER = Path(__file__).with_name("squad_worker.py")
PROCESSES, THREADS = 4, 50


def test_concurrent_calls_from_many_processes_never_overspend(
    monkeypatch: pytest.MonkeyPatch, fake: FakeServer, squad_env: dict[str, str], tmp_path: Path
) -> None:
    # Every worker prompt has the same length, so the same worst-case reservation.
    probe = CompletionRequest(
        messages=[{"role": "user", "content": "question 0000"}], max_tokens=20
    )
    reserve = router.route(load_settings(), probe).candidates[0].reserve_usd
    assert reserve is not None
    budget_usd = round(reserve * 30, 8)  # room for 30 worst cases: a fraction of 200 calls
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", repr(budget_usd))
    fake.script("cheap", default={"prompt_tokens": 10, "completion_tokens": 5, "delay_s": 0.05})
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "storm", str(THREADS), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for _ in range(PROCESSES)
    ]
    go.touch()
    outcomes: Counter[str] = Counter()
    for proc in procs:
        out, err = proc.communicate(timeout=150)
        assert proc.returncode == 0, err[-2000:]
        outcomes.update(json.loads(out.strip().splitlines()[-1])["outcomes"])

    assert sum(outcomes.values()) == PROCESSES * THREADS
    assert set(outcomes) <= {"ok", "budget_busy", "budget_exceeded"}, outcomes
    # Real costs are a fraction of the worst case: far more than 30 calls fit, because
    # refused calls wait for in-flight ones to settle instead of failing at once.
    assert outcomes["ok"] > 60, outcomes
    with psycopg.connect(squad_env["DATABASE_URL"]) as conn:
        rows = dict(
            conn.execute("SELECT outcome, count(*) FROM sophia.llm_calls GROUP BY 1").fetchall()
        )
        ((spent,),) = conn.execute(
            "SELECT coalesce(sum(cost_usd), 0) FROM sophia.llm_calls"
        ).fetchall()
    assert float(spent) <= budget_usd
    assert rows == {outcome: count for outcome, count in outcomes.items() if count}
    status = budget.budget_status(load_settings())
    assert status.spent_usd == pytest.approx(float(spent)) and status.reserved_usd == 0.0
    assert fake.calls("cheap") == outcomes["ok"]
