"""Events whose message or attrs contain some text, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine import duckdb
from ..errors import QueryError
from .choices import LEVELS
from .reading import COLUMNS, check_choice, limited, time_conditions, where_clause

if TYPE_CHECKING:
    import polars as pl

    from ..handles import Readable


def search(
    store: Readable,
    text: str,
    *,
    regex: bool = False,
    field: str | None = None,
    since: Any = None,
    until: Any = None,
    level: str | None = None,
    limit: int = 100,
) -> pl.DataFrame:
    """`Store.search`: events whose text matches, newest first."""
    if not text:
        raise QueryError("give some text to search for")
    if not isinstance(text, str):
        raise QueryError(f"search text must be a str, not {type(text).__name__}")
    conditions: list[str] = []
    params: dict[str, Any] = {"limit": int(limit)}
    time_conditions(since, until, conditions, params)
    if level is not None:
        wanted = level.upper()
        check_choice(wanted, LEVELS, "--level")
        at_least = ", ".join(f"'{lv}'" for lv in LEVELS[LEVELS.index(wanted) :])
        conditions.append(f"level IN ({at_least})")
    if field is None:
        targets = ["message", "CAST(attrs AS VARCHAR)"]
    elif field in COLUMNS and field != "attrs":
        targets = [f"CAST({field} AS VARCHAR)"]
    else:
        key = field.removeprefix("attrs.")
        # An empty step (`a..b`, `.a`, `a.`) is not a JSON path DuckDB can follow.
        if not key or "" in key.split("."):
            raise QueryError(
                f"--field {field!r} is not a column or an attrs key: name one such as "
                "path, err.stack or attrs.err.stack (keys separated by single dots)"
            )
        params["json_path"] = "$" + "".join(
            '."' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in key.split(".")
        )
        targets = ["json_extract_string(attrs, $json_path)"]
    if regex:
        params["pattern"] = text
        matches = [f"regexp_matches({t}, $pattern)" for t in targets]
    else:
        params["needle"] = text.lower()
        matches = [f"contains(lower({t}), $needle)" for t in targets]
    conditions.append("(" + " OR ".join(matches) + ")")
    sql = f"""
        SELECT ts, level, service, trace_id, user_id, message, attrs
        FROM events {where_clause(conditions)}
        ORDER BY ts DESC NULLS LAST, source, line
        LIMIT $limit
    """
    try:
        return limited(
            store, sql, f"SELECT count(*) FROM events {where_clause(conditions)}", params
        )
    except duckdb.InvalidInputException as exc:
        if regex:
            raise QueryError(f"invalid regular expression {text!r}: {exc}") from exc
        raise
