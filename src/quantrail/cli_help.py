"""How ``quantrail --help`` reads: for users, not for the code's readers.

typer prints a value type beside every option, ``<bool>`` for an on/off flag too, which reads as
if the flag took a value; flags show none here. An option a verb declares without a description
gets the shared one (``-c``/``--config`` is declared by several modules).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

SHARED_HELP = {
    "--config": "quantrail.yaml (default: ./quantrail.yaml)",
    "--redis": "Redis URL (overrides config)",
    "--namespace": "stream namespace (paper, live, ...)",
}


def _type_unless_flag(self: TyperOption, ctx: Any) -> str | None:
    if getattr(self, "is_flag", False):
        return None
    return _typed(self, ctx)


_typed = TyperOption.display_type_rich
TyperOption.display_type_rich = _type_unless_flag  # type: ignore[method-assign]


def describe_options(command: Any) -> None:
    """Give every option of ``command`` and its subcommands without a description the shared
    one for its name."""
    for param in getattr(command, "params", []):
        if getattr(param, "help", "x") or param.param_type_name != "option":
            continue
        shared = next((SHARED_HELP[o] for o in param.opts if o in SHARED_HELP), None)
        if shared is not None:
            param.help = shared
    for sub in getattr(command, "commands", {}).values():
        describe_options(sub)
