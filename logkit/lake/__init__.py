"""The Parquet log lake: `logkit archive` writes it, `--lake DIR` reads it beside the store.

One DuckDB file serves one machine. A lake is a directory of Parquet files that many hosts
write into (a shared or synced directory; object storage through the same layout) and that any
engine reads: DuckDB here, Spark for what no single machine should run (logkit/lake/spark.py).

    DIR/date=2026-11-01/service=api/host=web-1/part-web-1-20261108T031500Z-1a2b3c4d-00000.parquet
    DIR/_manifest/host=web-1/20261108T031500Z-1a2b3c4d.json

**Layout.** Hive partitions: the event's UTC date, its service, and the host that archived it
(`--host`, else this machine's name). As Hive expects, partition columns are not repeated in
the files, so the event's own `host` field (the machine that logged it, which need not be the
one that archived it) is stored as `event_host`. A null service is Hive's
`__HIVE_DEFAULT_PARTITION__`, and ASCII other than letters, digits, `.`, `_` and `-` is
percent-escaped, which DuckDB, Spark and Trino all decode. Files are zstd-compressed.

**Sort order.** Within a file, rows are sorted by `trace_key` (crc32 of the trace id, see
logkit/schema.py), then `ts`, in row groups of `ROW_GROUP_ROWS` rows. A trace lookup has no time
to narrow it, so it is the lookup that needs the row groups: sorted this way their trace_key
min/max ranges are disjoint, and a lookup reads one row group per file instead of every one. A
time lookup is narrowed by the date partition first (a day is a few files), which sorting
cannot improve on much. bench/lake.py, on 2M events over 30 days (120 files of ~17k rows): a
trace lookup read 120 of 180 row groups sorted this way, 180 of 180 sorted by `ts`; a
ten-minute window read 6 and 5. At the issue's 50M events from 3 hosts a file holds ~140k rows,
and one group of 16k a file is ~89 % of the row groups skipped.

**Writing is idempotent and crash-safe.** A batch is one run's events: those with
`ts < cutoff` the lake does not have yet. The store records the batch as 'writing' before any
file exists; each file is written under a dot name (which Spark, Hive and the `*.parquet` glob
ignore), checked, fsynced and renamed into place; the batch's manifest, written the same way,
is the lake's commit; then the store marks the batch 'archived'. A run killed before the
manifest leaves files the next run deletes (it finds them by batch id, which is in every file
name); killed after it, the next run completes the mark. Which events a batch took is kept as a
watermark, the cutoff and the store's next rowid: rows are only ever appended, so an event that
arrives later with an old timestamp has a higher rowid and goes with the next batch. A cutoff
never goes back.

**Pruning** (`--prune`) is retention's own: `retention.prune_before` folds every event into the
exported counters, moves what the deleted ones contributed to the 'pruned' part and deletes, so
every total stays put. The batch is marked 'pruned' in the same transaction as that delete.

**Many hosts.** Each host writes only under its own `host=` partitions and its own
`_manifest/host=NAME/`, and every file name carries the host and a batch id with 32 random bits,
so nothing one host writes can clash with another's.

**Reading.** With a lake, a store's read-only connection gets a TEMP VIEW named `events`
(DuckDB resolves temporary objects first) over the store's own events (less those an
unpruned batch copied) and the lake's files, so every query in logkit/query/ runs over
both unchanged. The files come from the manifests, not a glob, so a batch half written by a
killed run is never read. The lake side is one branch per ISO week of dates, each bounded by
constant times: for a query with `--since`/`--until` DuckDB drops the weeks outside the window
before opening a file (partition pruning on date), and within a week, the ts statistics skip
the other days' row groups. A branch per date would prune finer but cost ~8 ms a branch to
plan and run, which a trace lookup (no time to prune by) pays for every one: measured on 30
days, 354 ms per lookup with a branch per date against 124 ms with one per week, and a one-day
window took 42 ms against 59 ms. Within the files a lookup opens, the trace_key statistics skip
row groups.
"""
