"""The port matcher: every true port context is edited, every trap is left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sophia_cli.core.migrate.ports import find_port_uses, replace_ports

TRUE_PORTS = [
    'url = "http://localhost:8003/api"',
    "BIND=0.0.0.0:8003",
    "port=8003",
    "PORT: 8003",
    '"port": 8003',
    "--port 8003",
    "--port=8003",
    "EXPOSE 8003",
    "EXPOSE 9100 8003/tcp",
    "containerPort: 8003",
    "targetPort: 8003",
    "API_PORT=8003",
    'port = int(os.getenv("API_PORT", "8003"))',
    'CMD ["uvicorn", "app:app", "--port", "8003"]',
    "listen 8003;",
    "listen [::]:8003;",
    "server.port=8003",
    "http://api:8003/x",
    'PORT="${API_PORT:-8003}"',
    "    port: int = 8003",
    'uvicorn.run(app, host="0.0.0.0", port=8003)',
    "The API listens on port 8003.",
    "nc -z localhost 8003",
    "The bridge answers on :8003 until then.",
    "ws://bridge.internal:8003/stream",
    "ports: [8000, 8003]",
    "if settings.port == 8003:",
    "PORT ?= 8003",
    'sock.bind(("0.0.0.0", 8003))',
    "kubectl port-forward svc/api 8003:8003",
]

TRAPS = [
    "METRICS_PORT=18003",
    "admin on :80030",
    "image: api:v1.8003",
    "version = 1.8003",
    "ratio = 8003.5",
    'color: "#8003ff"',
    "FLAGS = 0x8003",
    "dns: 10.8.0.3",
    "build 20180031",
    "sha a8003bc and 8003e4b2",
    "call 555-8003",
    "+1 415 555 8003",
    "issue #8003",
    "ticket CHG-8003",
    "see https://example.com/items/8003",
    "id 123e4567-e89b-8003-a456-426614174000",
    "order_id:8003",
    "report 8003 errors",
    "$8003 per month",
    "memory: 8003Mi",
]


@pytest.mark.parametrize("line", TRUE_PORTS)
def test_a_true_port_use_is_replaced(line: str) -> None:
    new, edits, review = replace_ports(line, 8003, 8000)
    assert edits == line.count("8003") and "8003" not in new
    assert new == line.replace("8003", "8000")
    assert review == []


@pytest.mark.parametrize("line", TRAPS)
def test_a_trap_is_never_edited(line: str) -> None:
    new, edits, _review = replace_ports(line, 8003, 8000)
    assert (new, edits) == (line, 0)


def test_both_sides_of_a_compose_mapping_under_ports_are_replaced() -> None:
    text = 'services:\n  api:\n    ports:\n      - "8003:8003"\n      - 127.0.0.1:8003:8003\n'
    new, edits, _ = replace_ports(text, 8003, 8000)
    assert edits == 4 and new == text.replace("8003", "8000")


def test_a_bare_number_in_an_unrelated_list_needs_review_and_is_not_edited() -> None:
    text = "environment:\n  - 8003\n"
    new, edits, review = replace_ports(text, 8003, 8000)
    assert (new, edits) == (text, 0)
    assert [text[s.start : s.end] for s in review] == ["8003"]


def test_a_kubernetes_env_value_named_like_a_port_is_replaced() -> None:
    text = 'env:\n  - name: API_PORT\n    value: "8003"\n  - name: BUDGET\n    value: "8003"\n'
    new, edits, review = replace_ports(text, 8003, 8000)
    assert edits == 1 and new.count("8003") == 1 and len(review) == 1


def test_crlf_lines_keep_their_carriage_returns() -> None:
    text = "PORT=8003\r\nX=1\r\n"
    assert replace_ports(text, 8003, 8000)[0] == "PORT=8000\r\nX=1\r\n"


def test_scanning_without_a_port_finds_every_port_like_number_in_port_context() -> None:
    text = "a = 'localhost:5432'\nb = 'x:v1.2'\nPORT=6379\nsize = 4096\n"
    ports = sorted(s.port for s in find_port_uses(text) if s.verdict == "port")
    assert ports == [5432, 6379]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "8003",
                "18003",
                "1.8003",
                ":",
                "=",
                " ",
                "\r\n",
                "\n",
                "port",
                "#",
                "x",
                "é",
                "-",
                "localhost",
                "EXPOSE ",
                '"',
                "/",
                "0x",
                "ñ\r",
                "8000",
            ]
        ),
        max_size=40,
    )
)
def test_only_port_tokens_change_and_every_other_byte_survives(pieces: list[str]) -> None:
    text = "".join(pieces)
    new, edits, _ = replace_ports(text, 8003, 8000)
    assert len(new) == len(text)
    changed = [i for i, (a, b) in enumerate(zip(text, new, strict=True)) if a != b]
    assert len(changed) == edits
    for i in changed:
        assert text[i - 3 : i + 1] == "8003" and new[i - 3 : i + 1] == "8000"
    assert new.encode("latin-1", "replace").count(b"\r") == text.encode("latin-1", "replace").count(
        b"\r"
    )
