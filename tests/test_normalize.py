"""Normalisation: one parsed JSON record in, one canonical event out, nothing dropped.

The native core normalises (src/normalize/); each record here goes through it as a JSON line
of its own (tests/core_events.py), the generic format forced, so the alias table decides."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logkit.errors import ConfigError
from logkit.normalize import ALIAS_GROUPS, BUILTIN_ALIASES

from .core_events import CANONICAL_FIELDS, Normalizer, normalize_level, parse_ts

# 2026-11-22T10:01:02Z in microseconds since the epoch.
T = 1_795_341_662_000_000
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def normalize(record: dict[str, Any], **aliases: list[str]) -> dict[str, Any]:
    return Normalizer(aliases or None)(record)


def columns(event: dict[str, Any]) -> dict[str, Any]:
    """The canonical columns that got a value."""
    return {k: v for k, v in event.items() if k != "attrs" and v is not None}


def nest(dotted: str, value: Any) -> dict[str, Any]:
    """{"a.b.c": v} as {"a": {"b": {"c": v}}}."""
    head, _, rest = dotted.partition(".")
    return {head: nest(rest, value) if rest else value}


class TestParseTs:
    def test_rfc3339_with_z(self):
        """'Z' means UTC."""
        assert T == parse_ts("2026-11-22T10:01:02Z")

    def test_offset_is_converted_to_utc(self):
        """+05:30 is five and a half hours ahead of UTC."""
        assert T == parse_ts("2026-11-22T15:31:02+05:30")

    @pytest.mark.parametrize("offset", ["+0000", "+00:00", "-00:00"])
    def test_zero_offsets(self, offset):
        """Both the basic (+0000) and extended (+00:00) forms of a zero offset are UTC."""
        assert T == parse_ts(f"2026-11-22T10:01:02{offset}")

    def test_naive_time_is_utc(self):
        """Without an offset the time is taken as UTC, not local time."""
        assert T == parse_ts("2026-11-22T10:01:02")

    def test_space_separator(self):
        """A space may stand for the 'T'."""
        assert T == parse_ts("2026-11-22 10:01:02Z")

    @pytest.mark.parametrize(
        ("fraction", "micros"),
        [(".1", 100_000), (".123", 123_000), (".123456", 123_456), (".123456789", 123_456)],
    )
    def test_fractions_up_to_nanoseconds_truncate_to_microseconds(self, fraction, micros):
        """Any number of fraction digits; past six they are cut, not rounded."""
        assert T + micros == parse_ts(f"2026-11-22T10:01:02{fraction}Z")

    def test_nanosecond_fraction_with_offset(self):
        """Nine fraction digits combine with an offset."""
        assert T + 999_999 == parse_ts("2026-11-22T15:31:02.999999999+05:30")

    def test_python_logging_asctime(self):
        """logging's default asctime puts a comma before the milliseconds."""
        assert T + 123_000 == parse_ts("2026-11-22 10:01:02,123")

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (1_795_341_662, T),
            (1_795_341_662_123, T + 123_000),
            (1_795_341_662_123_456, T + 123_456),
            (1_795_341_662_123_456_789, T + 123_456),
        ],
        ids=["seconds", "milliseconds", "microseconds", "nanoseconds"],
    )
    def test_epoch_int_unit_is_told_by_magnitude(self, value, expected):
        """Epoch ints in s, ms, µs and ns are told apart by their size."""
        assert expected == parse_ts(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(1_795_341_662.123456, T + 123_456), (1_795_341_662_123.456, T + 123_456)],
        ids=["seconds", "milliseconds"],
    )
    def test_epoch_float_keeps_microseconds(self, value, expected):
        """Float epochs are rounded to the nearest µs, so binary fractions do not lose one."""
        assert expected == parse_ts(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1795341662", T),
            ("1795341662123", T + 123_000),
            ("1795341662123456", T + 123_456),
            ("1795341662123456789", T + 123_456),
            ("1795341662.5", T + 500_000),
        ],
        ids=["seconds", "milliseconds", "microseconds", "nanoseconds", "float-seconds"],
    )
    def test_epoch_numeric_strings(self, value, expected):
        """Numeric strings are epochs like the numbers they spell."""
        assert expected == parse_ts(value)

    def test_epoch_before_1970(self):
        """Negative epochs are times before 1970."""
        assert -1_000_000 == parse_ts(-1)

    @pytest.mark.parametrize(
        "value", ["2026-11-22t10:01:02z", " 2026-11-22T10:01:02Z ", "2026-11-22 10:01:02 UTC"]
    )
    def test_untidy_iso_strings(self, value):
        """Lower-case 't'/'z', surrounding spaces and a ' UTC' suffix are tolerated."""
        assert T == parse_ts(value)

    @settings(max_examples=200, deadline=None)
    @given(
        st.datetimes(
            min_value=datetime(2, 1, 1),
            max_value=datetime(9998, 12, 31),
            # Whole minutes: 3.11's fromisoformat drops the microseconds of an offset.
            timezones=st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
        )
    )
    def test_any_isoformat_round_trips(self, moment):
        """Every aware datetime's isoformat() reads back as its exact microsecond."""
        expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        assert expected == parse_ts(moment.isoformat())

    @pytest.mark.parametrize(
        "value",
        [
            "garbage",
            "",
            "2026-13-01T00:00:00Z",
            "yesterday at noon",
            "nan",
            "inf",
            None,
            True,
            [T],
            {"ts": T},
            math.nan,
            math.inf,
            10**400,
            1e300,
        ],
    )
    def test_garbage_is_none(self, value):
        """Anything that is not a time gives None rather than an exception."""
        assert None is parse_ts(value)


class TestNormalizeLevel:
    @pytest.mark.parametrize(
        ("expected", "spellings"),
        [
            ("DEBUG", ["debug", "trace", "verbose"]),
            ("INFO", ["info", "information", "informational", "notice"]),
            ("WARNING", ["warn", "warning"]),
            ("ERROR", ["err", "error"]),
            (
                "CRITICAL",
                ["fatal", "critical", "crit", "panic", "emerg", "emergency", "alert"],
            ),
        ],
    )
    def test_words_in_any_case(self, expected, spellings):
        """Each spelling maps to its level in lower, upper, title and mixed case."""
        forms = [f(s) for s in spellings for f in (str.lower, str.upper, str.title, str.swapcase)]
        assert [expected] * len(forms) == [normalize_level(form) for form in forms]

    def test_surrounding_whitespace(self):
        """Padding around the word does not matter."""
        assert "WARNING" == normalize_level(" Warn\n")

    def test_pino_and_bunyan_numbers(self):
        """10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal."""
        expected = ["DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
        assert expected == [normalize_level(n) for n in (10, 20, 30, 40, 50, 60)]

    def test_syslog_severities(self):
        """0-2 critical, 3 error, 4 warning, 5-6 info, 7 debug."""
        expected = ["CRITICAL"] * 3 + ["ERROR", "WARNING", "INFO", "INFO", "DEBUG"]
        assert expected == [normalize_level(n) for n in range(8)]

    def test_numeric_strings(self):
        """Numbers written as strings map like the numbers."""
        assert ["INFO", "ERROR", "DEBUG"] == [normalize_level(s) for s in ("30", "3", " 7 ")]

    def test_integral_floats(self):
        """30.0 is the number 30."""
        assert "INFO" == normalize_level(30.0)

    @pytest.mark.parametrize(
        "value",
        ["loud", "", "infos", "35", "8", 8, 35, 61, -1, 30.5, True, None, ["info"], {"x": 1}],
    )
    def test_unknown_is_none(self, value):
        """Unknown words, numbers outside both scales, bools and containers give None."""
        assert None is normalize_level(value)


ALIAS_KEYS = sorted({name for _, names in BUILTIN_ALIASES for name in names})
TOP_LEVEL_ALIAS_KEYS = {name.split(".")[0] for name in ALIAS_KEYS} | set(ALIAS_KEYS)
NESTED_KEYS = sorted({part for name in ALIAS_KEYS for part in name.split(".")[1:]})
TRICKY = ["2026-11-22T10:01:02Z", "warn", "30", "1m2.5s", "200", "ok", TRACEPARENT, "/a?b", "hit"]
COLUMN_TYPES = {
    "ts": int,
    "duration_ms": float,
    "status_code": int,
    "input_tokens": int,
    "output_tokens": int,
    "cost_usd": float,
    "cache_hit": bool,
}

# One normaliser across examples, so cached per-shape plans meet new values.
SHARED = Normalizer()


def as_stored(value: Any) -> Any:
    """A value as attrs store it: NaN and the infinities, which JSON has no numbers for, as
    their names."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, list):
        return [as_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: as_stored(v) for k, v in value.items()}
    return value


keys = st.one_of(st.sampled_from(ALIAS_KEYS + NESTED_KEYS), st.text(max_size=6))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(TRICKY),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
records = st.dictionaries(keys, values, max_size=12)


# A value each canonical field accepts, and what it becomes.
VALID = {
    "ts": ("2026-11-22T10:01:02Z", T),
    "level": ("ERROR", "ERROR"),
    "service": ("svc-1", "svc-1"),
    "logger": ("app.db", "app.db"),
    "message": ("hello", "hello"),
    "trace_id": ("t-1", "t-1"),
    "span_id": ("s-1", "s-1"),
    "request_id": ("r-1", "r-1"),
    "user_id": ("u-1", "u-1"),
    "job_id": ("j-1", "j-1"),
    "batch_id": ("b-1", "b-1"),
    "duration_ms": (12, 12.0),
    "duration_s": (2, 2000.0),
    "duration_us": (2000, 2.0),
    "duration_ns": (2_000_000, 2.0),
    "status_code": (404, 404),
    "error_type": ("ValueError", "ValueError"),
    "http_method": ("POST", "POST"),
    "path": ("/items", "/items"),
    "job_type": ("tasks.embed", "tasks.embed"),
    "model": ("gpt-4o", "gpt-4o"),
    "input_tokens": (5, 5),
    "output_tokens": (7, 7),
    "cost_usd": (0.25, 0.25),
    "cache_hit": (True, True),
    "host": ("web-1", "web-1"),
}
ALIAS_CASES = [
    pytest.param(group, alias, form, id=f"{group}<-{alias}{'' if form == 'key' else '(nested)'}")
    for group, aliases in BUILTIN_ALIASES
    if group != "traceparent"
    for alias in aliases
    for form in (("key", "nested") if "." in alias.lstrip("@") else ("key",))
    # Paths through a list index read from lists: see test_a_path_steps_into_a_list.
    if not (form == "nested" and any(part.isdigit() for part in alias.split(".")))
]


class TestNormalizer:
    def test_every_canonical_column_is_present(self):
        """An empty record gives every column, None, and empty attrs."""
        expected = dict.fromkeys(CANONICAL_FIELDS) | {"attrs": {}}
        assert expected == normalize({})

    def test_columns_come_in_store_order_with_attrs_last(self):
        """The event's keys are CANONICAL_FIELDS then attrs, whatever the record's order."""
        assert [*CANONICAL_FIELDS, "attrs"] == list(normalize({"msg": "x", "level": "info"}))

    @pytest.mark.parametrize(("group", "alias", "form"), ALIAS_CASES)
    def test_every_builtin_alias_feeds_its_column(self, group, alias, form):
        """Each alias (and each dotted alias nested as dicts) fills its column, leaving no attrs."""
        raw, expected = VALID[group]
        field = ALIAS_GROUPS[group][0][0]
        record = {alias: raw} if form == "key" else nest(alias, raw)
        event = normalize(record)
        assert ({field: expected}, {}) == (columns(event), event["attrs"])

    def test_a_path_steps_into_a_list_and_leaves_the_list_whole(self):
        """structlog's dict_tracebacks: error_type from the raised exception, chain kept."""
        chain = [{"exc_type": "AcquirerTimeout", "frames": []}, {"exc_type": "TimeoutError"}]
        event = normalize({"event": "failed", "exception": chain})
        assert ("AcquirerTimeout", {"exception": chain}) == (event["error_type"], event["attrs"])

    def test_pino_http_request_fields_fill_their_columns(self):
        """req.method, req.url, req.id and res.statusCode, as pino-http and Fastify log them."""
        event = normalize(
            {"req": {"id": "req-1", "method": "GET", "url": "/items"}, "res": {"statusCode": 200}}
        )
        expected = {
            "http_method": "GET",
            "path": "/items",
            "request_id": "req-1",
            "status_code": 200,
        }
        assert (expected, {}) == (columns(event), event["attrs"])

    def test_unknown_fields_stay_in_attrs_unchanged(self):
        """Fields no alias names are kept as they are, nested structure included."""
        record = {"msg": "x", "client": {"ip": "10.0.0.1", "tags": [1, {"a": None}]}, "n": 3}
        expected = {"client": {"ip": "10.0.0.1", "tags": [1, {"a": None}]}, "n": 3}
        assert expected == normalize(record)["attrs"]

    def test_first_alias_wins(self):
        """With two aliases present the earlier one fills the column; the other stays in attrs."""
        event = normalize({"msg": "second", "message": "first"})
        assert ("first", {"msg": "second"}) == (event["message"], event["attrs"])

    def test_next_alias_is_used_when_the_first_is_invalid(self):
        """An unusable value does not block a later alias with a usable one."""
        event = normalize({"status": "failed", "http_status": 502})
        assert (502, {"status": "failed"}) == (event["status_code"], event["attrs"])

    def test_records_of_one_shape_are_judged_on_their_own_values(self):
        """The per-shape plan picks aliases, not values: each record's values are checked anew."""
        normalizer = Normalizer()
        first = normalizer({"status": "failed", "http_status": 502})
        second = normalizer({"status": 201, "http_status": 502})
        expected = [(502, {"status": "failed"}), (201, {"http_status": 502})]
        assert expected == [(e["status_code"], e["attrs"]) for e in (first, second)]

    def test_many_shapes_beyond_the_plan_cache(self):
        """Thousands of distinct key sets are all normalised right (the cache is bounded)."""
        normalizer = Normalizer()
        events = [normalizer({"msg": str(n), f"k{n}": n}) for n in range(3000)]
        assert all(
            (str(n), {f"k{n}": n}) == (e["message"], e["attrs"]) for n, e in enumerate(events)
        )

    def test_literal_dotted_key_beats_nested_value(self):
        """A literal "service.name" key ranks before {"service": {"name": ...}}."""
        event = normalize({"service": {"name": "nested"}, "service.name": "literal"})
        assert ("literal", {"service": {"name": "nested"}}) == (event["service"], event["attrs"])

    # --- ts ---

    def test_timestamp_aliases_rank_in_order(self):
        """timestamp, ts, time, @timestamp, datetime, asctime: the first present is used."""
        record = {"asctime": "2026-11-22 10:01:03,000", "time": "2026-11-22T10:01:02Z"}
        event = normalize(record)
        assert (T, {"asctime": "2026-11-22 10:01:03,000"}) == (event["ts"], event["attrs"])

    def test_unparseable_timestamp_stays_in_attrs(self):
        """A timestamp that cannot be read leaves ts None and the original in attrs."""
        event = normalize({"timestamp": "last tuesday"})
        assert (None, {"timestamp": "last tuesday"}) == (event["ts"], event["attrs"])

    def test_pino_epoch_millis_time(self):
        """pino's "time" is epoch milliseconds."""
        assert T + 5_000 == normalize({"time": 1_795_341_662_005})["ts"]

    # --- level ---

    def test_level_spelt_canonically_is_not_duplicated(self):
        """ "level": "ERROR" fills the column and leaves nothing behind."""
        event = normalize({"level": "ERROR"})
        assert ("ERROR", {}) == (event["level"], event["attrs"])

    def test_level_original_spelling_is_kept(self):
        """ "warn" becomes WARNING; the original spelling stays in attrs under its key."""
        event = normalize({"level": "warn"})
        assert ("WARNING", {"level": "warn"}) == (event["level"], event["attrs"])

    def test_numeric_level_original_is_kept(self):
        """A pino number is kept in attrs beside the level it maps to."""
        event = normalize({"level": 30})
        assert ("INFO", {"level": 30}) == (event["level"], event["attrs"])

    def test_nested_log_level_original_is_kept(self):
        """ECS {"log": {"level": "warn"}} fills level and keeps the nested spelling."""
        event = normalize({"log": {"level": "warn", "logger": "db"}})
        expected = ("WARNING", "db", {"log": {"level": "warn"}})
        assert expected == (event["level"], event["logger"], event["attrs"])

    def test_unknown_level_stays_in_attrs(self):
        """An unknown level word leaves level None and the word in attrs."""
        event = normalize({"level": "loud"})
        assert (None, {"level": "loud"}) == (event["level"], event["attrs"])

    def test_python_json_logger_levelname(self):
        """python-json-logger's "levelname" is a level."""
        assert "INFO" == normalize({"levelname": "INFO"})["level"]

    # --- message, service, logger ---

    def test_structlog_event_is_the_message(self):
        """structlog writes the message as "event"."""
        assert "user logged in" == normalize({"event": "user logged in"})["message"]

    def test_empty_message_is_a_message(self):
        """An empty string is still the message."""
        event = normalize({"message": ""})
        assert ("", {}) == (event["message"], event["attrs"])

    def test_non_string_message_stays_in_attrs(self):
        """A dict as "event" (as in ECS) is not a message."""
        event = normalize({"event": {"dataset": "app"}})
        assert (None, {"event": {"dataset": "app"}}) == (event["message"], event["attrs"])

    def test_nested_service_name_keeps_its_siblings(self):
        """{"service": {"name", "version"}} gives service and leaves {"version"} in attrs."""
        event = normalize({"service": {"name": "api", "version": "1.2"}})
        assert ("api", {"service": {"version": "1.2"}}) == (event["service"], event["attrs"])

    def test_name_is_the_logger_only_when_a_string(self):
        """python-json-logger's "name" is the logger; a non-string "name" stays in attrs."""
        assert [("app.db", {}), (None, {"name": {"first": "Ann"}})] == [
            (e["logger"], e["attrs"])
            for e in (normalize({"name": "app.db"}), normalize({"name": {"first": "Ann"}}))
        ]

    # --- ids ---

    def test_numeric_ids_become_strings(self):
        """Datadog's unsigned 64-bit trace id is stored as its decimal string."""
        event = normalize({"dd": {"trace_id": 12345678901234567890, "span_id": 42}})
        expected = ("12345678901234567890", "42", {})
        assert expected == (event["trace_id"], event["span_id"], event["attrs"])

    def test_traceparent_gives_trace_and_span(self):
        """A W3C traceparent fills trace_id and span_id and stays in attrs for its flags."""
        event = normalize({"traceparent": TRACEPARENT})
        expected = {
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "span_id": "00f067aa0ba902b7",
        }
        assert (expected, {"traceparent": TRACEPARENT}) == (columns(event), event["attrs"])

    def test_explicit_ids_beat_traceparent(self):
        """trace_id and span_id given as fields win over the header's parts."""
        event = normalize({"traceparent": TRACEPARENT, "trace_id": "t", "span_id": "s"})
        assert {"trace_id": "t", "span_id": "s"} == columns(event)

    def test_traceparent_fills_only_the_missing_span(self):
        """With trace_id given, the span still comes from traceparent."""
        event = normalize({"traceparent": TRACEPARENT, "trace_id": "t"})
        assert {"trace_id": "t", "span_id": "00f067aa0ba902b7"} == columns(event)

    @pytest.mark.parametrize(
        "value", ["00-xyz-00f067aa0ba902b7-01", TRACEPARENT.replace("-", "_"), TRACEPARENT[:-1]]
    )
    def test_malformed_traceparent_stays_in_attrs(self, value):
        """A traceparent of the wrong shape fills nothing."""
        event = normalize({"traceparent": value})
        assert ({}, {"traceparent": value}) == (columns(event), event["attrs"])

    def test_empty_id_stays_in_attrs(self):
        """An empty string is not an id."""
        event = normalize({"request_id": ""})
        assert (None, {"request_id": ""}) == (event["request_id"], event["attrs"])

    # --- duration ---

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("12ms", 12.0),
            ("1.5s", 1500.0),
            ("250µs", 0.25),
            ("250μs", 0.25),
            ("250us", 0.25),
            ("1500ns", 0.0015),
            ("3m", 180_000.0),
            ("1m2.5s", 62_500.0),
            ("1h", 3_600_000.0),
            ("12 ms", 12.0),
            ("12.5", 12.5),
        ],
    )
    def test_duration_strings_with_units(self, value, expected):
        """Units in the string decide the scale; Go's compound form adds up."""
        assert expected == pytest.approx(normalize({"duration": value})["duration_ms"])

    def test_ecs_nanoseconds_convert_without_float_noise(self):
        """event.duration 1727390100 ns is exactly 1727.3901 ms, not 1727.3900999999998."""
        assert 1727.3901 == normalize({"event": {"duration": 1_727_390_100}})["duration_ms"]

    def test_bare_duration_number_is_milliseconds(self):
        """A bare "duration" number is taken as ms (Caddy's seconds need an alias, below)."""
        assert 0.25 == normalize({"duration": 0.25})["duration_ms"]

    def test_caddy_duration_in_seconds_by_alias(self):
        """`duration_s = ["duration"]` in [aliases] reads "duration" as seconds."""
        assert 250.0 == normalize({"duration": 0.25}, duration_s=["duration"])["duration_ms"]

    def test_unit_in_string_beats_the_alias_unit(self):
        """ "duration_s": "250ms" is 250 ms, not 250 s."""
        assert 250.0 == normalize({"duration_s": "250ms"})["duration_ms"]

    @pytest.mark.parametrize(
        "value", [math.nan, math.inf, -5, True, "fast", "5 parsecs", "-3ms", 10**30, [1], {}]
    )
    def test_invalid_duration_stays_in_attrs(self, value):
        """NaN, infinity, negatives, bools, words and huge ints are not durations."""
        event = normalize({"duration_ms": value})
        assert None is event["duration_ms"]
        assert ["duration_ms"] == list(event["attrs"])

    def test_seconds_too_large_for_milliseconds_stay_in_attrs(self):
        """A finite number of seconds whose milliseconds overflow to infinity is rejected."""
        assert None is normalize({"duration_s": 1e308})["duration_ms"]

    # --- status ---

    def test_status_numeric_string(self):
        """ "200" is the status code 200."""
        event = normalize({"status": "200"})
        assert (200, {}) == (event["status_code"], event["attrs"])

    @pytest.mark.parametrize("value", ["ok", "failed", "abc", "2xx", 99, 600, 200.5, True, None])
    def test_status_words_and_out_of_range_stay_in_attrs(self, value):
        """Words, numbers outside 100..599 and bools are not status codes."""
        event = normalize({"status": value})
        assert (None, {"status": value}) == (event["status_code"], event["attrs"])

    def test_ecs_response_status_code(self):
        """ECS's http.response.status_code three levels deep is the status."""
        event = normalize({"http": {"response": {"status_code": 503, "bytes": 10}}})
        expected = (503, {"http": {"response": {"bytes": 10}}})
        assert expected == (event["status_code"], event["attrs"])

    # --- http ---

    def test_method_is_upper_cased(self):
        """ "get" is stored as GET."""
        assert "GET" == normalize({"method": "get"})["http_method"]

    def test_non_http_method_stays_in_attrs(self):
        """A gRPC method name is not an HTTP verb."""
        event = normalize({"method": "svc.Users/Get"})
        assert (None, {"method": "svc.Users/Get"}) == (event["http_method"], event["attrs"])

    def test_path_query_string_is_stripped_and_original_kept(self):
        """The column drops the query string; the original stays in attrs."""
        event = normalize({"path": "/items?page=2"})
        assert ("/items", {"path": "/items?page=2"}) == (event["path"], event["attrs"])

    def test_full_url_gives_its_path(self):
        """A full URL under a path alias keeps only the path."""
        event = normalize({"request": {"uri": "https://example.com/a/b?x=1"}})
        assert "/a/b" == event["path"]

    # --- llm ---

    def test_nested_usage_leaves_are_consumed_and_parent_dropped(self):
        """usage.prompt_tokens and usage.completion_tokens empty "usage", which then goes."""
        event = normalize({"usage": {"prompt_tokens": 5, "completion_tokens": 7}})
        assert (5, 7, {}) == (event["input_tokens"], event["output_tokens"], event["attrs"])

    def test_emptied_inner_dict_goes_and_its_parent_keeps_siblings(self):
        """Consuming the only leaf of http.request drops "request" but keeps the rest of "http"."""
        record = {"http": {"request": {"method": "GET"}, "response": {"status_code": 200}, "v": 2}}
        assert {"http": {"v": 2}} == normalize(record)["attrs"]

    def test_nested_dicts_of_the_caller_are_not_mutated(self):
        """Consuming a nested leaf copies its parent instead of editing the caller's dict."""
        usage = {"prompt_tokens": 5, "total_tokens": 12}
        event = normalize({"usage": usage})
        expected = ({"prompt_tokens": 5, "total_tokens": 12}, {"usage": {"total_tokens": 12}})
        assert expected == (usage, event["attrs"])

    @pytest.mark.parametrize("value", [2**63, -1, True, 1.5, "5k", "١٢"])
    def test_invalid_token_counts_stay_in_attrs(self, value):
        """Counts must be non-negative int64 integers (or their digits), not bools."""
        event = normalize({"input_tokens": value})
        assert (None, {"input_tokens": value}) == (event["input_tokens"], event["attrs"])

    def test_cost_from_numeric_string(self):
        """ "0.5" is a cost of 0.5."""
        assert 0.5 == normalize({"cost": "0.5"})["cost_usd"]

    @pytest.mark.parametrize("value", [math.nan, -math.inf, -0.5, False, "free"])
    def test_invalid_cost_stays_in_attrs(self, value):
        """NaN, infinity, negative costs, bools and words stay in attrs."""
        assert ["cost_usd"] == list(normalize({"cost_usd": value})["attrs"])

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (True, True),
            (False, False),
            ("hit", True),
            ("MISS", False),
            ("true", True),
            ("False", False),
            (1, True),
            (0, False),
            ("1", True),
        ],
    )
    def test_cache_hit_forms(self, value, expected):
        """Bools, hit/miss, true/false and 1/0 are cache hits or misses."""
        assert expected is normalize({"cache_hit": value})["cache_hit"]

    def test_cache_word(self):
        """ "cache": "miss" is a miss."""
        assert False is normalize({"cache": "miss"})["cache_hit"]

    def test_cache_that_is_not_hit_or_miss_stays_in_attrs(self):
        """ "cache": "redis" names a cache, not a result."""
        event = normalize({"cache": "redis", "cached": 2})
        assert (None, {"cache": "redis", "cached": 2}) == (event["cache_hit"], event["attrs"])

    # --- wrong types ---

    def test_wrong_types_stay_in_attrs(self):
        """Values of the wrong type leave their column None and stay under their key."""
        record = {
            "status_code": "abc",
            "trace_id": {"id": 1},
            "user_id": 1.5,
            "service": ["a"],
            "host": None,
            "level": True,
            "timestamp": False,
        }
        event = normalize(dict(record))
        assert ({}, record) == (columns(event), event["attrs"])

    # --- configured aliases ---

    def test_configured_alias_is_used(self):
        """[aliases] trace_id = ["x_trace"] reads x_trace as the trace id."""
        event = normalize({"x_trace": "abc"}, trace_id=["x_trace"])
        assert ("abc", {}) == (event["trace_id"], event["attrs"])

    def test_configured_alias_ranks_before_builtin(self):
        """User aliases are tried before the built-in ones."""
        event = normalize({"trace_id": "builtin", "x_trace": "mine"}, trace_id=["x_trace"])
        assert ("mine", {"trace_id": "builtin"}) == (event["trace_id"], event["attrs"])

    def test_configured_alias_takes_the_key_from_other_columns(self):
        """service = ["name"] makes "name" the service, no longer the logger."""
        event = normalize({"name": "billing"}, service=["name"])
        assert ("billing", None) == (event["service"], event["logger"])

    def test_configured_dotted_alias_matches_nested(self):
        """A dotted user alias reaches into nested dicts too."""
        event = normalize({"ctx": {"tenant": {"user": "u9"}}}, user_id=["ctx.tenant.user"])
        assert ("u9", {}) == (event["user_id"], event["attrs"])

    def test_configured_alias_as_single_string(self):
        """A single name instead of a list is accepted."""
        assert "abc" == Normalizer({"trace_id": "x_trace"})({"x_trace": "abc"})["trace_id"]

    def test_unknown_alias_column_is_a_config_error(self):
        """A misspelt column in [aliases] is reported with the valid names."""
        with pytest.raises(ConfigError) as caught:
            Normalizer({"trace": ["x"]})
        assert str(caught.value).startswith("[aliases] has no column 'trace'; use one of: batch_id")

    def test_empty_alias_name_is_a_config_error(self):
        """An empty field name in [aliases] is refused."""
        with pytest.raises(ConfigError) as caught:
            Normalizer({"trace_id": [""]})
        assert "[aliases] trace_id must be a list of non-empty field names" == str(caught.value)

    # --- nothing raises, nothing dropped ---

    @settings(max_examples=200, deadline=None)
    @given(records)
    def test_never_raises_and_drops_nothing(self, record):
        """For any JSON-like record every top-level key ends up in attrs or in a column."""
        before = repr(record)
        event = SHARED(dict(record))
        attrs, filled = event["attrs"], columns(event)
        removed = [key for key in record if key not in attrs]
        # Only alias keys (or parents of dotted ones) go, and each fed at least one column.
        assert set() == set(removed) - TOP_LEVEL_ALIAS_KEYS
        assert len(removed) <= len(filled)
        # What stays is what was there; only dicts that gave up a nested leaf differ.
        assert set() == set(attrs) - set(record)
        assert all(attrs[k] == as_stored(record[k]) for k in attrs if type(record[k]) is not dict)
        # The caller's nested dicts were not edited.
        assert before == repr(record)

    @settings(max_examples=200, deadline=None)
    @given(records)
    def test_columns_have_their_types(self, record):
        """Filled columns hold the documented types: int64 ints, finite floats, bools, strings."""
        filled = columns(Normalizer()(record))
        assert {} == {k: v for k, v in filled.items() if type(v) is not COLUMN_TYPES.get(k, str)}
        ints = [v for v in filled.values() if type(v) is int]
        floats = [v for v in filled.values() if type(v) is float]
        assert all(-(2**63) <= v < 2**63 for v in ints) and all(map(math.isfinite, floats))
