"""The guard in front of raw SQL, from a user (`sophia query`) or from a model.

The SQL is parsed by PostgreSQL's own parser (libpg_query, through pglast), so the guard
reads the text exactly as the server does with `standard_conforming_strings = on`, which
`execute` forces inside the guarded transaction. A statement passes only when it is exactly
one SELECT whose every node is of a kind on an allow list: functions, types and SQL value
functions by their SQL names, tables of the synced schemas, and CTE names only inside the
query that defines them. What runs is the SQL deparsed from the parser's tree, sent through
the extended protocol (one statement, nothing stacked) in a read-only transaction as the
reader role: the database's walls behind the guard's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sophia_cli.core.errors import SophiaError
from sophia_cli.core.sync.sources import SCHEMAS

SOURCE_SCHEMAS = SCHEMAS  # the schemas of the declared sources, and nothing else

READABLE_OWN_TABLES = {("sophia", "sync_runs"), ("sophia", "sync_state")}
MAX_SQL_CHARS = 100_000

# Functions that only compute values from their arguments, by SQL name. Anything else (the
# catalog's pg_* functions, files, sleeps, sequences, settings, generate_series, repeat,
# xml/query_to_*, dblink, ...) is refused because it is not here.
ALLOWED_FUNCTIONS = frozenset(
    {
        # aggregates
        "count", "sum", "avg", "min", "max", "stddev", "stddev_pop", "stddev_samp",
        "variance", "var_pop", "var_samp", "string_agg", "array_agg", "bool_and", "bool_or",
        "every", "percentile_cont", "percentile_disc", "mode", "corr", "covar_pop",
        "covar_samp", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
        # window functions
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag",
        "lead", "first_value", "last_value", "nth_value",
        # numbers
        "abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "sqrt", "cbrt", "power",
        "pow", "exp", "ln", "log", "log10", "mod", "div", "width_bucket", "random", "pi",
        "degrees", "radians", "scale",
        # text
        "lower", "upper", "length", "char_length", "character_length", "octet_length",
        "position", "substring", "substr", "replace", "strpos", "lpad", "rpad", "ltrim",
        "rtrim", "btrim", "initcap", "left", "right", "reverse", "split_part", "concat",
        "concat_ws", "format", "md5", "regexp_replace", "regexp_match", "regexp_like",
        "regexp_count", "starts_with", "translate", "to_char", "to_number", "to_date",
        "to_timestamp", "overlay", "array_to_string", "string_to_array",
        # dates and times
        "date_trunc", "date_part", "extract", "age", "make_date", "make_time",
        "make_timestamp", "make_timestamptz", "make_interval", "justify_days",
        "justify_hours", "justify_interval", "date_bin", "now", "statement_timestamp",
        "transaction_timestamp", "isfinite", "timezone", "overlaps",
        # json and arrays
        "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
        "to_json", "to_jsonb", "json_extract_path_text", "jsonb_extract_path_text",
        "jsonb_array_length", "json_array_length", "jsonb_typeof", "json_typeof",
        "array_length", "cardinality", "array_position", "unnest",
    }
)  # fmt: skip
# Types a value may be cast to, by SQL name (the grammar may qualify them with pg_catalog).
# reg* types read the catalogs and are refused because they are not here.
ALLOWED_TYPES = frozenset(
    {
        "int2", "int4", "int8", "smallint", "integer", "int", "bigint", "numeric", "decimal",
        "float4", "float8", "real", "double precision", "text", "varchar", "bpchar", "char",
        "character varying", "character", "bool", "boolean", "date", "time", "timetz",
        "timestamp", "timestamptz", "interval", "json", "jsonb", "uuid",
    }
)  # fmt: skip
# CURRENT_DATE and its kin; CURRENT_USER, CURRENT_CATALOG and the like name roles and
# databases and are refused.
_ALLOWED_VALUE_FUNCTIONS = frozenset(
    {
        "SVFOP_CURRENT_DATE", "SVFOP_CURRENT_TIME", "SVFOP_CURRENT_TIME_N",
        "SVFOP_CURRENT_TIMESTAMP", "SVFOP_CURRENT_TIMESTAMP_N", "SVFOP_LOCALTIME",
        "SVFOP_LOCALTIME_N", "SVFOP_LOCALTIMESTAMP", "SVFOP_LOCALTIMESTAMP_N",
    }
)  # fmt: skip
# Node kinds that carry no name the guard must check; every other kind is refused unless
# it has its own rule below (SelectStmt, RangeVar, FuncCall, TypeCast, A_Expr, ...).
_PLAIN_NODES = frozenset(
    {
        "A_Const", "String", "Integer", "Float", "Boolean", "BitString", "A_Star",
        "ColumnRef", "BoolExpr", "NullTest", "BooleanTest", "CaseExpr", "CaseWhen",
        "CoalesceExpr", "MinMaxExpr", "SubLink", "A_ArrayExpr", "A_Indirection", "A_Indices",
        "RowExpr", "CollateClause", "ResTarget", "SortBy", "WindowDef", "GroupingSet",
        "GroupingFunc", "RangeSubselect", "JoinExpr", "Alias", "NamedArgExpr",
    }
)  # fmt: skip
_REFUSED_NODES = {
    "RangeFunction": "functions in FROM are not allowed",
    "RangeTableFunc": "XMLTABLE is not allowed",
    "RangeTableSample": "TABLESAMPLE is not allowed",
    "ParamRef": "parameters ($1) are not allowed",
}


class GuardError(SophiaError):
    """Raw SQL the guard refuses; the message says which rule it broke."""

    code = "sql_refused"
    exit_code = 2
    http_status = 422
    default_hint = "`sophia query` runs one read-only SELECT over the synced tables."


def _parse_one(sql: str) -> Any:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise GuardError(f"the SQL does not parse: {str(exc).splitlines()[0][:160]}") from exc
    if not statements:
        raise GuardError("there is no SQL statement to run")
    if len(statements) > 1:
        raise GuardError(f"exactly one statement is allowed, got {len(statements)}")
    return statements[0].stmt


def _children(node: Any) -> Iterator[Any]:
    """Every node below `node` (one level), skipping plain attribute values."""
    from pglast import ast

    for name in type(node).__slots__:
        value = getattr(node, name, None)
        items = value if isinstance(value, tuple | list) else (value,)
        for item in items:
            if isinstance(item, ast.Node):
                yield item
            elif isinstance(item, tuple | list):
                yield from (sub for sub in item if isinstance(sub, ast.Node))


class _Checker:
    """Walks one statement tree with the CTE names visible at each point."""

    def __init__(self, known: set[tuple[str, str]]) -> None:
        self.known = known

    def node(self, node: Any, scope: frozenset[str]) -> None:
        kind = type(node).__name__
        rule = getattr(self, f"_{kind}", None)
        if rule is not None:
            rule(node, scope)
            return
        if kind in _REFUSED_NODES:
            raise GuardError(_REFUSED_NODES[kind])
        if kind not in _PLAIN_NODES:
            raise GuardError(f"{_describe(kind)} is not allowed in a read-only query")
        self.children(node, scope)

    def children(self, node: Any, scope: frozenset[str], skip: tuple[str, ...] = ()) -> None:
        for child in _children(node):
            if not any(child is getattr(node, name, None) for name in skip):
                self.node(child, scope)

    def _SelectStmt(self, node: Any, scope: frozenset[str]) -> None:  # noqa: N802
        if node.intoClause is not None:
            raise GuardError("SELECT ... INTO creates a table and is not allowed")
        if node.lockingClause:
            raise GuardError("SELECT ... FOR UPDATE/SHARE takes locks and is not allowed")
        inner = scope
        if node.withClause is not None:
            inner = self._with(node.withClause, scope)
        self.children(node, inner, skip=("withClause",))

    def _with(self, clause: Any, scope: frozenset[str]) -> frozenset[str]:
        """Check each CTE body with the names it may see; the names the query body sees."""
        names = [str(cte.ctename) for cte in clause.ctes]
        for position, cte in enumerate(clause.ctes):
            if type(cte.ctequery).__name__ != "SelectStmt":
                raise GuardError("a data-modifying WITH query is not allowed")
            if cte.search_clause is not None or cte.cycle_clause is not None:
                raise GuardError("SEARCH and CYCLE clauses are not allowed")
            visible = names if clause.recursive else names[:position]
            self.node(cte.ctequery, scope | frozenset(visible))
        return scope | frozenset(names)

    def _RangeVar(self, node: Any, scope: frozenset[str]) -> None:  # noqa: N802
        name, schema = str(node.relname), node.schemaname
        if node.catalogname:
            raise GuardError(f"cross-database reference {node.catalogname}.{schema}.{name}")
        if schema is None:
            if name in scope:
                return
            raise GuardError(
                f"table {name!r} needs its schema (for example hubspot.{name})",
                hint="Known schemas: " + ", ".join(SOURCE_SCHEMAS) + ".",
            )
        if (str(schema), name) not in self.known:
            raise GuardError(
                f"unknown table {schema}.{name}",
                hint="Only the synced tables can be queried: " + ", ".join(SOURCE_SCHEMAS) + ".",
            )
        if node.alias is not None:
            self.node(node.alias, scope)

    def _FuncCall(self, node: Any, scope: frozenset[str]) -> None:  # noqa: N802
        name = _sql_name(node.funcname)
        if name not in ALLOWED_FUNCTIONS:
            raise GuardError(
                f"function {name}() is not on the list of allowed functions",
                hint="Use standard aggregates and date/text functions, or ask for it to be added.",
            )
        self.children(node, scope)

    def _TypeCast(self, node: Any, scope: frozenset[str]) -> None:  # noqa: N802
        type_name = node.typeName
        name = _sql_name(type_name.names)
        if name not in ALLOWED_TYPES or type_name.setof or type_name.pct_type:
            raise GuardError(f"a cast to type {name} is not allowed")
        self.node(node.arg, scope)
        for modifier in type_name.typmods or ():
            self.node(modifier, scope)

    def _A_Expr(self, node: Any, scope: frozenset[str]) -> None:  # noqa: N802
        names = [str(part.sval) for part in node.name or ()]
        if len(names) > 1 and names[0] != "pg_catalog":
            raise GuardError(f"operator {'.'.join(names)} is not allowed")
        self.children(node, scope)

    def _SQLValueFunction(self, node: Any, scope: frozenset[str]) -> None:  # noqa: N802
        if node.op.name not in _ALLOWED_VALUE_FUNCTIONS:
            word = node.op.name.removeprefix("SVFOP_").removesuffix("_N")
            raise GuardError(f"{word} is not allowed in a query")


def _sql_name(parts: Any) -> str:
    """`lower` for (lower,) and (pg_catalog, lower); the dotted name for any other schema."""
    names = [str(part.sval) for part in parts]
    if len(names) == 2 and names[0] == "pg_catalog":
        return names[1]
    return ".".join(names)


def _describe(kind: str) -> str:
    """`InsertStmt` → `INSERT`, `CopyStmt` → `COPY`, other nodes by their kind."""
    return kind.removesuffix("Stmt").upper() if kind.endswith("Stmt") else kind


def check(sql: str, known_tables: Iterable[tuple[str, str]]) -> str:
    """The SQL to run for `sql` if every rule holds; GuardError naming the first broken rule."""
    from pglast.parser import deparse_protobuf, parse_sql_protobuf

    if "\x00" in sql:
        raise GuardError("the SQL contains a NUL byte")
    if len(sql) > MAX_SQL_CHARS:
        raise GuardError(f"the SQL is longer than {MAX_SQL_CHARS:,} characters")
    try:
        tree = _parse_one(sql)
        kind = "VALUES" if getattr(tree, "valuesLists", None) else _describe(type(tree).__name__)
        if kind != "SELECT":
            raise GuardError(f"only SELECT is allowed, got {kind}")
        _Checker(set(known_tables)).node(tree, frozenset())
        # The same parser's tree again, printed by libpg_query's own deparser (C, fast).
        return str(deparse_protobuf(parse_sql_protobuf(sql)))
    except RecursionError as exc:
        raise GuardError("the SQL is nested too deeply to check") from exc


def with_caps(sql: str, rows: int, max_bytes: int) -> str:
    """Wrap a checked statement so the server sends at most `rows` rows and `max_bytes`.

    The server measures each row's text and stops sending once the running total passes
    `max_bytes`, so a huge result never crosses the wire. Three trailing columns carry each
    row's position, the running total of bytes, and how many rows existed (up to `rows` + 1;
    a lone row of NULLs carries it when no row fits), for the caller to say what was cut.
    """
    return f"""WITH capped AS MATERIALIZED (SELECT * FROM (
{sql}
) AS guarded LIMIT {int(rows) + 1}),
measured AS (SELECT capped.*, row_number() OVER w AS sophia_guard_position,
    sum(octet_length(capped::text)) OVER w AS sophia_guard_bytes
  FROM capped WINDOW w AS (ROWS UNBOUNDED PRECEDING))
SELECT measured.*, total.sophia_guard_rows
FROM (SELECT count(*) AS sophia_guard_rows FROM capped) AS total
LEFT JOIN measured ON measured.sophia_guard_bytes <= {int(max_bytes)}
ORDER BY measured.sophia_guard_position"""
