"""Error fingerprints and normalised routes: one kind of error, whatever its variable parts.

`user u_123 not found after 3 retries` and `user u_456 not found after 5 retries` are the same
error, so `logkit errors --by fingerprint` groups them under
`user <id> not found after <n> retries`. The rules are an ordered list of RE2-compatible
regular expressions (RE2 has no look-around, so neither do these). They run inside DuckDB
(`fingerprint_sql` nests `regexp_replace` calls), so grouping ten million events never moves
them into Python; `fingerprint()` applies the same rules in Python for tests and notebooks,
and a test keeps the two in agreement.

Order matters: masked values and quoted strings go first (they may contain anything), then
uuids before the hex rule (a uuid is hex with dashes), then prefixed ids (`req_f7c14da5e709`)
before bare numbers.
"""

from __future__ import annotations

import re

from .sqlfiles import sql_literal

# (pattern, replacement), applied in order to the message's first line.
RULES: list[tuple[str, str]] = [
    # What the masker leaves behind: `[MASKED:email]` and pseudonyms like `email:9f2c41d0b7e3`.
    (r"\[MASKED[^\]]*\](?:~\d+)?", "<masked>"),
    (r"\b[a-z][a-z_]*:[0-9a-f]{12}\b", "<masked>"),
    (r"'[^']*'", "<str>"),
    (r'"[^"]*"', "<str>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<uuid>"),
    (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
    (r"\b[0-9a-f]{8,}\b", "<hex>"),
    # An identifier with a word prefix and a digit somewhere after it: u_10335, req_f7c14da5,
    # job-42a. Plain words and versions such as `v1` are left alone.
    (r"\b[A-Za-z]+[_-][A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*", "<id>"),
    (r"\d+(?:\.\d+)?", "<n>"),
]
MAX_LENGTH = 200  # a fingerprint is a label, not the whole message

# A path segment is an id, and becomes `:id`, when it is a number, has three or more digits,
# is hex (or a uuid) of 8+ characters with a digit, is over 40 characters, or is masked. The
# same rule as the `path` label of the Prometheus metrics, so the two can be compared.
ROUTE_ID = ":id"
_SEGMENT_RULES: list[tuple[str, str]] = [
    ("full", r"[0-9]+"),
    ("search", r"[0-9].*[0-9].*[0-9]"),
    ("hex", r"[0-9a-fA-F-]+"),
    ("search", r"@|\[MASKED:|^[a-z0-9_]+:[0-9a-f]{12}$"),
]

_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in RULES]
_SEGMENT_COMPILED = [(kind, re.compile(pattern)) for kind, pattern in _SEGMENT_RULES]


def fingerprint(message: str | None) -> str | None:
    """The message with its variable parts replaced by placeholders.

    Examples:
        >>> fingerprint("user u_10335 not found after 3 retries")
        'user <id> not found after <n> retries'
        >>> fingerprint("no such key 'abc' in 9f2c41d0b7e3aa01")
        'no such key <str> in <hex>'
    """
    if message is None:
        return None
    text = message.split("\n", 1)[0]
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text[:MAX_LENGTH]


def _is_id(segment: str) -> bool:
    if len(segment) > 40:
        return True
    for kind, pattern in _SEGMENT_COMPILED:
        if kind == "full" and pattern.fullmatch(segment):
            return True
        if kind == "search" and pattern.search(segment):
            return True
        hexlike = kind == "hex" and len(segment) >= 8 and pattern.fullmatch(segment)
        if hexlike and any(c.isdigit() for c in segment):
            return True
    return False


def route(path: str | None) -> str | None:
    """A request path with its id segments replaced: `/v1/jobs/0a5d6baa9455` → `/v1/jobs/:id`.

    Examples:
        >>> route("/v1/users/42/orders/550e8400-e29b-41d4-a716-446655440000?page=2")
        '/v1/users/:id/orders/:id'
    """
    if path is None:
        return None
    segments = path.split("?", 1)[0].split("/")
    return "/".join(ROUTE_ID if _is_id(s) else s for s in segments)


def fingerprint_sql(column: str) -> str:
    """A DuckDB expression computing `fingerprint(column)`; `column` is trusted SQL."""
    expr = f"split_part({column}, chr(10), 1)"
    for pattern, replacement in RULES:
        expr = f"regexp_replace({expr}, {sql_literal(pattern)}, {sql_literal(replacement)}, 'g')"
    return f"left({expr}, {MAX_LENGTH})"


def route_sql(column: str) -> str:
    """A DuckDB expression computing `route(column)`; `column` is trusted SQL."""
    tests = ["length(s) > 40"]
    for kind, pattern in _SEGMENT_RULES:
        if kind == "full":
            tests.append(f"regexp_full_match(s, {sql_literal(pattern)})")
        elif kind == "search":
            tests.append(f"regexp_matches(s, {sql_literal(pattern)})")
        else:
            tests.append(
                f"(length(s) >= 8 AND regexp_full_match(s, {sql_literal(pattern)})"
                " AND regexp_matches(s, '[0-9]'))"
            )
    is_id = " OR ".join(tests)
    return (
        f"array_to_string(list_transform(string_split(split_part({column}, '?', 1), '/'),"
        f" lambda s: CASE WHEN {is_id} THEN {sql_literal(ROUTE_ID)} ELSE s END), '/')"
    )
