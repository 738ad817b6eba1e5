"""A connection's clocks and refusals, with hand-made times (seconds of a monotonic clock)."""

from __future__ import annotations

import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.jt808_link import Limits, Link

LIMITS = Limits(frame_timeout_s=10, idle_timeout_s=300, auth_timeout_s=60, refusals=3)


def link() -> Link:
    return Link(remote="10.0.0.1", opened_s=1000.0, limits=LIMITS)


def test_a_new_connection_must_authenticate_first() -> None:
    assert link().deadline() == (1060.0, "auth timeout")


def test_once_authenticated_only_idleness_counts() -> None:
    connection = link()
    connection.terminals["013511221122"] = "013511221122"
    connection.frame_arrived(1200.0)
    assert connection.deadline() == (1500.0, "idle timeout")


def test_a_frame_begun_is_timed_from_its_first_bytes() -> None:
    connection = link()
    connection.terminals["013511221122"] = "013511221122"
    connection.bytes_arrived(1001.0, frames=0, frame_pending=True)
    # more bytes of the same frame: the clock does not start again
    for now_s in (1003.0, 1005.0, 1009.0):
        connection.bytes_arrived(now_s, frames=0, frame_pending=True)
    assert connection.deadline() == (1011.0, "frame timeout")
    # the frame ended and the next one began with the same bytes
    connection.bytes_arrived(1010.0, frames=1, frame_pending=True)
    assert connection.deadline() == (1020.0, "frame timeout")
    connection.bytes_arrived(1012.0, frames=1, frame_pending=False)
    assert connection.deadline() == (1300.0, "idle timeout")


def test_bytes_without_a_frame_do_not_restart_the_idle_clock() -> None:
    connection = link()
    connection.terminals["013511221122"] = "013511221122"
    connection.frame_arrived(1100.0)
    connection.bytes_arrived(1399.0, frames=2, frame_pending=False)  # two broken frames
    assert connection.deadline() == (1400.0, "idle timeout")


def test_the_earliest_deadline_wins() -> None:
    connection = link()
    connection.bytes_arrived(1055.0, frames=0, frame_pending=True)
    assert connection.deadline() == (1060.0, "auth timeout")


def test_refusals_close_the_connection_at_the_limit() -> None:
    connection = link()
    connection.refused()
    connection.refused()
    assert connection.closing is None
    connection.refused()
    assert connection.closing == "connections closed: too many refusals"


@pytest.mark.parametrize("name", ["frame_timeout_s", "connections_per_address", "refusals"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(InvalidInput, match=f"JT/T 808 limit {name}=0 must be > 0"):
        Limits(**{name: 0})
