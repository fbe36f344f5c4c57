"""The quality-aware option: easy prompts to the cheap tier, hard ones to a strong tier.

RouteLLM's idea, in a form that ships without model weights: the user's own rules decide
first (a regular expression or a prompt length sends a prompt to a tier); otherwise a small
logistic scorer over prompt features (length, code, maths, reasoning and multi-step
wording) gives a difficulty in [0, 1], and prompts at or above `threshold` go to the strong
tier. The weights are set by hand, not trained: treat the threshold as a dial to tune
against your own traffic with `sophia squad route --explain --dry-run`. Off by default.
"""

from __future__ import annotations

import math
import re

from sophia_cli.core.squad.models import Deployment, SquadsConfig
from sophia_cli.core.squad.request import CompletionRequest
from sophia_cli.core.squad.results import QualityDecision

_CODE = re.compile(r"```|\bdef |\bclass |\bSELECT\b|\bfunction\b|=>|[{};]\s*$", re.M | re.I)
_MATH = re.compile(
    r"\b(prove|proof|derive|integral|equation|theorem|probability|optimi[sz]e)\b|[=^∑∫√]", re.I
)
_REASONING = re.compile(
    r"\b(why|step[- ]by[- ]step|analy[sz]e|compare|trade-?offs?|design|architect|debug|"
    r"refactor|explain|evaluate|plan|strategy|root cause)\b",
    re.I,
)
_STEPS = re.compile(r"^\s*(\d+[.)]|[-*])\s+", re.M)
_CONSTRAINTS = re.compile(r"\b(must|exactly|at least|at most|without|only if|ensure)\b", re.I)
# Hand-set weights of the logistic scorer (bias first); see the module docstring.
_BIAS = -2.2
_WEIGHTS = {
    "length": 1.6,
    "code": 1.2,
    "math": 1.3,
    "reasoning": 1.4,
    "steps": 0.8,
    "constraints": 0.6,
}


def prompt_text(request: CompletionRequest) -> str:
    """The text a person wrote: every system and user message, text parts only."""
    parts: list[str] = []
    for message in request.messages:
        if message.get("role") not in ("system", "developer", "user"):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [str(p.get("text", "")) for p in content if isinstance(p, dict)]
    return "\n".join(parts)


def features(text: str) -> dict[str, float]:
    """Each feature scaled to [0, 1]."""
    tokens = max(1, len(text) // 4)
    return {
        "length": min(1.0, math.log10(tokens) / 4),
        "code": min(1.0, len(_CODE.findall(text)) / 3),
        "math": min(1.0, len(_MATH.findall(text)) / 3),
        "reasoning": min(1.0, len(_REASONING.findall(text)) / 2),
        "steps": min(1.0, len(_STEPS.findall(text)) / 4),
        "constraints": min(1.0, len(_CONSTRAINTS.findall(text)) / 3),
    }


def score(values: dict[str, float]) -> float:
    """The difficulty: a logistic function of the weighted features."""
    z = _BIAS + sum(_WEIGHTS[name] * value for name, value in values.items())
    return 1 / (1 + math.exp(-z))


def decide(config: SquadsConfig, request: CompletionRequest) -> QualityDecision:
    """The tier for this prompt: the first matching rule, else the scorer against threshold."""
    text = prompt_text(request)
    values = features(text)
    for index, rule in enumerate(config.quality.rules, 1):
        if rule.pattern is not None and not re.search(rule.pattern, text):
            continue
        if rule.min_prompt_tokens is not None and len(text) // 4 < rule.min_prompt_tokens:
            continue
        described = rule.pattern or f"prompt >= {rule.min_prompt_tokens} tokens"
        return QualityDecision(
            tier=rule.tier,
            score=1.0 if rule.tier == "strong" else 0.0,
            rule=f"rule {index} ({described})",
            features=values,
        )
    difficulty = round(score(values), 3)
    tier = "strong" if difficulty >= config.quality.threshold else "cheap"
    return QualityDecision(tier=tier, score=difficulty, features=values)


def is_strong(config: SquadsConfig, squad: str, deployment: Deployment) -> bool:
    """Whether a deployment is in the strong tier (listed, else able to reason)."""
    listed = config.quality.strong
    if listed:
        return deployment.name in listed or f"{squad}/{deployment.name}" in listed
    return "reasoning" in deployment.capabilities


def skip_reason(
    config: SquadsConfig, decision: QualityDecision, squad: str, deployment: Deployment
) -> str | None:
    """Why the quality router keeps a deployment out (hard prompts go to the strong tier only)."""
    if decision.tier == "strong" and not is_strong(config, squad, deployment):
        return f"quality router: hard prompt (score {decision.score:.2f}) goes to the strong tier"
    return None
