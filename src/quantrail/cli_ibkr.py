"""``quantrail ibsim``: run the IB Gateway simulator for a dry run of the IB venue."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from quantrail.cli_options import console, err_console
from quantrail.ibkr.ibsim import Faults

FAULT_KEYS = ("drop-after", "exec-before-status", "repeat-exec-id", "reject", "hold-fills")


def ibsim(
    port: Annotated[
        int, typer.Option(help="port to listen on (TWS paper: 7497, Gateway: 4002)")
    ] = 4002,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    account: Annotated[list[str] | None, typer.Option(help="managed account (repeatable)")] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help=f"scripted fault (repeatable): {', '.join(FAULT_KEYS)}; e.g. drop-after=20"
        ),
    ] = None,
) -> None:
    """Run a small IB Gateway that speaks the TWS API (for `quantrail up` dry runs and tests).

    It quotes any stock it is asked for from a synthetic market and fills market orders at once.
    """
    from quantrail.ibkr.ibsim import IbGatewaySimulator
    from quantrail.ibkr.sim_book import SimBook

    faults = _faults(fault or [])
    book = SimBook(accounts=account or ["DU0000001"])

    async def serve() -> None:
        simulator = await IbGatewaySimulator(book, faults, host).start(port)
        console.print(
            f"ibsim: listening on {host}:{simulator.port} (accounts {', '.join(book.accounts)})"
        )
        try:
            await asyncio.Event().wait()
        finally:
            await simulator.stop()

    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve())
        except OSError as exc:
            err_console.print(
                f"ibsim: cannot listen on {host}:{port}: {exc.strerror}", markup=False
            )
            raise typer.Exit(2) from None


def _faults(specs: list[str]) -> Faults:
    faults = Faults()
    for spec in specs:
        key, _, value = spec.partition("=")
        try:
            if key == "drop-after":
                faults.drop_after_messages = int(value)
            elif key == "reject":
                faults.reject_code = int(value)
            elif key in ("exec-before-status", "repeat-exec-id", "hold-fills") and not value:
                setattr(faults, key.replace("-", "_"), True)
            else:
                raise ValueError
        except ValueError:
            err_console.print(
                f"--fault: unknown or malformed {spec!r}; known: {', '.join(FAULT_KEYS)}",
                markup=False,
            )
            raise typer.Exit(2) from None
    return faults
