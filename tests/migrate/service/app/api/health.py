"""The health endpoint."""


def check() -> dict[str, str]:
    return {"status": "ok"}
