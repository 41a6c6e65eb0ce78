"""The service takes ADV per symbol from ``liquidity.adv`` (else ``default_adv``) in its config."""

from __future__ import annotations

from collections.abc import Callable

from integration.execution.harness import Harness
from kit.market_events import quote
from kit.order_events import intent
from kit.poll import eventually
from quantrail.execution.order import order_id_for_intent


async def test_the_configured_adv_resizes_one_symbol_and_denies_another(
    make_harness: Callable[..., Harness],
) -> None:
    """max_adv_fraction 0.05: PFA (ADV 20,000) caps at 1,000 shares; PFB (ADV 1,000) at 50,
    below the 100 minimum; ACME has no entry and gets default_adv 1,000,000 (no cap)."""
    harness = make_harness(adv={"PFA": 20_000, "PFB": 1_000}, max_adv_fraction="0.05")
    try:
        await harness.start()
        for symbol in ("PFA", "PFB", "ACME"):
            await harness.show(quote(symbol=symbol, bid_size=100_000, ask_size=100_000))
        await harness.publish(
            intent(intent_id="pfa", symbol="PFA", qty=5_000, limit_price="24.00"),
            intent(intent_id="pfb", symbol="PFB", qty=500, limit_price="24.00"),
            intent(intent_id="acme", symbol="ACME", qty=5_000, limit_price="24.00"),
        )
        pfa, pfb, acme = (order_id_for_intent(i) for i in ("pfa", "pfb", "acme"))
        assert (await harness.wait_kind(pfa, "submitted"))[0].qty == 1_000
        denied = (await harness.wait_kind(pfb, "denied"))[-1]
        assert denied.reason_code == "BELOW_MIN" and "0.05 of ADV 1000" in denied.reason
        assert (await harness.wait_kind(acme, "submitted"))[0].qty == 5_000
        audits = await eventually(
            lambda: harness.read("audit.decision"), lambda a: len(a) == 2, what="two audits"
        )
        resize = next(a for a in audits if a.input_summary["order_id"] == pfa)
        assert resize.output["reasons"] == [
            {"code": "ADV_CAP", "text": "5000 cut to 1000 (0.05 of ADV 20000)"}
        ]
    finally:
        await harness.close()
