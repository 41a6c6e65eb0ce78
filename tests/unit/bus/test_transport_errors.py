"""redis-py's errors as the transport's: a cluster's failover replies are a busy server (the
consumer waits them out), NOGROUP is a missing group, any other reply error goes through."""

from __future__ import annotations

import pytest
from redis import exceptions as redis_errors

from quantrail.bus.cluster import _CLUSTER_ERRORS
from quantrail.bus.redis import transport_errors
from quantrail.bus.transport import NoGroupError, TransportError

WHERE = "redis cluster at redis://user:secret@10.0.0.1:7000"


async def _raised(error: BaseException) -> BaseException:
    try:
        async with transport_errors(WHERE, _CLUSTER_ERRORS, repr):
            raise error
    except BaseException as exc:  # what came out of the context
        return exc
    raise AssertionError("nothing raised")


@pytest.mark.parametrize(
    "error",
    [
        redis_errors.ClusterDownError("CLUSTERDOWN The cluster is down"),
        redis_errors.TryAgainError("TRYAGAIN Multiple keys request during rehashing of slot"),
        redis_errors.MasterDownError("MASTERDOWN Link with MASTER is down"),
        redis_errors.ConnectionError("Connection refused"),
    ],
    ids=["clusterdown", "tryagain", "masterdown", "connection"],
)
async def test_a_failover_reply_is_a_transport_error_naming_where_without_the_password(
    error: BaseException,
) -> None:
    raised = await _raised(error)
    assert isinstance(raised, TransportError)
    assert "10.0.0.1:7000" in str(raised) and "secret" not in str(raised)


async def test_nogroup_is_a_missing_group_and_another_reply_error_goes_through() -> None:
    assert isinstance(await _raised(redis_errors.ResponseError("NOGROUP no group")), NoGroupError)
    wrong = redis_errors.ResponseError("WRONGTYPE Operation against a key")
    assert await _raised(wrong) is wrong
