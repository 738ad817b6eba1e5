"""Subpackaged messages put back together, from SmallChi/JT808's batch of two positions
(tests/tracking/frames/smallchi.txt, JT808_0x0704Test.cs) cut into packages here."""

from __future__ import annotations

from pathlib import Path

import pytest

from jiaoxun.tracking.jt808 import Frame, Header, Jt808Error, Subpackage, UnsupportedMessage
from jiaoxun.tracking.jt808_location import LocationBatch
from jiaoxun.tracking.jt808_messages import decode_message
from jiaoxun.tracking.jt808_packages import Reassembly


def smallchi_batch_body() -> bytes:
    """Count 2, type 0 and two positions of 38 bytes: the body of the frame "batch"."""
    lines = (Path(__file__).parent / "frames" / "smallchi.txt").read_text().splitlines()
    (line,) = (line for line in lines if line.startswith("batch "))
    wire = bytes.fromhex("".join(line.split()[1:]))  # nothing in it needs escaping
    return wire[1 + 12 : -2]


BATCH_BODY = smallchi_batch_body()


def package(number: int, total: int, body: bytes, *, message_id: int = 0x0704) -> Frame:
    header = Header(message_id, "112233445566", 100 + number, subpackage=Subpackage(total, number))
    return Frame(header=header, body=body)


def parts(total: int) -> list[Frame]:
    size = -(-len(BATCH_BODY) // total)
    return [package(n + 1, total, BATCH_BODY[n * size : (n + 1) * size]) for n in range(total)]


def test_packages_in_any_order_make_the_message() -> None:
    first, second, third = parts(3)
    packages = Reassembly(max_packages=32, timeout_s=60)
    assert packages.add(third, now_s=0) is None
    assert packages.add(first, now_s=1) is None
    whole = packages.add(second, now_s=2)
    assert whole is not None
    assert whole.header == Header(0x0704, "112233445566", 101)  # package 1's, whole
    batch = decode_message(whole)
    assert isinstance(batch, LocationBatch)
    assert [(p.lat, p.lon) for p in batch.locations] == [
        (12.222222, 132.444444),
        (13.333333, 132.555555),
    ]


def test_a_frame_that_is_not_a_package_passes() -> None:
    frame = Frame(header=Header(0x0704, "112233445566", 7), body=BATCH_BODY)
    assert Reassembly(max_packages=32, timeout_s=60).add(frame, now_s=0) is frame


def test_only_positions_are_put_together() -> None:
    with pytest.raises(UnsupportedMessage, match="message 0x0801: only positions"):
        Reassembly(max_packages=32, timeout_s=60).add(
            package(1, 9, b"", message_id=0x0801), now_s=0
        )


def test_a_message_of_too_many_packages_is_refused() -> None:
    with pytest.raises(Jt808Error, match="message of 33 packages exceeds the maximum 32"):
        Reassembly(max_packages=32, timeout_s=60).add(package(1, 33, b""), now_s=0)


def test_a_message_whose_packages_take_too_long_is_given_up() -> None:
    first, second = parts(2)
    packages = Reassembly(max_packages=32, timeout_s=60)
    assert packages.add(first, now_s=0) is None
    assert packages.add(second, now_s=61) is None  # package 1 was dropped: still waiting
    assert packages.take_expired() == 1
    assert packages.take_expired() == 0


def test_few_messages_wait_at_once() -> None:
    packages = Reassembly(max_packages=32, timeout_s=60)
    for total in range(2, 7):  # five messages, each with only its package 1
        assert packages.add(package(1, total, b""), now_s=total) is None
    assert packages.take_expired() == 1  # the oldest was pushed out
