"""The values the query options take: the CLI builds its choices from these."""

from __future__ import annotations

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ERRORS_BY = ("type", "service", "fingerprint", "endpoint")
STATS_BY = ("service", "path", "job_type", "model")
