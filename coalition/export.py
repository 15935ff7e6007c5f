"""Exporting the current records in the canonical columns of PRODUCT.md."""

from __future__ import annotations

import io
from typing import BinaryIO

import duckdb
import pandas as pd

FORMATS = ("csv", "xlsx", "parquet")
EXPORT_COLUMNS = (
    "partner",
    "platform",
    "period",
    "species_group",
    "country",
    "listings_removed",
    "listings_blocked",
    "accounts_actioned",
    "reports_received",
    "listings_detected",
    "search_effort",
    "status",
)

CURRENT_RECORDS = """
SELECT partner, platform, period, species_group, coalesce(country, '') AS country,
       listings_removed, listings_blocked, accounts_actioned, reports_received,
       listings_detected, search_effort, status
FROM facts
ORDER BY partner, platform, start_date, period_kind, species_group, country
"""

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Make a text cell safe to open in a spreadsheet: one that would run as a formula gets a
    leading apostrophe, which spreadsheets show as plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def current_records(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The current (not superseded) records, canonical columns, counts empty where not
    reported."""
    frame = cur.execute(CURRENT_RECORDS).df()
    for col in EXPORT_COLUMNS[5:11]:
        frame[col] = frame[col].astype("Int64")
    return frame


def _safe_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def write(frame: pd.DataFrame, fmt: str, out: BinaryIO) -> None:
    """Write ``frame`` as csv (UTF-8), xlsx or parquet to a binary stream."""
    if fmt == "csv":
        text = _safe_text(frame).to_csv(index=False, lineterminator="\n")
        out.write(text.encode("utf-8"))
    elif fmt == "xlsx":
        buffer = io.BytesIO()
        _safe_text(frame).to_excel(buffer, index=False, sheet_name="records", engine="openpyxl")
        out.write(buffer.getvalue())
    elif fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        out.write(buffer.getvalue())
    else:
        raise ValueError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
