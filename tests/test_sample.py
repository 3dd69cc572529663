"""The sample log generator and the committed sample_logs/ it feeds.

`generate` must be deterministic to the byte, exact in its line count, and realistic in the
ways the rest of logkit relies on: JSON objects, traces that cross services, an incident,
planted secrets, and broken lines only when asked for. The committed samples must be what
`sample_logs/make_samples.py` writes today.
"""

from __future__ import annotations

import gzip
import importlib.util
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from logkit.sample import (
    CANARIES,
    INCIDENT_ERROR,
    INCIDENT_MODEL,
    INCIDENT_SERVICE,
    generate,
    incident_window,
    output_names,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def records(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Every record of every file, by file name."""
    return {path.name: [orjson.loads(line) for line in read(path).splitlines()] for path in paths}


def moment(record: dict[str, Any]) -> float:
    """Epoch seconds of a record, in whichever dialect its service writes."""
    for key in ("timestamp", "@timestamp"):
        if key in record:
            return datetime.fromisoformat(record[key]).timestamp()
    return record["ts"] if "ts" in record else record["time"] / 1000


def trace_of(record: dict[str, Any]) -> str | None:
    for key in ("trace_id", "correlation_id", "traceId"):
        if key in record:
            return record[key]
    return record["traceparent"].split("-")[1] if "traceparent" in record else None


def service_of(record: dict[str, Any]) -> str:
    if "@timestamp" in record:
        return "llm-gateway"
    if "ts" in record:
        return "worker"
    return "billing" if "time" in record else "api"


def is_malformed(line: bytes) -> bool:
    try:
        return not isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return True


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One ordinary run with each service in its own file, shared by the read-only tests."""
    return generate(tmp_path_factory.mktemp("run"), lines=20_000, seed=3, files=4)


class TestDeterminism:
    def test_same_arguments_write_identical_bytes(self, tmp_path: Path):
        """Twice the same call: the same files, byte for byte."""
        first = generate(tmp_path / "a", lines=5000, seed=7, malformed=0.01)
        second = generate(tmp_path / "b", lines=5000, seed=7, malformed=0.01)
        assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]

    def test_gzip_output_is_identical_too(self, tmp_path: Path):
        """The gzip header carries no time or directory, so compressed files repeat as well."""
        first = generate(tmp_path / "a", lines=2000, gzip=True)
        second = generate(tmp_path / "b", lines=2000, gzip=True)
        assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]

    def test_another_seed_writes_other_lines(self, tmp_path: Path):
        """The seed changes the content, not the shape."""
        first = generate(tmp_path / "a", lines=2000, seed=1)
        second = generate(tmp_path / "b", lines=2000, seed=2)
        assert [p.name for p in first] == [p.name for p in second]
        assert [p.read_bytes() for p in first] != [p.read_bytes() for p in second]

    def test_start_moves_the_whole_run(self, tmp_path: Path):
        """Traffic begins at `start`, not at the default date and never at now()."""
        start = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
        (api, *_) = generate(tmp_path, lines=500, start=start)
        first = orjson.loads(api.read_bytes().splitlines()[0])
        assert 0 <= moment(first) - start.timestamp() < 600


class TestShape:
    @pytest.mark.parametrize(
        ("lines", "files"), [(0, 3), (1, 3), (7, 1), (999, 2), (5000, 6), (70_000, 2)]
    )
    def test_writes_exactly_the_lines_asked_for(self, tmp_path: Path, lines: int, files: int):
        """However the last request is cut short, the total is exactly `lines`."""
        paths = generate(tmp_path, lines=lines, files=files)
        assert lines == sum(p.read_bytes().count(b"\n") for p in paths)

    def test_every_line_is_a_json_object(self, run: list[Path]):
        """Without `malformed`, every line parses (with orjson) to an object."""
        bad = [line for p in run for line in p.read_bytes().splitlines() if is_malformed(line)]
        assert [] == bad

    def test_files_are_named_after_services_then_replicas(self):
        """Three files put billing with the api; more than four add replicas."""
        assert ["api.log", "worker.log", "llm-gateway.log"] == output_names(3)
        assert ["api.log.gz", "worker.log.gz"] == output_names(2, gzip=True)
        assert ["billing.log", "api-1.log"] == output_names(6)[3:5]

    def test_each_file_holds_the_services_its_name_says(self, run: list[Path]):
        """With four files, each service writes its own file, in its own dialect."""
        services = {name: {service_of(r) for r in rs} for name, rs in records(run).items()}
        expected = {"api.log": {"api"}, "worker.log": {"worker"}}
        expected |= {"llm-gateway.log": {"llm-gateway"}, "billing.log": {"billing"}}
        assert expected == services

    def test_each_file_is_in_time_order(self, run: list[Path]):
        """Lines are sorted by time within a file, as a running service writes them."""
        for rs in records(run).values():
            times = [moment(r) for r in rs]
            assert times == sorted(times)

    def test_gzip_holds_the_plain_lines(self, tmp_path: Path):
        """gzip=True compresses (magic bytes 1f 8b) the very lines gzip=False writes."""
        plain = generate(tmp_path / "plain", lines=3000, seed=5)
        packed = generate(tmp_path / "packed", lines=3000, seed=5, gzip=True)
        assert [b"\x1f\x8b"] * 3 == [p.read_bytes()[:2] for p in packed]
        assert [p.read_bytes() for p in plain] == [gzip.decompress(p.read_bytes()) for p in packed]

    def test_bad_arguments_are_refused(self, tmp_path: Path):
        """Negative lines, no files, or a fraction outside [0, 1] raise ValueError."""
        for bad in ({"lines": -1}, {"lines": 10, "files": 0}, {"lines": 10, "malformed": 1.5}):
            with pytest.raises(ValueError):
                generate(tmp_path, **bad)


class TestRealism:
    def test_traces_cross_services(self, run: list[Path]):
        """Most api requests' trace ids show up in other services too; some in all four."""
        services_by_trace: dict[str, set[str]] = {}
        for rs in records(run).values():
            for r in rs:
                if trace_of(r):
                    services_by_trace.setdefault(trace_of(r), set()).add(service_of(r))
        spans = Counter(len(services) for services in services_by_trace.values())
        assert spans[2] + spans[3] + spans[4] > sum(spans.values()) / 2
        assert spans[4] > 100

    def test_llm_calls_carry_model_tokens_and_cost(self, run: list[Path]):
        """Successful completions name a model and report usage (either spelling) and cost."""
        done = [r for r in records(run)["llm-gateway.log"] if r["message"] == "completion finished"]
        assert {"gpt-4o", "claude-sonnet", "llama-3-70b"} == {r["model"] for r in done}
        spellings = {tuple(sorted(r["usage"])) for r in done}
        assert ("input_tokens", "output_tokens") in spellings
        assert ("completion_tokens", "prompt_tokens", "total_tokens") in spellings
        assert all(r["cost_usd"] > 0 for r in done)

    def test_cache_hits_and_misses_are_logged(self, run: list[Path]):
        """The api logs both outcomes of its cache lookups."""
        api = records(run)["api.log"]
        assert {True, False} == {r["cache_hit"] for r in api if "cache_hit" in r}

    def test_errors_are_a_few_percent_of_lines(self, run: list[Path]):
        """Error lines are rare but present: between 1 and 3 % of the lines."""
        errors = sum(
            1
            for rs in records(run).values()
            for r in rs
            if r.get("level") in ("error", 50)
            or r.get("severity") == "ERROR"
            or r.get("log", {}).get("level") == "error"
        )
        assert 0.01 < errors / 20_000 < 0.03

    def test_incident_is_a_burst_of_rate_limits(self, run: list[Path]):
        """Inside the incident window the gateway fails gpt-4o with RateLimitError, far more
        often than in the rest of the run, and the api answers 503."""
        begin, end = (edge.timestamp() for edge in incident_window(20_000))
        failures = [
            r
            for r in records(run)[f"{INCIDENT_SERVICE}.log"]
            if r.get("error", {}).get("type") == INCIDENT_ERROR
        ]
        inside = Counter(r["model"] for r in failures if begin <= moment(r) < end)
        # The window is a sixth of the hour the run spans, yet holds most failures.
        assert inside.most_common(1)[0][0] == INCIDENT_MODEL
        assert sum(inside.values()) > 0.8 * len(failures)
        api_503 = [r for r in records(run)["api.log"] if r.get("status_code") == 503]
        assert sum(begin <= moment(r) < end for r in api_503) > 0.8 * len(api_503)

    def test_secrets_are_planted_in_about_one_and_a_half_percent_of_lines(self, run: list[Path]):
        """Enough fake secrets for masking to have work, every canary among them."""
        text = [line for p in run for line in p.read_bytes().splitlines()]
        carrying = [line for line in text if any(c.encode() in line for c in CANARIES)]
        assert 0.008 < len(carrying) / len(text) < 0.025
        joined = b"\n".join(carrying)
        assert [] == [c for c in CANARIES if c.encode() not in joined]

    def test_no_secrets_when_asked(self, tmp_path: Path):
        """secrets=False plants none of the canaries."""
        paths = generate(tmp_path, lines=5000, secrets=False)
        text = b"".join(p.read_bytes() for p in paths)
        assert [] == [c for c in CANARIES if c.encode() in text]


class TestMalformed:
    def test_fraction_is_roughly_honoured(self, tmp_path: Path):
        """malformed=0.05 breaks about 5 % of the lines."""
        paths = generate(tmp_path, lines=20_000, malformed=0.05)
        lines = [line for p in paths for line in p.read_bytes().split(b"\n")[:-1]]
        assert 0.04 < sum(map(is_malformed, lines)) / len(lines) < 0.06

    def test_only_the_broken_lines_change(self, tmp_path: Path):
        """Switching malformed lines on replaces lines; it does not reshuffle the others."""
        clean = generate(tmp_path / "clean", lines=5000, seed=9)
        broken = generate(tmp_path / "broken", lines=5000, seed=9, malformed=0.02)
        changed = bad = 0
        for before, after in zip(clean, broken, strict=True):
            old, new = before.read_bytes().split(b"\n"), after.read_bytes().split(b"\n")
            assert len(old) == len(new)
            changed += sum(a != b for a, b in zip(old, new, strict=True))
            bad += sum(map(is_malformed, new[:-1]))
        assert changed == bad > 0

    def test_every_kind_is_really_broken(self, tmp_path: Path):
        """With malformed=1.0 no line is a JSON object, whichever kind it got."""
        paths = generate(tmp_path, lines=3000, malformed=1.0)
        lines = [line for p in paths for line in p.read_bytes().split(b"\n")[:-1]]
        assert 3000 == len(lines)
        assert all(map(is_malformed, lines))


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestSampleLogs:
    def test_committed_samples_are_what_make_samples_writes(self, tmp_path: Path):
        """Regenerating changes nothing (gzip files compared decompressed: zlib may differ)."""
        written = _make_samples().build(tmp_path)
        for name in written:
            assert read(tmp_path / name) == read(SAMPLES / name), name

    def test_samples_are_small(self):
        """Well under a megabyte, committed files and all."""
        assert sum(p.stat().st_size for p in SAMPLES.iterdir() if p.is_file()) < 800_000

    def test_readme_names_the_trace_and_the_incident(self):
        """The documented trace exists in four services, and the documented incident window,
        service and error type are the ones the generator used."""
        make_samples = _make_samples()
        readme = (SAMPLES / "README.md").read_text()
        begin, end = (
            edge.strftime("%Y-%m-%dT%H:%M:%SZ") for edge in incident_window(make_samples.LINES)
        )
        for fact in (make_samples.TRACE, begin, end, INCIDENT_SERVICE, INCIDENT_ERROR):
            assert fact in readme
        logs = [SAMPLES / name for name in make_samples.LOG_FILES]
        services = {
            service_of(r)
            for rs in records(logs).values()
            for r in rs
            if trace_of(r) == make_samples.TRACE
        }
        assert {"api", "worker", "llm-gateway", "billing"} == services

    def test_every_canary_is_listed_and_planted(self):
        """CANARIES.txt lists the generator's canaries and the malformed.log ones, and each
        occurs in some sample file (so a masking test cannot pass vacuously)."""
        listed = (SAMPLES / "CANARIES.txt").read_text().splitlines()
        assert set(CANARIES) < set(listed)
        names = [*_make_samples().LOG_FILES, "malformed.log"]
        text = b"".join(read(SAMPLES / name) for name in names)
        assert [] == [c for c in listed if c.encode() not in text]

    def test_malformed_log_has_every_kind_it_documents(self):
        """At least ten kinds, one line per table row, the last line without a newline."""
        make_samples = _make_samples()
        data = (SAMPLES / "malformed.log").read_bytes()
        assert len(make_samples.MALFORMED) >= 10
        expected_lines = sum(len(group) for _, _, group in make_samples.MALFORMED)
        assert expected_lines == len(data.split(b"\n"))
        assert not data.endswith(b"\n")
        assert data.startswith(b"\xef\xbb\xbf")
