"""Where the stored city's OpenStreetMap extract lives, named so that it survives a move.

A city in the database names the extract it was built on, and every start reads the roads from
it again. An absolute path would tie the database to one checkout on one machine, like a
library card that gives a shelf number instead of the book's title. So the reference is
either the extract's place inside the package (``package:demo/harbin-centre.osm.pbf``, the
demo city) or its content hash (``sha256:<hex>``), the extract itself copied once into the
data folder's map store (``<data_dir>/maps/<hex>.osm.pbf``).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from jiaoxun.data import DEMO_PBF, PACKAGE_DATA
from jiaoxun.errors import DataSourceError

PACKAGE = "package:"
SHA256 = "sha256:"
DEMO_MAP = PACKAGE + DEMO_PBF.relative_to(PACKAGE_DATA).as_posix()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def store_map(pbf: Path, *, data_dir: Path) -> str:
    """The reference under which `pbf` is kept; an extract outside the package is copied
    into the map store (once: the same content is the same file)."""
    pbf = pbf.resolve()
    if pbf.is_relative_to(PACKAGE_DATA):
        return PACKAGE + pbf.relative_to(PACKAGE_DATA).as_posix()
    digest = file_sha256(pbf)
    stored = data_dir / "maps" / f"{digest}.osm.pbf"
    if not stored.is_file():
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_name(stored.name + ".partial")
        shutil.copyfile(pbf, partial)
        partial.replace(stored)
    return SHA256 + digest


def map_path(reference: str, *, data_dir: Path) -> Path:
    """The file a stored reference names. Databases from before references held absolute
    paths; such a path still works while the file is there."""
    if reference.startswith(PACKAGE):
        path = PACKAGE_DATA / reference.removeprefix(PACKAGE)
    elif reference.startswith(SHA256):
        path = data_dir / "maps" / f"{reference.removeprefix(SHA256)}.osm.pbf"
    else:
        path = Path(reference)
    if not path.is_file():
        raise DataSourceError(
            f"the city's map {reference} is not at {path}: copy the extract there, "
            "or build the city again (`jiaoxun city build PBF`)"
        )
    return path
