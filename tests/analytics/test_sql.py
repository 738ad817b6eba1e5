"""The SQL both backends spell differently, checked against Python on real databases."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, literal, select
from sqlalchemy.orm import Session

from jiaoxun.analytics.sql import epoch_s, floor_int, percentiles, seconds_between
from jiaoxun.db import UtcDateTime

_META = MetaData()
_SAMPLE = Table(
    "sample_values",
    _META,
    Column("id", Integer, primary_key=True),
    Column("grp", String(5)),
    Column("x", Float),
    prefixes=["TEMPORARY"],
)


def test_percentiles_match_percentile_cont(session: Session) -> None:
    _SAMPLE.create(session.connection())
    rng = np.random.default_rng(7)
    groups = {"a": rng.exponential(100, 101), "b": rng.exponential(50, 40), "c": np.array([5.0])}
    rows = [{"grp": g, "x": float(x)} for g, xs in groups.items() for x in xs]
    rows += [{"grp": "b", "x": None}] * 3  # NULLs are left out
    session.execute(insert(_SAMPLE), rows)
    forms = [False, True] if session.get_bind().dialect.name == "postgresql" else [False]
    for native in forms:  # the window-function form, and PostgreSQL's percentile_cont
        query = percentiles(
            select(_SAMPLE.c.grp, _SAMPLE.c.x), by=["grp"], value="x", ps=(50, 90), native=native
        )
        got = {r.grp: r for r in session.execute(query)}
        for grp, xs in groups.items():
            assert got[grp].n == len(xs)
            assert got[grp].p50 == pytest.approx(float(np.median(xs)), rel=1e-9)
            assert got[grp].p90 == pytest.approx(float(np.percentile(xs, 90)), rel=1e-9)


def test_seconds_epoch_and_floor(session: Session) -> None:
    t0 = datetime(2024, 1, 1, 20, 24, 1, tzinfo=UTC)
    later = literal(t0 + timedelta(seconds=131.5), UtcDateTime())
    earlier = literal(t0, UtcDateTime())
    row = session.execute(
        select(
            seconds_between(later, earlier).label("s"),
            epoch_s(earlier).label("e"),
            floor_int(literal(-2.5)).label("f1"),
            floor_int(literal(2.5)).label("f2"),
            floor_int(literal(3.0)).label("f3"),
        )
    ).one()
    assert row.s == pytest.approx(131.5, abs=1e-3)
    assert row.e == pytest.approx(t0.timestamp(), abs=1e-3)
    assert (row.f1, row.f2, row.f3) == (-3, 2, 3)
