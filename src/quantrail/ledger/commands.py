"""The work behind the ledger's CLI verbs (``quantrail snapshot befday``, ``ledger book``,
``report eod``). Each returns what happened; the CLI only prints it. Time comes in as an
argument (``now_ns``): the CLI passes the wall clock, tests pass a fixed instant.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from quantrail.ledger.befday import (
    CarriedSnapshot,
    carried_forward,
    ensure_snapshot,
    snapshot_from_file,
)
from quantrail.ledger.booking import Booker, FileFill, FillFileError, read_fill_file, session_day
from quantrail.ledger.books import BefDaySnapshot, LedgerInputError
from quantrail.ledger.report import EodReport
from quantrail.ledger.store import LedgerStore, SnapshotOutcome, SnapshotStatus
from quantrail.risk.rules import RiskRules
from quantrail.vocab import Phase

FORMATS = ("json", "csv", "html")


@dataclass(frozen=True, slots=True)
class BefDayResult:
    outcome: SnapshotOutcome
    source: str
    carried: CarriedSnapshot | None = None

    def describe(self) -> str:
        snap = self.outcome.snapshot
        head = f"befday {snap.account} {snap.day.isoformat()}"
        held = _positions_text(snap)
        if self.outcome.status is SnapshotStatus.EXISTING:
            return (f"{head}: a snapshot exists already ({held}); kept. "
                    "Use --force to replace it (the replacement is audited).")  # fmt: skip
        if self.outcome.status is SnapshotStatus.REPLACED:
            return f"{head}: replaced from {self.source} ({held}); audit befday.snapshot.replaced"
        text = f"{head}: created from {self.source} ({held})"
        if self.carried is not None:
            marks = ", ".join(f"{s} {m.price} ({m.source.value})"
                              for s, m in self.carried.marks.items())  # fmt: skip
            text += f"; marks: {marks or 'none'}"
        return text


@dataclass(frozen=True, slots=True)
class FileBooking:
    """What booking a fill file did: fills stored, fills already stored, per account and day,
    and the BefDay snapshots it took from the accounts' configured baseline files."""

    path: Path
    booked: int
    duplicates: int
    by_day: Mapping[tuple[str, dt.date], int]
    snapshots_taken: tuple[tuple[str, dt.date, str], ...] = ()

    def describe(self) -> str:
        days = ", ".join(f"{account} {day.isoformat()}: {n}"
                         for (account, day), n in sorted(self.by_day.items()))  # fmt: skip
        taken = "".join(
            f"befday {account} {day.isoformat()}: taken from {file} (risk.accounts baseline)\n"
            for account, day, file in self.snapshots_taken
        )
        return (f"{taken}{self.path}: booked {self.booked} fills, {self.duplicates} already booked"
                f"{' (' + days + ')' if days else ''}")  # fmt: skip


class MissingSnapshotError(ValueError):
    """A fill file has a day with no BefDay snapshot and no baseline file to take one from."""

    def __init__(self, account: str, day: dt.date) -> None:
        self.account, self.day = account, day
        super().__init__(
            f"no befday snapshot for {account} on {day.isoformat()}; nothing was booked. Take it "
            f"first: quantrail snapshot befday {account} --date {day.isoformat()} --from FILE "
            "(or give the account a baseline file in risk.accounts)"
        )


def parse_day(text: str | None, timezone: str, now_ns: int) -> dt.date:
    """``YYYY-MM-DD``, or today's exchange-local date when not given."""
    if text is None:
        return session_day(now_ns, timezone)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--date: expected YYYY-MM-DD (value: {text!r})") from None


def take_befday(
    store: LedgerStore,
    account: str,
    day: dt.date,
    *,
    from_file: Path | None,
    config_file: str | None,
    force: bool,
    now_ns: int,
    marks: Mapping[str, Decimal] | None = None,
) -> BefDayResult:
    """Freeze the account's baseline for ``day``: from ``from_file``, else the account's file in
    the config, else the ledger's latest earlier day carried forward. An existing snapshot is
    kept (and reported) unless ``force``."""
    existing = store.load_snapshot(account, day)
    if existing is not None and not force:
        return BefDayResult(SnapshotOutcome(SnapshotStatus.EXISTING, existing), "the ledger")
    carried = None
    file = from_file or (Path(config_file) if config_file else None)
    if file is not None:
        snapshot = snapshot_from_file(account, day, file, now_ns)
        source = str(file)
    else:
        carried = carried_forward(store, account, day, now_ns, marks)
        snapshot = carried.snapshot
        source = f"the ledger's {carried.from_day.isoformat()} close"
    return BefDayResult(store.save_snapshot(snapshot, force=force), source, carried)


def book_file(
    store: LedgerStore,
    path: Path,
    *,
    timezone: str,
    baseline_files: Mapping[str, str | None] | None = None,
) -> FileBooking:
    """Book every fill of a fill file through ``Booker.book``, the live fills' path.

    The whole file is one transaction: a row that cannot be booked (e.g. a fill id booked
    before with other content) leaves nothing of the file booked, and the error says so."""
    rows = read_fill_file(path)
    booker = Booker(store, timezone=timezone, baseline_files=baseline_files)
    booked, duplicates, by_day = 0, 0, Counter[tuple[str, dt.date]]()
    with store.transaction():
        taken = _snapshots_for(store, rows, timezone, baseline_files or {})
        for row in rows:
            try:
                result = booker.book(row.fill)
            except LedgerInputError as exc:
                reason = f"nothing from this file was booked (it is one transaction): {exc}"
                raise FillFileError(path, row.line, "fill_id", row.fill.fill_id, reason) from None
            booked += result.stored
            duplicates += not result.stored
            by_day[(row.fill.account, result.day)] += result.stored
    return FileBooking(path, booked, duplicates, dict(by_day), taken)


def _snapshots_for(
    store: LedgerStore,
    rows: Sequence[FileFill],
    timezone: str,
    baseline_files: Mapping[str, str | None],
) -> tuple[tuple[str, dt.date, str], ...]:
    """Every day of the file has its BefDay snapshot before a fill is booked: an existing one,
    or one taken from the account's configured baseline file (audited, and reported). A day with
    neither stops the booking: a day booked against no positions would classify every fill as
    opening, and show a baseline realized P&L of zero."""
    taken: list[tuple[str, dt.date, str]] = []
    first_ts: dict[tuple[str, dt.date], int] = {}
    for row in rows:
        key = (row.fill.account, session_day(row.fill.ts_ns, timezone))
        first_ts[key] = min(first_ts.get(key, row.fill.ts_ns), row.fill.ts_ns)
    for (account, day), ts_ns in sorted(first_ts.items()):
        if store.load_snapshot(account, day) is not None:
            continue
        baseline = baseline_files.get(account)
        if baseline is None:
            raise MissingSnapshotError(account, day)
        ensure_snapshot(store, account, day, baseline, ts_ns)
        taken.append((account, day, baseline))
    return tuple(taken)


def exposure_limits(rules: RiskRules) -> tuple[tuple[str, Decimal], ...]:
    """The gross limits the EOD exposure chart draws: the hard cap, MID's soft de-risk level
    and the close (overnight) limit."""
    mid = rules.phases.get(Phase.MID)
    soft = mid.derisk_level_pct if mid is not None and mid.allow_derisk else None
    limits = [("hard cap", rules.hard_cap_pct), ("close limit", rules.close_limit_pct)]
    if soft is not None and soft not in (rules.hard_cap_pct, rules.close_limit_pct):
        limits.insert(1, ("soft de-risk", soft))
    return tuple(limits)


def render(report: EodReport, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"--format: expected one of {', '.join(FORMATS)} (value: {fmt!r})")
    return {"json": report.to_json, "csv": report.to_csv, "html": report.to_html}[fmt]()


def _positions_text(snapshot: BefDaySnapshot) -> str:
    if not snapshot.positions:
        return "no positions"
    held = ", ".join(f"{p.symbol} {p.qty}" for p in snapshot.positions)
    return f"{len(snapshot.positions)} positions: {held}"
