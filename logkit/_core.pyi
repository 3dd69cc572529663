"""Type stubs for the native core (src/lib.rs); see logkit/core.py for how it is used."""

class Batches:
    """A table's record batches; read them with `pa.table(x)` or from DuckDB by name."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def __len__(self) -> int: ...

class Block:
    """What one block became."""

    @property
    def events(self) -> Batches: ...
    @property
    def rejects(self) -> Batches: ...
    @property
    def lines(self) -> int: ...
    @property
    def no_ts(self) -> int: ...
    @property
    def newest_ts(self) -> int | None: ...
    @property
    def reasons(self) -> dict[str, int]: ...
    @property
    def masked(self) -> dict[str, int]: ...
    @property
    def formats(self) -> dict[str, int]: ...

class Core:
    def __init__(
        self,
        event_columns: list[tuple[str, str]],
        reject_columns: list[tuple[str, str]],
        aliases: list[tuple[str, list[str]]],
        table: list[tuple[str, list[str]]],
    ) -> None: ...
    def process(
        self,
        data: bytes,
        source: str,
        first_line: int,
        first_offset: int,
        stream: int | str | None = None,
        max_line: int | None = None,
        extra_rejects: list[tuple[int, int, str, bytes]] = ...,
    ) -> Block: ...

def alias_table_from_toml(text: str) -> list[tuple[str, list[str]]]: ...
