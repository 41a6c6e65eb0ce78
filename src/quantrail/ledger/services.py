"""The ledger's services, built from the config (for ``quantrail up`` / ``quantrail service``)."""

from __future__ import annotations

from quantrail.config import Config
from quantrail.ledger.service import LedgerService
from quantrail.runtime.service import Service


def build_ledger_service(config: Config) -> Service:
    """The ledger service on ``db.url``, for the accounts and baseline files in ``risk``."""
    return LedgerService.from_config(config)
