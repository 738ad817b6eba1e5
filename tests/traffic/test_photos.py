"""The photo store and the check of an upload, on images made here."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from jiaoxun.errors import InvalidInput, NotFound, TooLarge
from jiaoxun.traffic.models import PhotoKind
from jiaoxun.traffic.photos import FolderStore, check_image, missing_photos, read_limited


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color=0 if mode == "1" else (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_a_photo_is_kept_under_its_sha256_once_and_readable_by_the_server_only(
    tmp_path: Path,
) -> None:
    store = FolderStore(tmp_path / "photos")
    data = image_bytes("PNG")
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    path = tmp_path / "photos" / key[:2] / key[2:]
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    mtime = path.stat().st_mtime_ns
    assert store.put(data) == key  # the same content again: kept once, not rewritten
    assert path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [key[2:]]
    assert store.get(key) == data
    assert store.exists(key)


def test_a_write_killed_midway_leaves_no_photo_under_its_name(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    data = image_bytes("JPEG")
    key = hashlib.sha256(data).hexdigest()
    # what a kill between write and rename leaves: half the bytes under a temporary name
    shard = tmp_path / key[:2]
    shard.mkdir()
    (shard / ".part-x1y2z3").write_bytes(data[: len(data) // 2])
    assert not store.exists(key)
    with pytest.raises(NotFound, match=key):
        store.get(key)
    assert store.put(data) == key  # the next upload writes it whole
    assert store.get(key) == data


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FolderStore(tmp_path)
    data = image_bytes("PNG")

    def killed(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # as a kill between the write and the rename

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.put(data)
    key = hashlib.sha256(data).hexdigest()
    assert not store.exists(key)
    assert list((tmp_path / key[:2]).iterdir()) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", "AB" * 32, "ab" * 31, ""])
def test_a_key_is_a_sha256(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInput, match="SHA-256"):
        FolderStore(tmp_path).get(key)


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_an_image_of_its_type_is_measured(fmt: str, content_type: str) -> None:
    checked = check_image(image_bytes(fmt, (640, 480)), content_type)
    assert (checked.content_type, checked.width, checked.height) == (content_type, 640, 480)


@pytest.mark.parametrize(
    ("data", "content_type", "rule"),
    [
        (image_bytes("PNG"), "image/gif", "must be image/jpeg, image/png, image/webp"),
        (image_bytes("PNG"), "image/jpeg", "not a JPEG image"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "image/jpeg", "not a JPEG image"),
        (b"just some text", "image/png", "not a PNG image"),
        (b"", "image/png", "empty"),
        (image_bytes("JPEG", (640, 480))[:300], "image/jpeg", "not a whole JPEG"),
        (image_bytes("PNG", (640, 480))[:-30], "image/png", "not a whole PNG"),
        (image_bytes("PNG", (8000, 8000), mode="1"), "image/png", "at most 50,000,000 pixels"),
        (image_bytes("PNG", (20000, 10000), mode="1"), "image/png", "too many pixels"),
    ],
    ids=["gif", "png-as-jpeg", "pdf", "text", "empty", "cut-jpeg", "cut-png", "64mp", "bomb"],
)
def test_a_bad_upload_names_the_rule(data: bytes, content_type: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule):
        check_image(data, content_type)


def test_reading_stops_past_the_limit() -> None:
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            self.read_bytes += len(buffer)
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(TooLarge, match="at most 100,000 bytes"):
        read_limited(stream, max_bytes=100_000)  # type: ignore[arg-type]
    assert stream.read_bytes < 200_000
    assert read_limited(io.BytesIO(b"x" * 100_000), max_bytes=100_000) == b"x" * 100_000


def test_missing_photos_of_quick_handling() -> None:
    assert missing_photos([]) == [PhotoKind.FRONT_SIDE, PhotoKind.REAR_SIDE, PhotoKind.IMPACT]
    assert missing_photos({"impact", PhotoKind.SCENE, "front_side"}) == [PhotoKind.REAR_SIDE]
    assert missing_photos(list(PhotoKind)) == []
