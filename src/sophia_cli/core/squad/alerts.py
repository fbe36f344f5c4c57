"""Budget alerts at 50, 80 and 100 %: logged at once, posted later from an outbox, retried.

"Once per day" is decided by the budget script (an HSETNX per level on the day's counter),
so only the process whose settle crossed a level (or whose reservation was the first one
refused: the 100 % alert) enqueues it. The call that crossed the level only writes a row of
`sophia.squad_alerts`; a sender (a background task of `sophia serve`, or the CLI after it has
answered) posts it to SQUAD_ALERT_WEBHOOK and retries with backoff until the webhook accepts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.store import pooled

log = logging.getLogger("sophia.squad")
WEBHOOK_TIMEOUT_S = 5.0
MAX_ATTEMPTS = 8
FIRST_RETRY_S = 10
LAST_RETRY_S = 3600


def message(level: int, spent_usd: float, budget_usd: float, refused: bool) -> dict[str, Any]:
    """The webhook body: Slack's incoming-webhook shape (`text` plus one section block)."""
    text = (
        f"sophia squad: {level}% of today's LLM budget used (${spent_usd:.2f} of ${budget_usd:.2f})"
    )
    if refused:
        text = (
            f"sophia squad: today's LLM budget is exhausted (${spent_usd:.2f} spent of "
            f"${budget_usd:.2f}, the rest held by calls in flight): calls are being refused"
        )
    elif level >= 100:
        text += "; further calls are refused until the UTC reset"
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}],
        "sophia": {
            "kind": "squad_budget",
            "level": level,
            "spent_usd": round(spent_usd, 8),
            "budget_usd": budget_usd,
            "refused": refused,
        },
    }


def enqueue(
    settings: Settings, day: date, levels: list[int], spent_usd: float, *, refused: bool = False
) -> None:
    """Log each level now and leave it in the outbox for the sender (never raises)."""
    for level in levels:
        body = message(level, spent_usd, settings.squad_daily_budget_usd, refused)
        log.warning("%s", body["text"])
        if not settings.secret_value("squad_alert_webhook"):
            continue
        try:
            with pooled.pg_pool(settings).connection() as conn:
                conn.execute(
                    "INSERT INTO sophia.squad_alerts (day, level, body) VALUES (%s, %s, %s) "
                    "ON CONFLICT (day, level) DO NOTHING",
                    (day, level, json.dumps(body)),
                )
        except Exception as exc:  # an alert must never break the call that triggered it
            log.warning("budget alert could not be queued: %s", exc)


_CLAIM = """
UPDATE sophia.squad_alerts SET attempts = attempts + 1, next_at = now() + interval '60 seconds'
WHERE id IN (
    SELECT id FROM sophia.squad_alerts
    WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= now()
    ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
) RETURNING id, body, attempts
"""


def deliver_due(settings: Settings, limit: int = 10) -> int:
    """Post every due alert once; returns how many the webhook accepted."""
    webhook = settings.secret_value("squad_alert_webhook")
    if not webhook:
        return 0
    with pooled.pg_pool(settings).connection() as conn:
        # Claiming pushes next_at out first, so two senders never post the same alert.
        claimed = conn.execute(_CLAIM, (limit,)).fetchall()
    sent = 0
    for alert_id, body, attempts in claimed:
        error = _post(webhook, body if isinstance(body, dict) else json.loads(body))
        _record(settings, int(alert_id), int(attempts), error)
        sent += error is None
    return sent


def _post(url: str, body: dict[str, Any]) -> str | None:
    import httpx

    try:
        httpx.post(url, json=body, timeout=WEBHOOK_TIMEOUT_S).raise_for_status()
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _record(settings: Settings, alert_id: int, attempts: int, error: str | None) -> None:
    with pooled.pg_pool(settings).connection() as conn:
        if error is None:
            conn.execute(
                "UPDATE sophia.squad_alerts SET sent_at = now(), last_error = NULL WHERE id = %s",
                (alert_id,),
            )
            return
        log.warning("budget alert webhook failed (attempt %d): %s", attempts, error)
        wait = min(LAST_RETRY_S, FIRST_RETRY_S * 2 ** (attempts - 1))
        conn.execute(
            "UPDATE sophia.squad_alerts SET last_error = %s, "
            "next_at = now() + make_interval(secs => %s), "
            "failed_at = CASE WHEN attempts >= %s THEN now() END WHERE id = %s",
            (error, wait, MAX_ATTEMPTS, alert_id),
        )


async def sender(settings: Settings, stopping: asyncio.Event, every_s: float = 2.0) -> None:
    """Deliver due alerts until `stopping` is set (a background task of `sophia serve`)."""
    if not settings.secret_value("squad_alert_webhook"):
        return
    while not stopping.is_set():
        try:
            await asyncio.to_thread(deliver_due, settings)
        except Exception as exc:  # the warehouse may be down for a while: keep trying
            log.warning("budget alert sender: %s", exc)
        try:
            await asyncio.wait_for(stopping.wait(), timeout=every_s)
        except TimeoutError:
            pass
