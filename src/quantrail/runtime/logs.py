"""Structured logs: every line says which service, and for event work which event and kind."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

from quantrail.redact import redact

current_service: contextvars.ContextVar[str] = contextvars.ContextVar("service", default="-")

_CONTEXT_FIELDS = ("consumer", "event_id", "kind", "stream", "group")


class _ServiceFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "service"):
            record.service = current_service.get()
        return True


# Every line goes through ``redact``: a URL's password or a registered secret never reaches a log.
class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "service": getattr(record, "service", "-"),
            "msg": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in _CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        base = (
            f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} "
            f"[{getattr(record, 'service', '-')}] {record.getMessage()}"
        )
        text = f"{base}  {context}" if context else base
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return redact(text)


def setup_logging(level: str = "INFO", fmt: str = "text", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ServiceFilter())
    root = logging.getLogger("quantrail")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
