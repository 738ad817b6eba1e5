"""Photos of accidents and violations: the store they are kept in, the check of an upload, and
the rows that tie them to their owner.

The store is like a left-luggage office that files each bag under its fingerprint: a photo is
kept under its SHA-256, so the same photo sent twice is kept once, and a key names exactly one
content. `FolderStore` (the default) keeps files under `<data_dir>/photos/ab/cdef…`; another
store (an object store) only needs `put`, `get` and `exists`. An upload is refused unless its
bytes decode as the image type it claims, within the size and pixel limits.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.errors import DataSourceError, InvalidInput, NotFound, TooLarge
from jiaoxun.events import emit
from jiaoxun.settings import Settings
from jiaoxun.traffic.models import Photo, PhotoKind
from jiaoxun.users.models import User

#: the photos the 12123 quick-handling flow requires of a self-settled accident
REQUIRED_KINDS = (PhotoKind.FRONT_SIDE, PhotoKind.REAR_SIDE, PhotoKind.IMPACT)
#: content type -> the Pillow format its bytes must decode as
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
#: more pixels than this is refused before decoding (a 48-megapixel phone photo passes):
#: a small file that decodes to gigabytes is a decompression bomb
MAX_PIXELS = 50_000_000
CHUNK_BYTES = 64 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")


class PhotoStore(Protocol):
    """Where photo bytes are kept, each under the key `put` gives (its SHA-256, hex)."""

    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class FolderStore:
    """Photos as files named by their SHA-256 in a folder, sharded by its first two digits.

    A file is written to a temporary name, synced, then renamed over its own name, so a
    process killed mid-write leaves no partial photo under a key; files are readable by the
    server's user only (0600).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise InvalidInput(f"photo key {key[:80]!r} is not a SHA-256 (64 hex digits)")
        return self.root / key[:2] / key[2:]

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self.path_of(key)
        if path.is_file():
            return key  # the same content is kept once
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".part-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(draft, path)
        except BaseException:
            Path(draft).unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
        return key

    def get(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"photo {key} is not in the store {self.root}") from None

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no folder handles)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_of(settings: Settings) -> PhotoStore:
    """The photo store of `settings.photo_dir`, by default `<data_dir>/photos`."""
    return FolderStore(settings.photo_dir or settings.data_dir / "photos")


# -- checking an upload ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """An upload that decodes as the image type it claims."""

    data: bytes
    content_type: str
    width: int
    height: int


def read_limited(stream: BinaryIO, *, max_bytes: int) -> bytes:
    """The stream's bytes, read in chunks and refused once past `max_bytes` (never read whole)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"a photo may be at most {max_bytes:,} bytes; this one is larger")
        chunks.append(chunk)
    return b"".join(chunks)


def check_image(data: bytes, content_type: str) -> Checked:
    """Refuse an upload that is empty, not JPEG, PNG or WebP, not what its content type says,
    truncated or corrupt, or larger than `MAX_PIXELS` when decoded."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in FORMATS:
        raise InvalidInput(
            f"a photo must be {', '.join(FORMATS)}; content type {content_type[:80]!r} is not"
        )
    if not data:
        raise InvalidInput("the photo is empty (0 bytes)")
    expected = FORMATS[media]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                image.verify()
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput(
                        f"a photo may have at most {MAX_PIXELS:,} pixels; this one is "
                        f"{width} × {height} = {width * height:,} (a decompression bomb?)"
                    )
                if expected == "JPEG":  # decode at 1/8 scale: every byte read, less memory
                    image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidInput(f"the photo decodes to too many pixels: {error}") from None
    except UnidentifiedImageError:
        raise InvalidInput(
            f"the photo's bytes are not a {expected} image, as its content type {media} says"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt
        raise InvalidInput(f"the photo is not a whole {expected} image: {error}") from None
    return Checked(data=data, content_type=media, width=width, height=height)


# -- the rows ----------------------------------------------------------------------------------


def photos_of(session: Session, owner: str, owner_id: int) -> list[Photo]:
    """The photos of one accident or violation, in the order they were taken in."""
    query = (
        select(Photo)
        .where(Photo.owner == owner, Photo.owner_id == owner_id)
        .order_by(Photo.uploaded_at, Photo.id)
    )
    return list(session.scalars(query))


def missing_photos(kinds: Iterable[PhotoKind | str]) -> list[PhotoKind]:
    """The photos quick handling requires (front side, rear side, impact) not among `kinds`."""
    present = {PhotoKind(k) for k in kinds}
    return [k for k in REQUIRED_KINDS if k not in present]


def photo_data(photo: Photo) -> dict[str, Any]:
    """The photo as the API shows it (never its bytes)."""
    return {
        "id": photo.id,
        "kind": photo.kind.value,
        "content_type": photo.content_type,
        "size": photo.size,
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
        "uploaded_at": photo.uploaded_at,
        "uploaded_by": photo.uploaded_by,
    }


def add_photo(
    session: Session,
    store: PhotoStore,
    checked: Checked,
    *,
    owner: str,
    owner_id: int,
    unit_id: int | None,
    kind: PhotoKind,
    user: User,
    now: datetime,
) -> Photo:
    """Keep a checked photo and tie it to its owner. The same photo of the same kind sent
    again (a phone retrying on a bad connection) gives the row already there."""
    key = store.put(checked.data)
    same = session.scalar(
        select(Photo).where(
            Photo.owner == owner,
            Photo.owner_id == owner_id,
            Photo.kind == kind,
            Photo.sha256 == key,
        )
    )
    if same is not None:
        return same
    photo = Photo(
        owner=owner,
        owner_id=owner_id,
        kind=kind,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=key,
        width=checked.width,
        height=checked.height,
        uploaded_by=user.username,
        uploaded_at=now,
    )
    session.add(photo)
    session.flush()
    detail = {k: v for k, v in photo_data(photo).items() if k not in ("uploaded_at", "id")}
    record(
        session,
        by=user.username,
        action="add_photo",
        entity=owner,
        entity_id=owner_id,
        at=now,
        detail={"photo_id": photo.id, **detail},
    )
    event = {**photo_data(photo), "uploaded_at": now.isoformat()}
    emit(
        session,
        "photo",
        "added",
        {**event, "owner": owner, "owner_id": owner_id, "unit_id": unit_id},
    )
    return photo


def photo_bytes(store: PhotoStore, photo: Photo) -> bytes:
    """The photo's bytes, checked against its hash (a file changed on disk is not served)."""
    data = store.get(photo.sha256)
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        raise DataSourceError(
            f"photo {photo.id}'s file no longer matches its SHA-256 {photo.sha256}: "
            "restore it from a backup"
        )
    return data
