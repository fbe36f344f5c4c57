"""The old health endpoint, kept while the legacy port still answers."""


async def app(scope: dict[str, object], receive: object, send: object) -> None:
    return None


def check() -> dict[str, str]:
    return {"status": "ok", "legacy": "yes"}
