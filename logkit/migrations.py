"""The store's schema, as a readable history of numbered migrations.

Each migration is a function `mNNN_what(con)` appended to `MIGRATIONS` in order; the number of
applied migrations is kept in `logkit_meta.schema_version`. Opening a store applies the ones it
lacks (so a store written by an older logkit opens with this one), and a store whose version is
higher than `len(MIGRATIONS)` was written by a newer logkit and is refused rather than misread.
Never edit a released migration: add a new one. (So the migrations' own statements stay here,
as they were released, and only the bookkeeping around them is in queries/store/.)
"""

from __future__ import annotations

from collections.abc import Callable

from . import tracespans
from .engine import duckdb
from .errors import NotAStore, StoreVersionError
from .schema import EVENT_COLUMNS, STREAM_COLUMN
from .sqlfiles import statement

Migration = Callable[[duckdb.DuckDBPyConnection], None]
MIGRATIONS: list[Migration] = []
migration = MIGRATIONS.append


@migration
def m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    columns = ",\n  ".join(f"{name} {type_}" for name, type_ in EVENT_COLUMNS)
    con.execute(f"CREATE TABLE events (\n  {columns}\n)")
    con.execute(
        """
        CREATE TABLE rejects (
          source VARCHAR, line BIGINT, byte_offset BIGINT, reason VARCHAR, raw VARCHAR,
          ingested_at TIMESTAMPTZ DEFAULT now()
        )
        """
    )
    # One row per input stream logkit has read. A file is matched to its checkpoint by the
    # hashes of its first bytes and of the bytes just before `byte_offset`, so rotation (rename
    # or copytruncate), compression of a rotated file and inode reuse are all told apart.
    con.execute(
        """
        CREATE TABLE sources (
          id INTEGER PRIMARY KEY, path VARCHAR, dev UBIGINT, ino UBIGINT,
          head_len INTEGER, head_hash VARCHAR, tail_len INTEGER, tail_hash VARCHAR,
          byte_offset BIGINT, lines BIGINT, events BIGINT, rejects BIGINT,
          newest_ts TIMESTAMPTZ, first_seen TIMESTAMPTZ, updated_at TIMESTAMPTZ
        )
        """
    )
    # Totals since the store was created; only ever incremented, so they survive pruning.
    con.execute(
        "CREATE TABLE counters"
        " (name VARCHAR, label VARCHAR, value DOUBLE, PRIMARY KEY (name, label))"
    )
    con.execute(
        """
        CREATE TABLE runs (
          id INTEGER PRIMARY KEY, kind VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
          success BOOLEAN, lines BIGINT, events BIGINT, rejects BIGINT
        )
        """
    )


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    # Asked directly rather than through information_schema, which costs a query start-up
    # of its own on every `logkit trace`.
    try:
        rows = con.execute(statement("store/schema_version")).fetchall()
    except duckdb.CatalogException:
        return 0
    return int(rows[0][0]) if rows else 0


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables and views of the database itself (not of databases attached to it)."""
    rows = con.execute(statement("store/tables")).fetchall()
    return [name for (name,) in rows]


def _not_a_store(con: duckdb.DuckDBPyConnection, path: str) -> NotAStore:
    tables = _tables(con)
    if not tables:
        return NotAStore(
            f"{path} is not a logkit store (an empty DuckDB database): "
            "run 'logkit ingest PATH' into it first, or pass the --db of a store"
        )
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return NotAStore(
        f"{path} is not a logkit store (a DuckDB database with other tables: {shown}); "
        "logkit leaves it as it is: pass --db with a logkit store or a new file name"
    )


def check_version(con: duckdb.DuckDBPyConnection, path: str) -> int:
    """Refuse a store from a newer logkit, and a database logkit did not make (a reader must
    not turn it into a store); return how many migrations the store lacks."""
    version = schema_version(con)
    if version == 0:
        raise _not_a_store(con, path)
    if version > len(MIGRATIONS):
        raise StoreVersionError(
            f"{path} was written by a newer logkit (schema {version}, this logkit knows "
            f"{len(MIGRATIONS)}); upgrade logkit to read it"
        )
    return len(MIGRATIONS) - version


def migrate(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Apply every migration the store lacks, all in one transaction: an upgrade killed
    half-way leaves the store as it was, and a new store costs one commit, not one each.
    A database without logkit's tables becomes a store only when it is empty: logkit does not
    add its tables to someone else's."""
    if schema_version(con) == 0 and _tables(con):
        raise _not_a_store(con, path)
    lacking = check_version(con, path) if schema_version(con) else len(MIGRATIONS)
    if not lacking:
        return
    first = len(MIGRATIONS) - lacking
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS logkit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        for number in range(first, len(MIGRATIONS)):
            MIGRATIONS[number](con)
        con.execute(statement("store/set_schema_version"), {"v": len(MIGRATIONS)})
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@migration
def m002_metric_state(con: duckdb.DuckDBPyConnection) -> None:
    # The exported counters and histograms, folded in incrementally (see logkit/export/totals.py):
    # `part` is 'folded' for what the events still in the store contribute, 'pruned' for what
    # deleted events contributed, so a prune moves value between parts and the total stays put.
    con.execute(
        "CREATE TABLE metric_values (metric VARCHAR, labels VARCHAR, sample VARCHAR,"
        " part VARCHAR, value DECIMAL(38, 9) NOT NULL,"
        " PRIMARY KEY (metric, labels, sample, part))"
    )
    # How far each definition has folded: events with rowid < next_rowid, folded_rows of them.
    con.execute(
        "CREATE TABLE metric_folds (metric VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL,"
        " next_rowid BIGINT NOT NULL, folded_rows BIGINT NOT NULL)"
    )
    # Every label set each metric has seen: exported as itself (admitted) or folded into
    # __other__ by the cardinality guard. Admission is sticky so no series ever goes backwards.
    con.execute(
        "CREATE TABLE metric_series (metric VARCHAR, labels VARCHAR, admitted BOOLEAN NOT NULL,"
        " PRIMARY KEY (metric, labels))"
    )


@migration
def m003_lake_batches(con: duckdb.DuckDBPyConnection) -> None:
    # What `logkit archive` has put in each Parquet lake (see logkit/lake/). The lake's own
    # manifest says which files hold a batch; this row says which of the store's events it
    # took: those with ts < cutoff and rowid < next_rowid (while the batch is 'archived', they
    # are still here too; once 'pruned', they have been deleted). 'writing' marks a batch a
    # killed run left unfinished, for the next run to clean up or complete.
    con.execute(
        "CREATE TABLE lake_batches (lake VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,"
        " host VARCHAR NOT NULL, state VARCHAR NOT NULL, cutoff TIMESTAMPTZ NOT NULL,"
        " next_rowid BIGINT NOT NULL, covered_rows BIGINT, events BIGINT, files INTEGER,"
        " bytes BIGINT, started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ,"
        " PRIMARY KEY (lake, batch_id))"
    )


@migration
def m004_source_eof(con: duckdb.DuckDBPyConnection) -> None:
    # A compressed file's size and mtime when it was read to its end (logkit/ingest/checkpoints.py).
    con.execute("ALTER TABLE sources ADD COLUMN eof_size BIGINT")
    con.execute("ALTER TABLE sources ADD COLUMN eof_mtime_ns BIGINT")


@migration
def m005_trace_spans(con: duckdb.DuckDBPyConnection) -> None:
    # When each trace happened, so `logkit trace` reads a few row groups (logkit/tracespans.py).
    tracespans.backfill(con)


@migration
def m006_stream(con: duckdb.DuckDBPyConnection) -> None:
    # `(source, line)` is not an identity: after a rotation every generation of `app.log`
    # starts again at line 1, and a rotated generation is read on under its new name. `stream`
    # is the id of the checkpoint (`sources.id`) the row was read under, one per generation of
    # a file, whatever names it had, or per `--name`d stdin stream; NULL for unnamed stdin and
    # for rows stored before this migration. `(stream, line)` is then one record. Added at the
    # end of the tables, so `SELECT *` consumers of the older columns see them where they were.
    con.execute(f"ALTER TABLE events ADD COLUMN {STREAM_COLUMN[0]} {STREAM_COLUMN[1]}")
    con.execute(f"ALTER TABLE rejects ADD COLUMN {STREAM_COLUMN[0]} {STREAM_COLUMN[1]}")


@migration
def m007_attrs_zstd(con: duckdb.DuckDBPyConnection) -> None:
    # `attrs` (every key no column took, as JSON) is the widest column by far. DuckDB's own
    # choice for it, dictionary+FSST, stores 1M sample events' attrs in 26.8 MB for 0.50 CPU s;
    # ZSTD takes 19.7 MB and 0.32-0.41 s (bench/store_columns.py). A column's compression
    # is fixed when its table is created, and DuckDB has no ALTER for it: a store without
    # events (every new one) has its table made again; one with events keeps them as they are,
    # rather than have its first write under this logkit rewrite them all.
    if con.execute("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)").fetchone() != (0,):
        return
    columns = ",\n  ".join(
        f"{name} {type_}" + (" USING COMPRESSION zstd" if name == "attrs" else "")
        for name, type_ in [*EVENT_COLUMNS, STREAM_COLUMN]
    )
    con.execute("DROP TABLE events")
    con.execute(f"CREATE TABLE events (\n  {columns}\n)")
