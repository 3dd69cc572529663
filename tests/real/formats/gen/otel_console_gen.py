"""The OTel Python SDK's ConsoleLogRecordExporter, one record per line: the exporter's documented
`formatter` hook with the record's own to_json(indent=None) (its default is indent=4, which
spreads a record over many lines)."""

import os

from _otel import run
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter

run(ConsoleLogRecordExporter(formatter=lambda record: record.to_json(indent=None) + os.linesep))
