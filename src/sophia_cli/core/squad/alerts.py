"""Budget alerts at 50, 80 and 100 %: a warning in the log and, if set, a Slack-style webhook.

"Once per day" is decided by the budget script (an HSETNX per level on the day's counter),
so only the process whose settle crossed a level sends it.
"""

from __future__ import annotations

import logging
from typing import Any

from sophia_cli.core.settings import Settings

log = logging.getLogger("sophia.squad")
WEBHOOK_TIMEOUT_S = 5.0


def message(level: int, spent_usd: float, budget_usd: float) -> dict[str, Any]:
    """The webhook body: Slack's incoming-webhook shape (`text` plus one section block)."""
    text = (
        f"sophia squad: {level}% of today's LLM budget used (${spent_usd:.2f} of ${budget_usd:.2f})"
    )
    if level >= 100:
        text += "; further calls are refused until the UTC reset"
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}],
        "sophia": {
            "kind": "squad_budget",
            "level": level,
            "spent_usd": round(spent_usd, 8),
            "budget_usd": budget_usd,
        },
    }


def notify(settings: Settings, levels: list[int], spent_usd: float) -> list[dict[str, Any]]:
    """Warn about each newly crossed level; post to SQUAD_ALERT_WEBHOOK when set."""
    bodies = [message(level, spent_usd, settings.squad_daily_budget_usd) for level in levels]
    webhook = settings.secret_value("squad_alert_webhook")
    for body in bodies:
        log.warning("%s", body["text"])
        if webhook:
            _post(webhook, body)
    return bodies


def _post(url: str, body: dict[str, Any]) -> None:
    import httpx

    try:
        httpx.post(url, json=body, timeout=WEBHOOK_TIMEOUT_S).raise_for_status()
    except httpx.HTTPError as exc:  # an alert must never break the call that triggered it
        log.warning("budget alert webhook failed: %s", exc)
