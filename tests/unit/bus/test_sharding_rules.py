"""The shard rules (stable placement, hash tags that keep a shard in one slot), cluster config."""

from __future__ import annotations

import pytest

from quantrail.bus.cluster import RedisClusterTransport, slot_of
from quantrail.bus.keyslot import beside, hash_tag
from quantrail.bus.leases import wanted_shards
from quantrail.bus.sharding import Sharding, base_stream, shard_of
from quantrail.config import BusConfig, RedisConfig


def test_shard_of_is_crc32_of_the_symbol_and_stable() -> None:
    # Fixed values: a change of the hash would move every symbol to another shard.
    assert shard_of("AAPL", 16) == 3_060_094_812 % 16 == 12
    assert all(shard_of(s, 1) == 0 for s in ("AAPL", "X", "Y"))


def test_every_stream_of_a_shard_shares_one_cluster_slot() -> None:
    sharding = Sharding(8)
    keys = [f"paper:{sharding.shard_stream(s, 7)}" for s in ("market.quote", "trades.order")]
    assert keys == ["paper:market.quote:{s07}", "paper:trades.order:{s07}"]
    assert slot_of(keys[0]) == slot_of(keys[1])
    assert base_stream("trades.order:{s07}") == "trades.order"
    assert base_stream("risk.mode") == "risk.mode"


def test_unsharded_streams_stay_single_keys_and_one_shard_is_today() -> None:
    assert Sharding(8).expand(["risk.mode", "market.quote"], held=[2, 5]) == [
        "risk.mode",
        "market.quote:{s02}",
        "market.quote:{s05}",
    ]
    assert Sharding(1).expand(["market.quote", "trades.order"]) == ["market.quote", "trades.order"]


def test_a_key_beside_another_shares_its_slot() -> None:
    assert hash_tag("paper:trades.order:{s07}") == "s07"
    assert hash_tag("paper:idem:g:k") == "paper:idem:g:k"
    assert hash_tag("a{}b") == "a{}b"  # an empty tag does not count
    for key in ("paper:idem:{s07}:g:k", "paper:idem:g:k"):
        assert slot_of(beside(key, "paper:effects")) == slot_of(key)
    assert beside("paper:idem:{s07}:g:k", "paper:effects") == "paper:effects:{s07}"


def test_a_bad_shard_count_is_refused_with_its_key() -> None:
    with pytest.raises(ValueError, match="shards: must be 1 to 1024, got 0"):
        BusConfig(shards=0)


def test_live_members_split_the_shards_by_name_and_everyone_agrees() -> None:
    members = ["b-host", "a-host", "c-host"]
    split = [wanted_shards(members, m, 8) for m in sorted(members)]
    assert split == [{0, 3, 6}, {1, 4, 7}, {2, 5}]
    assert wanted_shards([], "alone", 4) == {0, 1, 2, 3}  # not listed yet: counts itself


def test_a_bad_startup_node_is_refused_with_its_key() -> None:
    with pytest.raises(ValueError, match=r"redis\.cluster: 'nohost' is not host:port"):
        RedisClusterTransport(["nohost"])
    assert RedisConfig(cluster=True, url="redis://h:7000/0").cluster_nodes == ["redis://h:7000/0"]
    assert RedisConfig(cluster=["a:1", "b:2"]).cluster_nodes == ["a:1", "b:2"]
    assert RedisConfig().cluster_nodes == []
