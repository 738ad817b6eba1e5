"""A JT/T 808 gateway under attack over real TCP: connection caps, deadlines that dribbled
bytes do not push back (issue 11, finding 10), a newer connection of a terminal replacing its
stale one, and random and mutated streams that must not crash it.

Each test runs a gateway of its own (its own limits, its own stats) on the app's database and
ingestor, in a thread with its own event loop."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from center import Center
from test_jt808_gateway import (
    FAILURE,
    REGISTRATION,
    SUCCESS,
    Terminal,
    enrol,
    ingestor_of,
    location_body,
    now_s,
    wait_for_fix,
)

from jiaoxun.tracking.gateway import Gateway
from jiaoxun.tracking.jt808 import Header, encode_frame
from jiaoxun.tracking.jt808_link import Limits

Start = Callable[..., tuple[Gateway, int]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(center: Center, limits: Limits) -> Iterator[tuple[Gateway, int]]:
    """A gateway with `limits` on a port of its own until the block ends."""
    state = center.client.app.state.jiaoxun
    gateway = Gateway(sessions=state.sessions, ingestor=ingestor_of(center), limits=limits)
    port, ready, stop = free_port(), threading.Event(), threading.Event()
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        server = await gateway.serve("127.0.0.1", port)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await server.wait_closed()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield gateway, port
    finally:
        stop.set()
        thread.join(10)
        loop.close()


@pytest.fixture
def start(center: Center) -> Iterator[Start]:
    """Starts a gateway with the given limits (keywords of `Limits`); it stops after the test."""
    with ExitStack() as stack:
        yield lambda **limits: stack.enter_context(running(center, Limits(**limits)))


def admitted(terminal: Terminal) -> bool:
    """Whether the gateway serves the connection: a heartbeat before authentication is
    answered (with failure) rather than the connection closed."""
    try:
        return terminal.result(0x0002, b"") == FAILURE
    except (AssertionError, ConnectionError):
        return False


def signed_in(center: Center, port: int) -> tuple[Terminal, int]:
    """A terminal of a new device, registered and authenticated; and its unit."""
    car = enrol(center)
    terminal = Terminal(port, car.phone)
    assert terminal.authenticate(terminal.register().auth_code) == SUCCESS
    return terminal, car.unit_id


def test_a_cap_on_unauthenticated_connections_per_address(center: Center, start: Start) -> None:
    gateway, port = start(connections_per_address=2)
    car = enrol(center)
    first, second = Terminal(port, car.phone), Terminal(port, car.phone)
    assert admitted(first)
    assert admitted(second)
    third = Terminal(port, car.phone)
    assert third.closed_by_gateway(within_s=5)
    assert gateway.stats["connections refused: per address cap"] == 1
    # an authenticated connection leaves the count: terminals behind one NAT are not capped
    assert first.authenticate(first.register().auth_code) == SUCCESS
    fourth = Terminal(port, car.phone)
    assert admitted(fourth)
    for terminal in (first, second, third, fourth):
        terminal.close()


def test_a_cap_on_all_connections(center: Center, start: Start) -> None:
    gateway, port = start(connections=2, connections_per_address=10)
    car = enrol(center)
    terminals = [Terminal(port, car.phone) for _ in range(2)]
    assert all(admitted(t) for t in terminals)
    extra = Terminal(port, car.phone)
    assert extra.closed_by_gateway(within_s=5)
    assert gateway.stats["connections refused: overall cap"] == 1
    terminals[0].close()
    late, deadline = None, time.monotonic() + 5
    while late is None and time.monotonic() < deadline:
        candidate = Terminal(port, car.phone)  # admitted once the closed one is released
        if admitted(candidate):
            late = candidate
        else:
            candidate.close()
            time.sleep(0.1)
    assert late is not None
    assert gateway.stats["connections"] == 3
    for terminal in [*terminals, extra, late]:
        terminal.close()


def test_a_frame_must_end_in_time_however_slowly_it_comes(center: Center, start: Start) -> None:
    # issue 11, finding 10: the idle timeout restarted on every byte
    gateway, port = start(frame_timeout_s=0.6, idle_timeout_s=60)
    terminal, _ = signed_in(center, port)
    frame = encode_frame(Header(0x0200, terminal.phone, 7), location_body(126.6, 45.7, now_s()))
    began = time.monotonic()
    closed = False
    for byte in frame[:-1]:  # one byte every 50 ms, never the closing delimiter
        try:
            terminal.sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        time.sleep(0.05)
    assert closed or terminal.closed_by_gateway(within_s=5)
    assert time.monotonic() - began < 3.0
    assert gateway.stats["frame timeout"] == 1
    terminal.close()


def test_bytes_that_make_no_frame_do_not_keep_a_connection(center: Center, start: Start) -> None:
    gateway, port = start(idle_timeout_s=0.6, frame_timeout_s=60)
    terminal, _ = signed_in(center, port)
    began, closed = time.monotonic(), False
    while time.monotonic() - began < 3 and not closed:
        try:
            terminal.sock.sendall(b"\x00")  # inside a frame that never ends
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        time.sleep(0.05)
    assert closed or terminal.closed_by_gateway(within_s=5)
    assert gateway.stats["idle timeout"] == 1
    terminal.close()


def test_a_connection_must_authenticate_in_time(center: Center, start: Start) -> None:
    gateway, port = start(auth_timeout_s=0.6)
    car = enrol(center)
    stranger = Terminal(port, car.phone)
    began = time.monotonic()
    while admitted(stranger) and time.monotonic() - began < 5:
        time.sleep(0.05)  # complete frames keep coming, each refused
    assert 0.5 < time.monotonic() - began < 3.0
    assert gateway.stats["auth timeout"] == 1
    assert gateway.stats["unauthenticated heartbeat"] >= 5
    stranger.close()


def test_a_new_connection_of_a_terminal_replaces_its_old_one(center: Center, start: Start) -> None:
    gateway, port = start()
    old, unit_id = signed_in(center, port)
    new = Terminal(port, old.phone)
    code = new.register().auth_code
    assert new.authenticate(code) == SUCCESS
    assert old.closed_by_gateway(within_s=5)
    assert gateway.stats["connections closed: replaced"] == 1
    assert new.result(0x0200, location_body(126.6688, 45.7388, now_s())) == SUCCESS
    wait_for_fix(center, unit_id, 126.6688, 45.7388)
    old.close()
    new.close()


def test_an_oversized_frame_is_dropped_and_the_connection_goes_on(
    center: Center, start: Start
) -> None:
    gateway, port = start()
    terminal, _ = signed_in(center, port)
    terminal.sock.sendall(b"\x7e" + bytes(100_000) + b"\x7e")
    assert terminal.result(0x0002, b"") == SUCCESS
    assert gateway.stats["oversized frames"] == 1
    terminal.close()


def mutated(wire: bytes, rng: random.Random) -> bytes:
    data = bytearray(wire)
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(data))
        match rng.randrange(4):
            case 0:
                data[pos] = rng.randrange(256)
            case 1:
                data.insert(pos, rng.choice([0x7E, 0x7D, rng.randrange(256)]))
            case 2:
                del data[pos]
            case _:
                data[pos:pos] = data[rng.randrange(len(data)) :][: rng.randint(1, 40)]
    return bytes(data)


def test_random_and_mutated_streams_do_not_crash_it(center: Center, start: Start) -> None:
    gateway, port = start()
    rng = random.Random(808)
    terminal, _ = signed_in(center, port)
    good = [
        REGISTRATION,
        encode_frame(Header(0x0002, terminal.phone, 1), b""),
        encode_frame(Header(0x0200, terminal.phone, 2), location_body(126.6, 45.7, now_s())),
        encode_frame(Header(0x0102, terminal.phone, 3), b"guess"),
    ]
    sent = 0
    for case in range(1500):
        if case % 3 == 0:
            chunk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
        else:
            chunk = mutated(rng.choice(good), rng)
        try:
            terminal.sock.sendall(chunk)
            sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            terminal.close()  # closed by the gateway (too many refusals): sign in again
            terminal, _ = signed_in(center, port)
    terminal.close()
    # the gateway still serves, and nothing it met was a bug
    survivor, _ = signed_in(center, port)
    assert survivor.result(0x0002, b"") == SUCCESS
    survivor.close()
    assert sent > 100_000
    assert gateway.stats["failed messages"] == 0
    assert gateway.stats["failed connections"] == 0
