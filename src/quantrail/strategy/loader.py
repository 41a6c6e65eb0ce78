"""Loading the configured strategy: a shipped name or ``package.module:Class``, with its params.

Every failure is a ``StrategyError`` (a ValueError, so ``quantrail service``/``up`` exit 2)
whose one line names the key: ``strategy.name`` for a module that does not import or a class
that is missing or does not implement the protocol, ``strategy.params.<key>`` for an unknown,
missing or refused parameter.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping
from typing import Any

from quantrail.strategy.api import Strategy, StrategyError

SHIPPED = {
    "breakout": "quantrail.strategy.shipped.breakout:Breakout",
    "meanrevert": "quantrail.strategy.shipped.meanrevert:MeanRevert",
    "scripted": "quantrail.strategy.shipped.scripted:Scripted",
}
_CALLS = ("on_candle", "on_tick", "on_clock")
_LEADING_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): ")


def load_strategy(name: str, params: Mapping[str, Any]) -> Strategy:
    """The strategy instance ``name`` names, built with ``params``."""
    target = SHIPPED.get(name, name)
    module_path, colon, attr = target.partition(":")
    if not colon or not module_path or not attr:
        shipped = ", ".join(SHIPPED)
        raise StrategyError(
            f"strategy.name: unknown strategy {name!r}; use {shipped} or package.module:Class"
        )
    cls = _import(module_path, attr)
    _check_params(cls, params, target)
    try:
        strategy = cls(**params)
    except (TypeError, ValueError) as exc:
        raise StrategyError(_params_message(str(exc), params)) from None
    missing = [call for call in _CALLS if not callable(getattr(strategy, call, None))]
    if not isinstance(getattr(strategy, "model_version", None), str):
        missing.append("model_version")
    if missing or not isinstance(strategy, Strategy):
        raise StrategyError(
            f"strategy.name: {target} does not implement the Strategy protocol "
            f"(missing {', '.join(missing)})"
        )
    return strategy


def _import(module_path: str, attr: str) -> Any:
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:  # an import error or an error raised while the module runs
        reason = f"{type(exc).__name__}: {exc}"
        raise StrategyError(
            f"strategy.name: cannot import module {module_path!r} ({reason})"
        ) from None
    cls = getattr(module, attr, None)
    if cls is None or not callable(cls):
        raise StrategyError(f"strategy.name: module {module_path!r} has no class {attr!r}")
    return cls


def _check_params(cls: Any, params: Mapping[str, Any], target: str) -> None:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return  # no signature to check against: the constructor call will say
    accepted = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    for key in params:
        if key not in accepted:
            known = ", ".join(accepted) or "none"
            raise StrategyError(
                f"strategy.params.{key}: unknown parameter of {target} (known: {known})"
            )
    for key, parameter in accepted.items():
        required = parameter.default is inspect.Parameter.empty and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        )
        if required and key not in params:
            raise StrategyError(f"strategy.params.{key}: required by {target}")


def _params_message(message: str, params: Mapping[str, Any]) -> str:
    """``lookback: must be ...`` -> ``strategy.params.lookback: must be ...``."""
    match = _LEADING_KEY.match(message)
    if match and match.group(1) in params:
        return f"strategy.params.{message}"
    return f"strategy.params: {message}"
