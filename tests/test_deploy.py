"""What ships in deploy/: alert rules, their unit tests, the dashboard, cron and systemd units.

The rules and the dashboard's queries are checked by the real promtool, and every metric they
name must be one logkit exports, so a renamed metric cannot leave a silent alert behind.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from logkit.export.definitions import BUILTINS, load_definitions

from .metrics_fixtures import FIXTURE, binary, needs, parse, write_log

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
RULES = DEPLOY / "logkit-alerts.yml"
RULE_TESTS = DEPLOY / "logkit-alerts.test.yml"
DASHBOARD = DEPLOY / "grafana-dashboard.json"

needs_promtool = needs("promtool")


def promtool(*args: str, cwd: Path = DEPLOY) -> tuple[int, str]:
    proc = subprocess.run(
        [str(binary("promtool")), *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )
    return proc.returncode, proc.stdout + proc.stderr


def exported_names() -> set[str]:
    """Every series name logkit writes, histogram parts included."""
    names = set()
    for definition in [*load_definitions(), *BUILTINS]:
        if definition.type == "histogram":
            names |= {definition.name + part for part in ("_bucket", "_count", "_sum")}
        else:
            names.add(definition.name)
    return names


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def as_promql(expr: str) -> str:
    """A dashboard query with Grafana's variables filled in."""
    return (
        expr.replace("$__rate_interval", "5m").replace("$instance", ".*").replace("$service", ".*")
    )


class TestAlertRules:
    @needs_promtool
    def test_rules_pass_promtool_check_rules(self) -> None:
        assert (0, "Checking logkit-alerts.yml\n  SUCCESS: 8 rules found\n\n") == promtool(
            "check", "rules", RULES.name
        )

    @needs_promtool
    def test_rules_pass_their_unit_tests(self) -> None:
        """`promtool test rules`: each alert fires on its scenario and not on the healthy one."""
        assert (0, "Unit Testing:  logkit-alerts.test.yml\n  SUCCESS\n\n") == promtool(
            "test", "rules", RULE_TESTS.name
        )

    def test_every_alert_has_a_unit_test(self) -> None:
        alerts = set(re.findall(r"- alert: (\w+)", RULES.read_text()))
        tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
        assert alerts == tested

    def test_rules_only_name_metrics_logkit_exports(self) -> None:
        used = set(re.findall(r"\blogkit_[a-z_]+", RULES.read_text()))
        assert set() == used - exported_names()


class TestDashboard:
    def test_dashboard_only_names_metrics_logkit_exports(self) -> None:
        used = {m for q in dashboard_queries() for m in re.findall(r"\blogkit_[a-z_]+", q)}
        assert set() == used - exported_names()

    def test_dashboard_draws_what_the_operator_asked_for(self) -> None:
        """Request and error rate, p50/p95/p99, tokens and cost, cache hit rate, health."""
        text = "\n".join(dashboard_queries())
        wanted = [
            "rate(logkit_http_requests_total",
            'status_code=~"5.."',
            "histogram_quantile(0.5,",
            "histogram_quantile(0.95,",
            "histogram_quantile(0.99,",
            "logkit_llm_tokens_total",
            "logkit_llm_cost_usd_total",
            'result="hit"',
            "logkit_last_run_timestamp_seconds",
            "logkit_ingest_rejected_lines_total",
        ]
        assert [] == [w for w in wanted if w not in text]

    @needs_promtool
    def test_dashboard_queries_are_valid_promql(self, tmp_path: Path) -> None:
        """Each query, as recording rule, passes promtool's parser."""
        rules = {
            "groups": [
                {
                    "name": "dashboard",
                    "rules": [
                        {"record": f"dashboard:query{i}", "expr": as_promql(q)}
                        for i, q in enumerate(dashboard_queries())
                    ],
                }
            ]
        }
        (tmp_path / "dashboard.yml").write_text(json.dumps(rules))  # JSON is YAML
        code, output = promtool("check", "rules", "dashboard.yml", cwd=tmp_path)
        assert (0, f"  SUCCESS: {len(dashboard_queries())} rules found") == (
            code,
            output.splitlines()[1],
        )


class TestSchedulers:
    def test_cron_line_writes_the_metrics(self, tmp_path: Path) -> None:
        """The command in deploy/logkit.cron, with its paths moved under tmp_path, works."""
        line = next(
            x for x in (DEPLOY / "logkit.cron").read_text().splitlines() if x.startswith("* ")
        )
        fields = line.split(None, 6)
        assert ["*"] * 5 + ["logkit"] == fields[:6]  # every minute, as user logkit
        command = (
            fields[6]
            .replace("/var/log/app", str(tmp_path / "log"))
            .replace("/var/lib/prometheus/node-exporter", str(tmp_path))
        )
        write_log(tmp_path / "log" / "app.log", FIXTURE)
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "LOGKIT_DB": str(tmp_path / "logkit.duckdb"),
        }
        env.pop("LOGKIT_CONFIG", None)
        proc = subprocess.run(
            command, shell=True, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )
        samples = parse((tmp_path / "logkit.prom").read_text())
        assert (0, "", 10.0) == (proc.returncode, proc.stderr, samples["logkit_store_events"])

    @needs("systemd-analyze")
    def test_systemd_units_pass_systemd_analyze_verify(self, tmp_path: Path) -> None:
        analyze = str(binary("systemd-analyze"))
        service = (DEPLOY / "logkit-export.service").read_text()
        exec_start = next(x for x in service.splitlines() if x.startswith("ExecStart="))
        argv = shlex.split(exec_start.removeprefix("ExecStart="))
        assert ["export", "--ingest", "/var/log/app/*.log", "--textfile"] == argv[1:5]
        # verify wants the program to exist; the units are otherwise checked as shipped.
        (tmp_path / "logkit-export.service").write_text(
            service.replace("/usr/local/bin/logkit", "/bin/true")
        )
        (tmp_path / "logkit-export.timer").write_text((DEPLOY / "logkit-export.timer").read_text())
        proc = subprocess.run(
            [analyze, "verify", "logkit-export.service", "logkit-export.timer"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert (0, "") == (proc.returncode, proc.stderr)
