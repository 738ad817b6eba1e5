"""The real Seattle Police CAD sample, imported, read back by the statistics page: its median
first-dispatch delay and median first response time per priority are the raw file's.

A command center of its own per backend (the shared one's statistics would change)."""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from center import Center
from sqlalchemy.orm import Session

from conftest import running_center
from jiaoxun.analytics.importer import import_history
from jiaoxun.analytics.mapping import mapping_named

SEATTLE = Path(__file__).parents[1] / "data" / "seattle_spd_dispatch_2024_sample1000.csv"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seattle(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    with running_center(
        new_database(request.param), tmp_path_factory.mktemp("seattle"), cache_dir, request.param
    ) as center:
        with Session(center.engine) as session, session.begin():
            result = import_history(session, SEATTLE, mapping_named("seattle_spd"))
        assert result.imported == 1000
        yield center


def raw_medians() -> tuple[dict[int, float], dict[int, float]]:
    """Per priority, from the file itself: median first_dispatch_delay and first_response_time
    (NULL left out)."""
    dispatch: dict[int, list[float]] = defaultdict(list)
    response: dict[int, list[float]] = defaultdict(list)
    with SEATTLE.open(newline="") as stream:
        for record in csv.DictReader(stream):
            priority = int(record["priority"])
            dispatch[priority].append(float(record["first_dispatch_delay"]))
            if record["first_response_time"] != "NULL":
                response[priority].append(float(record["first_response_time"]))
    return (
        {p: statistics.median(v) for p, v in dispatch.items()},
        {p: statistics.median(v) for p, v in response.items()},
    )


def test_the_page_gives_the_raw_files_medians(seattle: Center) -> None:
    # the calls were queued 2024-01-01 20:24 to 2024-01-04 13:25 Seattle time
    params = {"period": "custom", "start": "2024-01-01", "end": "2024-01-05"}
    reply = seattle.call("GET", "/api/analytics/summary", user="commander", params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["origins"] == {"imported": 1000}
    chain = {(c["priority"], c["step"]): c for c in body["chain"]}
    dispatch, response = raw_medians()
    assert set(dispatch) == {1, 2, 3, 4, 5, 7}
    for priority, median in dispatch.items():
        assert chain[(priority, "call_to_dispatch")]["p50_s"] == pytest.approx(median, abs=1e-3)
    for priority, median in response.items():
        assert chain[(priority, "call_to_arrival")]["p50_s"] == pytest.approx(median, abs=1e-3)
    # the record carries no orders: the steps between dispatch and arrival are unknown
    assert (1, "dispatch_to_ack") not in chain
    assert (1, "travel") not in chain
    incidents = next(f for f in body["figures"] if f["key"] == "incidents")
    assert incidents["value"] == 1000
