"""Throwaway credentials for tests, made at run time: no password is ever written in the source.

A test that checks how a password is read or hidden needs one; ``fake_secret`` makes a fresh
random one, ``url_with_password`` the URL form some deployments still use, ``masked_url`` the
same URL as ``quantrail.redact`` shows it.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from quantrail.redact import MASK


def fake_secret(label: str = "pw") -> str:
    return f"{label}-{secrets.token_hex(8)}"


def url_with_password(
    password: str, where: str = "h:1/0", user: str = "u", scheme: str = "redis"
) -> str:
    return f"{scheme}://{user}:{quote(password, safe='')}@{where}"


def masked_url(where: str = "h:1/0", user: str = "u", scheme: str = "redis") -> str:
    """``url_with_password``'s URL as redacted: the password replaced by ``redact.MASK``."""
    return url_with_password(MASK, where, user, scheme).replace(quote(MASK, safe=""), MASK)
