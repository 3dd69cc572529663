"""What a run simulates: the services, the files they write, the time span and the incident.

A run of `lines` lines spans about max(1 hour, lines / 100 seconds) from `DEFAULT_START` (or
the start given), and its 10-minute incident begins at 60 % of that span.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 11, 1, tzinfo=UTC)
SERVICES = ("api", "worker", "llm-gateway", "billing")

INCIDENT_SERVICE = "llm-gateway"
INCIDENT_ERROR = "RateLimitError"
INCIDENT_MODEL = "gpt-4o"


# Lines written per request, measured: sets the arrival rate so a run spans the time promised.
LINES_PER_REQUEST = 5.1


def output_names(files: int, *, gzip: bool = False) -> list[str]:
    """Names of the files `generate` writes, in order.

    Up to four files hold the services round-robin (three files put billing into ``api.log``);
    more files add replicas (``api-1.log``, ``worker-1.log``, ...).
    """
    if files < 1:
        raise ValueError(f"files must be at least 1, got {files}")
    suffix = ".log.gz" if gzip else ".log"
    names = []
    for k in range(files):
        replica = k // len(SERVICES)
        names.append(f"{SERVICES[k % len(SERVICES)]}{f'-{replica}' if replica else ''}{suffix}")
    return names


def span_seconds(lines: int) -> int:
    return max(3600, lines // 100)


def incident_window(lines: int, *, start: datetime | None = None) -> tuple[datetime, datetime]:
    """The [begin, end) of the rate-limit incident in a run of `lines` lines.

    It begins at 60 % of the simulated span, on a whole minute, and lasts ten minutes. In it the
    llm-gateway fails most gpt-4o calls with RateLimitError and the api answers 503 slowly.

    Examples:
        >>> [moment.isoformat() for moment in incident_window(3000)]
        ['2026-11-01T00:36:00+00:00', '2026-11-01T00:46:00+00:00']
    """
    begin = start or DEFAULT_START
    offset = round(span_seconds(lines) * 0.6 / 60) * 60
    return begin + timedelta(seconds=offset), begin + timedelta(seconds=offset + 600)
