"""Monitoring as code: a Grafana dashboard (a ConfigMap for Grafana's sidecar) and a
PrometheusRule (prometheus-operator) with the alerts the seed's KPIs ask for.

Every query below uses only metric names `/metrics` exposes (tests/engines compares them
with a real scrape), and the rules pass `promtool check rules`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sophia_cli.core.deploy.pods import DeployOptions, Manifest, meta

ALERT_LEVELS = (50, 80, 100)  # percent of the daily budget spent
ERROR_RATE = 0.001  # 0.1 % of requests answered 5xx
P95_SECONDS = 0.2
STALE_HOURS = 26  # a daily source missed one run and then some

_REQUESTS = "sophia_http_requests_total"
# Probes and scrapes are not what users wait for; they stay out of the latency alert.
_PROBES = 'route!~"/metrics|/ready|/health"'
_LATENCY = "sophia_http_request_duration_seconds_bucket"
_SPENT = "(max(sophia_squad_budget_usd) - min(sophia_squad_budget_remaining_usd))"


@dataclass(frozen=True)
class Panel:
    """One dashboard panel: a title, a unit and its PromQL queries (legend, expression)."""

    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]


PANELS = (
    Panel("Requests per second by route", "reqps", (
        ("{{route}}", f"sum by (route) (rate({_REQUESTS}[5m]))"),
    )),
    Panel("Error rate (5xx) by route", "percentunit", (
        ("{{route}}", f'sum by (route) (rate({_REQUESTS}{{status=~"5.."}}[5m]))'
                      f" / sum by (route) (rate({_REQUESTS}[5m]))"),
    )),
    Panel("P95 latency by route", "s", (
        ("{{route}}", f"histogram_quantile(0.95, sum by (route, le) (rate({_LATENCY}[5m])))"),
    )),
    Panel("Ask latency (P50, P95)", "s", (
        ("p50", f'histogram_quantile(0.5, sum by (le) (rate({_LATENCY}{{route="/v1/ask"}}[5m])))'),
        ("p95", f'histogram_quantile(0.95, sum by (le) (rate({_LATENCY}{{route="/v1/ask"}}[5m])))'),
    )),
    Panel("Hours since last good sync by source", "h", (
        ("{{source}}", "(time() - max by (source) (sophia_sync_last_success_timestamp_seconds))"
                       " / 3600"),
    )),
    Panel("Rows synced in 24 h by source", "short", (
        ("{{source}}", "max by (source) (sophia_sync_rows_24h)"),
    )),
    Panel("Squad spend vs daily budget (USD)", "currencyUSD", (
        ("spent", _SPENT),
        ("budget", "max(sophia_squad_budget_usd)"),
    )),
    Panel("Squad cache hit rate", "percentunit", (
        ("hits", "sum(rate(sophia_squad_cache_hits_total[1h]))"
                 " / sum(rate(sophia_squad_completions_total[1h]))"),
    )),
)  # fmt: skip


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard model (schema of Grafana 10+), Prometheus as its data source."""
    panels = []
    for index, panel in enumerate(PANELS):
        panels.append(
            {
                "id": index + 1,
                "type": "timeseries",
                "title": panel.title,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
                "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                "targets": [
                    {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
                    for n, (legend, expr) in enumerate(panel.queries)
                ],
            }
        )
    return {
        "uid": "sophia-overview",
        "title": "sophia",
        "tags": ["sophia"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]
        },
        "panels": panels,
    }


def dashboard_configmap(options: DeployOptions) -> Manifest:
    """The dashboard in a ConfigMap that Grafana's sidecar picks up by its label."""
    metadata = meta(options, f"{options.name}-dashboard", "monitoring")
    metadata["labels"]["grafana_dashboard"] = "1"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {"sophia.json": json.dumps(dashboard(), indent=2, sort_keys=True)},
    }


def _alert(name: str, expr: str, duration: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "service": "sophia"},
        "annotations": {"summary": summary},
    }


def rule_groups(stale_hours: float = STALE_HOURS) -> list[dict[str, Any]]:
    """The alerting rules, as a Prometheus rule file's `groups`."""
    budget = [
        _alert(
            f"SophiaBudget{level}Percent",
            f"{_SPENT} / max(sophia_squad_budget_usd) >= {level / 100}",
            "0m",
            "critical" if level == 100 else "warning",
            f"The squad spent {level} % of today's budget ({{{{ $value | humanizePercentage }}}}).",
        )
        for level in ALERT_LEVELS
    ]
    service = [
        _alert(
            "SophiaErrorRateHigh",
            f'sum(rate({_REQUESTS}{{status=~"5.."}}[5m])) / sum(rate({_REQUESTS}[5m]))'
            f" > {ERROR_RATE}",
            "10m", "critical",
            "More than 0.1 % of requests fail ({{ $value | humanizePercentage }}).",
        ),
        _alert(
            "SophiaLatencyP95High",
            f"histogram_quantile(0.95, sum by (le) (rate({_LATENCY}{{{_PROBES}}}[5m])))"
            f" > {P95_SECONDS}",
            "10m", "warning",
            "P95 latency is above 200 ms ({{ $value | humanizeDuration }}).",
        ),
        _alert(
            "SophiaNotReady",
            f'sum(rate({_REQUESTS}{{route="/ready",status="503"}}[5m])) > 0',
            "5m", "critical",
            "/ready answers 503: a required store or setting fails (see `sophia doctor`).",
        ),
        _alert(
            "SophiaWarehouseUnreadable",
            "max(sophia_warehouse_scrape_ok) == 0",
            "10m", "critical",
            "No replica can read the warehouse, so sync freshness is unknown.",
        ),
    ]  # fmt: skip
    stale = [
        _alert(
            "SophiaSourceStale",
            f"time() - max by (source) (sophia_sync_last_success_timestamp_seconds)"
            f" > {int(stale_hours * 3600)}",
            "15m",
            "warning",
            f"{{{{ $labels.source }}}} has not synced successfully for over {stale_hours:g} hours.",
        )
    ]
    return [
        {"name": "sophia-budget", "rules": budget},
        {"name": "sophia-service", "rules": service},
        {"name": "sophia-sync", "rules": stale},
    ]


def prometheus_rule(options: DeployOptions, stale_hours: float = STALE_HOURS) -> Manifest:
    """The alerts as a prometheus-operator PrometheusRule."""
    metadata = meta(options, f"{options.name}-alerts", "monitoring")
    metadata["labels"]["prometheus"] = "k8s"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata,
        "spec": {"groups": rule_groups(stale_hours)},
    }


def monitoring_manifests(
    options: DeployOptions, stale_hours: float = STALE_HOURS
) -> dict[str, Manifest]:
    """File name -> manifest for `deploy render --monitoring`."""
    return {
        "configmap-dashboard.yaml": dashboard_configmap(options),
        "prometheusrule.yaml": prometheus_rule(options, stale_hours),
    }
