"""SQL someone else wrote: `logkit sql` and the named queries of queries/*.sql."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine import duckdb
from ..errors import QueryError
from ..sqlfiles import load, load_all
from .reading import Rows, as_answer, locked, result, sql_error

if TYPE_CHECKING:
    import polars as pl

    from ..handles import Readable


# -- sql and named queries ---------------------------------------------------------


def sql(store: Readable, query: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """`Store.sql`: SQL someone typed, on a locked-down reader."""
    if not query.strip():
        raise QueryError("give some SQL to run, such as 'SELECT count(*) FROM events'")
    with locked(store) as con:
        try:
            return result(store, con, query, params)
        except duckdb.Error as exc:
            raise sql_error(exc) from exc


def query(store: Readable, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """`Store.query`: the named query `name` with `params` bound."""
    named = load(name)
    bound = named.bind(params)
    with locked(store) as con:
        try:
            return result(store, con, named.sql, bound)
        except duckdb.Error as exc:
            raise QueryError(f"query {name!r} failed: {str(exc).splitlines()[0]}") from exc


def list_queries(store: Readable) -> pl.DataFrame:
    """`Store.list_queries`: name, description and parameters of each."""
    rows = [
        {
            "name": q.name,
            "description": q.description,
            "params": ", ".join(
                p.name if p.required else f"{p.name}={p.default or ''}" for p in q.params
            ),
        }
        for q in load_all().values()
    ]
    if not store.frames:
        return as_answer(Rows(["name", "description", "params"], [tuple(r.values()) for r in rows]))
    import polars as pl

    return pl.DataFrame(rows, schema={"name": pl.String, "description": pl.String,
                                      "params": pl.String})  # fmt: skip


def limit_of(name: str, params: dict[str, Any]) -> int | None:
    """`Store.query_limit`: the named query's `limit` parameter, given or default."""
    limit = params.get("limit") or next(
        (p.default for p in load(name).params if p.name == "limit"), None
    )
    return int(limit) if limit is not None and str(limit).isdigit() else None
