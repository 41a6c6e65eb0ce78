"""What ``quantrail config`` checks beyond the file's shape: everything ``up`` would refuse.

``load_config`` validates keys and values; ``up`` then also loads the exchange calendar, the
accounts' baseline files, the risk rules file, the Redis login (password file, TLS files) and
builds every service. ``check_config`` does the same without starting anything, so ``config``
catches what ``up`` would refuse, each problem naming its key.
"""

from __future__ import annotations

from quantrail.config import Config, ConfigError


def check_config(config: Config, source: str = "") -> list[ConfigError]:
    """Every problem ``up`` would stop on, as config errors naming the key (empty: none)."""
    problems = [
        *_calendar(config, source),
        *_baselines(config, source),
        *_rules(config, source),
        *_redis_login(config),
    ]
    return problems or _services(config, source)


def _calendar(config: Config, source: str) -> list[ConfigError]:
    from quantrail.session.calendar import ExchangeCalendar

    try:
        ExchangeCalendar.from_config(config.session)
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        key = f"session.{field}" if field in ("exchange", "timezone") else "session"
        value = getattr(config.session, field, None) if key != "session" else None
        return [ConfigError(key, reason or str(exc), value, source)]
    return []


def _baselines(config: Config, source: str) -> list[ConfigError]:
    from quantrail.risk.baseline import load_baseline

    problems = []
    for index, account in enumerate(config.risk.accounts):
        if account.baseline is None:
            continue
        try:
            load_baseline(account.baseline)
        except (ValueError, OSError) as exc:
            key = f"risk.accounts.{index}.baseline"
            problems.append(ConfigError(key, str(exc), account.baseline, source))
    return problems


def _rules(config: Config, source: str) -> list[ConfigError]:
    from quantrail.risk.rules import load_risk_rules

    if config.risk.rules is None:
        return []
    try:
        load_risk_rules(config.risk.rules)
    except (ValueError, OSError) as exc:
        return [ConfigError("risk.rules", str(exc), config.risk.rules, source)]
    return []


def _redis_login(config: Config) -> list[ConfigError]:
    from quantrail.bus.redis_connect import redis_login

    if config.bus.transport != "redis":
        return []
    try:
        redis_login(config.redis)
    except ConfigError as exc:
        return [exc]
    return []


def _services(config: Config, source: str) -> list[ConfigError]:
    """Build every service as ``up`` does (nothing starts: no connection, no file written)."""
    from quantrail.bus.bus import EventBus
    from quantrail.bus.memory import MemoryTransport
    from quantrail.ops.service_names import SERVICE_NAMES
    from quantrail.ops.services import build_services
    from quantrail.runtime.clock import WallClock

    try:
        build_services(config, EventBus(MemoryTransport()), WallClock(), list(SERVICE_NAMES))
    except (ValueError, OSError) as exc:
        return [ConfigError("<services>", f"up would refuse to start: {exc}", None, source)]
    return []
