"""OTLP/JSON as the OTel Python project's file exporter writes it
(opentelemetry-exporter-otlp-json-file: FileLogExporter to stdout). A BatchLogRecordProcessor
hands it the records in batches, so one line (one ExportLogsServiceRequest) holds several
records; the batch is flushed at shutdown."""

import sys

from _otel import run
from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

run(FileLogExporter(stream=sys.stdout), BatchLogRecordProcessor)
