"""A terminal's TCP byte stream cut into JT/T 808 frames, as real terminals send them.

Every 0x7E is a boundary between frames, as the standard says. Some terminals do not escape
what they should: a bare 0x7D inside a frame (not followed by 0x01 or 0x02) is kept as the byte
it is, and a bare 0x7E inside a frame cuts it in two. The splitter puts such a frame back
together when its pieces joined with the 0x7E pass the check code and the length its header
declares; otherwise each piece is passed on and fails on its own. Both repairs are counted.
"""

from __future__ import annotations

from collections import Counter

from jiaoxun.tracking.jt808 import (
    DELIMITER,
    ESCAPE,
    MAX_FRAME_UNESCAPED,
    MIN_FRAME_BYTES,
    Jt808Error,
    Leniency,
    frame_fits,
    frame_wants_more,
)

#: the longest run between two delimiters that can be a frame: every byte escaped into two
MAX_FRAME_BYTES = 2 * MAX_FRAME_UNESCAPED
#: how many bare 0x7E one frame may hold and still be put back together
MAX_STRAY_DELIMITERS = 8


def unescape(data: bytes) -> tuple[bytes, int]:
    """Undo the escaping of the bytes between two delimiters. A 0x7D followed by anything but
    0x01 or 0x02 (or by nothing) is kept as a plain 0x7D; returns the bytes and how many such
    stray escapes there were. A 0x7E is a delimiter and cannot be inside."""
    out = bytearray()
    strays = i = 0
    while i < len(data):
        byte = data[i]
        if byte == DELIMITER:
            raise Jt808Error(f"unescaped 0x7e at offset {i} inside a frame")
        follower = data[i + 1] if byte == ESCAPE and i + 1 < len(data) else None
        if follower in (0x01, 0x02):
            out.append(ESCAPE if follower == 0x01 else DELIMITER)
            i += 2
            continue
        strays += byte == ESCAPE
        out.append(byte)
        i += 1
    return bytes(out), strays


class FrameSplitter:
    """Cuts a terminal's TCP byte stream into unescaped frames (header + body + check code).

    Feed bytes as they arrive; each call returns the frames completed so far, in order. Bytes
    before the first delimiter and scraps too short to be a frame count as "skipped bytes"; a
    run longer than ``max_frame_bytes`` (escaped) is dropped at once ("oversized frames"), so
    no stream can make the splitter hold more than that. ``counts`` gathers these and the
    tolerated repairs ("tolerated: unescaped 0x7d", "tolerated: unescaped 0x7e"); the caller
    empties it when it likes.
    """

    def __init__(self, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < MIN_FRAME_BYTES:
            raise Jt808Error(f"max_frame_bytes {max_frame_bytes} is below {MIN_FRAME_BYTES}")
        self.max_frame_bytes = max_frame_bytes
        self.counts: Counter[str] = Counter()
        self._buffer = bytearray()
        self._in_frame = False  # a delimiter has been seen
        self._discarding = False  # the current run is oversized: skip to the next delimiter
        self._held: list[bytes] = []  # unescaped pieces of a frame cut by bare 0x7E
        self._held_strays = 0

    @property
    def frame_pending(self) -> bool:
        """Whether bytes of a frame have come and its closing delimiter not yet (the caller
        times how long that takes). Pieces held after a bare 0x7E do not count: they are
        bounded, and wait only for the next piece."""
        return bool(self._buffer) or self._discarding

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return the frames they complete, in order."""
        frames: list[bytes] = []
        pos = 0
        while pos <= len(data):
            end = data.find(DELIMITER, pos)
            piece = data[pos : end if end >= 0 else len(data)]
            if not self._in_frame:
                self.counts["skipped bytes"] += len(piece)
            elif not self._discarding:
                self._buffer += piece[: self.max_frame_bytes + 1 - len(self._buffer)]
                if len(self._buffer) > self.max_frame_bytes:
                    self._drop_oversized(frames)
            if end < 0:
                break
            if self._in_frame and not self._discarding:
                self._end_piece(bytes(self._buffer), frames)
            self._buffer.clear()
            self._in_frame, self._discarding = True, False
            pos = end + 1
        return frames

    def _drop_oversized(self, frames: list[bytes]) -> None:
        self.counts["oversized frames"] += 1
        self._buffer.clear()
        self._discarding = True
        self._release(frames)

    def _end_piece(self, escaped: bytes, frames: list[bytes]) -> None:
        piece, strays = unescape(escaped)
        if self._held:
            if self._join(piece, strays, frames):
                return
            self._release(frames)
        if frame_fits(piece):
            self._tolerated(Leniency.STRAY_ESCAPE, strays)
            frames.append(piece)
        elif frame_wants_more(piece):
            self._held, self._held_strays = [piece], strays
        elif len(piece) >= MIN_FRAME_BYTES:
            frames.append(piece)  # broken: the caller counts it when it fails to decode
        else:
            self.counts["skipped bytes"] += len(escaped)

    def _join(self, piece: bytes, strays: int, frames: list[bytes]) -> bool:
        """Try `piece` as the next part of the held frame; False when it is not."""
        joined = bytes([DELIMITER]).join([*self._held, piece])
        if frame_fits(joined):
            self._tolerated(Leniency.STRAY_ESCAPE, self._held_strays + strays)
            self._tolerated(Leniency.STRAY_DELIMITER, len(self._held))
            frames.append(joined)
            self._held = []
            return True
        if frame_fits(piece) or len(self._held) >= MAX_STRAY_DELIMITERS:
            return False
        if not frame_wants_more(joined) or len(joined) > MAX_FRAME_UNESCAPED:
            return False
        self._held.append(piece)
        self._held_strays += strays
        return True

    def _tolerated(self, kind: Leniency, n: int) -> None:
        if n:
            self.counts[f"tolerated: {kind}"] += n

    def _release(self, frames: list[bytes]) -> None:
        """Give up on the held pieces: pass them on as they are, to fail and be counted."""
        for piece in self._held:
            if len(piece) >= MIN_FRAME_BYTES:
                frames.append(piece)
            else:
                self.counts["skipped bytes"] += len(piece)
        self._held = []
