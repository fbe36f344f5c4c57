"""Monitoring as code: `deploy render --monitoring` adds a Grafana dashboard ConfigMap and a
PrometheusRule; the rules pass promtool and fire on the series that should fire them; every
query names only metrics `/metrics` really exposes; sync freshness comes from the warehouse.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import psycopg
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from sophia_cli.core.deploy.monitoring import PANELS, rule_groups
from sophia_cli.core.settings import load_settings
from sophia_cli.server import warehouse_metrics

PROMTOOL_TESTS = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: sophia_squad_budget_usd{pod="a"}
        values: 100x120
      - series: sophia_squad_budget_remaining_usd{pod="a"}
        values: 15x120
      - series: sophia_sync_last_success_timestamp_seconds{source="slack",pod="a"}
        values: 0x2000
      - series: sophia_sync_last_success_timestamp_seconds{source="hubspot",pod="a"}
        values: 0+60x2000
      - series: sophia_http_requests_total{route="/v1/ask",status="200",pod="a"}
        values: 0+1000x60
      - series: sophia_http_requests_total{route="/v1/ask",status="500",pod="a"}
        values: 0+10x60
    alert_rule_test:
      - eval_time: 30m
        alertname: SophiaBudget80Percent
        exp_alerts:
          - exp_labels: {severity: warning, service: sophia}
            exp_annotations:
              summary: "The squad spent 80 % of today's budget (85%)."
      - eval_time: 30m
        alertname: SophiaBudget100Percent
        exp_alerts: []
      - eval_time: 30m
        alertname: SophiaErrorRateHigh
        exp_alerts:
          - exp_labels: {severity: critical, service: sophia}
            exp_annotations:
              summary: "More than 0.1 % of requests fail (0.9901%)."
      - eval_time: 28h
        alertname: SophiaSourceStale
        exp_alerts:
          - exp_labels: {severity: warning, service: sophia, source: slack}
            exp_annotations:
              summary: "slack has not synced successfully for over 26 hours."
"""


def _metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\bsophia_[a-z0-9_]+\b", expression))


def _promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: apt-get install -y prometheus (.ci/run does)"
    return found


def _write_rules(folder: Path) -> Path:
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups(26)}))
    return path


def test_the_rules_pass_promtool_check(tmp_path: Path) -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(_write_rules(tmp_path))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_alerts_fire_on_the_series_that_should_fire_them(tmp_path: Path) -> None:
    _write_rules(tmp_path)
    (tmp_path / "tests.yaml").write_text(PROMTOOL_TESTS)
    result = subprocess.run(
        [_promtool(), "test", "rules", "tests.yaml"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _exposed(app_metrics: str) -> set[str]:
    """Every series name a scrape can carry, from the families /metrics declares."""
    names: set[str] = set()
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
    }
    for family in text_string_to_metric_families(app_metrics):
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def test_every_query_names_only_metrics_that_metrics_exposes(
    warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sophia_cli.server.app import create_app

    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    app = create_app(load_settings())

    async def scrape() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/metrics")
            assert response.status_code == 200
            return response.text

    exposed = _exposed(asyncio.run(scrape()))
    queried = {n for p in PANELS for _, expr in p.queries for n in _metric_names(expr)}
    alerted = {n for g in rule_groups() for r in g["rules"] for n in _metric_names(r["expr"])}
    assert queried and alerted
    assert queried - exposed == set()
    assert alerted - exposed == set()


def test_sync_freshness_and_rows_come_from_the_warehouse(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "INSERT INTO sophia.sync_runs (run_id, source, stream, status, finished_at,"
            " rows_inserted, rows_updated) VALUES"
            " ('r1', 'slack', 'messages', 'success', to_timestamp(1700000000), 10, 2),"
            " ('r1', 'slack', 'users', 'success', to_timestamp(1600000000), 5, 0),"
            " ('r2', 'slack', 'messages', 'failed', now(), 99, 0),"
            " ('r3', 'gong', 'calls', 'success', now() - interval '1 hour', 7, 1)"
        )
    text = warehouse_metrics.exposition(load_settings(database_url=warehouse_url)).decode()
    samples = {
        (s.name, s.labels.get("source")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    # A source is as fresh as its stalest stream; failed runs count for nothing.
    assert samples[("sophia_sync_last_success_timestamp_seconds", "slack")] == 1600000000
    assert samples[("sophia_sync_rows_24h", "gong")] == 8
    assert samples[("sophia_sync_rows_24h", "slack")] == 0
    assert samples[("sophia_squad_budget_usd", None)] == 100
    assert samples[("sophia_warehouse_scrape_ok", None)] == 1


def test_a_warehouse_that_cannot_answer_leaves_the_scrape_working() -> None:
    settings = load_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    text = warehouse_metrics.exposition(settings).decode()
    assert "sophia_warehouse_scrape_ok 0.0" in text
    assert "sophia_sync_last_success_timestamp_seconds{" not in text


def test_render_monitoring_adds_a_sidecar_dashboard_and_a_prometheus_rule(
    sophia: Callable[..., Any], tmp_path: Path
) -> None:
    result = sophia("deploy", "render", "--monitoring", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    configmap = yaml.safe_load((tmp_path / "configmap-dashboard.yaml").read_text())
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    kubernetes_validate.validate(configmap, "1.37", strict=True)
    dashboard = json.loads(configmap["data"]["sophia.json"])
    assert [p["title"] for p in dashboard["panels"]] == [p.title for p in PANELS]
    rule = yaml.safe_load((tmp_path / "prometheusrule.yaml").read_text())
    assert rule["kind"] == "PrometheusRule"
    names = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert {"SophiaBudget50Percent", "SophiaBudget80Percent", "SophiaBudget100Percent"} <= set(
        names
    )
    assert {"SophiaErrorRateHigh", "SophiaLatencyP95High", "SophiaSourceStale"} <= set(names)
    assert "SophiaNotReady" in names


def test_without_monitoring_render_leaves_them_out(
    sophia: Callable[..., Any], tmp_path: Path
) -> None:
    assert sophia("deploy", "render", "--out", str(tmp_path)).exit_code == 0
    assert not (tmp_path / "prometheusrule.yaml").exists()
