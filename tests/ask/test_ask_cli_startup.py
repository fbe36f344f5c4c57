"""`sophia ask` from the command line loads what answering needs, and nothing more.

Without a model configured nothing of the LLM path is imported or planned (no LiteLLM, no
router, no price map); Typer builds no pydantic validators for the question; with REDIS_URL
set no embedded server is started (no file lock). Times are in bench/ask.py.
"""

from __future__ import annotations

QUESTION = ("ask", "won revenue by owner last quarter", "--as-of", "2026-07-15")
NOT_FOR_A_RULES_ANSWER = (
    "litellm", "openai", "httpx", "sophia_cli.core.squad.router", "sophia_cli.core.squad.pricing",
    "typer._adapters", "filelock", "pymilvus", "fastapi", "numpy", "pglast", "sqlglot",
)  # fmt: skip


def test_a_rules_answer_imports_nothing_of_the_llm_path(imports_of, company_env) -> None:  # type: ignore[no-untyped-def]
    run = imports_of(*QUESTION, "--no-cache")
    assert run.exit_code == 0, run.stderr
    assert run.heavy(*NOT_FOR_A_RULES_ANSWER) == []


def test_a_cached_answer_imports_no_more(imports_of, company_env) -> None:  # type: ignore[no-untyped-def]
    assert imports_of(*QUESTION).exit_code == 0  # fills the cache
    run = imports_of(*QUESTION, "--json")
    assert run.exit_code == 0, run.stderr
    assert run.heavy(*NOT_FOR_A_RULES_ANSWER) == []
