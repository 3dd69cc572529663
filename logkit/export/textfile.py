"""The exposition: a prometheus_client collector over the store's metrics, and the textfile.

**The file** is written whole or not at all: a temp file in the same directory (a dot name
without `.prom`, which node_exporter ignores), fsync, chmod 0644, rename, fsync of the
directory. There are no timestamps in the exposition: node_exporter refuses files with them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import durable
from ..errors import LogkitError
from .totals import Family, le

# -- exposition --------------------------------------------------------------------------------


class StoreCollector:
    """A prometheus_client collector over one snapshot of the store's metrics.

    The snapshot is taken inside the export's transaction (`MetricSet.families`); collecting
    from it needs no connection, so the registry can render it after the store is released.
    """

    def __init__(self, families: Sequence[Family]) -> None:
        self.families = families

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        kinds = {
            "counter": CounterMetricFamily,
            "gauge": GaugeMetricFamily,
            "histogram": HistogramMetricFamily,
        }
        for family in self.families:
            metric = kinds[family.type](family.name, family.help, labels=list(family.labels))
            for values in sorted(family.samples):
                sample = family.samples[values]
                if family.type == "histogram":
                    counts, count, total = sample
                    buckets = [(le(b), c) for b, c in zip(family.buckets, counts, strict=True)]
                    metric.add_metric(list(values), [*buckets, ("+Inf", count)], sum_value=total)
                else:
                    metric.add_metric(list(values), sample)
            yield metric


def exposition(families: Sequence[Family]) -> str:
    """The Prometheus text format (0.0.4) for `families`, from a private registry."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(families))
    return generate_latest(registry).decode("utf-8")


def write_textfile(path: str | os.PathLike[str], text: str) -> Path:
    """Replace `path` with `text` atomically: readers see the old file or the new, whole."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise LogkitError(
            f"cannot write {target}: directory {directory} does not exist (create it, or point"
            " --textfile at node_exporter's --collector.textfile.directory)"
        )
    import tempfile  # here, not at the top: every command imports this module (engine.py)

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise LogkitError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            # Readable by node_exporter's user whatever the umask (logkit writes under 077).
            os.fchmod(fh.fileno(), 0o644)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise LogkitError(f"cannot write {target}: {exc.strerror}") from exc
    with contextlib.suppress(OSError):
        durable.fsync(directory, directory=True)
    return target
