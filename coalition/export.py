"""Data exports: the current records in the canonical columns of PRODUCT.md, and the
observer's aggregates, as CSV, XLSX or Parquet.

A spreadsheet runs a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection). In CSV and XLSX every such text cell gets a leading
apostrophe, which spreadsheets show as plain text; the same text in both formats, so a figure
checked in one reads the same in the other. Counts are numbers and are never touched (a
negative number is not text). Parquet keeps the text verbatim: it is read by data tools
(pandas, R, DuckDB), not run by a spreadsheet — Excel cannot open it, and Power Query loads its
cells as values, never as formulas — so there the data stay exactly as stored.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import BinaryIO

import duckdb
import pandas as pd

import metrics

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
        # CRLF, as RFC 4180 says: then a field holding a carriage return or a line break is
        # quoted, so that a stray CR in a name cannot start a new row in a spreadsheet
        text = _safe_text(frame).to_csv(index=False, lineterminator="\r\n")
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


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` written as ``fmt`` (see :func:`write`), as bytes."""
    buffer = io.BytesIO()
    write(frame, fmt, buffer)
    return buffer.getvalue()


def export_records(cur: duckdb.DuckDBPyConnection, fmt: str) -> bytes:
    """The current (not superseded) records in the canonical columns, as csv, xlsx or parquet
    bytes. Record-level data: for the secretariat only."""
    return to_bytes(current_records(cur), fmt)


def for_viewer(cur: duckdb.DuckDBPyConnection, viewer: metrics.Viewer) -> pd.DataFrame:
    """What ``viewer`` may take away: the secretariat every current record, a partner its own
    records, an observer the aggregates of :func:`observer_aggregates` only."""
    if viewer.role == "observer":
        return observer_aggregates(cur)
    frame = current_records(cur)
    if viewer.role == "partner":
        frame = frame[frame["partner"] == viewer.partner].reset_index(drop=True)
    return frame


OBSERVER_COLUMNS = (
    "period",
    "species_group",
    "region",
    "listings_removed",
    "listings_blocked",
    "actions",
    "partners_reporting",
    "platforms_reporting",
    "listings_detected",
    "search_effort",
    "detected_per_1000_searches",
    "withheld",
)


def observer_aggregates(
    cur: duckdb.DuckDBPyConnection, filters: metrics.Filters = metrics.Filters()
) -> pd.DataFrame:
    """Actions and detections per quarter × species group × UN M49 region, read in the
    observer view whatever ``filters.viewer`` says: every cell follows the rule of
    :mod:`metrics.access` (merged into "Others (merged)" or withheld, ``withheld`` True and its
    figures empty). Rows without a country are the region "Global / unspecified"."""
    observer = replace(filters, viewer=metrics.OBSERVER)
    # one query per indicator over the species × region cross table, so that the rule is
    # applied to the cells as published (separate calls per region could be differenced)
    acts = metrics.actions(cur, observer, by="species_region")
    rates = metrics.detection_rate(cur, observer, by="species_region")
    keep = ["group", "period", "listings_detected", "search_effort"]
    keep += ["detected_per_1000_searches", "withheld"]
    merged = acts.merge(rates[keep], on=["group", "period"], how="outer", suffixes=("", "_rate"))
    merged["withheld"] = merged["withheld"].fillna(False).astype(bool) | merged.pop(
        "withheld_rate"
    ).fillna(False).astype(bool)
    # a row with either part withheld is withheld whole: one flag, one meaning
    values = [c for c in merged.columns if c not in ("group", "period", "withheld")]
    merged[values] = merged[values].mask(merged["withheld"], axis=0)
    parts = merged.pop("group").str.split(metrics.GROUP_SEPARATOR, n=1, expand=True)
    merged["species_group"] = parts[0]
    merged["region"] = parts[1].fillna(metrics.access.OTHER) if 1 in parts else metrics.access.OTHER
    if merged.empty:
        return pd.DataFrame(columns=list(OBSERVER_COLUMNS))
    table = merged  # one query's rows: nothing left to concatenate
    for column in OBSERVER_COLUMNS:
        if column not in table:
            table[column] = pd.NA
    for column in ("listings_removed", "listings_blocked", "actions", "partners_reporting",
                   "platforms_reporting", "listings_detected", "search_effort"):  # fmt: skip
        table[column] = pd.to_numeric(table[column]).round().astype("Int64")
    table = table.sort_values(["period", "species_group", "region"], kind="stable")
    return table.reset_index(drop=True)[list(OBSERVER_COLUMNS)]


def export_observer(
    cur: duckdb.DuckDBPyConnection, fmt: str, filters: metrics.Filters = metrics.Filters()
) -> bytes:
    """:func:`observer_aggregates` as csv, xlsx or parquet bytes: what the public may have."""
    return to_bytes(observer_aggregates(cur, filters), fmt)
