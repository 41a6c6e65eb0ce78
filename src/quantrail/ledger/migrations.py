"""How the ledger's database is versioned: the numbered migrations and how they are applied.

The connections themselves (``Tx``, the SQLite and PostgreSQL backends, ``connect``) are in
``ledger/sql.py``.

Migrations are a numbered list; each is a list of SQL statements applied in order, all pending
ones in one transaction under a lock, recorded in ``schema_version``: re-running is a no-op.
The statements are written once for both dialects; the few words that differ are placeholders
filled per dialect (``{money}``, ``{serial}``). Money is ``TEXT`` in SQLite (decimal strings,
exact) and unconstrained ``NUMERIC`` in PostgreSQL, which keeps the exact value and its scale
(25.10 comes back as Decimal('25.10')). Days are ISO ``TEXT``.

Migrations are append-only: never edit one that has shipped, add the next number.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantrail.ledger.sql import Backend, Dialect, Tx

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

# Version 2: the journal's lookups by account and time (reports read one day), and the event id
# of a mode change, so a re-delivered RiskModeChanged is stored once.
_V2_JOURNAL = (
    "ALTER TABLE mode_changes ADD COLUMN event_id TEXT NOT NULL DEFAULT ''",
    "CREATE UNIQUE INDEX mode_changes_by_event ON mode_changes (event_id) WHERE event_id <> ''",
    "CREATE INDEX mode_changes_by_ts ON mode_changes (ts_ns)",
    "CREATE INDEX exposure_by_account_ts ON exposure_samples (account, ts_ns)",
)

# Version 3: the kill switch's durable state (every activation and reset, append-only: the last
# row of an account is its state) and the hash-chained audit trail (``audit/store.py``). The
# audit's ``seq`` is assigned by the writer (max + 1 under the table lock), not a serial, so a
# gap always means a deleted record (a PostgreSQL sequence skips numbers on a rollback).
_V3_KILL_SWITCH_AND_AUDIT = (
    """CREATE TABLE kill_switch_events (
        seq {serial},
        event_id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        action TEXT NOT NULL,
        ts_ns BIGINT NOT NULL,
        session_date TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        trigger_name TEXT NOT NULL,
        trigger_value TEXT,
        threshold TEXT,
        event_json TEXT NOT NULL
    )""",
    "CREATE INDEX kill_switch_by_account ON kill_switch_events (account, seq)",
    """CREATE TABLE audit_records (
        seq BIGINT PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        decision_id TEXT NOT NULL UNIQUE,
        ts_ns BIGINT NOT NULL,
        service TEXT NOT NULL,
        decision_type TEXT NOT NULL,
        account TEXT,
        correlation_id TEXT NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX audit_records_by_ts ON audit_records (ts_ns)",
)

_V4_LIVE_MARKS = (
    """CREATE TABLE live_marks (
        day TEXT NOT NULL,
        symbol TEXT NOT NULL,
        ts_ns BIGINT NOT NULL,
        price {money} NOT NULL,
        PRIMARY KEY (day, symbol)
    )""",
)

# Version 5: a venue's corrections of fills, one row each beside the fill they correct (the
# fill's row keeps what was received); the day's derived rows (legs, lots, closes) are rebuilt
# from the fills with their latest correction applied (``ledger/corrections.py``).
_V5_FILL_CORRECTIONS = (
    """CREATE TABLE fill_corrections (
        seq {serial},
        account TEXT NOT NULL,
        correction_id TEXT NOT NULL,
        fill_id TEXT NOT NULL,
        day TEXT NOT NULL,
        ts_ns BIGINT NOT NULL,
        qty BIGINT NOT NULL,
        price {money} NOT NULL,
        fee {money} NOT NULL,
        UNIQUE (account, correction_id),
        FOREIGN KEY (account, fill_id) REFERENCES fills (account, fill_id)
    )""",
    "CREATE INDEX fill_corrections_by_day ON fill_corrections (account, day, seq)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ledger tables", _V1_TABLES),
    Migration(2, "journal indexes and mode change event ids", _V2_JOURNAL),
    Migration(3, "kill switch state and the audit chain", _V3_KILL_SWITCH_AND_AUDIT),
    Migration(4, "the latest live mark per symbol and day", _V4_LIVE_MARKS),
    Migration(5, "corrections of fills", _V5_FILL_CORRECTIONS),
)


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
