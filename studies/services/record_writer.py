"""Writing an import's records while the file is still being parsed.

The database's share of an import (PostgreSQL parsing COPY rows and updating indexes in its own
process; SQLite's B-tree work inside `sqlite3_step`) runs with the GIL released. Done from a
second thread, it overlaps the parsing of the next records instead of following it: on a
2-core machine that takes most of the write time off the import's wall time (BENCHMARKS.md).

The thread writes on the import's own connection, inside the import's transaction, so an
import stays all or nothing. The caller must not touch the database between `start()` and
`close()`; errors raised in the thread are re-raised in the caller by `put()` / `close()`.

Ids are allocated with the rows (the sequence on PostgreSQL; on SQLite the numbers after the
table's highest id, safe because the import's IMMEDIATE transaction holds the write lock), so
each record's place in the random screening order is stored with the row, instead of by a
later UPDATE that rewrote every imported record (7 s of a 100k-record PostgreSQL import).
"""

from __future__ import annotations

import io
import queue
import threading
from datetime import datetime

from django.db import connection

from studies.models import Record
from studies.screening_rules import order_seed, screen_hash

# Columns of a row handed to `put()`; the writer adds "id" first and "screen_key" last.
ROW_COLUMNS = ("review_id", "batch_id", "position", "title", "abstract", "authors", "year",
               "journal", "volume", "issue", "pages", "doi", "pmid", "url", "keywords", "type",
               "language", "raw", "title_key", "fulltext_status", "created_at")  # fmt: skip
_COLUMNS = ("id", *ROW_COLUMNS, "screen_key")
_POSITION = ROW_COLUMNS.index("position")
_YEAR = ROW_COLUMNS.index("year")  # the one column whose value may be missing (NULL)
# Markers (see `copy_lines`): \x02 stands for a missing year; \x01 separated rows when a chunk
# was split on it, and a value holding it still sends its chunk value by value (as then, so
# the COPY text is the same). Either might occur in a value: they are checked for first.
_ROW, _NULL = "\x01", "\x02"
_TEMPLATE = "\t".join(["%s"] * len(ROW_COLUMNS))  # a row's values, str() each (see _row_lines)
_HEAD = "%s\t" * (len(ROW_COLUMNS) - 1)  # all but the last


class RecordWriter:
    """`put()` rows, `close()` to get their ids. On PostgreSQL a thread runs the COPYs; on
    SQLite the rows are inserted at once, in the caller's thread (see `start`)."""

    def __init__(self, *, dual_seed: int, first_position: int):
        self._seed = order_seed(dual_seed)
        self._first = first_position
        # ids[position - first_position]: appended as rows are written, complete after close().
        self.ids: list[int] = []
        self._queued = 0  # rows handed to put() so far
        self._queue: queue.Queue = queue.Queue(maxsize=16)  # ≤ ~50 MB of rows waiting
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._raw = connection.connection  # the DB-API connection of this transaction
        self._vendor = connection.vendor
        self._table = connection.ops.quote_name(Record._meta.db_table)
        self._cols = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
        self._per = max(1, (connection.features.max_query_params or 999) // len(_COLUMNS))
        self._next_id = 0
        # What the caller puts for a missing year: COPY rows are all text (see copy_lines).
        self.null = _NULL if self._vendor == "postgresql" else None
        with connection.cursor() as cursor:
            if self._vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Record._meta.db_table])
                self._sequence = cursor.fetchone()[0]
            else:
                # AUTOINCREMENT: never reuse an id, even one deleted since.
                cursor.execute(
                    f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {self._table}), 0), "  # noqa: S608
                    "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
                    [Record._meta.db_table],
                )
                self._next_id = cursor.fetchone()[0] + 1

    def start(self) -> RecordWriter:
        # SQLite releases the GIL inside sqlite3_step too, but its inserts come as thousands of
        # statements, each binding ~1000 parameters in Python: from a thread, every statement
        # waited for the GIL and the import got slower (28 s instead of 22 s for 100k records).
        # A COPY is a few GIL hand-overs per 2,000 rows.
        if self._vendor == "postgresql":
            self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
            self._thread.start()
        return self

    def put(self, rows: list[tuple]) -> None:
        """Queue rows (ROW_COLUMNS, positions consecutive from the last ones; a missing year
        is `self.null`)."""
        if self._error is not None:
            raise self._error
        assert rows[0][_POSITION] == self._first + self._queued  # noqa: S101 (caller's contract)
        self._queued += len(rows)
        if self._thread is None:
            self._insert(rows)
            return
        # The COPY text is built here, in the parsing thread: the writer thread should hold the
        # GIL as little as possible (only the id and the key are added there).
        self._queue.put(copy_lines(rows))

    def close(self) -> list[int]:
        """Wait for every queued row to be written; returns the ids by position."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self.ids

    def abort(self) -> None:
        """Stop after the current statement (the caller is about to roll back)."""
        self._error = self._error or RuntimeError("import aborted")
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    # -- PostgreSQL: the writer thread ---------------------------------------------------

    def _run(self) -> None:
        cursor = self._raw.cursor()
        try:
            while (lines := self._queue.get()) is not None:
                if self._error is None:
                    self._copy(cursor, lines)
        except BaseException as exc:  # handed to the caller by put()/close()
            self._error = exc
            while self._queue.get() is not None:  # keep draining so put() never blocks
                pass
        finally:
            cursor.close()

    def _copy(self, cursor, lines: list[str]) -> None:
        cursor.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", [self._sequence, len(lines)]
        )
        ids = [r[0] for r in cursor.fetchall()]
        seed = self._seed
        text = "".join(
            f"{pk}\t{line}\t{screen_hash(pk, seed)}\n" for pk, line in zip(ids, lines, strict=True)
        )
        # One read of the whole chunk: each read() of the default 8 kB takes the GIL back.
        cursor.copy_expert(
            f"COPY {self._table} ({self._cols}) FROM STDIN", io.StringIO(text), size=len(text) + 1
        )
        self.ids.extend(ids)

    # -- SQLite (and other backends): inline ---------------------------------------------

    def _insert(self, rows: list[tuple]) -> None:
        start = self._next_id
        self._next_id += len(rows)
        ids = range(start, start + len(rows))
        seed = self._seed
        full = [(pk, *row, screen_hash(pk, seed)) for pk, row in zip(ids, rows, strict=True)]
        one = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
        with connection.cursor() as cursor:
            for at in range(0, len(full), self._per):
                part = full[at : at + self._per]
                cursor.execute(
                    f"INSERT INTO {self._table} ({self._cols}) VALUES "  # noqa: S608
                    + ", ".join([one] * len(part)),
                    [v for row in part for v in row],
                )
        self.ids.extend(ids)


def copy_lines(rows: list[tuple]) -> list[str]:
    """The rows as lines of PostgreSQL's COPY text format (without the line ends).

    A %-format a row and a few scans of the whole chunk, instead of a Python call per value
    (2.1 million on a 100k import, about a second). Fields are joined with their real
    separator, the tab: the parsers' values never hold one (whitespace is collapsed, JSON
    escapes it), which one count over the chunk confirms. Values are str(), ints, or a
    datetime; a missing year is _NULL."""
    lines = _row_lines(rows)
    # Joined with tabs for the checks, each a count or a memchr over the chunk in C: a tab more
    # than the separators, a row marker, or NULL markers other than the missing years send the
    # chunk value by value.
    body = "\t".join(lines)
    nulls = sum(1 for row in rows if row[_YEAR] is _NULL)
    if (
        body.count("\t") != len(ROW_COLUMNS) * len(rows) - 1
        or _ROW in body
        or (body.count(_NULL) != nulls if nulls else _NULL in body)
    ):
        return _value_by_value(rows)
    # Most chunks have nothing to escape; the others only the lines' own characters, each
    # replace() leaving a line without them as it is.
    if "\\" in body or "\n" in body or "\r" in body or nulls:
        return [
            line.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace(_NULL, "\\N")
            for line in lines
        ]  # fmt: skip
    return lines


def _value_by_value(rows: list[tuple]) -> list[str]:
    # A value holds a tab or a marker character (a control character in the file): value by
    # value for this chunk.
    return [
        "\t".join(copy_text(None if i == _YEAR and v is _NULL else v) for i, v in enumerate(r))
        for r in rows
    ]


def _row_lines(rows: list[tuple]) -> list[str]:
    """The rows' values as str(), tab-separated: one %-format per row ("%s" is str()) instead
    of a str() call per value. created_at is one datetime for the whole import, and its str()
    was most of the formatting: when every row holds the same object it is formatted once,
    into the template."""
    last = rows[0][-1]
    try:
        if all(r[-1] is last for r in rows):
            template = _HEAD + str(last).replace("%", "%%")
            return [template % r[:-1] for r in rows]
        return [_TEMPLATE % r for r in rows]
    except TypeError:  # a row of another width: its tab count sends copy_lines value by value
        return ["\t".join(map(str, row)) for row in rows]


def copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value:
            value = value.replace("\\", "\\\\")
        return value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class StatementQueue:
    """Run an import's merge writes in order on its own connection, from a second thread on
    PostgreSQL, while the caller prepares the next group of merges.

    The merge writes of a 100k-record import (pointing ~17k duplicates at their survivors,
    storing their merge rows) are server work: each updated row is re-checked against its
    foreign keys because this transaction inserted it. Run inline they left the importing
    process idle for ~2 s. As with RecordWriter, the caller must not use the connection while
    a statement is queued except through `drain()`, and errors come back from `submit()` /
    `drain()`. On SQLite each function runs at once, in the caller's thread."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if connection.vendor == "postgresql":
            self._raw = connection.connection
            self._thread = threading.Thread(target=self._run, name="merge-writer", daemon=True)
            self._thread.start()

    def submit(self, fn) -> None:
        """Queue fn(cursor); the cursor takes %s parameters on every backend."""
        if self._error is not None:
            raise self._error
        if self._thread is None:
            with connection.cursor() as cursor:
                fn(cursor)
            return
        self._queue.put(fn)

    def drain(self) -> None:
        """Wait until every queued statement has run (before the caller's own queries)."""
        if self._thread is not None:
            self._queue.join()
        if self._error is not None:
            raise self._error

    def close(self, *, check: bool = True) -> None:
        """Wait for the queued statements and stop the thread; `check=False` when the caller
        is already failing (its own error matters, and the transaction is rolled back)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if check and self._error is not None:
            raise self._error

    def _run(self) -> None:
        cursor = self._raw.cursor()
        try:
            while True:
                fn = self._queue.get()
                try:
                    if fn is None:
                        return
                    if self._error is None:
                        fn(cursor)
                except BaseException as exc:  # handed to the caller by submit()/drain()
                    self._error = exc
                finally:
                    self._queue.task_done()
        finally:
            cursor.close()
