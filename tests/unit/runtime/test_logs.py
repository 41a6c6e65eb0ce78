from __future__ import annotations

import io
import json
import logging

from quantrail.runtime.logs import current_service, setup_logging


def test_json_lines_carry_service_event_and_kind() -> None:
    out = io.StringIO()
    setup_logging("INFO", "json", stream=out)
    token = current_service.set("execution")
    try:
        logging.getLogger("quantrail.bus").warning(
            "handler failed", extra={"event_id": "e1", "kind": "trades.order.filled"}
        )
    finally:
        current_service.reset(token)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["service"] == "execution"
    assert line["event_id"] == "e1"
    assert line["kind"] == "trades.order.filled"
    assert line["msg"] == "handler failed" and line["level"] == "WARNING"


def test_text_lines_name_the_service() -> None:
    out = io.StringIO()
    setup_logging("INFO", "text", stream=out)
    token = current_service.set("ledger")
    try:
        logging.getLogger("quantrail.x").info("booked", extra={"event_id": "f9"})
    finally:
        current_service.reset(token)
    text = out.getvalue()
    assert "[ledger] booked" in text and "event_id=f9" in text
