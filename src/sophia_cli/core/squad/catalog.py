"""What the squads offer: the `models` listing and the `test` ping of each deployment."""

from __future__ import annotations

import time

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import llm, pricing
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.request import CompletionRequest
from sophia_cli.core.squad.results import DeploymentInfo, PingResult

PING = CompletionRequest(messages=[{"role": "user", "content": "ping"}], max_tokens=1)


def list_deployments(settings: Settings) -> list[DeploymentInfo]:
    """Every deployment of every squad with prices and whether its key is set (no LLM import)."""
    config = load_squads(settings)
    rows = []
    for name, squad in config.squads.items():
        for dep in squad.deployments:
            price = pricing.price_for(dep)
            target = llm.endpoint(settings, name, dep)
            rows.append(
                DeploymentInfo(
                    squad=name,
                    deployment=dep.name,
                    model=dep.model,
                    capabilities=list(dep.capabilities),
                    context_window=pricing.context_window(dep),
                    max_output_tokens=pricing.output_limit(dep),
                    input_cost_per_mtok=price.input_per_mtok if price else None,
                    output_cost_per_mtok=price.output_per_mtok if price else None,
                    price_source=price.source if price else "unknown",
                    api_key_env=target.key_env,
                    configured=target.configured,
                    primary=name == settings.primary_squad,
                    deprecated=squad.deprecated,
                )
            )
    return rows


def ping_all(settings: Settings, squad: str | None = None) -> list[PingResult]:
    """A one-token call to each configured deployment: latency or the error.

    Pings bypass the router (no cache, no cooldown) but are tiny; they are not budgeted.
    """
    config = load_squads(settings)
    llm.load_litellm()  # import first, so the first ping's latency is the network's
    results = []
    for name, group in config.squads.items():
        if squad is not None and name != squad:
            continue
        for dep in group.deployments:
            target = llm.endpoint(settings, name, dep)
            if "chat" not in dep.capabilities:
                continue  # an embedding model cannot answer a chat ping
            if not target.configured:
                results.append(
                    PingResult(
                        squad=name,
                        deployment=dep.name,
                        ok=False,
                        latency_ms=None,
                        detail=f"not configured: {target.key_env} is not set",
                    )
                )
                continue
            results.append(_ping(name, dep.name, target, config.router.timeout_s))
    return results


def _ping(squad: str, deployment: str, target: llm.Endpoint, timeout_s: float) -> PingResult:
    started = time.perf_counter()
    try:
        llm.call(target, PING, min(timeout_s, 30.0))
    except Exception as exc:  # every failure is a row of the report
        failure = llm.classify(exc)
        return PingResult(
            squad=squad,
            deployment=deployment,
            ok=False,
            latency_ms=int((time.perf_counter() - started) * 1000),
            detail=failure.message,
        )
    latency = int((time.perf_counter() - started) * 1000)
    return PingResult(squad=squad, deployment=deployment, ok=True, latency_ms=latency, detail="ok")


def model_ids(settings: Settings) -> list[tuple[str, str]]:
    """What `model` may name, with who owns it: auto, each squad, each deployment."""
    config = load_squads(settings)
    ids = [("auto", "sophia")]
    ids += [(name, "sophia") for name, squad in config.squads.items() if not squad.deprecated]
    for name, squad in config.squads.items():
        for dep in squad.deployments:
            ids.append((f"{name}/{dep.name}", name))
            if not any(dep.name == other for other, _ in ids):
                ids.append((dep.name, name))
    return ids
