"""Credentials never reach a message or a log line.

``redact`` masks the password of every URL in a text (what stands between the user's ``:`` and
the ``@`` becomes ``***``) and every secret registered with ``register_secret`` (the Redis
password read from its variable or file), wherever it appears.
"""

from __future__ import annotations

import re

MASK = "***"
# After the scheme and an optional user, the password is what sits between ':' and '@'.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<pw>[^@\s/]*)@")
_SECRETS: set[str] = set()
_MIN_SECRET_LEN = 4  # a shorter "secret" would mask ordinary words and numbers


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` in everything ``redact`` sees from now on (this process)."""
    if secret and len(secret) >= _MIN_SECRET_LEN:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """``text`` with URL passwords and registered secrets replaced by ``***``."""
    masked = _URL_PASSWORD.sub(
        lambda m: f"{m.group('head')}{MASK}@" if m.group("pw") else m.group(0), text
    )
    for secret in sorted(_SECRETS, key=len, reverse=True):
        masked = masked.replace(secret, MASK)
    return masked
