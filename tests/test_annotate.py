"""coalition.annotate: the partner's file back with its problems marked.

Files are built with openpyxl (or as CSV text), checked by the validator on a small database,
marked up, and opened again with openpyxl to see exactly which cells carry a mark.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment

from coalition import annotate
from coalition.annotate import ERROR_COLOUR, PROBLEMS_HEADER, PROBLEMS_SHEET, WARNING_COLOUR
from coalition.reader import ReadError, read_upload
from coalition.validation import validate

TODAY = dt.date(2021, 1, 15)
PARTNERS = [("shopco", "e-commerce", dt.date(2018, 1, 1), ["ShopMarket", "ShopResale"])]
# stored 2019-Q4 figures of ShopMarket: a file with 2019-Q4 again gets a warning
SUBMISSIONS = [
    dict(
        partner="shopco",
        uploaded_at=dt.datetime(2020, 1, 20),
        rows=[("ShopMarket", "2019-Q4", "elephants", "CHN", 10, 30, 6, 100)],
    )
]
HEADER = ["period", "platform", "species_group", "country", "listings_removed",
          "listings_blocked", "notes"]  # fmt: skip
# spreadsheet rows 3..5 under a title (row 1) and the header (row 2)
ROWS = [
    ["2019-Q4", "ShopMarket", "elephants", "CHN", 1, 2, None],  # 3: warning on A3 (period)
    ["2020-Q1", "Nowhere", "elephants", "CHN", 5, "x", None],  # 4: errors on B4 and F4
    ["2020-Q1", "ShopResale", "ivory", "VNM", 3, 4, "fine"],  # 5: no problem
]


@pytest.fixture(scope="module")
def db(build_db):
    return build_db(PARTNERS, SUBMISSIONS)


def xlsx(rows: list[list], header: list[str] = HEADER, title: str = "ShopCo figures") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Figures"
    ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def check(db, data: bytes, name: str):
    with db.read() as cur:
        return validate(cur, "shopco", data, name, today=TODAY).report


def marked(data: bytes, name: str, report):
    return load_workbook(io.BytesIO(annotate.annotated_workbook(data, name, report)))


def marks(ws) -> dict[str, tuple[str, str]]:
    """Every filled or commented cell: coordinate → (fill colour, comment text)."""
    found = {}
    for row in ws.iter_rows():
        for cell in row:
            colour = cell.fill.fgColor.rgb[-6:] if cell.fill.patternType == "solid" else ""
            if colour or cell.comment:
                found[cell.coordinate] = (colour, cell.comment.text if cell.comment else "")
    return found


def test_problem_cells_are_filled_and_commented_and_nothing_else(db):
    data = xlsx(ROWS)
    report = check(db, data, "q.xlsx")
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (4, "platform", "platform_unknown"),
        (4, "listings_blocked", "count_not_number"),
    ]
    assert [(p.row, p.column, p.code) for p in report.warnings] == [
        (3, "period", "period_already_submitted")
    ]
    wb = marked(data, "q.xlsx", report)
    ws = wb["Figures"]
    found = marks(ws)
    problems = {k: v for k, v in found.items() if not k.startswith("H")}
    assert set(problems) == {"A3", "B4", "F4"}
    assert problems["A3"][0] == WARNING_COLOUR
    assert problems["B4"][0] == problems["F4"][0] == ERROR_COLOUR
    assert "ShopMarket already has figures for 2019-Q4" in problems["A3"][1]
    assert "'Nowhere' is not one of your registered platforms" in problems["B4"][1]
    assert "'x' is not a number" in problems["F4"][1]
    # the cells keep the partner's values
    assert (ws["B4"].value, ws["F4"].value, ws["A3"].value) == ("Nowhere", "x", "2019-Q4")


def test_a_problems_column_right_of_the_header_holds_each_rows_messages(db):
    data = xlsx(ROWS)
    report = check(db, data, "q.xlsx")
    ws = marked(data, "q.xlsx", report)["Figures"]
    assert ws["H2"].value == PROBLEMS_HEADER  # right of notes, the last column (G)
    assert ws["H3"].value.startswith("Warning (A3): ShopMarket already has figures")
    lines = ws["H4"].value.split("\n")
    assert [line.split(":")[0] for line in lines] == ["Error (B4)", "Error (F4)"]
    assert ws["H5"].value is None
    assert ws["H1"].value is None  # the title row is left alone
    assert ws["H3"].fill.fgColor.rgb[-6:] == WARNING_COLOUR
    assert ws["H4"].fill.fgColor.rgb[-6:] == ERROR_COLOUR  # a row with an error is red


def test_a_problems_sheet_lists_every_problem_after_the_data_sheet(db):
    data = xlsx(ROWS)
    report = check(db, data, "q.xlsx")
    wb = marked(data, "q.xlsx", report)
    assert wb.sheetnames == ["Figures", PROBLEMS_SHEET]
    assert wb.active.title == "Figures"  # every problem has its cell on the data sheet
    listed = [[c.value for c in row] for row in wb[PROBLEMS_SHEET].iter_rows(min_row=2)]
    assert [row[:5] for row in listed] == [
        ["Error / 错误", 4, "B4", "platform", "platform_unknown"],
        ["Error / 错误", 4, "F4", "listings_blocked", "count_not_number"],
        ["Warning / 警告", 3, "A3", "period", "period_already_submitted"],
    ]


def test_the_marked_file_reads_as_the_same_data(db):
    """Nothing is inserted above the data: uploaded again, it gives the same problems at the
    same rows (the Problems column aside, which is not a template column)."""
    data = xlsx(ROWS)
    report = check(db, data, "q.xlsx")
    again = annotate.annotated_workbook(data, "q.xlsx", report)
    second = check(db, again, "q - checked.xlsx")
    assert second.errors == report.errors
    assert [p for p in second.warnings if p.code != "column_unknown"] == report.warnings
    assert read_upload(again, "q - checked.xlsx").name == "Figures"


def test_a_second_check_replaces_the_marks_of_the_first(db):
    data = xlsx(ROWS)
    first = annotate.annotated_workbook(data, "q.xlsx", check(db, data, "q.xlsx"))
    # the partner fixes the platform in the checked file, adds a note of its own, uploads it
    wb = load_workbook(io.BytesIO(first))
    wb["Figures"]["B4"] = "ShopResale"
    wb["Figures"]["C5"].comment = Comment("asked the team", "Partner")
    out = io.BytesIO()
    wb.save(out)
    fixed = out.getvalue()
    wb = marked(fixed, "q - checked.xlsx", check(db, fixed, "q - checked.xlsx"))
    ws = wb["Figures"]
    found = marks(ws)
    assert "B4" not in found  # fixed: no longer red
    assert found["F4"][0] == ERROR_COLOUR
    assert found["C5"] == ("", "asked the team")  # the partner's own note stays
    assert [c.value for c in ws[2]].count(PROBLEMS_HEADER) == 1  # the column is reused
    assert ws["H4"].value.startswith("Error (F4)") and "B4" not in ws["H4"].value
    assert wb.sheetnames.count(PROBLEMS_SHEET) == 1


def test_header_problems_go_to_the_problems_sheet_which_opens_first(db):
    header = ["period", "platform", "country", "listings_removed", "remarks"]
    data = xlsx([["2020-Q1", "ShopMarket", "CHN", 1, "?"]], header=header)
    report = check(db, data, "q.xlsx")
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (2, "species_group", "column_missing")
    ]
    wb = marked(data, "q.xlsx", report)
    assert wb.active.title == PROBLEMS_SHEET
    ws = wb["Figures"]
    # no cell to mark (the column is missing): only the Problems column's own header
    assert set(marks(ws)) == {"F2"} and ws["F2"].value == PROBLEMS_HEADER
    codes = [row[4].value for row in wb[PROBLEMS_SHEET].iter_rows(min_row=2)]
    assert codes == ["column_missing", "column_unknown"]


def test_a_csv_becomes_a_workbook_with_the_same_rows_at_the_same_places(db):
    text = (
        "ShopCo figures,,,,,,\n"
        "period,platform,species_group,country,listings_removed,listings_blocked,notes\n"
        '2020-Q1,ShopResale,ivory,VNM,"1,234",12,=HYPERLINK("http://example.org")\n'
        "2020-Q2,ShopResale,ivory,VNM,-5,7,\n"
    )
    data = ("\ufeff" + text).encode("utf-8")
    report = check(db, data, "q.csv")
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (4, "listings_removed", "count_negative")
    ]
    wb = marked(data, "q.csv", report)
    ws = wb["Data"]
    assert ws["A1"].value == "ShopCo figures"
    assert [c.value for c in ws[2]][:7] == HEADER
    assert ws["F3"].value == 12 and ws["E3"].value == "1,234"  # as the partner typed them
    assert ws["G3"].data_type == "s"  # text from the file never becomes a formula
    assert ws["G3"].value.startswith("=HYPERLINK")
    assert set(marks(ws)) == {"E4", "H2", "H4"}  # the cell, the Problems header and cell
    assert ws["E4"].value == "-5"
    assert ws["H2"].value == PROBLEMS_HEADER
    assert annotate.annotated_file_name("q.csv") == "q - checked.xlsx"


def test_a_workbook_openpyxl_cannot_open_is_rebuilt_from_its_rows(db, monkeypatch):
    data = xlsx(ROWS)
    report = check(db, data, "q.xlsx")

    def refuse(*args, **kwargs):
        raise ValueError("unsupported")

    monkeypatch.setattr(annotate, "load_workbook", refuse)
    wb = marked(data, "q.xlsx", report)
    ws = wb["Data"]
    assert ws["A1"].value == "ShopCo figures" and ws["B4"].value == "Nowhere"
    assert set(k for k in marks(ws) if not k.startswith("H")) == {"A3", "B4", "F4"}


def test_an_unreadable_file_is_refused(db):
    report = check(db, b"", "empty.xlsx")
    with pytest.raises(ReadError):
        annotate.annotated_workbook(b"", "empty.xlsx", report)
