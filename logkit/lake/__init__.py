"""The Parquet log lake: `logkit archive` writes it, `--lake DIR` reads it; Spark over it."""
