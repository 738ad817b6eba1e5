"""One JT/T 808 connection's state: who has authenticated on it, and the clocks that close it.

A connection is a door that opens for a caller and lets it in only once it has shown its key
(0x0102): it knows which terminals have authenticated on it, how many times a caller was
refused, and three deadlines: a frame begun must end within `Limits.frame_timeout_s` (the
clock does not restart on every byte), complete frames must keep coming within
`Limits.idle_timeout_s`, and a connection that has not authenticated within
`Limits.auth_timeout_s` of opening is closed. It also keeps the packages of subpackaged
messages until they are whole (`jiaoxun.tracking.jt808_packages`). Times are seconds of a
monotonic clock, passed in; nothing here reads a clock or touches a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.jt808 import SerialCounter
from jiaoxun.tracking.jt808_packages import Reassembly


@dataclass(frozen=True)
class Limits:
    """What a gateway allows its connections (seconds and counts)."""

    #: a frame whose first byte has come must end within this
    frame_timeout_s: float = 15.0
    #: between two complete frames (terminals send a heartbeat every minute or so)
    idle_timeout_s: float = 600.0
    #: from opening to the first successful authentication (a terminal takes a second)
    auth_timeout_s: float = 60.0
    #: a reply the terminal does not read within this closes its connection
    write_timeout_s: float = 30.0
    #: connections not yet authenticated that one remote address may hold; terminals behind a
    #: carrier's NAT share an address, but each leaves this count once authenticated
    connections_per_address: int = 8
    #: connections of all addresses together
    connections: int = 1000
    #: wrong auth codes and refused registrations before a connection is closed
    refusals: int = 5
    #: packages one subpackaged message may have (each up to 1023 bytes of body)
    subpackages: int = 32
    #: how long the packages of one message may take to come
    subpackage_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not value > 0:
                raise InvalidInput(f"JT/T 808 limit {f.name}={value} must be > 0")


@dataclass
class Link:
    """The state of one connection, opened at ``opened_s`` from address ``remote``."""

    remote: str
    opened_s: float
    limits: Limits = field(default_factory=Limits)
    serials: SerialCounter = field(default_factory=SerialCounter)
    #: header phone number → device id, for each terminal authenticated on this connection
    terminals: dict[str, str] = field(default_factory=dict)
    refusals: int = 0
    #: why the connection is to be closed after the current frames (a stats key), or None
    closing: str | None = None
    last_frame_s: float = field(init=False)
    frame_started_s: float | None = field(init=False, default=None)
    packages: Reassembly = field(init=False)

    def __post_init__(self) -> None:
        self.last_frame_s = self.opened_s
        self.packages = Reassembly(
            max_packages=self.limits.subpackages, timeout_s=self.limits.subpackage_timeout_s
        )

    @property
    def authenticated(self) -> bool:
        return bool(self.terminals)

    def deadline(self) -> tuple[float, str]:
        """When the connection is closed if nothing changes, and the reason (a stats key)."""
        deadlines = [(self.last_frame_s + self.limits.idle_timeout_s, "idle timeout")]
        if not self.authenticated:
            deadlines.append((self.opened_s + self.limits.auth_timeout_s, "auth timeout"))
        if self.frame_started_s is not None:
            deadlines.append((self.frame_started_s + self.limits.frame_timeout_s, "frame timeout"))
        return min(deadlines)

    def bytes_arrived(self, now_s: float, *, frames: int, frame_pending: bool) -> None:
        """Bytes came that ended ``frames`` frames and leave a frame begun or not: a frame
        begun is timed from the bytes that began it."""
        if not frame_pending:
            self.frame_started_s = None
        elif frames or self.frame_started_s is None:
            self.frame_started_s = now_s

    def frame_arrived(self, now_s: float) -> None:
        """A complete frame that passed its check code: the idle clock starts again."""
        self.last_frame_s = now_s

    def refused(self) -> None:
        """A wrong auth code or a refused registration; too many close the connection."""
        self.refusals += 1
        if self.refusals >= self.limits.refusals:
            self.closing = "connections closed: too many refusals"
