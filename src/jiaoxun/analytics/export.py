"""The statistics page's tables as files: CSV (UTF-8 with a byte-order mark, so that Excel reads
the Chinese names) and XLSX (openpyxl, write-only)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from jiaoxun.analytics.schemas import SummaryOut

TABLES = ("figures", "categories", "tiers", "chain", "buckets", "units", "zones", "rates", "trend")


def rows_of(summary: SummaryOut, table: str) -> list[dict[str, Any]]:
    """One flat dict per row of a table of the summary (tests flattened to their p-value)."""
    items = summary.trend.points if table == "trend" else getattr(summary, table)
    rows = []
    for item in items:
        row: dict[str, Any] = {}
        for key, value in item.model_dump(mode="json").items():
            if isinstance(value, dict):  # a test
                row[f"{key}_p"] = value.get("p")
                row[f"{key}_significant"] = value.get("significant")
            elif value is None and key.endswith("_test"):
                row[f"{key}_p"] = row[f"{key}_significant"] = None
            else:
                row[key] = value
        rows.append(row)
    return rows


def _header(rows: list[dict[str, Any]]) -> list[str]:
    return list(rows[0]) if rows else []


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_header(rows))
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(rows: list[dict[str, Any]], *, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    header = _header(rows)
    sheet.append(header)
    for row in rows:
        sheet.append([row[k] for k in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
