"""Benchmark of the command-center page with a large fleet: does the map keep up?

300 units (the demo city's 27 and new ones) drive the demo city's roads (the tracks of
`bench_ingest`), each sending one OsmAnd fix a second to a real `jiaoxun serve`; the command page,
logged in in headless Chromium, gets every "unit moved" event over its WebSocket. Measured in the
browser, through the DevTools protocol's Performance metrics, over the same window of seconds:

- jiaoxun: the page as it is (canvas circle markers, positions applied once per animation frame);
- baseline: the page's own stream stopped, and Leaflet's default DOM markers moved as each event
  arrives (what a map page does by default), fed by a WebSocket of its own.

Figures per phase: fixes sent and applied per second, main-thread time per second of updates
(all tasks: receiving, parsing, applying, layout, painting), the script part, and the cost of one
batch. The ratio is the baseline's main-thread time over the page's.

    .venv/bin/python bench/bench_page.py [--units 300] [--seconds 20] [--warm-up 3] [--smoke]

`--smoke` drives 20 units for 2 s a phase after 1 s of warm-up; it exits 1 when the page or the
server reports an error. Otherwise the script exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from browser import chromium, open_tab  # offline Debian Chromium, shared with the tests
from playwright.sync_api import CDPSession, Page

from bench_api import free_port, running_server
from bench_ingest import Fleet, make_fleet, register_fleet, server_errors
from harness import cache_folder, fail_on, parse_args, ready_server_city
from jiaoxun.city.context import load_city_context
from jiaoxun.db import make_engine
from jiaoxun.settings import Settings

CLIENTS = 16
console = Console(width=max(Console().width, 130))

# Leaflet's default markers (DOM images), each moved when its event arrives
BASELINE = """async ([token]) => {
  const L = await import("/vendor/leaflet/leaflet-src.esm.js");
  jx.stopListening();
  jx.units.group.remove();
  const markers = new Map();
  for (const unit of jx.units.units.values()) {
    if (unit.lat == null) continue;
    markers.set(unit.id, L.marker([unit.lat, unit.lon]).addTo(jx.city.map));
  }
  window.baseline = {applied: 0};
  const headers = {Authorization: `Bearer ${token}`};
  const reply = await fetch("/api/events/ticket", {method: "POST", headers});
  const {ticket} = await reply.json();
  const socket = new WebSocket(`ws://${location.host}/api/events?ticket=${ticket}`);
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind !== "unit" || event.action !== "moved") return;
    markers.get(event.data.unit_id)?.setLatLng([event.data.lat, event.data.lon]);
    window.baseline.applied += 1;
  };
  await new Promise((resolve) => { socket.onopen = resolve; });
}"""


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    sent: int = 0
    failed: int = 0
    applied: int = 0
    task_ms: float = 0.0
    script_ms: float = 0.0
    layout_ms: float = 0.0
    batch_ms: list[float] | None = None

    def per_s(self, value: float) -> float:
        return value / self.seconds


def metrics(cdp: CDPSession) -> dict[str, float]:
    reply = cdp.send("Performance.getMetrics")
    return {m["name"]: float(m["value"]) for m in reply["metrics"]}


def send_fixes(
    base_url: str, fleet: Fleet, *, base_at: datetime, first: int, seconds: int, phase: Phase
) -> None:
    """Every device's fix of seconds `first`… of its track, stamped `base_at` + the second,
    paced at one second of driving per second."""

    async def run() -> None:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=limits) as client:
            start = time.perf_counter()
            for k in range(seconds):
                at = base_at + timedelta(seconds=first + k)
                queries = [
                    fleet.osmand_query(d, first + k, at) for d in range(len(fleet.device_ids))
                ]
                replies = await asyncio.gather(
                    *(client.get("/api/osmand", params=q) for q in queries), return_exceptions=True
                )
                ok = sum(
                    1 for r in replies if isinstance(r, httpx.Response) and r.status_code == 200
                )
                phase.sent += ok
                phase.failed += len(replies) - ok
                await asyncio.sleep(max(0.0, start + k + 1 - time.perf_counter()))

    # in a thread of its own: Playwright's sync API holds this thread's event loop
    sender = threading.Thread(target=asyncio.run, args=(run(),))
    sender.start()
    sender.join()


@dataclass
class Run:
    page: Page
    cdp: CDPSession
    base_url: str
    fleet: Fleet
    base_at: datetime
    warm_up_s: int


def measure(run: Run, phase: Phase, *, first: int, seconds: int) -> None:
    """Warm up, then send `seconds` of fixes and read the browser's metrics around them."""
    page, cdp = run.page, run.cdp
    send = {"base_url": run.base_url, "fleet": run.fleet, "base_at": run.base_at}
    send_fixes(**send, first=first, seconds=run.warm_up_s, phase=Phase("warm-up"))
    time.sleep(1.0)
    applied_before = applied(page, phase.name)
    before, begin = metrics(cdp), time.perf_counter()
    if phase.name == "jiaoxun":
        page.evaluate("jx.units.stats.applyMs = []")
    send_fixes(**send, first=first + run.warm_up_s, seconds=seconds, phase=phase)
    time.sleep(1.0)  # the last second's events arrive
    after = metrics(cdp)
    phase.seconds = time.perf_counter() - begin
    phase.applied = applied(page, phase.name) - applied_before
    phase.task_ms = (after["TaskDuration"] - before["TaskDuration"]) * 1000
    phase.script_ms = (after["ScriptDuration"] - before["ScriptDuration"]) * 1000
    phase.layout_ms = (
        after["LayoutDuration"]
        + after["RecalcStyleDuration"]
        - before["LayoutDuration"]
        - before["RecalcStyleDuration"]
    ) * 1000
    if phase.name == "jiaoxun":
        phase.batch_ms = page.evaluate("jx.units.stats.applyMs")


def applied(page: Page, name: str) -> int:
    return int(page.evaluate("jx.units.stats.fixes" if name == "jiaoxun" else "baseline.applied"))


def report(phases: list[Phase], units: int) -> None:
    table = Table(title=f"Command page with {units} units at 1 fix/s each (headless Chromium)")
    for column in (
        "phase",
        "fixes sent/s",
        "applied/s",
        "main thread ms/s",
        "script ms/s",
        "style+layout ms/s",
        "batch p50 / p99 ms",
    ):
        table.add_column(column, justify="right")
    for p in phases:
        batches = sorted(p.batch_ms or [])
        batch = (
            f"{batches[len(batches) // 2]:.2f} / {batches[int(len(batches) * 0.99)]:.2f}"
            if batches
            else "–"
        )
        table.add_row(
            p.name,
            f"{p.per_s(p.sent):.0f}",
            f"{p.per_s(p.applied):.0f}",
            f"{p.per_s(p.task_ms):.1f}",
            f"{p.per_s(p.script_ms):.1f}",
            f"{p.per_s(p.layout_ms):.1f}",
            batch,
        )
    console.print(table)
    ours, base = phases
    page_ms, base_ms = ours.per_s(ours.task_ms), base.per_s(base.task_ms)
    console.print(
        f"one second of updates ({ours.per_s(ours.applied):.0f} fixes) costs the page"
        f" {page_ms:.1f} ms of main thread"
        f" ({page_ms / 10:.1f} % of the second); Leaflet's default markers {base_ms:.1f} ms:"
        f" {base_ms / max(page_ms, 1e-9):.1f}× the page's."
    )
    if ours.failed or base.failed:
        console.print(f"[red]fixes refused: {ours.failed + base.failed}[/red]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warm-up", type=int, default=3, help="seconds before each phase")
    args = parse_args(parser, smoke={"units": 20, "seconds": 2, "warm_up": 1})
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp, cache_folder() as cache:
        folder = Path(tmp)
        settings = Settings(
            database_url=f"sqlite:///{folder / 'jiaoxun.db'}", data_dir=folder, cache_dir=cache
        )
        passwords = ready_server_city(settings)
        engine = make_engine(settings.database)
        total_s = 2 * (args.warm_up + args.seconds) + 5
        with Session(engine) as session:
            fleet = make_fleet(
                session, load_city_context(session, settings), devices=args.units, seconds=total_s
            )
        register_fleet(engine, fleet.device_ids)
        engine.dispose()
        password = passwords["dispatcher"]
        log = folder / "server.log"
        with (
            running_server(settings, port=free_port(), log=log) as base_url,
            chromium() as browser,
        ):
            tab = open_tab(browser, base_url, viewport={"width": 1440, "height": 900})
            page = tab.page
            page.fill("#login [name=username]", "dispatcher")
            page.fill("#login [name=password]", password)
            page.click("#login button[type=submit]")
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            cdp = tab.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            ours, base = Phase("jiaoxun"), Phase("baseline")
            console.print(
                f"{args.units} units; {args.seconds} s per phase after {args.warm_up} s of warm-up"
            )
            run = Run(page, cdp, base_url, fleet, datetime.now(UTC), args.warm_up)
            measure(run, ours, first=0, seconds=args.seconds)
            token = page.evaluate("sessionStorage.getItem('jx.token')")
            page.evaluate(BASELINE, [token])
            measure(run, base, first=args.warm_up + args.seconds, seconds=args.seconds)
            if tab.errors:
                console.print(f"[red]page errors: {tab.errors}[/red]")
            report([ours, base], args.units)
        problems = [f"page: {e}" for e in tab.errors]
        problems += [f"server log: {e}" for e in server_errors(log.read_text(errors="replace"))]
    fail_on(problems, smoke=args.smoke, console=console)


if __name__ == "__main__":
    main()
