"""The submission template: sheets, headers the reader matches, drop-downs whose values the
reader resolves, formats, the example row, and the same bytes for the same day."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
import python_calamine

from coalition import columns as cols
from coalition import store
from coalition import template as tpl
from coalition.db import Database
from coalition.reference import fold

TODAY = dt.date(2025, 1, 15)
KEYS = [c.key for c in cols.columns()]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    db = Database(tmp_path_factory.mktemp("template") / "t.duckdb")
    store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            "acme",
            "Acme Trade",
            "e-commerce",
            dt.date(2018, 3, 1),
            platforms=(("Acme Market", "marketplace"), ("Acme Resale", "second-hand")),
        )
        store.add_partner(
            cur,
            "other",
            "Other Co",
            "social-media",
            dt.date(2019, 1, 1),
            platforms=(("Chirp", "social"),),
        )
        store.add_partner(cur, "empty", "Empty Co", "search", dt.date(2019, 1, 1))
    return db


def build(db: Database, partner: str = "acme", lang: str = "en") -> bytes:
    with db.read() as cur:
        return tpl.build_template(cur, partner, lang, today=TODAY)


@pytest.fixture(scope="module")
def en(db) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(build(db, lang="en")))


@pytest.fixture(scope="module")
def zh(db) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(build(db, lang="zh")))


def validations(ws) -> dict[str, object]:
    """The data validations of a sheet by the column letter of their first range."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            found[re.match(r"[A-Z]+", cell_range.coord).group()] = dv
    return found


def list_values(wb: openpyxl.Workbook, formula: str) -> list[str]:
    sheet, cells = formula.split("!")
    assert sheet == tpl.LISTS_SHEET
    return [row[0].value for row in wb[sheet][cells.replace("$", "")]]


def column_letter(key: str) -> str:
    return openpyxl.utils.get_column_letter(KEYS.index(key) + 1)


# --- sheets and headers ----------------------------------------------------------------------


def test_sheets_are_named_in_the_chosen_language(en, zh):
    assert en.sheetnames == ["Instructions", "Data", "Lists"]
    assert zh.sheetnames == ["填写说明", "数据", "Lists"]
    for wb in (en, zh):
        assert [ws.sheet_state for ws in wb.worksheets] == ["visible", "visible", "hidden"]


def test_header_row_is_key_and_label_and_matches_back(en, zh):
    for wb, lang in ((en, "en"), (zh, "zh")):
        data = wb.worksheets[1]
        header = [c.value for c in data[tpl.HEADER_ROW]]
        assert header == [f"{c.key} / {c.label(lang)}" for c in cols.columns()]
        assert [cols.match_header(h) for h in header] == KEYS
        # nothing above the header row is taken for a header
        for row in data.iter_rows(max_row=tpl.HEADER_ROW - 1, values_only=True):
            assert all(cols.match_header(v) is None for v in row)
    assert en["Data"]["A3"].value == "period / Period"
    assert zh["数据"]["A3"].value == "period / 期间"
    assert zh["数据"]["E3"].value == "country / 国家/地区"


def test_header_is_bold_wrapped_and_frozen_below(en):
    data = en["Data"]
    assert data.freeze_panes == f"A{tpl.HEADER_ROW + 1}"
    for cell in data[tpl.HEADER_ROW]:
        assert cell.font.bold and cell.alignment.wrap_text
    assert data["A1"].value == "Coalition submission — Acme Trade"
    assert data.column_dimensions[column_letter("notes")].width >= 40
    assert all(data.column_dimensions[column_letter(k)].width >= 12 for k in KEYS)


def test_instructions_name_the_partner_and_explain_every_column(en, zh):
    for wb, lang in ((en, "en"), (zh, "zh")):
        text = "\n".join(
            str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v
        )
        assert "Acme Trade" in text
        for column in cols.columns():
            assert column.help(lang) in text
        for spelling in ("2019-07", "2019-Q3", "2019年第3季度", "2019年7月"):
            assert spelling in text
        assert "coalition ingest" in text
    assert "not reported" in "\n".join(str(c.value) for c in en["Instructions"]["A"])
    assert "未报告" in "\n".join(str(c.value) for c in zh["填写说明"]["A"])


# --- drop-downs and checks -------------------------------------------------------------------


def test_platform_list_is_exactly_the_partners_platforms(en):
    dv = validations(en["Data"])[column_letter("platform")]
    assert dv.type == "list" and dv.errorStyle in (None, "stop")
    assert list_values(en, dv.formula1) == ["Acme Market", "Acme Resale"]


def test_species_list_resolves_through_the_synonyms_table(db, en, zh):
    with db.read() as cur:
        synonyms = dict(
            cur.execute("SELECT synonym, species_group FROM species_synonyms").fetchall()
        )
        groups = store.species_groups(cur)
    for wb, column in ((en, "name_en"), (zh, "name_zh")):
        dv = validations(wb.worksheets[1])[column_letter("species_group")]
        names = list_values(wb, dv.formula1)
        assert len(names) == 15
        assert names == groups[column].tolist()
        assert [synonyms[fold(n)] for n in names] == groups["slug"].tolist()
        # synonyms such as "ivory" may be typed in: a warning, not a stop
        assert dv.errorStyle == "warning" and dv.allow_blank


def test_country_list_holds_names_from_the_countries_table(db, en, zh):
    with db.read() as cur:
        countries = cur.execute("SELECT name_en, name_zh FROM countries").df()
    for wb, column in ((en, "name_en"), (zh, "name_zh")):
        dv = validations(wb.worksheets[1])[column_letter("country")]
        names = list_values(wb, dv.formula1)
        assert len(names) == len(countries) > 200
        assert set(names) == set(countries[column])
        assert dv.errorStyle == "warning" and dv.allow_blank
        # the example row's country is one of the listed names
        assert wb.worksheets[1][f"{column_letter('country')}{tpl.EXAMPLE_ROW}"].value in names


def test_validations_cover_the_rows_to_fill(en):
    found = validations(en["Data"])
    for key in ("period", "platform", "species_group", "country", *cols.COUNT_KEYS):
        letter = column_letter(key)
        cells = f"{letter}{tpl.EXAMPLE_ROW}:{letter}{tpl.LAST_ROW}"
        assert cells in {str(r) for r in found[letter].sqref.ranges}
        assert found[letter].allow_blank
        assert found[letter].prompt or found[letter].error
    assert tpl.LAST_ROW - tpl.FIRST_DATA_ROW >= 1000
    assert column_letter("taxon") not in found and column_letter("notes") not in found


def test_count_columns_take_whole_numbers_from_zero(en, zh):
    for wb in (en, zh):
        dv = validations(wb.worksheets[1])[column_letter("listings_removed")]
        assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
        assert dv.showErrorMessage and dv.error
        assert {str(r) for r in dv.sqref.ranges} == {
            f"{column_letter(k)}{tpl.EXAMPLE_ROW}:{column_letter(k)}{tpl.LAST_ROW}"
            for k in cols.COUNT_KEYS
        }
    assert (
        "0" in validations(zh["数据"])["F"].error and "整数" in validations(zh["数据"])["F"].error
    )


def test_period_column_prompts_for_the_formats(en, zh):
    dv = validations(en["Data"])["A"]
    assert dv.type is None and dv.showInputMessage
    assert "2019-Q3" in dv.prompt and "2019年7月" in dv.prompt
    assert len(dv.prompt) <= 255
    assert "季度" in validations(zh["数据"])["A"].prompt


def test_prompts_and_errors_fit_excels_limits(en, zh):
    for wb in (en, zh):
        for dv in wb.worksheets[1].data_validations.dataValidation:
            assert len(dv.prompt or "") <= 255 and len(dv.error or "") <= 255
            assert len(dv.promptTitle or "") <= 32 and len(dv.errorTitle or "") <= 32


# --- formats and the example row -------------------------------------------------------------


def test_columns_are_preformatted(en):
    data = en["Data"]
    for column in cols.columns():
        letter = column_letter(column.key)
        expected = "#,##0" if column.kind == "count" else "@"
        assert data.column_dimensions[letter].number_format == expected
        assert data[f"{letter}{tpl.EXAMPLE_ROW}"].number_format == expected


def test_example_row_is_marked_and_plausible(en, zh):
    for wb, marker in ((en, "EXAMPLE"), (zh, "示例")):
        data = wb.worksheets[1]
        row = dict(zip(KEYS, (c.value for c in data[tpl.EXAMPLE_ROW]), strict=True))
        assert row["notes"].startswith(marker) and cols.is_example(row["notes"])
        assert row["period"] == "2024-Q4"
        assert row["platform"] == "Acme Market"
        assert row["listings_removed"] == 120 and row["reports_received"] is None
        assert all(c.font.italic for c in data[tpl.EXAMPLE_ROW])
        # nothing below it: the rest is for the partner
        assert data.max_row == tpl.EXAMPLE_ROW
    assert cols.EXAMPLE_MARKERS == ("EXAMPLE", "示例")
    assert zh["数据"]["C4"].value == "大象（象牙）" and zh["数据"]["E4"].value == "越南"


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ("EXAMPLE – delete or leave; this row is ignored", True),
        ("  example row", True),
        ("示例——可删除或保留；此行将被忽略", True),
        ("Counts from our example sweep", False),
        ("", False),
        (None, False),
        (12, False),
    ],
)
def test_is_example(notes, expected):
    assert cols.is_example(notes) is expected


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (dt.date(2025, 1, 15), "2024-Q4"),
        (dt.date(2025, 3, 31), "2024-Q4"),
        (dt.date(2025, 4, 1), "2025-Q1"),
        (dt.date(2025, 12, 31), "2025-Q3"),
    ],
)
def test_last_complete_quarter(today, quarter):
    assert tpl.last_complete_quarter(today) == quarter


# --- reading it back -------------------------------------------------------------------------


def test_calamine_reads_the_data_sheet_and_finds_the_header(db):
    for lang, sheet in (("en", "Data"), ("zh", "数据")):
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(build(db, lang=lang)))
        assert sheet in book.sheet_names
        rows = book.get_sheet_by_name(sheet).to_python()
        header = next(i for i, r in enumerate(rows) if cols.match_header(r[0]) == "period")
        assert header + 1 == tpl.HEADER_ROW
        assert [cols.match_header(c) for c in rows[header]] == KEYS
        example = rows[tpl.EXAMPLE_ROW - 1]
        assert cols.is_example(example[KEYS.index("notes")])
        assert example[KEYS.index("listings_removed")] == 120


def test_names_that_look_like_formulas_stay_text(tmp_path):
    db = Database(tmp_path / "f.duckdb")
    store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            "evil",
            "=1+1",
            "other",
            dt.date(2020, 1, 1),
            platforms=(("=cmd|' /C calc'!A0", "other"),),
        )
    with db.read() as cur:
        data = tpl.build_template(cur, "evil", today=TODAY)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cell = wb["Data"][f"B{tpl.EXAMPLE_ROW}"]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    assert wb["Lists"]["A1"].data_type == "s"
    assert wb["Data"]["A1"].value == "Coalition submission — =1+1"


def test_same_day_same_bytes_and_dated_properties(db):
    first, second = build(db), build(db)
    assert first == second
    wb = openpyxl.load_workbook(io.BytesIO(first))
    assert wb.properties.creator == "Coalition Progress Tracker"
    assert "Acme Trade" in wb.properties.title
    assert wb.properties.created == wb.properties.modified == dt.datetime(2025, 1, 15)
    assert not wb.vba_archive
    assert build(db, lang="zh") != first


def test_another_partners_template_lists_only_its_platforms(db):
    wb = openpyxl.load_workbook(io.BytesIO(build(db, partner="other")))
    dv = validations(wb["Data"])[column_letter("platform")]
    assert list_values(wb, dv.formula1) == ["Chirp"]


def test_unknown_partner_or_no_platforms_is_a_store_error(db):
    with db.read() as cur:
        with pytest.raises(store.StoreError, match="no partner 'nobody'"):
            tpl.build_template(cur, "nobody")
        with pytest.raises(store.StoreError, match="no platforms"):
            tpl.build_template(cur, "empty")
