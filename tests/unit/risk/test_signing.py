"""Approval signatures: the canonical message, keys from env or file, rotation, verify_approval."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from kit.kernel import OLD_KEY, TEST_KEY
from quantrail.events.trades import SubmitOrder
from quantrail.risk.kernel_config import RiskKernelConfig
from quantrail.risk.signing import (
    ApprovalFault,
    SigningKey,
    SigningKeyError,
    SigningKeys,
    approval_message,
    load_keys,
    sign,
    verify,
    verify_approval,
)
from quantrail.vocab import Bucket, Direction, OrderType, Side

MESSAGE = approval_message(
    evaluation_id="eval:sig:1", account="ACC1", symbol="ACME", direction=Direction.LONG,
    max_qty=2000, ts_ns=1_710_509_400_000_000_000,
)  # fmt: skip


def test_the_canonical_message_is_a_compact_versioned_json_array() -> None:
    assert MESSAGE == (
        b'["quantrail.approval/1","eval:sig:1","ACC1","ACME","LONG",2000,1710509400000000000]'
    )
    no_account = approval_message(
        evaluation_id="e", account=None, symbol="A|B", direction="SHORT", max_qty=1, ts_ns=2
    )
    assert no_account == b'["quantrail.approval/1","e","","A|B","SHORT",1,2]'


def test_a_signature_is_hmac_sha256_hex_and_the_key_id_is_8_hex_of_the_keys_sha256() -> None:
    signature, key_id = sign(TEST_KEY, MESSAGE)
    assert signature == hmac.new(b"kernel-test-key-1", MESSAGE, hashlib.sha256).hexdigest()
    assert key_id == hashlib.sha256(b"kernel-test-key-1").hexdigest()[:8]
    assert sign(None, MESSAGE) == ("", "")


def test_verify_accepts_the_current_and_the_previous_key_and_nothing_else() -> None:
    keys = SigningKeys(current=TEST_KEY, previous=OLD_KEY)
    assert verify(MESSAGE, *sign(TEST_KEY, MESSAGE), keys) is None
    assert verify(MESSAGE, *sign(OLD_KEY, MESSAGE), keys) is None
    stranger = SigningKey.from_secret(b"someone else")
    assert verify(MESSAGE, *sign(stranger, MESSAGE), keys) == ApprovalFault.UNKNOWN_KEY
    signature, key_id = sign(TEST_KEY, MESSAGE)
    assert verify(MESSAGE + b" ", signature, key_id, keys) == ApprovalFault.BAD_SIGNATURE
    assert verify(MESSAGE, "", "", keys) == ApprovalFault.UNSIGNED
    after_rotation = SigningKeys(current=SigningKey.from_secret(b"new"), previous=TEST_KEY)
    assert verify(MESSAGE, *sign(OLD_KEY, MESSAGE), after_rotation) == ApprovalFault.UNKNOWN_KEY


def test_keys_come_from_the_environment_or_a_file_and_never_show_in_a_repr(
    tmp_path: Path,
) -> None:
    env = {"QUANTRAIL_SIGNING_KEY": "kernel-test-key-1", "OLD": "kernel-test-key-0"}
    keys = load_keys(RiskKernelConfig(previous_key_env="OLD"), env)
    assert keys.current == TEST_KEY and keys.previous == OLD_KEY
    assert "kernel-test-key" not in repr(keys) and TEST_KEY.key_id in repr(keys)
    path = tmp_path / "key"
    path.write_bytes(b"kernel-test-key-1\n")
    from_file = load_keys(RiskKernelConfig(signing_key_file=str(path)), {})
    assert from_file.current == TEST_KEY and from_file.previous is None
    assert not load_keys(RiskKernelConfig(), {}).configured


def test_an_unreadable_or_empty_key_file_names_the_config_key_not_the_secret(
    tmp_path: Path,
) -> None:
    with pytest.raises(SigningKeyError, match=r"risk_kernel\.signing_key_file: cannot read"):
        load_keys(RiskKernelConfig(signing_key_file=str(tmp_path / "missing")), {})
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    with pytest.raises(SigningKeyError, match=r"risk_kernel\.previous_key_file: .* is empty"):
        load_keys(RiskKernelConfig(previous_key_file=str(empty)), {})


def signed_request(key: SigningKey = TEST_KEY, **overrides: object) -> SubmitOrder:
    signature, key_id = sign(key, MESSAGE)
    values: dict[str, object] = {
        "ts_event": 1, "account": "ACC1", "request_id": "req:eval:sig:1",
        "evaluation_id": "eval:sig:1", "symbol": "ACME", "side": Side.BUY, "qty": 2000,
        "order_type": OrderType.MARKET, "bucket": Bucket.MM_PURE, "direction": Direction.LONG,
        "approval_max_qty": 2000, "approval_ts_ns": 1_710_509_400_000_000_000,
        "approval_signature": signature, "approval_key_id": key_id,
    }  # fmt: skip
    values.update(overrides)
    return SubmitOrder(**values)  # type: ignore[arg-type]


def test_verify_approval_checks_signature_side_and_qty_of_a_request() -> None:
    keys = SigningKeys(current=TEST_KEY, previous=OLD_KEY)
    assert verify_approval(signed_request(), keys) is None
    assert verify_approval(signed_request(OLD_KEY, qty=1500), keys) is None
    assert verify_approval(signed_request(qty=2100), keys) == ApprovalFault.QTY_ABOVE_APPROVAL
    assert verify_approval(signed_request(side=Side.SELL), keys) == ApprovalFault.SIDE_MISMATCH
    assert verify_approval(signed_request(approval_max_qty=5000, qty=5000), keys) == (
        ApprovalFault.BAD_SIGNATURE
    )
    assert verify_approval(signed_request(symbol="OTHER"), keys) == ApprovalFault.BAD_SIGNATURE
    unsigned = signed_request(approval_signature="", approval_key_id="")
    assert verify_approval(unsigned, keys) == ApprovalFault.UNSIGNED
    assert verify_approval(unsigned, SigningKeys()) is None  # signing off: nothing to enforce
