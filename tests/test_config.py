"""logkit.toml's `[ingest]` and `[metrics]` settings are checked where the file is read: a
wrong type or an impossible value is a ConfigError naming the setting, never a traceback in
the middle of an ingest or an export, nor a run that silently reads nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from logkit.config import IngestSettings, load_config
from logkit.errors import ConfigError

from .helpers import run_logkit


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logkit.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[ingest]\nmax_line_bytes = "big"', "max_line_bytes must be a whole number, not 'big'"),
        ("[ingest]\nbatch_bytes = 0", "batch_bytes must be at least 1, not 0"),
        ("[ingest]\nbatch_bytes = true", "batch_bytes must be a whole number, not True"),
        ("[ingest]\nmax_line_bytes = -5", "max_line_bytes must be at least 1, not -5"),
        ("[ingest]\nformats_dir = 3", "formats_dir must be text, not 3"),
        ("[ingest]\nbatch = 1", "[ingest] unknown setting(s) batch; expected batch_bytes,"),
        ("ingest = 3", "[ingest] is a table of settings, not 3"),
        ('[metrics]\nmax_series = "x"', "max_series must be a whole number, not 'x'"),
        ("[metrics]\nmax_series = 0", "max_series must be at least 1, not 0"),
        ("[metrics]\nseries = 5", "[metrics] unknown setting(s) series; expected max_series"),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_it(tmp_path, text, message):
    with pytest.raises(ConfigError) as raised:
        load_config(config(tmp_path, text))
    assert message in str(raised.value)


def test_good_settings_are_read(tmp_path):
    loaded = load_config(config(tmp_path, (
        '[ingest]\nmax_line_bytes = 1000\nbatch_bytes = 65536\nworkers = 4\nformats_dir = "f"\n'
        "[metrics]\nmax_series = 10\n"
    )))  # fmt: skip
    assert IngestSettings(1000, 4, 65536, "f") == loaded.ingest
    assert 10 == loaded.max_series


def test_the_cli_says_so_and_stores_nothing(tmp_path):
    log = tmp_path / "app.log"
    log.write_text('{"message": "hi"}\n')
    cfg = config(tmp_path, "[ingest]\nbatch_bytes = 0\n")
    db = tmp_path / "logkit.duckdb"
    proc = run_logkit("--config", str(cfg), "ingest", str(log), db=db, check=False)
    assert 1 == proc.returncode
    assert f"Error: {cfg}: [ingest] batch_bytes must be at least 1, not 0\n" == proc.stderr.decode()
