"""What every benchmark shares: the `--smoke` switch and a scratch folder for the network caches.

A smoke run is a benchmark shrunk to a few seconds: the same code paths and the same baseline,
tiny sizes. It is for CI, where a crash must show: a smoke run exits non-zero when the benchmark
raises or its server fails, while a MISS (a target not met) is still only reported. `bench/smoke`
runs them all.

Caches of the demo network and its node table go to a temporary folder, never next to the
extract in the package: a benchmark writes nothing outside its temporary folders. `bench/smoke`
names one such folder in `JIAOXUN_BENCH_CACHE` for all of its benchmarks, so that the demo city's
table is built once, not once a benchmark.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
from rich.console import Console
from rich.markup import escape

from jiaoxun.data import DEMO_PBF
from jiaoxun.db import transaction
from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.settings import Settings
from jiaoxun.users.passwords import hash_password
from jiaoxun.users.service import set_password_hash, user_named
from jiaoxun.web.server import prepare

SHARED_CACHE = "JIAOXUN_BENCH_CACHE"


def parse_args(parser: argparse.ArgumentParser, *, smoke: dict[str, Any]) -> argparse.Namespace:
    """The command line, with `--smoke`: the options `smoke` names, when not given, take the
    values it gives them (tiny sizes)."""
    sizes = ", ".join(f"--{name.replace('_', '-')} {value}" for name, value in smoke.items())
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds, the same code paths, for CI; a crash exits non-zero"
        + (f" (by default {sizes})" if sizes else ""),
    )
    known, _ = parser.parse_known_args()
    if known.smoke:
        parser.set_defaults(**smoke)
    return parser.parse_args()


@contextmanager
def scratch_folder(what: str) -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"jiaoxun-{what}-") as folder:
        yield Path(folder)


@contextmanager
def cache_folder() -> Iterator[Path]:
    """Where the network caches go: the folder named by `JIAOXUN_BENCH_CACHE`, else a
    temporary folder of this benchmark's own."""
    shared = os.environ.get(SHARED_CACHE)
    if shared:
        yield Path(shared)
        return
    with scratch_folder("bench-cache") as folder:
        yield folder


def network_of(pbf: Path, cache_dir: Path) -> RoadNetwork:
    """The road network of `pbf`, its cache in `cache_dir`."""
    return network_from_pbf(pbf, cache_dir=cache_dir)


def demo_network(cache_dir: Path) -> RoadNetwork:
    return network_of(DEMO_PBF, cache_dir)


def fail_on(problems: list[str], *, smoke: bool, console: Console) -> None:
    """In a smoke run, exit 1 when there are problems (a server's errors, a page's exceptions)."""
    if smoke and problems:
        for problem in problems:
            console.print(f"[bold red]smoke run failed: {escape(problem)}[/]")
        raise SystemExit(1)


def ready_server_city(settings: Settings) -> dict[str, str]:
    """Prepare the database of a server a benchmark starts (demo city, reference data, one
    user per role) and give each user a password of his own, as each would at his first login
    (a first-login password is good for nothing but its change). Returns them by user name."""
    engine, users = prepare(settings)
    passwords = {name: secrets.token_urlsafe(16) for name in users}
    with transaction(engine) as session:
        for name, password in passwords.items():
            user = user_named(session, name)
            set_password_hash(
                session,
                user_id=user.id,
                password_hash=hash_password(password),
                now=datetime.now(UTC),
            )
    engine.dispose()
    return passwords


def device_secret(device_id: str) -> str:
    """The secret a benchmark's simulated device proves itself with (made up, fixed: the
    benchmark's own devices on its own throw-away database)."""
    return f"bench-secret-{device_id}"


async def stream_url(client: httpx.AsyncClient, base_url: str, token: str) -> str:
    """The event stream's URL with a one-time ticket (a token never goes in a URL)."""
    headers = {"Authorization": f"Bearer {token}"}
    reply = await client.post("/api/events/ticket", headers=headers)
    reply.raise_for_status()
    return base_url.replace("http://", "ws://") + f"/api/events?ticket={reply.json()['ticket']}"
