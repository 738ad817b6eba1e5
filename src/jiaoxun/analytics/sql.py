"""SQL the two backends spell differently: seconds between two timestamps, the epoch, floor,
and percentiles by window functions (SQLite has no percentile_cont).

Statistics are computed in the database, not by loops over rows in Python: a year of incidents
goes to the server as a handful of grouped queries and comes back as a few hundred numbers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # noqa: N801 (an SQL function)
    """Seconds from the second timestamp to the first (to the millisecond on SQLite)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"


class epoch_s(FunctionElement[float]):  # noqa: N801
    """Seconds since 1970-01-01 UTC of a timestamp."""

    type = Float()
    inherit_cache = True


@compiles(epoch_s)
def _epoch_sqlite(element: epoch_s, compiler: SQLCompiler, **kw: Any) -> str:
    (at,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND((julianday({at}) - 2440587.5) * 86400.0, 3)"


@compiles(epoch_s, "postgresql")
def _epoch_pg(element: epoch_s, compiler: SQLCompiler, **kw: Any) -> str:
    (at,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM {at}) AS DOUBLE PRECISION)"


class floor_int(FunctionElement[int]):  # noqa: N801
    """The largest integer not above a number (SQLite's CAST truncates, PostgreSQL's rounds)."""

    type = Integer()
    inherit_cache = True


@compiles(floor_int)
def _floor_sqlite(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    (x,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({x} AS INTEGER) - (({x}) < CAST({x} AS INTEGER)))"


@compiles(floor_int, "postgresql")
def _floor_pg(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    (x,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(FLOOR({x}) AS INTEGER)"


def percentiles(
    values: Any,
    *,
    by: list[str],
    value: str,
    ps: tuple[int, ...] = (50, 90),
    native: bool = False,
) -> Select[Any]:
    """Per group of the columns `by` of the query `values`: the count and each percentile of
    the column `value` (NULLs left out), interpolated between ranks as ``percentile_cont``.

    With n values ranked 1…n, the p-th percentile sits at rank 1 + p(n − 1)/100: its integer
    part and the fraction left are found by integer arithmetic, which both backends do alike.
    With `native` (PostgreSQL), its own ``percentile_cont`` gives the same numbers faster.
    """
    inner = values.subquery("v")
    groups = [inner.c[name] for name in by]
    x = inner.c[value]
    if native:  # PostgreSQL's own ordered-set aggregate: one sort, no window
        cont = [func.percentile_cont(p / 100).within_group(x).label(f"p{p}") for p in ps]
        return (
            select(*groups, func.count(x).label("n"), *cont).where(x.is_not(None)).group_by(*groups)
        )
    ranked = (
        select(
            *groups,
            x.label("x"),
            func.row_number().over(partition_by=groups, order_by=x).label("r"),
            func.count().over(partition_by=groups).label("n"),
        )
        .where(x.is_not(None))
        .subquery("ranked")
    )
    columns: list[ColumnElement[Any]] = [ranked.c[name] for name in by]
    columns.append(func.max(ranked.c.n).label("n"))
    for p in ps:
        scaled = (ranked.c.n - 1) * p  # the rank × 100, an integer
        lo = scaled // 100 + 1  # integer division on both backends
        frac = (scaled % 100) / 100.0
        weight = case(
            (ranked.c.r == lo, 1 - frac),
            (and_(ranked.c.r == lo + 1, frac > 0), frac),
            else_=0,
        )
        columns.append(func.sum(ranked.c.x * weight).label(f"p{p}"))
    return select(*columns).group_by(*[ranked.c[name] for name in by])
