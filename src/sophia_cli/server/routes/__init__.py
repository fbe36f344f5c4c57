"""Routers, one module per area; each route is a thin call into `core/`.

To mount a new area: add `server/routes/<area>.py` with a `router`, and list it here.
"""

from __future__ import annotations

from fastapi import APIRouter


def ROUTERS() -> list[APIRouter]:  # noqa: N802 - reads as the constant it stands for
    """Every router the app includes, in the order they appear in /docs."""
    from sophia_cli.server.routes import (
        admin,
        ask,
        bi,
        chat,
        env,
        ops,
        page,
        search,
        squad,
        sync,
    )

    return [
        ops.router,
        ask.router,
        bi.router,
        search.router,
        chat.router,
        squad.router,
        sync.router,
        env.router,
        admin.router,
        page.router,
    ]
