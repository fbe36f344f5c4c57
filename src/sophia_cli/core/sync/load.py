"""The upsert path: COPY a page into a staging table, then INSERT … ON CONFLICT.

Only rows that actually differ are updated (`WHERE … IS DISTINCT FROM …`), so re-reading
unchanged data writes nothing, and `xmax = 0` on the returned rows tells inserts from
updates.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from sophia_cli.core.sync.streams import Conn, Row, Table


@dataclass
class LoadCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def _qualified(name: str) -> sql.Composable:
    return sql.Identifier(*name.split("."))


def dedupe(table: Table, rows: list[Row]) -> list[Row]:
    """One row per key, the last one winning (an upsert cannot touch a row twice)."""
    by_key: dict[tuple[object, ...], Row] = {}
    for row in rows:
        by_key[tuple(row.get(column) for column in table.key)] = row
    return list(by_key.values())


async def ensure_staging(conn: Conn, table: Table) -> None:
    """A staging table shaped like the target that lives for this transaction only.

    Dropped at commit, so nothing outlives the transaction: through a transaction pooler
    the next one may run on another server connection (or hand this one to another client).
    """
    await conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP"
        ).format(sql.Identifier(table.staging), _qualified(table.name))
    )


async def copy_rows(conn: Conn, table: Table, rows: list[Row]) -> None:
    """COPY rows into the staging table (emptied first)."""
    staging = sql.Identifier(table.staging)
    await conn.execute(sql.SQL("TRUNCATE {}").format(staging))
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(staging, columns)
    async with conn.cursor().copy(statement) as copy:
        for row in rows:
            await copy.write_row(tuple(row.get(column) for column in table.columns))


def upsert_statement(table: Table) -> sql.Composed:
    """INSERT from staging; update only rows whose non-key columns changed."""
    columns = [sql.Identifier(c) for c in table.columns]
    values = [c for c in table.columns if c not in table.key]
    column_list = sql.SQL(", ").join(columns)
    key = sql.SQL(", ").join(sql.Identifier(c) for c in table.key)
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in values
    )
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in values)
    incoming = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in values)
    if len(values) == 1:  # a one-element row constructor needs ROW(...)
        current = sql.SQL("ROW({})").format(current)
        incoming = sql.SQL("ROW({})").format(incoming)
    else:
        current = sql.SQL("({})").format(current)
        incoming = sql.SQL("({})").format(incoming)
    action = (
        sql.SQL("DO UPDATE SET {} WHERE {} IS DISTINCT FROM {}").format(
            assignments, current, incoming
        )
        if values
        else sql.SQL("DO NOTHING")
    )
    return sql.SQL(
        "WITH up AS (INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {staging}"
        " ON CONFLICT ({key}) {action} RETURNING (xmax = 0) AS inserted)"
        " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    ).format(
        target=_qualified(table.name),
        cols=column_list,
        staging=sql.Identifier(table.staging),
        key=key,
        action=action,
    )


def prune_statement(table: Table) -> sql.Composed:
    """Delete child rows of the staged parents that the API no longer returns."""
    assert table.scope is not None
    match = sql.SQL(" AND ").join(
        sql.SQL("s.{c} IS NOT DISTINCT FROM t.{c}").format(c=sql.Identifier(c)) for c in table.key
    )
    return sql.SQL(
        "DELETE FROM {target} AS t WHERE t.{scope} IN (SELECT {scope} FROM {staging})"
        " AND NOT EXISTS (SELECT 1 FROM {staging} AS s WHERE {match})"
    ).format(
        target=_qualified(table.name),
        scope=sql.Identifier(table.scope),
        staging=sql.Identifier(table.staging),
        match=match,
    )


async def load(conn: Conn, table: Table, rows: list[Row]) -> LoadCounts:
    """Stage and upsert one batch inside the caller's transaction."""
    counts = LoadCounts()
    if not rows:
        return counts
    await ensure_staging(conn, table)
    await copy_rows(conn, table, dedupe(table, rows))
    cursor = await conn.execute(upsert_statement(table))
    result = await cursor.fetchone()
    assert result is not None
    counts.inserted, counts.updated = int(result[0]), int(result[1])
    if table.scope is not None:
        pruned = await conn.execute(prune_statement(table))
        counts.deleted = pruned.rowcount
    return counts
