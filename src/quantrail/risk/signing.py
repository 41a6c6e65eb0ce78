"""Signed approvals: the risk kernel signs what it approved, execution can check it.

**What is signed**: HMAC-SHA256 over the canonical encoding of

    ["quantrail.approval/1", evaluation_id, account, symbol, direction, max_qty, ts_event_ns]

as compact JSON (UTF-8, no spaces; strings as JSON strings, the two integers as JSON integers,
an absent account as ``""``). A JSON array cannot be confused by a separator inside a field, and
the leading version string keeps a future encoding from ever matching this one. The signature is
the lowercase hex digest; ``key_id`` is the first 8 hex digits of SHA-256 of the key, so a
verifier picks the right key (current or previous) without the key ever being sent.

**Keys** come from the environment variable named by ``risk_kernel.signing_key_env`` or, when
``risk_kernel.signing_key_file`` is set, from that file (its trailing newline dropped); never
from the YAML, and never printed (``SigningKey``'s repr shows the key id only). The previous key
(``previous_key_env`` / ``previous_key_file``) is accepted by ``verify`` during a rotation. No
key configured: evaluations carry an empty signature and ``verify_approval`` has nothing to
enforce.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from quantrail.events.trades import SubmitOrder
from quantrail.risk.kernel_config import RiskKernelConfig
from quantrail.vocab import Direction, Side

ENCODING_VERSION = "quantrail.approval/1"


class SigningKeyError(ValueError):
    """A configured key cannot be read or is empty (names the config key, never the secret)."""


class ApprovalFault(enum.StrEnum):
    """Why ``verify_approval`` refused a request."""

    UNSIGNED = "UNSIGNED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    QTY_ABOVE_APPROVAL = "QTY_ABOVE_APPROVAL"
    SIDE_MISMATCH = "SIDE_MISMATCH"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One HMAC key. Its repr shows only ``key_id``."""

    secret: bytes = field(repr=False)
    key_id: str

    @classmethod
    def from_secret(cls, secret: bytes) -> SigningKey:
        if not secret:
            raise SigningKeyError("signing key: must not be empty")
        return cls(secret, hashlib.sha256(secret).hexdigest()[:8])


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """The current key (signs and verifies) and the previous one (verifies only)."""

    current: SigningKey | None = None
    previous: SigningKey | None = None

    def by_id(self, key_id: str) -> SigningKey | None:
        for key in (self.current, self.previous):
            if key is not None and hmac.compare_digest(key.key_id, key_id):
                return key
        return None

    @property
    def configured(self) -> bool:
        return self.current is not None or self.previous is not None


def load_keys(config: RiskKernelConfig, environ: Mapping[str, str] | None = None) -> SigningKeys:
    """Current and previous key from ``config``'s file or environment variable."""
    env = os.environ if environ is None else environ
    current = _load_key(
        env, config.signing_key_env, config.signing_key_file, "signing_key_env", "signing_key_file"
    )
    previous = _load_key(
        env,
        config.previous_key_env,
        config.previous_key_file,
        "previous_key_env",
        "previous_key_file",
    )
    return SigningKeys(current, previous)


def _load_key(
    env: Mapping[str, str], var: str, path: str | None, var_key: str, file_key: str
) -> SigningKey | None:
    if path is not None:
        try:
            secret = Path(path).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise SigningKeyError(
                f"risk_kernel.{file_key}: cannot read {path}: {exc.strerror}"
            ) from None
        if not secret:
            raise SigningKeyError(f"risk_kernel.{file_key}: {path} is empty")
        return SigningKey.from_secret(secret)
    value = env.get(var, "") if var else ""
    if not value:
        return None
    return SigningKey.from_secret(value.encode())


def approval_message(
    *,
    evaluation_id: str,
    account: str | None,
    symbol: str,
    direction: Direction | str,
    max_qty: int,
    ts_ns: int,
) -> bytes:
    """The canonical bytes an approval signature covers (see the module doc)."""
    fields = [
        ENCODING_VERSION, evaluation_id, account or "", symbol, str(direction), max_qty, ts_ns,
    ]  # fmt: skip
    return msgspec.json.encode(fields)


def sign(key: SigningKey | None, message: bytes) -> tuple[str, str]:
    """``(signature hex, key_id)``; two empty strings when no key is configured."""
    if key is None:
        return "", ""
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest(), key.key_id


def verify(message: bytes, signature: str, key_id: str, keys: SigningKeys) -> str | None:
    """None when ``signature`` is a valid signature of ``message`` by the current or the previous
    key; else the fault (``ApprovalFault``)."""
    if not signature or not key_id:
        return ApprovalFault.UNSIGNED
    key = keys.by_id(key_id)
    if key is None:
        return ApprovalFault.UNKNOWN_KEY
    expected = hmac.new(key.secret, message, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else ApprovalFault.BAD_SIGNATURE


def verify_approval(request: SubmitOrder, keys: SigningKeys) -> str | None:
    """Execution's check of a sized request against the approval it copies.

    None when no key is configured (signing off) or when the signature over the request's
    ``evaluation_id``, account, symbol, direction, ``approval_max_qty`` and ``approval_ts_ns``
    holds, its side agrees with that direction and its qty is within ``approval_max_qty``;
    else the fault. A reduce-only request carries no approval and is not checked here.
    """
    if not keys.configured or request.reduce_only:
        return None
    direction = request.direction
    if direction is None:
        return ApprovalFault.UNSIGNED
    message = approval_message(
        evaluation_id=request.evaluation_id,
        account=request.account,
        symbol=request.symbol,
        direction=direction,
        max_qty=request.approval_max_qty,
        ts_ns=request.approval_ts_ns,
    )
    fault = verify(message, request.approval_signature, request.approval_key_id, keys)
    if fault is not None:
        return fault
    expected_side = Side.BUY if direction is Direction.LONG else Side.SELL
    if direction is Direction.FLAT or request.side is not expected_side:
        return ApprovalFault.SIDE_MISMATCH
    if request.qty > request.approval_max_qty:
        return ApprovalFault.QTY_ABOVE_APPROVAL
    return None
