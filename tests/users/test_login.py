"""The pure parts of the login gate: the account lock's schedule, the failures per address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jiaoxun.errors import TooManyRequests
from jiaoxun.users.login import FailureWindow, LoginGate, lock_for


def test_the_lock_grows_from_a_minute_to_a_quarter_hour() -> None:
    minutes = [lock_for(n, lock_after=5) for n in range(4, 12)]
    assert minutes == [None] + [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15, 15)]
    assert lock_for(10_000, lock_after=5) == timedelta(minutes=15)


def test_failures_per_address_age_out_after_a_minute() -> None:
    now = [0.0]
    window = FailureWindow(limit=3, clock=lambda: now[0])
    for t in (0.0, 10.0, 20.0):
        assert window.wait_s("10.1.1.1") == 0
        now[0] = t
        window.add("10.1.1.1")
    assert window.wait_s("10.1.1.1") == pytest.approx(40.0)  # the first, at 0 s, ages at 60 s
    assert window.wait_s("10.1.1.2") == 0  # addresses do not share
    now[0] = 60.0
    assert window.wait_s("10.1.1.1") == 0


def test_memory_is_bounded() -> None:
    now = [0.0]
    window = FailureWindow(limit=5, clock=lambda: now[0], max_addresses=10)
    for i in range(10):
        window.add(f"a{i}")
    now[0] = 61.0  # every failure has aged out: they are forgotten when a new address comes
    window.add("new")
    assert list(window._failures) == ["new"]
    for i in range(30):  # none aged out: half are forgotten, the newest kept
        window.add(f"b{i}")
    assert len(window._failures) <= 10
    assert "b29" in window._failures


def test_the_gate_names_the_wait() -> None:
    gate = LoginGate(failures=FailureWindow(limit=2))
    gate.failures.add("10.0.0.9")
    gate.check_address("10.0.0.9")
    gate.failures.add("10.0.0.9")
    with pytest.raises(TooManyRequests, match=r"2 failed logins from 10\.0\.0\.9 within a minute"):
        gate.check_address("10.0.0.9")
