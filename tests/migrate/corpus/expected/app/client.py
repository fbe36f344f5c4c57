import httpx

BASE = "http://localhost:8000/api/v1"
REPORTS = "https://reports.example.com/items/8003"
ORDER = "https://shop.example.com/orders?id=8003"


def fetch(path: str) -> httpx.Response:
    # The bridge answers on :8000 until the cut-over (see PR #8003).
    with httpx.Client(base_url="http://127.0.0.1:8000", timeout=80.03) as client:
        return client.get(path)


def session_id() -> str:
    return "123e4567-e89b-8003-a456-426614174000"
