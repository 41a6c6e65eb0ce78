"""How the ``quantrail`` command ends on an error: one line, no traceback (unless ``--debug``).

A user error (a bad value, a missing file: ``ValueError``, ``OSError``; typer's own usage
errors too) prints ``error: <what>`` and exits 2; Redis unreachable or refusing the login
prints ``error: cannot reach Redis: ...`` and exits 1; anything else prints
``internal error: <what>`` with a pointer to ``--debug`` and exits 1. ``--debug`` lets the
exception through with its traceback (without local variables, which could hold a password).
Every line goes through ``redact``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from quantrail.redact import redact

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)

DebugOption = Annotated[
    bool, typer.Option("--debug", help="show the full traceback when a command fails")
]


class QuantrailGroup(TyperGroup):
    """The top-level group: turns an escaping exception into one line and an exit code, and
    gives shared options their description where a verb left it out (``cli_help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from quantrail.cli_help import describe_options

        super().__init__(*args, **kwargs)
        describe_options(self)

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None,
        complete_var: str | None = None, standalone_mode: bool = True,
        windows_expand_args: bool = True, **extra: Any,
    ) -> Any:  # fmt: skip
        """typer's own usage errors (an unknown option, a value of the wrong type, a verb's
        ``BadParameter``) in one line too: ``error: ...``, exit 2 (not its framed box)."""
        run = {"args": args, "prog_name": prog_name, "complete_var": complete_var,
               "windows_expand_args": windows_expand_args, **extra}  # fmt: skip
        if not standalone_mode:
            return super().main(standalone_mode=False, **run)
        try:
            code = super().main(standalone_mode=False, **run)
        except NoArgsIsHelpError as exc:  # the help is on the screen already
            sys.exit(exc.exit_code)
        except ClickException as exc:
            typer.echo(redact(f"error: {_flat(exc.format_message())}"), err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if ctx.params.get("debug") or _is_cli_signal(exc):
                raise
            if _is_unreachable(exc):  # Redis down or the login refused: not a bug, not input
                typer.echo(redact(f"error: cannot reach Redis: {_flat(exc)}"), err=True)
                raise typer.Exit(1) from None
            user_error = isinstance(exc, USER_ERRORS)
            typer.echo(one_line(exc, user_error), err=True)
            raise typer.Exit(2 if user_error else 1) from None


def _is_unreachable(exc: BaseException) -> bool:
    """The transport's error, or redis-py's own from a command that reaches Redis directly
    (the order registry, the state a verb reads): a lost server, a timeout, a refused login."""
    from redis import exceptions as redis_errors

    from quantrail.bus.transport import TransportError

    unreachable = (TransportError, redis_errors.ConnectionError, redis_errors.TimeoutError)
    return isinstance(exc, unreachable)


def say_error(text: str) -> None:
    """The line a failing command prints: ``error: <text>`` on stderr, on one line, secrets
    redacted (the form the group prints for an exception, ``one_line``)."""
    typer.echo(redact(f"error: {_flat(text)}"), err=True)


def fail(text: str, code: int) -> NoReturn:
    """End a command that cannot go on: ``say_error(text)``, exit ``code`` (2: bad input)."""
    say_error(text)
    raise typer.Exit(code) from None


def _flat(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _is_cli_signal(exc: BaseException) -> bool:
    """typer's own exits and usage errors (its vendored click's carry an ``exit_code``)."""
    return isinstance(exc, (typer.Exit, typer.Abort)) or hasattr(exc, "exit_code")


def one_line(exc: BaseException, user_error: bool) -> str:
    text = _flat(exc)
    if user_error:
        return redact(f"error: {text}")
    return redact(f"internal error: {type(exc).__name__}: {text} (run with --debug for details)")
