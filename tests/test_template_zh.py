"""A Chinese template, filled in Chinese, goes back through validation without a problem: the
sheet names, headers, drop-down values (species groups and countries named in Chinese) and
Chinese period spellings are all read back to the tracker's codes."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from coalition import columns as cols
from coalition import store
from coalition import template as tpl
from coalition.db import Database
from coalition.i18n import country_name, species_name
from coalition.validation import validate

TODAY = dt.date(2020, 1, 15)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(tmp_path_factory.mktemp("template_zh") / "t.duckdb")
    store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            "acme",
            "阿克米贸易",
            "e-commerce",
            dt.date(2018, 1, 1),
            platforms=(("Acme 商城", "marketplace"), ("Acme Market", "marketplace")),
        )
    return db


def filled_template(db: Database, rows: list[dict]) -> bytes:
    """The Chinese template with ``rows`` (by column key) written below the example row."""
    with db.read() as cur:
        data = tpl.build_template(cur, "acme", "zh", today=TODAY)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["数据"]
    keys = [c.key for c in cols.columns()]
    for offset, row in enumerate(rows):
        for key, value in row.items():
            ws.cell(tpl.FIRST_DATA_ROW + offset, keys.index(key) + 1, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_chinese_template_names_things_in_chinese(db):
    with db.read() as cur:
        wb = openpyxl.load_workbook(io.BytesIO(tpl.build_template(cur, "acme", "zh", today=TODAY)))
    assert wb.sheetnames[:2] == ["填写说明", "数据"]
    lists = [c.value for c in wb["Lists"]["B"]] + [c.value for c in wb["Lists"]["C"]]
    assert species_name("pangolins", "zh_Hans") in lists
    assert country_name("VNM", "zh_Hans") in lists


def test_a_chinese_template_filled_in_chinese_round_trips(db):
    pangolins = species_name("pangolins", "zh_Hans")  # 穿山甲
    elephants = species_name("elephants", "zh_Hans")
    viet_nam, china = country_name("VNM", "zh_Hans"), country_name("CHN", "zh_Hans")
    assert {pangolins, viet_nam, china} & {"pangolins", "VNM", "CHN"} == set()
    rows = [
        {"period": "2019年第3季度", "platform": "Acme 商城", "species_group": pangolins,
         "country": viet_nam, "listings_removed": 12, "listings_blocked": 30,
         "notes": "人工审核"},
        {"period": "2019年7月", "platform": "Acme Market", "species_group": elephants,
         "country": china, "listings_detected": 8, "search_effort": 200},
        {"period": "2019-Q4", "platform": "Acme 商城", "species_group": pangolins,
         "listings_removed": 0},
    ]  # fmt: skip
    data = filled_template(db, rows)
    with db.read() as cur:
        result = validate(cur, "acme", data, "模板.xlsx", today=TODAY)
    report = result.report
    assert report.valid, [p.message for p in report.errors]
    assert not report.errors
    records = result.records.sort_values("row").reset_index(drop=True)
    assert records["platform"].tolist() == ["Acme 商城", "Acme Market", "Acme 商城"]
    assert records["period"].tolist() == ["2019-Q3", "2019-07", "2019-Q4"]
    assert records["species_group"].tolist() == ["pangolins", "elephants", "pangolins"]
    assert records["country"].fillna("").tolist() == ["VNM", "CHN", ""]
    assert records["listings_removed"].tolist()[0] == 12
    assert records["listings_blocked"].tolist()[0] == 30
    assert records["listings_detected"].tolist()[1] == 8
    assert records["search_effort"].tolist()[1] == 200
    assert records["listings_removed"].tolist()[2] == 0
    assert records["notes"].tolist()[0] == "人工审核"
