"""One validated configuration tree: ``quantrail.yaml`` plus environment overrides.

An unknown key or a bad value stops start-up with the key path named. Later domains add their
own sections here; every section has defaults so an empty file is a valid config.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from quantrail.backtest.config import BacktestConfig
from quantrail.execution.config import ExecutionConfig
from quantrail.ibkr.config import IbkrConfig
from quantrail.marketdata.config import MarketDataConfig
from quantrail.ops.dashboard.config import DashboardConfig
from quantrail.ops.health_config import HealthConfig
from quantrail.risk.kernel_config import KillSwitchConfig, RiskKernelConfig
from quantrail.risk.liquidity import LiquidityConfig
from quantrail.session.config import SessionConfig
from quantrail.settings import SettingsError, convert_settings
from quantrail.strategy.band_drift import BandDriftConfig
from quantrail.strategy.config import (
    ExitBrainConfig,
    PositionsConfig,
    RegimeConfig,
    SizerConfig,
    StrategyConfig,
)

ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "QUANTRAIL_REDIS_URL": ("redis", "url"),
    "QUANTRAIL_REDIS_USERNAME": ("redis", "username"),
    "QUANTRAIL_REDIS_PASSWORD_FILE": ("redis", "password_file"),
    "QUANTRAIL_NAMESPACE": ("namespace",),
    "QUANTRAIL_DB_URL": ("db", "url"),
    "QUANTRAIL_TRANSPORT": ("bus", "transport"),
}
DEFAULT_CONFIG_FILE = "quantrail.yaml"


class ConfigError(SettingsError):
    """A config that cannot be used: names the key path and the value."""

    label = "config key"


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class RedisTlsConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """TLS for a ``rediss://`` URL: the CA that signed the server, and a client certificate
    when the server asks for one (``tls-auth-clients yes``). See docs/security.md."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    check_hostname: bool = True

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file: cert_file and key_file go together")


class RedisConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Where Redis is and how to log in. The password is never needed in this file: it is read
    from the variable ``password_env`` names or from ``password_file`` (docs/security.md)."""

    url: str = "redis://127.0.0.1:6379/0"
    socket_timeout_s: float = 10.0
    reconnect_backoff_ms: list[int] = msgspec.field(default_factory=lambda: [100, 500, 2000, 5000])
    username: str | None = None  # an ACL user, e.g. quantrail-engine
    password_env: str = "QUANTRAIL_REDIS_PASSWORD"
    password_file: str | None = None
    tls: RedisTlsConfig = RedisTlsConfig()
    # A Redis Cluster (bus/cluster.py): true (``url`` is the startup node) or a list of
    # ``host:port`` startup nodes; false keeps the single-node client.
    cluster: bool | list[str] = False
    failover_retry_s: float = 20.0

    @property
    def cluster_nodes(self) -> list[str]:
        """The cluster's startup nodes, or [] for a single Redis."""
        if isinstance(self.cluster, list):
            return list(self.cluster)
        return [self.url] if self.cluster else []


class Retention(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Per-stream retention: ``maxlen`` entries or ``max_age_s`` (MINID), approximate trimming.

    ``maxlen: 0`` with no ``max_age_s`` keeps everything (for streams archived to SQL).
    """

    maxlen: int = 100_000
    max_age_s: int | None = None

    def __post_init__(self) -> None:
        if self.maxlen < 0:
            raise ValueError("maxlen: must be >= 0")
        if self.max_age_s is not None and self.max_age_s <= 0:
            raise ValueError("max_age_s: must be > 0")


class ConsumerConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    batch_size: int = 100
    block_ms: int = 1000
    claim_idle_ms: int = 30_000
    claim_interval_ms: int = 5_000
    max_deliveries: int = 3
    backoff_ms: list[int] = msgspec.field(default_factory=lambda: [100, 500, 2000])
    idempotency_window_s: int = 86_400
    idempotency_lru_size: int = 100_000
    handler_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size: must be >= 1")
        if self.max_deliveries < 1:
            raise ValueError("max_deliveries: must be >= 1")
        if self.block_ms < 0 or self.claim_idle_ms < 0:
            raise ValueError("block_ms: times must be >= 0")
        if not self.backoff_ms or any(step < 0 for step in self.backoff_ms):
            raise ValueError("backoff_ms: must be a non-empty list of non-negative numbers")
        if not self.handler_timeout_s > 0:
            raise ValueError("handler_timeout_s: must be > 0")


# Audit is never trimmed in Redis (dead letters: DeadLetterConfig, by age). Intents, requests
# and order events keep a week: the ledger archives every fill to SQL as it comes, the order
# registry (Redis hashes) holds each order's state, and the services that rebuild state replay
# only today's entries, so older ones only cost memory and start-up time (a cap by count could
# drop part of a busy today).
# A week covers a long weekend with the ledger down; longer is an outage.
# Fast market data keeps a bounded window.
WEEK_S = 7 * 86_400
RETENTION: dict[str, Retention] = {
    "market.quote": Retention(maxlen=50_000),
    "market.trade": Retention(maxlen=50_000),
    "market.tick": Retention(maxlen=10_000),
    "session.clock": Retention(maxlen=10_000),
    "system.clock": Retention(maxlen=1_000),  # the replayed clock: followers need the latest
    "system.health": Retention(max_age_s=86_400, maxlen=0),
    "trades.order": Retention(max_age_s=WEEK_S, maxlen=0),
    "trades.request": Retention(max_age_s=WEEK_S, maxlen=0),
    "trades.intent": Retention(max_age_s=WEEK_S, maxlen=0),
    "audit.decision": Retention(maxlen=0),
}
DEADLETTER_STREAM = "system.deadletter"


class DeadLetterConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``system.deadletter``: how much of an original it keeps, and for how long.

    Dead letters older than ``max_age_s`` are trimmed, but only ``warn_before_s`` after a
    WARNING alert announced them (see ``bus/dlq_retention.py``)."""

    max_original_bytes: int = 64 * 1024
    max_age_s: int = 30 * 86_400
    warn_before_s: int = 3 * 86_400

    def __post_init__(self) -> None:
        if self.max_original_bytes < 1024:
            raise ValueError("max_original_bytes: must be >= 1024")
        if self.max_age_s < 3600:
            raise ValueError("max_age_s: must be >= 3600 (an hour)")
        if not 0 < self.warn_before_s < self.max_age_s:
            raise ValueError(f"warn_before_s: must be > 0 and < max_age_s ({self.max_age_s})")


class BusConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    transport: Literal["memory", "redis"] = "memory"
    consumer: ConsumerConfig = ConsumerConfig()
    retention_default: Retention = Retention()
    retention: dict[str, Retention] = msgspec.field(default_factory=dict)
    deadletter: DeadLetterConfig = DeadLetterConfig()
    shards: int = 1  # high-volume streams split by symbol (bus/sharding.py); 1 = single keys
    lease_ttl_ms: int = 10_000  # shard leases (bus/leases.py): a dead holder's shards move after

    def __post_init__(self) -> None:
        if not 1 <= self.shards <= 1024:
            raise ValueError(f"shards: must be 1 to 1024, got {self.shards}")
        if self.lease_ttl_ms < 300:
            raise ValueError(f"lease_ttl_ms: must be >= 300, got {self.lease_ttl_ms}")
        if DEADLETTER_STREAM in self.retention:
            raise ValueError(
                f"retention: {DEADLETTER_STREAM} is kept by bus.deadletter (max_age_s,"
                " warn_before_s), not by a stream retention"
            )

    def retention_for(self, stream: str) -> Retention:
        """The config's own entry, else the built-in one (``RETENTION``), else the default.

        A config's ``retention`` adds to the built-in table instead of replacing it, so a file
        that tunes market data cannot leave audit or dead letters to the 100,000 default."""
        return self.retention.get(stream) or RETENTION.get(stream) or self.retention_default


class BreakerConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    failures: int = 5
    reset_s: float = 60.0


class RuntimeConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    heartbeat_s: float = 30.0
    breaker: BreakerConfig = BreakerConfig()
    shutdown_grace_s: float = 10.0


class LogConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class DbConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    url: str = "sqlite:///quantrail.sqlite"


ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class AccountConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """An account the desk trades: its equity and its start-of-day positions file."""

    name: str
    equity: Decimal
    baseline: str | None = None  # CSV or YAML: symbol,qty,bucket,prior_close

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name: must not be empty")
        if not ACCOUNT_NAME.fullmatch(self.name):
            # It names Redis keys and hash tags (``{acct:NAME}``), file names and URLs: a brace
            # or a space would move keys between slots or break a path.
            raise ValueError(
                f"name: must be letters, digits, '_', '-' or '.', starting with a letter or "
                f"digit (value: {self.name!r})"
            )
        if not self.equity.is_finite() or self.equity <= 0:
            raise ValueError("equity: must be > 0")


class RiskConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The risk services: rules file, accounts, symbol groups and their cadences."""

    rules: str | None = None  # risk_rules.yaml; None = the shipped defaults
    accounts: list[AccountConfig] = msgspec.field(default_factory=list)
    groups: dict[str, str] = msgspec.field(default_factory=dict)  # symbol -> group
    exposure_interval_s: float = 15.0
    derisk_step_interval_s: float = 15.0

    def __post_init__(self) -> None:
        names = [account.name for account in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError(f"accounts: names must be unique, got {names}")
        if self.exposure_interval_s <= 0:
            raise ValueError("exposure_interval_s: must be > 0")
        if self.derisk_step_interval_s <= 0:
            raise ValueError("derisk_step_interval_s: must be > 0")


class Config(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    namespace: str = "paper"
    redis: RedisConfig = RedisConfig()
    bus: BusConfig = BusConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    log: LogConfig = LogConfig()
    db: DbConfig = DbConfig()
    session: SessionConfig = SessionConfig()
    execution: ExecutionConfig = ExecutionConfig()
    liquidity: LiquidityConfig = LiquidityConfig()
    band_drift: BandDriftConfig = BandDriftConfig()
    risk: RiskConfig = RiskConfig()
    marketdata: MarketDataConfig = MarketDataConfig()
    regime: RegimeConfig = RegimeConfig()
    strategy: StrategyConfig = StrategyConfig()
    risk_kernel: RiskKernelConfig = RiskKernelConfig()
    sizer: SizerConfig = SizerConfig()
    positions: PositionsConfig = PositionsConfig()
    exit_brain: ExitBrainConfig = ExitBrainConfig()
    kill_switch: KillSwitchConfig = KillSwitchConfig()
    backtest: BacktestConfig = BacktestConfig()
    ibkr: IbkrConfig = IbkrConfig()
    health: HealthConfig = HealthConfig()
    dashboard: DashboardConfig = DashboardConfig()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]*", self.namespace):
            raise ValueError("namespace: may hold letters, digits, '_' and '-' only")


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate the config: file (if any), then environment overrides.

    With no path, ``quantrail.yaml`` in the working directory is used when it exists.
    """
    env = os.environ if env is None else env
    source = ""
    raw: dict[str, Any] = {}
    if path is None and Path(DEFAULT_CONFIG_FILE).exists():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        source = str(path)
        raw = _read_yaml(Path(path))
    from_env: dict[str, str] = {}
    for var, key_path in ENV_OVERRIDES.items():
        if var in env:
            _set_path(raw, key_path, env[var])
            from_env[".".join(key_path)] = f"environment variable {var}"
    return config_from_mapping(raw, source, from_env)


def config_from_mapping(
    raw: Mapping[str, Any], source: str = "", from_env: Mapping[str, str] | None = None
) -> Config:
    """``raw`` as a Config; ``from_env`` names the variable behind each overridden key, so an
    error in it blames the variable, not the file."""
    env_keys = dict(from_env or {})
    return convert_settings(raw, Config, ConfigError, source, lambda key: env_keys.get(key, source))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError("<file>", "config file not found", str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError("<file>", f"not valid YAML: {exc}", str(path)) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError("<root>", "the config must be a mapping", type(loaded).__name__)
    return loaded


def _set_path(raw: dict[str, Any], key_path: tuple[str, ...], value: str) -> None:
    node = raw
    for part in key_path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(".".join(key_path), "cannot override a non-mapping", child)
        node = child
    node[key_path[-1]] = value
