"""What a deployment can do; kept apart from the models so `--help` needs no pydantic."""

from __future__ import annotations

from typing import Literal, get_args

Capability = Literal[
    "chat", "code", "reasoning", "long_context", "tools", "vision", "json", "embedding"
]
CAPABILITIES: tuple[str, ...] = get_args(Capability)
