"""How the ledger reaches its database: one small interface, two backends, chosen by URL.

SQLite (stdlib ``sqlite3``) and PostgreSQL (``psycopg`` 3) behind ``Backend``: a transaction
that runs SQL written with ``?`` placeholders. Money goes in as ``Decimal`` and comes back as
``Decimal`` on both (``money`` below); enums go in as their plain values.

A PostgreSQL connection that dropped (server restarted, backend terminated, network cut) is
replaced by a new one when the next transaction starts; a transaction that was cut mid-way
raises ``DatabaseUnavailableError``: nothing of it was committed, or, if the cut hit the COMMIT
itself, the caller's retry finds it done (the ledger's writes are idempotent).
"""

from __future__ import annotations

import enum
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any, Literal, Protocol

import psycopg

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[object]
Row = tuple[Any, ...]
_Execute = Callable[[str, Params], tuple[int, list[Row]]]


class DatabaseUnavailableError(ConnectionError):
    """The database cannot be reached right now; the work was not done: retry later."""


class Tx:
    """One open transaction: ``run`` for writes (returns the rows changed), ``rows`` for reads."""

    def __init__(self, execute: _Execute) -> None:
        self._execute = execute

    def run(self, sql: str, params: Params = ()) -> int:
        return self._execute(sql, params)[0]

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._execute(sql, params)[1]

    def select(self, source: str, columns: str, where: str, *params: object) -> list[Row]:
        return self.rows(f"SELECT {columns} FROM {source} WHERE {where}", params)

    def insert(self, table: str, row: dict[str, object], suffix: str = "") -> list[Row]:
        """INSERT one row given as column -> value; ``suffix`` adds ON CONFLICT / RETURNING."""
        columns, marks = ", ".join(row), ", ".join("?" * len(row))
        return self.rows(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}){suffix}", tuple(row.values())
        )


def money(value: object) -> Decimal:
    """A stored money value back as Decimal: SQLite returns our TEXT, PostgreSQL a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


class Backend(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    def transaction(self) -> AbstractContextManager[Tx]: ...

    def lock_schema(self, tx: Tx) -> None: ...

    def close(self) -> None: ...


SQLITE_SYNCHRONOUS = ("off", "normal", "full", "extra")
"""``sqlite:///path?synchronous=off``: SQLite's own setting of that name. ``off`` does not wait
for the disk at a commit: for a scratch database (a backtest's) that nobody reads after a crash.
The default (none given) is SQLite's: ``full``, every commit on disk."""


def connect(url: str) -> Backend:
    """A backend for ``sqlite:///path[?synchronous=...]``, ``sqlite:///:memory:`` or
    ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        path, _, query = url.removeprefix("sqlite:///").partition("?")
        return SqliteBackend(path, synchronous=_synchronous(query))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(url)
    raise ValueError(
        f"db url: expected sqlite:///<path> or postgresql://... (value: {redact(url)!r})"
    )


def redact(url: str) -> str:
    """The URL with any password replaced, fit for an error message or a log."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _synchronous(query: str) -> str | None:
    """The ``synchronous`` of a SQLite URL's query (the only option it takes), None: not given."""
    if not query:
        return None
    name, _, value = query.partition("=")
    if name != "synchronous":
        raise ValueError(f"db url: a sqlite URL takes only ?synchronous=... (value: {query!r})")
    if value.lower() not in SQLITE_SYNCHRONOUS:
        allowed = ", ".join(SQLITE_SYNCHRONOUS)
        raise ValueError(f"db url: synchronous must be one of {allowed} (value: {value!r})")
    return value.lower()


class SqliteBackend:
    """SQLite via the stdlib; money is stored as decimal TEXT, so Decimals go in as ``str``."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str, *, synchronous: str | None = None) -> None:
        if not path:
            raise ValueError("db url: sqlite:/// needs a path or :memory: (value: 'sqlite:///')")
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE, which takes
        # the write lock up front so two writers queue instead of failing at COMMIT.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._savepoints = 0
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA busy_timeout = 10000")
        if synchronous is not None:  # checked against SQLITE_SYNCHRONOUS by ``connect``
            self._conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        if path != ":memory:":
            self._use_wal()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction; inside another one it is a savepoint (the outer one decides)."""
        if self._conn.in_transaction:
            with self._savepoint() as tx:
                yield tx
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield Tx(self._execute)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def _savepoint(self) -> Iterator[Tx]:
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield Tx(self._execute)
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        self._conn.execute(f"RELEASE {name}")

    def lock_schema(self, tx: Tx) -> None:
        """BEGIN IMMEDIATE already holds the database's write lock."""

    def _use_wal(self) -> None:
        # WAL lets readers (reports) run beside the writer. Switching needs a moment alone with
        # the file; SQLite answers "locked" at once (no busy wait) when another connection
        # opens it at the same time. The mode is stored in the file and only a speed matter, so
        # losing that race is fine: whoever won has switched it, or the next opener will.
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise

    def close(self) -> None:
        self._conn.close()

    def _execute(self, sql: str, params: Params) -> tuple[int, list[tuple[Any, ...]]]:
        values = [str(v) if isinstance(v, Decimal) else _plain(v) for v in params]
        cursor = self._conn.execute(sql, values)
        rows = cursor.fetchall()
        return cursor.rowcount, rows


# Any fixed number: the key of the advisory lock that serializes migrations across processes.
_MIGRATION_LOCK = 7_300_211_001


class PostgresBackend:
    """PostgreSQL via psycopg 3; money is NUMERIC, which psycopg maps to Decimal both ways.

    The connection is re-opened when found broken at the start of a transaction, so a server
    restart or a terminated backend costs the caller at most one ``DatabaseUnavailableError``.
    """

    dialect: Dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn = _open_postgres(url)
        self.reconnects = 0

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        begun = self._begin()
        try:
            yield Tx(self._execute)
        except BaseException as exc:
            self._finish(begun, exc)
            raise
        self._finish(begun, None)

    def _begin(self) -> AbstractContextManager[psycopg.Transaction]:
        # Two tries: an idle connection the server dropped only shows it broken on first use,
        # and nothing has run yet, so opening a new one and beginning again is safe.
        for attempt in (1, 2):
            if self._conn.closed or self._conn.broken:
                self._reopen()
            begun = self._conn.transaction()
            try:
                begun.__enter__()
            except psycopg.OperationalError as exc:
                if not self._conn.broken or attempt == 2:
                    raise self._unavailable(exc) from exc
                continue
            return begun
        raise AssertionError("unreachable")  # pragma: no cover

    def _finish(
        self, begun: AbstractContextManager[psycopg.Transaction], error: BaseException | None
    ) -> None:
        """Commit (no error) or roll back; a connection lost on the way is reported as such."""
        try:
            begun.__exit__(type(error) if error else None, error, None)
        except psycopg.OperationalError as exc:
            if self._conn.broken:
                raise self._unavailable(exc) from exc
            raise
        if isinstance(error, psycopg.OperationalError) and self._conn.broken:
            raise self._unavailable(error) from error

    def _reopen(self) -> None:
        self._conn.close()
        self._conn = _open_postgres(self._url)
        self.reconnects += 1

    def _unavailable(self, exc: BaseException) -> DatabaseUnavailableError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DatabaseUnavailableError(
            f"db url: connection to {redact(self._url)!r} lost ({first}); the transaction "
            "did not complete, retry it (the ledger's writes are idempotent)"
        )

    def lock_schema(self, tx: Tx) -> None:
        tx.rows("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        self._conn.close()

    def _execute(self, sql: str, params: Params) -> tuple[int, list[tuple[Any, ...]]]:
        # Our SQL never holds a literal '?' or '%', so the placeholder swap is safe.
        query = sql.replace("?", "%s")
        cursor = self._conn.execute(query, [_plain(v) for v in params])
        rows = cursor.fetchall() if cursor.description is not None else []
        return cursor.rowcount, rows


def _open_postgres(url: str) -> psycopg.Connection[Row]:
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(f"db url: cannot connect to {redact(url)!r}: {exc}") from exc


def _plain(value: object) -> object:
    """Enums go to the database as their plain values, on both backends."""
    return value.value if isinstance(value, enum.Enum) else value
