"""Slack: users, channels, and messages with their thread replies (see `slack_messages`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from sophia_cli.core.errors import ConfigError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors.registry import register
from sophia_cli.core.sync.connectors.slack_api import (
    TOKEN,
    RateRegime,
    SlackClient,
    call,
    classify,
    paged,
)
from sophia_cli.core.sync.connectors.slack_messages import MESSAGES, fetch_messages
from sophia_cli.core.sync.errors import TokenMissingError
from sophia_cli.core.sync.http import client_for, shape_error
from sophia_cli.core.sync.streams import Page, Row, Stream, StreamContext, Table
from sophia_cli.core.sync.values import from_epoch

USERS = Table(
    "slack.users",
    ("id",),
    ("id", "name", "real_name", "email", "is_bot", "deleted", "team_id", "is_external"),
)
CHANNELS = Table(
    "slack.channels",
    ("id",),
    ("id", "name", "is_private", "is_archived", "created_at", "is_member"),
)


@dataclass(frozen=True)
class Home:
    """The workspace (and Enterprise Grid org, if any) the bot is installed in."""

    team_id: str
    enterprise_id: str | None = None

    def is_external(self, member: dict[str, Any]) -> bool:
        """A Slack Connect guest: flagged a stranger, or from another team outside our org."""
        if member.get("is_stranger"):
            return True
        team = member.get("team_id") or (member.get("profile") or {}).get("team")
        if not team or team == self.team_id:
            return False
        enterprise = (member.get("enterprise_user") or {}).get("enterprise_id")
        return not (self.enterprise_id and enterprise == self.enterprise_id)


async def home(client: SlackClient) -> Home:
    """auth.test's team: users of any other organisation are external."""
    body = await call(client.api, "auth.test", {})
    team = body.get("team_id")
    if not isinstance(team, str) or not team:
        raise shape_error("Slack", "auth.test", "no `team_id`", body)
    return Home(team, body.get("enterprise_id") or None)


def _user_row(member: dict[str, Any], ours: Home) -> Row:
    profile = member.get("profile") or {}
    return {
        "id": member["id"],
        "name": member.get("name"),
        "real_name": member.get("real_name") or profile.get("real_name"),
        "email": profile.get("email"),
        "is_bot": bool(member.get("is_bot")),
        "deleted": bool(member.get("deleted")),
        "team_id": member.get("team_id") or profile.get("team"),
        "is_external": ours.is_external(member),
    }


def _channel_row(channel: dict[str, Any]) -> Row:
    return {
        "id": channel["id"],
        "name": channel.get("name"),
        "is_private": bool(channel.get("is_private")),
        "is_archived": bool(channel.get("is_archived")),
        "created_at": from_epoch(channel.get("created")),
        "is_member": bool(channel.get("is_member", True)),
    }


async def fetch_users(ctx: StreamContext) -> AsyncIterator[Page]:
    ours = await home(ctx.client)
    async for members, _ in paged(ctx.client.api, "users.list", "members", {}):
        yield Page(rows=[(USERS, [_user_row(m, ours) for m in members])])


async def fetch_channels(ctx: StreamContext) -> AsyncIterator[Page]:
    params = {"types": "public_channel,private_channel", "exclude_archived": "false"}
    async for channels, _ in paged(ctx.client.api, "conversations.list", "channels", params):
        yield Page(rows=[(CHANNELS, [_channel_row(c) for c in channels])])


class SlackConnector:
    """Slack Web API with a bot token."""

    name = "slack"
    token_variables: tuple[str, ...] = (TOKEN,)

    def streams(self) -> list[Stream]:
        return [
            Stream("users", USERS, None, fetch_users),
            Stream("channels", CHANNELS, None, fetch_channels),
            Stream("messages", MESSAGES, "ts", fetch_messages),
        ]

    def client(self, settings: Settings) -> SlackClient:
        token = settings.secret_value(TOKEN.lower())
        if token is None:
            raise TokenMissingError(f"{TOKEN} is not set", hint=f"Set {TOKEN} to a bot token.")
        minute_s = settings.slack_rate_minute_s
        if not minute_s > 0:
            raise ConfigError(
                f"SLACK_RATE_MINUTE_S must be above 0 (got {minute_s:g})",
                hint="Unset it: Slack's minute is 60 s; only a sandbox compresses it.",
            )
        regime = RateRegime(settings.slack_app_regime, minute_s)

        def watch(response: httpx.Response) -> None:
            regime.observe(response.request.url.path.rsplit("/", 1)[-1], response)
            classify(response)

        api = client_for(
            settings,
            "Slack",
            settings.slack_api_base,
            headers={"Authorization": f"Bearer {token}"},
            classify=watch,
            # Slack counts each method separately, at its tier's (or regime's) rate.
            published_limits=regime.published_limits(),
            retry_after_scale=minute_s / 60.0,
        )
        return SlackClient(api, regime)

    async def check(self, client: SlackClient) -> str:
        body = await call(client.api, "auth.test", {})
        return f"team {body.get('team', '?')} as {body.get('user', '?')}"


register(SlackConnector())
