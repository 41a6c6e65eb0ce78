"""IB contracts from config, qualified once (their conId asked of IB) and cached."""

from __future__ import annotations

from ib_async import IB, Contract, Stock

from quantrail.ibkr.config import IbkrConfig


class ContractBook:
    def __init__(self, config: IbkrConfig) -> None:
        self.config = config
        self._qualified: dict[str, Contract] = {}

    def spec(self, symbol: str) -> Contract:
        """The contract as configured (a SMART-routed US stock when the config names none)."""
        spec = self.config.contracts.get(symbol)
        if spec is None:
            return Stock(symbol, "SMART", "USD")
        return Contract(
            conId=spec.con_id, symbol=spec.ib_symbol or symbol, secType=spec.sec_type,
            exchange=spec.exchange, primaryExchange=spec.primary_exchange, currency=spec.currency,
        )  # fmt: skip

    async def qualified(self, ib: IB, symbol: str) -> Contract:
        """The contract with its conId; ValueError naming the symbol when IB does not know it."""
        if symbol not in self._qualified:
            contract = self.spec(symbol)
            if not contract.conId:
                await ib.qualifyContractsAsync(contract)
            if not contract.conId:
                raise ValueError(f"ibkr.contracts: IB has no contract for {symbol!r}")
            self._qualified[symbol] = contract
        return self._qualified[symbol]
