"""Reading an uploaded spreadsheet safely: from bytes to the rows of its data sheet.

Uploads come from outside, so everything is checked before a parser sees it: the size, the
kind of file (by its bytes, not its name), and for .xlsx the zip archive itself — declared
sizes and compression ratios, every member's real size and checksum, no XML document type
declarations (the XML-bomb vector), and the number of rows — so that a zip bomb, an XML bomb or
a million-row sheet is refused quickly and in bounded memory. Only then does python-calamine
read the workbook.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from coalition.columns import match_header

MAX_FILE_BYTES = 20 * 1024 * 1024  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 300_000
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 250
MAX_CELL_CHARS = 10_000
HEADER_SEARCH_ROWS = 30
DATA_SHEET_NAMES = ("data", "数据")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_ZIP = b"PK\x03\x04"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROW = re.compile(rb"<(?:\w+:)?row[\s>]")
_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})(\d+)"[^>]*>\s*<(?:\w+:)?f[\s>/]')


class ReadError(ValueError):
    """The file cannot be read at all; ``message`` says why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Sheet:
    """The data sheet of an upload: its header and its rows with their spreadsheet numbers."""

    name: str
    header_row: int  # as the spreadsheet shows it (1-based)
    columns: dict[str, int]  # column key -> 0-based column index
    rows: list[tuple[int, list[object]]]  # (spreadsheet row number, cells)
    unknown_headers: list[tuple[int, str]] = field(default_factory=list)
    duplicate_headers: list[tuple[int, str]] = field(default_factory=list)
    formula_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, 0-based column)
    merged_ranges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    kind: str = "xlsx"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_index(letters: bytes) -> int:
    value = 0
    for ch in letters.decode():
        value = value * 26 + ord(ch) - 64
    return value - 1


def read_upload(data: bytes, filename: str) -> Sheet:
    """Read an uploaded .xlsx or .csv into a :class:`Sheet`, or raise :class:`ReadError`."""
    name = (filename or "").lower()
    if not data:
        raise ReadError("file_empty", "The file is empty. Fill in the template and upload it.")
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(
            "file_too_large",
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1_048_576} MB. Split it into several files (for example one "
            "per year) and upload each.",
        )
    if data.startswith(_OLE2):
        if _ENCRYPTED in data:
            raise ReadError(
                "file_encrypted",
                "The workbook is protected with a password, so it cannot be read. Remove the "
                "password (File › Info › Protect Workbook › Encrypt with Password, clear it), "
                "save, and upload again.",
            )
        raise ReadError(
            "file_xls",
            "This is an old Excel 97–2003 (.xls) workbook. Open it in Excel and save it as "
            "'Excel Workbook (.xlsx)', or download the template again, then upload that.",
        )
    if data.startswith(_ZIP):
        if name.endswith((".ods", ".numbers", ".docx", ".pptx")):
            raise _unsupported(filename)
        return _read_xlsx(data)
    if name.endswith((".xlsx", ".xlsm")):
        raise ReadError(
            "file_not_xlsx",
            f"'{filename}' is named like an Excel workbook but is not one (it may be another "
            "kind of file renamed). Open it in Excel and save it as 'Excel Workbook (.xlsx)', "
            "or save it as CSV UTF-8.",
        )
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise _unsupported(filename)


def _unsupported(filename: str) -> ReadError:
    return ReadError(
        "file_type",
        f"'{filename}' is not a file the tracker reads. Upload the template as an Excel "
        "workbook (.xlsx) or as CSV UTF-8 (.csv).",
    )


def _inspect_zip(data: bytes) -> tuple[dict[str, set[tuple[int, int]]], int]:
    """Check the archive before any parser sees it; return the formula cells per sheet member
    and the largest number of rows in a sheet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _broken() from exc
    members = archive.infolist()
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ReadError(
            "file_not_xlsx",
            "The file is a zip archive but not an Excel workbook. Save the spreadsheet as "
            "'Excel Workbook (.xlsx)' and upload that.",
        )
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise _bomb()
    for m in members:
        if m.file_size > 1_000_000 and m.file_size > MAX_COMPRESSION_RATIO * max(
            m.compress_size, 1
        ):
            raise _bomb()
    formulas: dict[str, set[tuple[int, int]]] = {}
    most_rows = 0
    for m in members:
        if not m.filename.endswith((".xml", ".rels", ".vml")):
            continue
        is_sheet = m.filename.startswith("xl/worksheets/")
        rows = 0
        cells: set[tuple[int, int]] = set()
        tail = b""
        try:
            # zipfile stops at the declared size and checks the CRC: a lying header fails here
            with archive.open(m) as fh:
                while chunk := fh.read(1 << 20):
                    window = tail + chunk
                    if _DTD.search(window):
                        raise ReadError(
                            "file_xml_dtd",
                            "The workbook contains an XML document type declaration, which "
                            "Excel never writes (it is how 'XML bomb' files attack readers). "
                            "Copy the data into the downloaded template and upload that.",
                        )
                    if is_sheet:
                        rows += len(_ROW.findall(chunk))
                        if rows > MAX_ROWS + HEADER_SEARCH_ROWS:
                            raise ReadError(
                                "file_too_many_rows",
                                f"The sheet has more than {MAX_ROWS:,} rows. Split the data "
                                "into several files (for example one per year) and upload each.",
                            )
                        if b"<f" in window:
                            for col, row in _FORMULA_CELL.findall(window):
                                cells.add((int(row), _column_index(col)))
                    tail = window[-512:]
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise _broken() from exc
        if is_sheet:
            formulas[m.filename] = cells
            most_rows = max(most_rows, rows)
    return formulas, most_rows


def _bomb() -> ReadError:
    return ReadError(
        "file_zip_bomb",
        "The workbook would expand to far more data than a submission holds (it looks like a "
        "'zip bomb'). Copy the data into the downloaded template and upload that.",
    )


def _broken() -> ReadError:
    return ReadError(
        "file_corrupt",
        "The workbook is damaged and cannot be read. Open it in Excel, save it again as "
        "'Excel Workbook (.xlsx)', and upload that.",
    )


def _read_xlsx(data: bytes) -> Sheet:
    formulas, _ = _inspect_zip(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        candidates = _sheet_order(workbook)
        for position, sheet_name in candidates:
            sheet = workbook.get_sheet_by_name(sheet_name)
            rows = sheet.to_python(skip_empty_area=False)
            found = _find_header(rows)
            if found is None:
                continue
            result = _sheet(sheet_name, rows, found, "xlsx")
            result.formula_cells = _sheet_formulas(formulas, position)
            result.merged_ranges = list(sheet.merged_cell_ranges or [])
            return result
    except CalamineError as exc:
        raise _broken() from exc
    raise _no_header()


def _sheet_order(workbook: CalamineWorkbook) -> list[tuple[int, str]]:
    """Visible sheets, a sheet named Data / 数据 first; with its position in the workbook."""
    visible = [
        (i, meta.name)
        for i, meta in enumerate(workbook.sheets_metadata)
        if meta.visible == SheetVisibleEnum.Visible
    ]
    return sorted(visible, key=lambda item: item[1].strip().lower() not in DATA_SHEET_NAMES)


def _sheet_formulas(formulas: dict[str, set[tuple[int, int]]], position: int) -> set:
    # openpyxl and Excel name sheet members sheet1.xml, sheet2.xml … in workbook order
    return formulas.get(f"xl/worksheets/sheet{position + 1}.xml", set())


def _no_header() -> ReadError:
    return ReadError(
        "header_not_found",
        "No header row was found: the data sheet needs a row with the column names period, "
        "platform and species_group (or their labels, e.g. 'Period', '期间'). Download the "
        "template and copy the data into it.",
    )


def _find_header(rows: list[list[object]]) -> int | None:
    """The index of the first row (among the first few) that names the required columns."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = {match_header(cell) for cell in row}
        if {"period", "platform", "species_group"} <= keys:
            return index
    # accept a header that names at least two required columns: the validator then reports
    # exactly which one is missing
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = {match_header(cell) for cell in row}
        if len(keys & {"period", "platform", "species_group"}) >= 2:
            return index
    return None


def _sheet(name: str, rows: list[list[object]], header: int, kind: str) -> Sheet:
    columns: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    duplicate: list[tuple[int, str]] = []
    for index, cell in enumerate(rows[header]):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        key = match_header(text)
        if key is None:
            unknown.append((index, text[:100]))
        elif key in columns:
            duplicate.append((index, key))
        else:
            columns[key] = index
    body = [(header + 2 + i, row) for i, row in enumerate(rows[header + 1 :])]
    if len(body) > MAX_ROWS:
        raise ReadError(
            "file_too_many_rows",
            f"The sheet has {len(body):,} rows; the limit is {MAX_ROWS:,}. Split the data into "
            "several files (for example one per year) and upload each.",
        )
    return Sheet(name, header + 1, columns, body, unknown, duplicate, kind=kind)


def _read_csv(data: bytes) -> Sheet:
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(
            "csv_not_utf8",
            "The CSV file is not in UTF-8, so Chinese and other characters would be garbled. "
            "In Excel choose File › Save As › 'CSV UTF-8 (Comma delimited)', or upload the "
            ".xlsx workbook instead.",
        ) from exc
    if "\x00" in text:
        raise ReadError(
            "file_type",
            "The file contains binary data and is not a CSV file. Upload the template as an "
            "Excel workbook (.xlsx) or as CSV UTF-8 (.csv).",
        )
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(MAX_CELL_CHARS * 10)
    rows: list[list[object]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ReadError(
                    "file_too_many_rows",
                    f"The file has more than {MAX_ROWS:,} rows. Split it into several files "
                    "(for example one per year) and upload each.",
                )
    except csv.Error as exc:
        raise ReadError(
            "csv_malformed",
            f"The CSV file cannot be read ({exc}). Save it again from Excel as 'CSV UTF-8', "
            "or upload the .xlsx workbook.",
        ) from exc
    header = _find_header(rows)
    if header is None:
        raise _no_header()
    return _sheet("csv", rows, header, "csv")
