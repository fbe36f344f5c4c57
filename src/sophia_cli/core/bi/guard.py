"""The guard in front of raw SQL, from a user (`sophia query`) or from a model.

A statement passes only when sqlglot parses it to exactly one statement whose root is a
SELECT or a set operation, with no write, DDL or session node anywhere in the tree (data-
modifying CTEs and SELECT ... INTO included), only tables of known schemas, and only
functions we know to be harmless. What runs is the SQL regenerated from the checked tree,
so a comment or quoting trick that the parser and the server read differently cannot
smuggle a second statement. The read-only transaction in `execute` is the second wall.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sophia_cli.core.errors import SophiaError

# Functions that touch files, the network, other sessions, settings, sequences or time.
DENIED_PREFIXES = ("pg_", "lo_", "dblink", "set_config", "current_setting", "txid_", "query_to_")
DENIED_NAMES = {
    "nextval", "setval", "currval", "lastval", "copy", "sleep", "generate_series",
    "xmlexists", "xpath", "table_to_xml", "cursor_to_xml", "database_to_xml", "schema_to_xml",
}  # fmt: skip
# Functions sqlglot does not model but that only compute values.
SAFE_FUNCTIONS = {
    "date_part", "to_char", "to_date", "to_timestamp", "to_number", "initcap", "btrim",
    "split_part", "regexp_replace", "regexp_match", "age", "make_date", "make_interval",
    "justify_days", "date_bin", "percentile_cont", "percentile_disc", "mode", "string_agg",
    "array_agg", "bool_and", "bool_or", "every", "width_bucket", "trunc", "sign", "random",
    "left", "right", "reverse", "md5", "format", "concat", "jsonb_build_object",
    "json_build_object", "jsonb_agg", "json_agg", "array_length", "cardinality",
    "isfinite", "div", "mod", "power", "sqrt", "ln", "log", "exp", "abs", "ceil", "floor",
    "round", "greatest", "least", "lower", "upper", "length", "char_length", "position",
    "substring", "replace", "strpos", "lpad", "rpad", "ltrim", "rtrim", "trim", "now",
    "extract", "date_trunc", "coalesce", "nullif", "row_number", "rank", "dense_rank", "ntile",
    "lag", "lead", "first_value", "last_value", "stddev", "variance", "median",
}  # fmt: skip
SOURCE_SCHEMAS = ("hubspot", "asana", "slack", "gong")
READABLE_OWN_TABLES = {("sophia", "sync_runs"), ("sophia", "sync_state")}
_FORBIDDEN_NODES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "Command",
    "Copy", "TruncateTable", "Set", "Transaction", "Commit", "Rollback", "Lock", "Into", "Use",
    "Pragma", "LoadData", "Cache", "Uncache", "Refresh", "Grant", "Revoke", "Analyze",
    "Describe", "Kill", "Comment", "Execute", "Declare",
)  # fmt: skip


class GuardError(SophiaError):
    """Raw SQL the guard refuses; the message says which rule it broke."""

    code = "sql_refused"
    exit_code = 2
    http_status = 422
    default_hint = "`sophia query` runs one read-only SELECT over the synced tables."


def _forbidden_types() -> tuple[type[Any], ...]:
    from sqlglot import exp

    return tuple(getattr(exp, name) for name in _FORBIDDEN_NODES if hasattr(exp, name))


def _parse_one(sql: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except (ParseError, TokenError) as exc:
        raise GuardError(f"the SQL does not parse: {str(exc).splitlines()[0][:160]}") from exc
    if not statements:
        raise GuardError("there is no SQL statement to run")
    if len(statements) > 1:
        raise GuardError(f"exactly one statement is allowed, got {len(statements)}")
    return statements[0]


def _check_root(tree: Any) -> None:
    from sqlglot import exp

    root = tree.this if isinstance(tree, exp.Subquery) else tree
    if not isinstance(root, exp.Select | exp.SetOperation):
        raise GuardError(f"only SELECT is allowed, got {type(root).__name__.upper()}")


def _check_nodes(tree: Any) -> None:
    from sqlglot import exp

    forbidden = _forbidden_types()
    for node in tree.walk():
        if isinstance(node, forbidden):
            raise GuardError(f"{type(node).__name__.upper()} is not allowed in a read-only query")
        if isinstance(node, exp.Select) and node.args.get("into") is not None:
            raise GuardError("SELECT ... INTO creates a table and is not allowed")
        if isinstance(node, exp.Select) and node.args.get("locks"):
            raise GuardError("SELECT ... FOR UPDATE/SHARE takes locks and is not allowed")


def function_name(node: Any) -> str:
    """The lower-case SQL name of a function node."""
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return str(node.sql_name()).lower()


def _check_functions(tree: Any) -> None:
    from sqlglot import exp

    for node in tree.find_all(exp.Func):
        name = function_name(node)
        if name in DENIED_NAMES or name.startswith(DENIED_PREFIXES):
            raise GuardError(f"function {name}() is not allowed")
        if isinstance(node, exp.Anonymous) and name not in SAFE_FUNCTIONS:
            raise GuardError(
                f"function {name}() is not on the list of allowed functions",
                hint="Use standard aggregates and date/text functions, or ask for it to be added.",
            )


def _cte_names(tree: Any) -> set[str]:
    from sqlglot import exp

    return {str(cte.alias_or_name).lower() for cte in tree.find_all(exp.CTE)}


def _check_tables(tree: Any, known: set[tuple[str, str]]) -> None:
    from sqlglot import exp

    ctes = _cte_names(tree)
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise GuardError("table functions are not allowed in FROM")
        name, schema = str(table.name).lower(), str(table.db).lower()
        if table.catalog:
            raise GuardError(f"cross-database reference {table.sql()} is not allowed")
        if not schema:
            if name in ctes:
                continue
            raise GuardError(
                f"table {name!r} needs its schema (for example hubspot.{name})",
                hint="Known schemas: " + ", ".join(SOURCE_SCHEMAS) + ".",
            )
        if (schema, name) not in known:
            raise GuardError(
                f"unknown table {schema}.{name}",
                hint="Only the synced tables can be queried: " + ", ".join(SOURCE_SCHEMAS) + ".",
            )


def check(sql: str, known_tables: Iterable[tuple[str, str]]) -> str:
    """The SQL to run for `sql` if every rule holds; GuardError naming the first broken rule."""
    if "\x00" in sql:
        raise GuardError("the SQL contains a NUL byte")
    tree = _parse_one(sql)
    _check_root(tree)
    _check_nodes(tree)
    _check_functions(tree)
    _check_tables(tree, {(s.lower(), t.lower()) for s, t in known_tables})
    return str(tree.sql(dialect="postgres"))


def with_row_cap(sql: str, cap: int) -> str:
    """Wrap a checked statement so the server returns at most `cap` rows."""
    return f"SELECT * FROM (\n{sql}\n) AS guarded LIMIT {int(cap)}"
