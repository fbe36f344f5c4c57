"""How long Slack syncs take under a rate regime: requests counted the way the sync makes them.

Estimates, not promises: they assume messages spread evenly over channels and time, and a
share of them in threads. The sync issues one history request per `page_limit` top-level
messages (and at least one per channel per pass) and one replies request per thread and
`page_limit` replies; history and replies are paced separately, at `per_minute` each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sophia_cli.core.sync.connectors.slack_api import REGIMES, Regime


@dataclass(frozen=True)
class Workspace:
    """A Slack workspace's size: channels, and messages counting replies."""

    channels: int
    messages: int
    thread_share: float = 0.15  # top-level messages that have replies
    replies_per_thread: float = 3.5
    history_days: float = 730.0
    lookback_days: float = 15.0

    @property
    def top_level(self) -> float:
        return self.messages / (1 + self.thread_share * self.replies_per_thread)

    @property
    def threads(self) -> float:
        return self.top_level * self.thread_share


@dataclass(frozen=True)
class Cost:
    """Requests of one kind of run, and the minutes they take at the regime's pace."""

    history: int
    replies: int
    per_minute: int

    @property
    def minutes(self) -> float:
        """Upper bound: history and replies one after the other."""
        return (self.history + self.replies) / self.per_minute

    @property
    def minutes_overlapped(self) -> float:
        """Lower bound: the two methods' budgets used side by side."""
        return max(self.history, self.replies) / self.per_minute


@dataclass(frozen=True)
class SlackEstimate:
    """The first (backfill) sync, one routine run over every channel, and one sweep."""

    regime: str
    first_sync: Cost
    run: Cost  # new messages of a day's share of runs: one look at every channel
    sweep: Cost  # the look-back window's history and every thread active in it


def _thread_requests(threads: float, regime: Regime, replies_per_thread: float) -> int:
    return math.ceil(threads * math.ceil((replies_per_thread + 1) / regime.page_limit))


def _pass(top_level: float, channels: int, regime: Regime) -> int:
    # At least one request per channel; a channel's last page is half empty on average.
    return math.ceil(max(channels, top_level / regime.page_limit + channels / 2))


def estimate(space: Workspace, regime_name: str, runs_per_day: float = 48.0) -> SlackEstimate:
    """Requests and minutes of each kind of Slack run for this workspace and regime."""
    regime = REGIMES[regime_name]
    first = Cost(
        _pass(space.top_level, space.channels, regime),
        _thread_requests(space.threads, regime, space.replies_per_thread),
        regime.per_minute,
    )
    per_run = space.top_level / space.history_days / runs_per_day
    run = Cost(
        _pass(per_run, space.channels, regime),
        _thread_requests(per_run * space.thread_share, regime, space.replies_per_thread),
        regime.per_minute,
    )
    window = space.top_level / space.history_days * space.lookback_days
    # Every thread active in the window is re-read: editing a reply moves nothing visible.
    sweep = Cost(
        _pass(window, space.channels, regime),
        _thread_requests(window * space.thread_share, regime, space.replies_per_thread),
        regime.per_minute,
    )
    return SlackEstimate(regime_name, first, run, sweep)
