"""The DuckDB macros every logkit connection has: what logkit's SQL means, written once.

"An event is an error" was spelled out in nine queries; now it is `is_error(level)`, here,
and the queries, the metric definitions and `logkit sql` all call it. The macros are TEMP
and created with each connection (`engine.connect`): a read-only connection has them as a
writer does, a store written by an older logkit needs no migration for them, the in-memory
connection beside a lake has them, and the lock-down of `logkit sql` (no configuration
changes) comes after them. Creating them costs about a millisecond.

Two are made from rules kept in Python (logkit/fingerprint.py), which also applies them to
single values outside DuckDB; spark.py expands `is_error` and `service_label` from the same
definitions for Spark SQL.
"""

from __future__ import annotations

import functools

# An error is an event at one of these levels, everywhere in logkit (in Python too: a trace's
# events once fetched).
ERROR_LEVELS = ("ERROR", "CRITICAL")

# name: (parameters, body). The body is DuckDB SQL over the parameters.
FIXED: dict[str, tuple[tuple[str, ...], str]] = {
    # NULL when the level is: a filter then leaves the event out.
    "is_error": (("level",), f"level IN {ERROR_LEVELS!r}"),
    # An LLM call reports tokens or cost, or failed; billing's "usage recorded" names a model
    # too.
    "is_llm_call": (
        ("model", "input_tokens", "output_tokens", "cost_usd", "level"),
        "model IS NOT NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL"
        " OR cost_usd IS NOT NULL OR is_error(level))",
    ),
    # Many services do not log their own name: then the file the event came from, up to its
    # first dot (`api.log.1.gz` is `api`), else '(none)' (see logkit/report/analysis.py).
    "service_label": (
        ("service", "source"),
        "coalesce(service, nullif(split_part(regexp_extract(source, '[^/\\\\]*$'), '.', 1), ''),"
        " '(none)')",
    ),
}


@functools.cache
def definitions() -> dict[str, tuple[tuple[str, ...], str]]:
    """Every macro: the fixed ones, and those made from logkit/fingerprint.py's rules."""
    from .fingerprint import fingerprint_sql, route_sql

    return {
        **FIXED,
        # `error_fingerprint(message)`: the message with its variable parts replaced.
        "error_fingerprint": (("message",), fingerprint_sql("message")),
        # `path_template(p)`: a request path with its id segments as `:id`. Plain words,
        # `v1` and `:id` itself stay, so templating twice changes nothing.
        "path_template": (
            ("p",),
            f"CASE WHEN p IS NULL THEN NULL ELSE {route_sql('p')} END",
        ),
    }


@functools.cache
def create_sql() -> str:
    """One statement creating them all (one round trip per connection)."""
    return "; ".join(
        f"CREATE OR REPLACE TEMP MACRO {name}({', '.join(params)}) AS ({body})"
        for name, (params, body) in definitions().items()
    )
