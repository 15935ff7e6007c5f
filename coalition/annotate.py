"""The partner's own file back with its problems marked, to fix in Excel and upload again.

Every cell that a problem names is filled (errors red, warnings amber) and carries a comment
with the message; a column "Problems / 问题" right of the data holds each row's messages; a
"Problems" sheet lists every problem, including those of the whole file (no row) and of the
header. Row numbers stay as the partner's spreadsheet shows them: nothing is inserted above
the data, so the report, the annotated file and the partner's own copy agree.

Cells are located the way the validator located them: :func:`coalition.reader.read_upload`
gives the data sheet, its header row and each column key's position. A .csv (or a workbook
openpyxl cannot open) becomes a new workbook holding the same rows at the same positions.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections import defaultdict
from pathlib import PurePath

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from coalition.columns import COUNT_KEYS, PROBLEMS_HEADER
from coalition.i18n import format_count, t
from coalition.reader import MAX_CELL_CHARS, Sheet, column_letter, read_upload
from coalition.validation import Problem, Report

PROBLEMS_SHEET = "Problems"
DATA_SHEET = "Data"
AUTHOR = "Coalition Progress Tracker"
# Excel's own "Bad" and "Neutral" cell styles: familiar to partners, dark text stays readable.
ERROR_COLOUR = "FFC7CE"
WARNING_COLOUR = "FFEB9C"
ERROR_FILL = PatternFill("solid", fgColor=ERROR_COLOUR)
WARNING_FILL = PatternFill("solid", fgColor=WARNING_COLOUR)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
SEVERITY = {"error": "Error / 错误", "warning": "Warning / 警告"}
MAX_TEXT = 32_000  # Excel keeps at most 32,767 characters in a cell or a comment
_WHOLE_NUMBER = re.compile(r"\d{1,15}")


def annotated_file_name(file_name: str) -> str:
    """'q3.csv' → 'q3 - checked.xlsx': always a workbook, named after the partner's file."""
    stem = PurePath(file_name or "upload").stem or "upload"
    return f"{stem} - checked.xlsx"


def annotated_workbook(data: bytes, file_name: str, report: Report) -> bytes:
    """The uploaded file as .xlsx bytes with the problems of ``report`` marked on it.

    ``report`` is the validation report of exactly these bytes. The file must be readable
    (not a report whose only error says the file cannot be read): a
    :class:`coalition.reader.ReadError` is raised otherwise.
    """
    sheet = read_upload(data, file_name)
    wb, ws = _open(data, sheet)
    problems = [("error", p) for p in report.errors] + [("warning", p) for p in report.warnings]
    elsewhere = _mark(ws, sheet, problems)
    _problems_sheet(wb, ws, sheet, problems, report.truncated)
    if elsewhere:
        # a problem without a cell of its own would go unseen on the data sheet
        wb.active = wb.sheetnames.index(PROBLEMS_SHEET)
    else:
        wb.active = wb.sheetnames.index(ws.title)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = other is wb.active
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- opening the file ------------------------------------------------------------------------


def _open(data: bytes, sheet: Sheet) -> tuple[Workbook, Worksheet]:
    """The workbook to mark up and its data sheet: the partner's own workbook when openpyxl
    can open it (formats, drop-downs and other sheets kept), else a new one with its rows."""
    if sheet.kind == "xlsx":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "extension not supported" and the like
                wb = load_workbook(io.BytesIO(data), rich_text=False)
            return wb, wb[sheet.name]
        except Exception:  # calamine read it (checked above), so rebuild from its rows
            rows = _calamine_rows(data, sheet.name)
    else:
        rows = _csv_rows(data)
    return _rebuilt(rows, sheet)


def _csv_rows(data: bytes) -> list[list[object]]:
    """The records of a CSV, split as coalition.reader splits them (same decoding, same
    delimiter guess), so that record n is spreadsheet row n of the report."""
    text = codecs.decode(data, "utf-8-sig")
    try:
        delimiter = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(MAX_CELL_CHARS * 10)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _calamine_rows(data: bytes, name: str) -> list[list[object]]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _rebuilt(rows: list[list[object]], sheet: Sheet) -> tuple[Workbook, Worksheet]:
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    counts = {sheet.columns[k] for k in COUNT_KEYS if k in sheet.columns}
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells):
            if value is None or value == "":
                continue
            cell = ws.cell(r, c + 1)
            if isinstance(value, str):
                if c in counts and r > sheet.header_row and _WHOLE_NUMBER.fullmatch(value):
                    cell.value = int(value)
                else:
                    _text(cell, value)
            else:
                cell.value = value
    return wb, ws


# --- marking the problems --------------------------------------------------------------------


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(text))[:MAX_TEXT]


def _text(cell: Cell, value: str) -> Cell:
    """Write ``value`` as text, never as a formula (it may come from the upload)."""
    cell.value = _clean(value)
    cell.data_type = "s"
    return cell


def _position(sheet: Sheet, problem: Problem) -> int | None:
    """The 0-based column of the cell a problem names, if it names one."""
    return sheet.columns.get(problem.column) if problem.column else None


def _where(sheet: Sheet, problem: Problem) -> str:
    position = _position(sheet, problem)
    if problem.row is not None and position is not None:
        return f"{column_letter(position)}{problem.row}"
    return problem.column or ""


def _line(severity: str, problem: Problem, where: str) -> str:
    label = SEVERITY[severity].split(" / ")[0]
    return f"{label} ({where}): {problem.message}" if where else f"{label}: {problem.message}"


def _mark(ws: Worksheet, sheet: Sheet, problems: list[tuple[str, Problem]]) -> bool:
    """Fill and comment the problem cells, write the Problems column; return whether some
    problems have no place on the data sheet (whole-file or header problems)."""
    by_cell: dict[tuple[int, int], list[tuple[str, Problem]]] = defaultdict(list)
    by_row: dict[int, list[str]] = defaultdict(list)
    row_severity: dict[int, str] = {}
    elsewhere = False
    for severity, problem in problems:
        if problem.row is None or problem.row <= sheet.header_row:
            elsewhere = True
            continue
        position = _position(sheet, problem)
        if position is not None:
            by_cell[(problem.row, position)].append((severity, problem))
        by_row[problem.row].append(_line(severity, problem, _where(sheet, problem)))
        if row_severity.get(problem.row) != "error":
            row_severity[problem.row] = severity
    _unmark(ws)
    for (row, position), found in by_cell.items():
        cell = ws.cell(row, position + 1)
        is_error = any(severity == "error" for severity, _ in found)
        cell.fill = ERROR_FILL if is_error else WARNING_FILL
        text = "\n".join(_line(severity, p, "") for severity, p in found)
        if cell.comment is not None:  # the partner's own note stays, below ours
            text = f"{text}\n\n{cell.comment.text}"
        comment = Comment(_clean(text), AUTHOR)
        comment.width, comment.height = 320, 40 + 60 * len(found)
        cell.comment = comment
    column = _problems_column(ws, sheet.header_row)
    header = _text(ws.cell(sheet.header_row, column), PROBLEMS_HEADER)
    header.font, header.fill, header.alignment = BOLD, HEADER_FILL, WRAP_TOP
    ws.column_dimensions[column_letter(column - 1)].width = 70
    for row, lines in by_row.items():
        cell = _text(ws.cell(row, column), "\n".join(lines))
        cell.fill = ERROR_FILL if row_severity[row] == "error" else WARNING_FILL
        cell.alignment = WRAP_TOP
    return elsewhere


def _unmark(ws: Worksheet) -> None:
    """Take off the marks of an earlier check (a partner uploads the checked file again):
    a cell fixed since must not stay red."""
    for cell in _cells(ws):
        if cell.comment is not None and cell.comment.author == AUTHOR:
            cell.comment = None
            cell.fill = PatternFill()


def _problems_column(ws: Worksheet, header_row: int) -> int:
    """The 1-based column for the problems: the one an earlier check added (emptied), else
    the first one right of everything on the sheet."""
    cells = _cells(ws)
    for cell in cells:
        if cell.row == header_row and cell.value == PROBLEMS_HEADER:
            for below in cells:
                if below.column == cell.column and below.row > header_row:
                    below.value, below.fill = None, PatternFill()
            return cell.column
    return ws.max_column + 1


def _cells(ws: Worksheet) -> list[Cell]:
    # the cells that exist; ws.iter_rows() would create every empty one of the used range
    return list(ws._cells.values())


def _problems_sheet(
    wb: Workbook,
    data_sheet: Worksheet,
    sheet: Sheet,
    problems: list[tuple[str, Problem]],
    truncated: int,
) -> None:
    """Every problem in one list, placed right after the data sheet (a reader that looks for
    the data sheet finds it first)."""
    if PROBLEMS_SHEET in wb.sheetnames:  # from an earlier check
        del wb[PROBLEMS_SHEET]
    ws = wb.create_sheet(PROBLEMS_SHEET, wb.sheetnames.index(data_sheet.title) + 1)
    headers = ("Severity / 级别", "Row / 行", "Cell / 单元格", "Column / 列", "Code / 代码",
               "Message / 说明")  # fmt: skip
    for c, text in enumerate(headers, start=1):
        cell = _text(ws.cell(1, c), text)
        cell.font, cell.fill = BOLD, HEADER_FILL
    for r, (severity, problem) in enumerate(problems, start=2):
        position = _position(sheet, problem)
        cell_ref = (
            f"{column_letter(position)}{problem.row}"
            if problem.row is not None and position is not None
            else ""
        )
        values = (SEVERITY[severity], problem.row, cell_ref, problem.column or "", problem.code,
                  problem.message)  # fmt: skip
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c)
            if isinstance(value, str):
                _text(cell, value)
            else:
                cell.value = value
        ws.cell(r, 1).fill = ERROR_FILL if severity == "error" else WARNING_FILL
        ws.cell(r, 6).alignment = WRAP_TOP
    if truncated:
        _text(
            ws.cell(len(problems) + 3, 1),
            t(
                "{count} more problem was found but is not listed. Fix these first and upload the "
                "file again.",
                plural="{count} more problems were found but are not listed. Fix these first and "
                "upload the file again.",
                n=truncated,
                count=format_count(truncated),
            ),
        )
    for letter, width in zip("ABCDEF", (16, 8, 12, 20, 24, 100), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
