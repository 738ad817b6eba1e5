"""Subpackaged JT/T 808 messages put back together: a batch too long for one frame.

A body holds at most 1023 bytes, so a terminal with a long backlog of blind-area positions
may split one 0x0704 over several frames, each carrying "package n of total" in its header.
Like the pages of a fax, the packages are kept until all have come, in any order, then read
as one message. What waits is bounded: only position messages are kept, at most
`Limits.subpackages` packages a message and a few messages a connection, each for at most
`Limits.subpackage_timeout_s`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jiaoxun.tracking.jt808 import Frame, Jt808Error, UnsupportedMessage

#: the messages worth putting together: positions (the rest is not read anyway)
REASSEMBLED = {0x0200, 0x0704}
MESSAGES_AT_ONCE = 4


@dataclass
class _Pending:
    started_s: float
    packages: dict[int, Frame] = field(default_factory=dict)


class Reassembly:
    """The subpackaged messages of one connection, waiting for their missing packages."""

    def __init__(self, *, max_packages: int, timeout_s: float) -> None:
        self.max_packages, self.timeout_s = max_packages, timeout_s
        self._pending: dict[tuple[str, int, int], _Pending] = {}
        self._expired = 0

    def take_expired(self) -> int:
        """How many messages were given up (too old, or pushed out) since last asked."""
        expired, self._expired = self._expired, 0
        return expired

    def add(self, frame: Frame, *, now_s: float) -> Frame | None:
        """Keep one package; the whole message (no subpackage, bodies joined in order, the
        header of package 1) once every package has come, else None. `UnsupportedMessage`
        for a message not put together, `Jt808Error` for one of too many packages."""
        header, package = frame.header, frame.header.subpackage
        if package is None:
            return frame
        if header.message_id not in REASSEMBLED:
            raise UnsupportedMessage(
                f"subpackage {package.number} of {package.total} of message "
                f"0x{header.message_id:04x}: only positions are put together"
            )
        if package.total > self.max_packages:
            raise Jt808Error(
                f"message of {package.total} packages exceeds the maximum {self.max_packages}"
            )
        self._expire(now_s)
        key = (header.phone, header.message_id, package.total)
        if key not in self._pending and len(self._pending) >= MESSAGES_AT_ONCE:
            del self._pending[min(self._pending, key=lambda k: self._pending[k].started_s)]
            self._expired += 1
        pending = self._pending.setdefault(key, _Pending(started_s=now_s))
        pending.packages[package.number] = frame
        if len(pending.packages) < package.total:
            return None
        del self._pending[key]
        parts = [pending.packages[n] for n in range(1, package.total + 1)]
        whole = replace(parts[0].header, subpackage=None)
        return Frame(header=whole, body=b"".join(p.body for p in parts))  # faults: per package

    def _expire(self, now_s: float) -> None:
        for key in [k for k, p in self._pending.items() if now_s - p.started_s > self.timeout_s]:
            del self._pending[key]
            self._expired += 1
