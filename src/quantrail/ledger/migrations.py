"""How the ledger's database is reached and versioned: two backends and the migrations.

Backends: SQLite (stdlib ``sqlite3``) and PostgreSQL (``psycopg`` 3), chosen by URL, behind one
small interface (a transaction that runs SQL written with ``?`` placeholders).

Migrations are a numbered list; each is a list of SQL statements applied in order, all pending
ones in one transaction under a lock, recorded in ``schema_version``: re-running is a no-op.
The statements are written once for both dialects; the few words that differ are placeholders
filled per dialect (``{money}``, ``{serial}``). Money is ``TEXT`` in SQLite (decimal strings,
exact) and unconstrained ``NUMERIC`` in PostgreSQL, which keeps the exact value and its scale
(25.10 comes back as Decimal('25.10')). Days are ISO ``TEXT``.

Migrations are append-only: never edit one that has shipped, add the next number.
"""

from __future__ import annotations

import enum
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

import psycopg

Dialect = Literal["sqlite", "postgresql"]

_WORDS: dict[Dialect, dict[str, str]] = {
    "sqlite": {"money": "TEXT", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgresql": {"money": "NUMERIC", "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]

    def sql(self, dialect: Dialect) -> list[str]:
        return [statement.format(**_WORDS[dialect]) for statement in self.statements]


SCHEMA_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL
)"""

_V1_TABLES = (
    """CREATE TABLE befday_snapshots (
        account TEXT NOT NULL,
        day TEXT NOT NULL,
        taken_ts_ns BIGINT NOT NULL,
        PRIMARY KEY (account, day)
    )""",
    """CREATE TABLE befday_positions (
        account TEXT NOT NULL,
        day TEXT NOT NULL,
        symbol TEXT NOT NULL,
        qty BIGINT NOT NULL,
        bucket TEXT NOT NULL,
        prior_close {money} NOT NULL,
        PRIMARY KEY (account, day, symbol),
        FOREIGN KEY (account, day) REFERENCES befday_snapshots (account, day)
    )""",
    # seq is the booking order: replaying fills in seq order rebuilds the books.
    """CREATE TABLE fills (
        seq {serial},
        account TEXT NOT NULL,
        fill_id TEXT NOT NULL,
        day TEXT NOT NULL,
        ts_ns BIGINT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        qty BIGINT NOT NULL,
        price {money} NOT NULL,
        fee {money} NOT NULL,
        bucket TEXT NOT NULL,
        order_id TEXT NOT NULL,
        position_before BIGINT NOT NULL,
        position_after BIGINT NOT NULL,
        UNIQUE (account, fill_id),
        FOREIGN KEY (account, day) REFERENCES befday_snapshots (account, day)
    )""",
    "CREATE INDEX fills_by_day ON fills (account, day, seq)",
    """CREATE TABLE fill_legs (
        account TEXT NOT NULL,
        fill_id TEXT NOT NULL,
        leg_no INTEGER NOT NULL,
        day TEXT NOT NULL,
        fill_class TEXT NOT NULL,
        direction TEXT NOT NULL,
        effect TEXT NOT NULL,
        qty BIGINT NOT NULL,
        PRIMARY KEY (account, fill_id, leg_no),
        FOREIGN KEY (account, fill_id) REFERENCES fills (account, fill_id)
    )""",
    """CREATE TABLE lots (
        account TEXT NOT NULL,
        day TEXT NOT NULL,
        lot_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        origin TEXT NOT NULL,
        bucket TEXT NOT NULL,
        qty_opened BIGINT NOT NULL,
        qty_open BIGINT NOT NULL,
        price {money} NOT NULL,
        opened_ts_ns BIGINT NOT NULL,
        PRIMARY KEY (account, day, lot_id)
    )""",
    """CREATE TABLE lot_closes (
        account TEXT NOT NULL,
        fill_id TEXT NOT NULL,
        close_no INTEGER NOT NULL,
        day TEXT NOT NULL,
        lot_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        origin TEXT NOT NULL,
        qty BIGINT NOT NULL,
        open_price {money} NOT NULL,
        close_price {money} NOT NULL,
        realized {money} NOT NULL,
        PRIMARY KEY (account, fill_id, close_no),
        FOREIGN KEY (account, fill_id) REFERENCES fills (account, fill_id)
    )""",
    """CREATE TABLE audit (
        seq {serial},
        ts_ns BIGINT NOT NULL,
        account TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    """CREATE TABLE mode_changes (
        seq {serial},
        ts_ns BIGINT NOT NULL,
        account TEXT,
        mode TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    """CREATE TABLE exposure_samples (
        seq {serial},
        ts_ns BIGINT NOT NULL,
        account TEXT,
        equity {money} NOT NULL,
        long_notional {money} NOT NULL,
        short_notional {money} NOT NULL,
        gross_pct {money} NOT NULL,
        net_pct {money} NOT NULL
    )""",
)

MIGRATIONS: tuple[Migration, ...] = (Migration(1, "ledger tables", _V1_TABLES),)


def apply_migrations(backend: Backend) -> list[int]:
    """Apply the pending migrations in one transaction; returns the versions applied."""
    with backend.transaction() as tx:
        backend.lock_schema(tx)
        todo = pending(current_version(tx))
        for migration in todo:
            for statement in migration.sql(backend.dialect):
                tx.run(statement)
            tx.run(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
    return [migration.version for migration in todo]


def current_version(tx: Tx) -> int:
    """The schema version the database is at (0 when never migrated); call under the lock."""
    tx.run(SCHEMA_VERSION_TABLE)
    rows = tx.rows("SELECT MAX(version) FROM schema_version")
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def pending(applied: int) -> list[Migration]:
    """The migrations after version ``applied``, in order; refuses a schema newer than us."""
    latest = latest_version()
    if applied > latest:
        raise RuntimeError(
            f"schema_version: the database is at version {applied}, newer than this code "
            f"knows ({latest}); upgrade quantrail before using this database"
        )
    return [migration for migration in MIGRATIONS if migration.version > applied]


def latest_version() -> int:
    return MIGRATIONS[-1].version


def _check_numbering() -> None:
    numbers = [migration.version for migration in MIGRATIONS]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"MIGRATIONS: versions must be 1..n in order (value: {numbers!r})")


_check_numbering()


# -- the connection: one small interface, two backends ----------------------------------------

Params = Sequence[object]
Row = tuple[Any, ...]
_Execute = Callable[[str, Params], tuple[int, list[Row]]]


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


def connect(url: str) -> Backend:
    """A backend for ``sqlite:///path``, ``sqlite:///:memory:`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        return SqliteBackend(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(url)
    raise ValueError(
        f"db url: expected sqlite:///<path> or postgresql://... (value: {redact(url)!r})"
    )


def redact(url: str) -> str:
    """The URL with any password replaced, fit for an error message or a log."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


class SqliteBackend:
    """SQLite via the stdlib; money is stored as decimal TEXT, so Decimals go in as ``str``."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str) -> None:
        if not path:
            raise ValueError("db url: sqlite:/// needs a path or :memory: (value: 'sqlite:///')")
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE, which takes
        # the write lock up front so two writers queue instead of failing at COMMIT.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA busy_timeout = 10000")
        if path != ":memory:":
            self._use_wal()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield Tx(self._execute)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

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
    """PostgreSQL via psycopg 3; money is NUMERIC, which psycopg maps to Decimal both ways."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            self._conn = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise ConnectionError(f"db url: cannot connect to {redact(url)!r}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._conn.transaction():
            yield Tx(self._execute)

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


def _plain(value: object) -> object:
    """Enums go to the database as their plain values, on both backends."""
    return value.value if isinstance(value, enum.Enum) else value
