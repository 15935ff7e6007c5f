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
import contextlib
import csv
import functools
import io
import itertools
import posixpath
import queue
import re
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from coalition.columns import PROBLEMS_HEADER, match_header

MAX_FILE_BYTES = 20 * 1024 * 1024  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 300_000
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 250
MAX_CELL_CHARS = 10_000
HEADER_SEARCH_ROWS = 30
# python-calamine builds a dense grid from the first to the last cell: one value at XFD1048576
# would make it allocate 17 billion cells and abort the process. The used area may span at
# most this many cells (the row limit times the 26 columns A–Z).
MAX_CELLS = (MAX_ROWS + HEADER_SEARCH_ROWS) * 26
DATA_SHEET_NAMES = ("data", "数据")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_ZIP = b"PK\x03\x04"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# For the fast scan of a sheet (see _SheetScan): capital letters read as A, digits as 0, tabs
# and line breaks as spaces.
_SHAPES = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\t\n\r", b"A" * 26 + b"0" * 10 + b"   "
)
_SPACES = bytes.maketrans(b"\t\n\r", b"   ")
_PREFIXED = re.compile(rb":(?:c[ >/]|row)")  # a colon is rare in sheet data: found quickly
_PREFIXED_ROW = re.compile(rb"<\w+:row[\s>/]")
# A row or cell reference whose row lies beyond the limit: six digits from 300000, or more.
_FAR_ROW = re.compile(rb' r="[A-Za-z]{0,3}0*([3-9]\d{5}|[1-9]\d{6,})"')
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


def _inspect_zip(data: bytes) -> tuple[dict[str, set[tuple[int, int]]], dict[str, str]]:
    """Check the archive before any parser sees it; return the formula cells per XML member
    and, per sheet name, the member that holds the sheet."""
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
    for m in members:
        # Any XML part may be a sheet: python-calamine follows the workbook's relationships to
        # whatever name they give, not only xl/worksheets/sheetN.xml. Images and other binary
        # parts are left alone.
        scan = _SheetScan()
        cells: set[tuple[int, int]] = set()
        tail = b""  # the end of the previous chunk: a pattern may begin there
        try:
            # zipfile stops at the declared size and checks the CRC: a lying header fails here
            with _member_chunks(archive, m) as chunks:
                first = next(chunks, b"")
                is_xml = first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
                if not is_xml:
                    continue
                for chunk in itertools.chain((first,), chunks):
                    # '!' is rare in a sheet and found at memory speed: the pattern only then
                    # (a declaration cut by the chunk's start has its '!' in the tail)
                    if (b"!" in chunk or b"!" in tail) and _DTD.search(tail + chunk):
                        raise ReadError(
                            "file_xml_dtd",
                            "The workbook contains an XML document type declaration, which "
                            "Excel never writes (it is how 'XML bomb' files attack readers). "
                            "Copy the data into the downloaded template and upload that.",
                        )
                    scan.feed(chunk)
                    # a formula cell ends with '<f' and one more byte: in this chunk, or
                    # cut by its start
                    if _pairs(chunk, b"<f", 0, len(chunk)) or b"<f" in tail[-2:] + chunk[:1]:
                        for col, row in _FORMULA_CELL.findall(tail + chunk):
                            cells.add((int(row), _column_index(col)))
                    tail = chunk[-512:] if len(chunk) >= 512 else (tail + chunk)[-512:]
                scan.feed(b"", final=True)
            if scan.needs_exact_extent:
                with archive.open(m) as fh:
                    last_row, last_column, exact_cells = _exact_extent(fh)
                _check_extent(last_row, last_column)
                cells |= exact_cells
        except ReadError:
            raise  # a refusal of its own (a DTD, too many rows…): keep its message
        except (
            zipfile.BadZipFile,
            EOFError,
            OSError,
            NotImplementedError,
            zlib.error,
            ValueError,
        ) as exc:
            raise _broken() from exc
        formulas[m.filename] = cells
    # every XML part is now known to have no document type declaration: safe to parse
    return formulas, _sheet_parts(archive, names)


CHUNK_BYTES = 1 << 20  # how much of a zip member the scan looks at at a time
# A member larger than this is inflated by a second thread while the scan looks at the chunk
# before (see _member_chunks); at most READ_AHEAD chunks wait for the scan.
READ_AHEAD_FROM = 4 << 20
READ_AHEAD = 2


@contextlib.contextmanager
def _member_chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[Iterator[bytes]]:
    """The bytes of ``member``, inflated and checked by zipfile (no more than its declared
    size, and its CRC at the end), :data:`CHUNK_BYTES` at a time.

    A large member is read by a second thread, at most :data:`READ_AHEAD` chunks ahead of the
    caller: zlib lets go of the interpreter lock while it inflates, so on a machine with two
    cores inflating a sheet (a third of the scan's time) overlaps with looking at it. Memory
    stays bounded, and an error while reading (a bad CRC, a truncated member) is raised to the
    caller where it would have been met reading in turn. When the caller stops early, the
    reader stops too before this returns."""
    if member.file_size <= READ_AHEAD_FROM:
        with archive.open(member) as fh:
            yield iter(functools.partial(fh.read, CHUNK_BYTES), b"")
        return
    waiting: queue.Queue[bytes | BaseException] = queue.Queue(READ_AHEAD)
    stop = threading.Event()

    def hand_over(item: bytes | BaseException) -> None:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                waiting.put(item, timeout=0.05)
                return

    def read() -> None:
        try:
            with archive.open(member) as fh:
                while not stop.is_set():
                    chunk = fh.read(CHUNK_BYTES)
                    hand_over(chunk)
                    if not chunk:
                        return
        except BaseException as exc:  # noqa: BLE001 - raised again by the caller's thread
            hand_over(exc)

    def chunks() -> Iterator[bytes]:
        while True:
            item = waiting.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item

    reader = threading.Thread(target=read, name="xlsx-read-ahead", daemon=True)
    reader.start()
    try:
        yield chunks()
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # a reader waiting to hand over a chunk sees the stop at once
                waiting.get_nowait()
        reader.join()


_RELATIONSHIPS = "relationships"  # the end of the r: namespace, transitional or strict


def _sheet_parts(archive: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Which zip member holds which sheet, as the workbook and its relationships say (a sheet
    may be stored under any name, not only xl/worksheets/sheetN.xml). Read with expat, whose
    handlers keep only the few attributes needed, after the archive's checks."""
    from xml.parsers import expat

    def attributes(member: str, element: str) -> list[dict[str, str]]:
        if member not in names:
            return []
        found: list[dict[str, str]] = []
        parser = expat.ParserCreate(namespace_separator="}")

        def start(name: str, attrs: dict[str, str]) -> None:
            if name.rpartition("}")[2] == element:
                # plain attributes keep their name; the relationship id (r:id) is "rid"
                found.append(
                    {
                        "rid" if k.endswith("}id") and _RELATIONSHIPS in k else k: v
                        for k, v in attrs.items()
                    }
                )

        def refuse(*_args) -> None:
            raise _broken()

        parser.StartElementHandler = start
        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        try:
            with archive.open(member) as fh:
                while chunk := fh.read(1 << 20):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except (expat.ExpatError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise _broken() from exc
        return found

    targets = {
        rel.get("Id", ""): rel.get("Target", "")
        for rel in attributes("xl/_rels/workbook.xml.rels", "Relationship")
    }
    parts: dict[str, str] = {}
    for sheet in attributes("xl/workbook.xml", "sheet"):
        target = targets.get(sheet.get("rid", ""))
        if not target:
            continue
        if target.startswith("/"):
            part = target.lstrip("/")
        else:
            part = posixpath.normpath(posixpath.join("xl", target))
        parts.setdefault(sheet.get("name", ""), part)
    return parts


def _too_many_rows(last_row: int | None = None) -> ReadError:
    if last_row is None:
        return ReadError(
            "file_too_many_rows",
            f"The sheet has more than {MAX_ROWS:,} rows. Split the data into several files "
            "(for example one per year) and upload each.",
        )
    return ReadError(
        "file_too_many_rows",
        f"The sheet has values as far as row {last_row:,}; the limit is {MAX_ROWS:,} rows. "
        "Delete the rows below the data (an empty-looking cell far down may hold a value), or "
        "split the data into several files (for example one per year) and upload each.",
    )


def _check_extent(last_row: int, last_column: int) -> None:
    """Refuse a used area (1-based last row and column) that the reader cannot hold."""
    if last_row > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise _too_many_rows(last_row)
    if last_row * last_column > MAX_CELLS:
        raise ReadError(
            "file_too_many_cells",
            f"The sheet has values as far as column {column_letter(last_column - 1)} and row "
            f"{last_row:,}: {last_row * last_column:,} cells, more than a submission can hold. "
            "Delete the columns to the right of the template's columns and any rows below "
            "the data (select them, right-click › Delete), or copy the data into the template.",
        )


class _SheetScan:
    """A fast look at a sheet's XML, chunk by chunk: how many rows it has, and whether its
    cells could lie beyond the limits.

    Excel, LibreOffice and the Python writers give every row and cell its reference as
    ``<row r="7">`` / ``<c r="B7">``. In a copy of the XML with every capital letter read as
    A, every digit as 0 and every tab or line break as a space, a few byte counts (which run
    at memory speed) then tell whether all references have that form, whether a column lies
    beyond Z and whether a row number has six digits or more; only such a row number is read
    exactly. A sheet written any other way (cells without a reference, which take the next
    position; references in another form; namespace prefixes), or with a column beyond Z, gets
    an exact, slower reading afterwards (:func:`_exact_extent`).

    Only whole tags are looked at, so that no pattern is ever cut in two: the part of a chunk
    after its last '>' waits for the next chunk, and is looked at with the start of that chunk
    up to its first '>'. The rest of a chunk is looked at where it lies, without a copy.
    """

    def __init__(self) -> None:
        self.rows = 0
        self.needs_exact_extent = False
        self._carry = b""

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if final:
            if self._carry:
                self._look(self._carry, 0, len(self._carry))
            self._carry = b""
            return
        first = chunk.find(b">") + 1
        if not first:  # no tag ends in this chunk
            self._carry += chunk
            if len(self._carry) > _LONGEST_CARRY:
                # megabytes without a '>': look at what there is (a row count), and leave the
                # extent to the exact reading, which no cut can fool
                self._look(self._carry, 0, len(self._carry))
                self._carry = b""
                self.needs_exact_extent = True
            return
        start = 0
        if self._carry:
            head = self._carry + chunk[:first]
            self._look(head, 0, len(head))
            start = first
        end = chunk.rfind(b">") + 1
        if start < end:
            self._look(chunk, start, end)
        self._carry = chunk[end:]

    def _look(self, body: bytes, start: int, end: int) -> None:
        """Count and check ``body[start:end]``, which begins and ends at a tag's edge."""
        shape = body.translate(_SHAPES)
        rows = shape.count(b"<row", start, end)  # <rowBreaks> too: too many is safe here
        if shape.find(b":", start, end) >= 0 and _PREFIXED.search(shape, start, end):
            rows += len(_PREFIXED_ROW.findall(body, start, end))
            self.needs_exact_extent = True
        self.rows += rows
        if self.rows > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise _too_many_rows()
        # a reference beyond the limit ends with six digits or more and a quote: read the
        # numbers exactly only where one may be
        if shape.find(b'000000"', start, end) >= 0 and _may_lie_far(body, shape, start, end):
            piece = body[start:end].translate(_SPACES)
            far = [int(row) for row in _FAR_ROW.findall(piece)]
            if far and max(far) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _too_many_rows(max(far))
        if self.needs_exact_extent:
            return
        # every cell's reference a single letter and a number (a column beyond Z, as AA7,
        # needs the area's last row; a cell without one, its position)
        cells = _pairs(shape, b"<c", start, end)
        refs = shape.count(b'<c r="A0', start, end)
        numbered = shape.count(b'<row r="0', start, end)
        if cells != refs or rows != numbered:
            # other elements start so too (<cols>, <colBreaks>, <rowBreaks>): count exactly
            cells = sum(shape.count(tag, start, end) for tag in (b"<c ", b"<c>", b"<c/>"))
            rows = sum(shape.count(tag, start, end) for tag in (b"<row ", b"<row>", b"<row/>"))
            if cells != refs or rows != numbered:
                self.needs_exact_extent = True


def _pair_views(data: bytes, pair: bytes, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the two bytes ``pair`` stand in ``data[start:end]``: as a mask over the two-byte
    words that begin at an even offset from ``start``, and one over those at an odd offset
    (each word compared at once: half as many comparisons as byte by byte, and no masks to
    combine)."""
    size = end - start
    word = int.from_bytes(pair, "little")
    even = np.frombuffer(data, "<u2", size // 2, start) == word
    odd = np.frombuffer(data, "<u2", (size - 1) // 2, start + 1) == word
    return even, odd


def _pairs(data: bytes, pair: bytes, start: int, end: int) -> int:
    """How many times the two bytes ``pair`` occur in ``data[start:end]`` (as
    ``data.count(pair, start, end)`` for two different bytes, several times faster: a search
    for a two-byte pattern whose bytes are both common skips little)."""
    if end - start < 2:
        return 0
    even, odd = _pair_views(data, pair, start, end)
    return int(np.count_nonzero(even)) + int(np.count_nonzero(odd))


def _pair_offsets(data: bytes, pair: bytes, start: int, end: int) -> np.ndarray:
    """The offsets from ``start`` at which the two bytes ``pair`` occur in
    ``data[start:end]``, in no particular order."""
    if end - start < 2:
        return np.zeros(0, dtype=np.intp)
    even, odd = _pair_views(data, pair, start, end)
    return np.concatenate((np.flatnonzero(even) * 2, np.flatnonzero(odd) * 2 + 1))


# Beyond this many bytes without a '>', a sheet is read exactly (see _SheetScan.feed).
_LONGEST_CARRY = 4 << 20
_FIRST_FAR_DIGIT = ord("3")  # a six-digit row number from 300000 starts with 3 to 9


def _may_lie_far(body: bytes, shape: bytes, start: int, end: int) -> bool:
    """Whether ``body[start:end]`` may hold a reference beyond the row limit: a quote after
    seven digits or more (a large number, or leading zeros), or after exactly six digits of
    which the first is 3 to 9 (300000 and more). A superset of what ``_FAR_ROW`` finds: a
    number from 100000 to 299999, the common case in a long sheet, needs no closer look.
    ``shape`` is ``body`` translated with ``_SHAPES`` (every digit a 0)."""
    if end - start < 7:
        return False
    shaped = np.frombuffer(shape, np.uint8, end - start, start)
    # quotes preceded by six digits: found as the digit-and-quote pairs, then narrowed one
    # digit at a time; ``at`` is then where each six-digit tail begins
    at = _pair_offsets(shape, b'0"', start, end) - 5
    at = at[at >= 0]
    for back in (1, 2, 3, 4, 5):
        at = at[shaped[at + 5 - back] == ord("0")]
    if not len(at):
        return False
    # a seventh digit before the six (the piece begins after a '>', so none before its start)
    if (shaped[at[at > 0] - 1] == ord("0")).any():
        return True
    digits = np.frombuffer(body, np.uint8, end - start, start)
    return bool((digits[at] >= _FIRST_FAR_DIGIT).any())


def _exact_extent(fh) -> tuple[int, int, set[tuple[int, int]]]:
    """The last row and column (1-based) that python-calamine's grid would reach, read with
    expat as calamine reads it: a row or cell without a reference takes the next position.
    Also the formula cells (row, 0-based column), whatever prefix or attribute order the
    sheet uses."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator="}")
    state = {"row": 0, "column": 0, "last_row": 0, "last_column": 0, "cell": (0, 0)}
    formulas: set[tuple[int, int]] = set()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition("}")[2]
        if local == "row":
            ref = attrs.get("r", "").strip()
            state["row"] = int(ref) if ref.isdigit() else state["row"] + 1
            state["column"] = 0
        elif local == "c":
            found = re.fullmatch(r"\s*([A-Za-z]{1,3})\s*(\d+)\s*", attrs.get("r", ""))
            if found:
                state["column"] = _column_index(found[1].upper().encode()) + 1
                row = int(found[2])
            else:
                state["column"] += 1
                row = state["row"]
            state["cell"] = (row, state["column"] - 1)
            state["last_row"] = max(state["last_row"], row)
            state["last_column"] = max(state["last_column"], state["column"])
            if state["last_row"] > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _too_many_rows(state["last_row"])
        elif local == "f" and state["last_column"]:
            formulas.add(state["cell"])

    parser.StartElementHandler = start
    try:
        while chunk := fh.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _broken() from exc
    return state["last_row"], state["last_column"], formulas


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
    formulas, parts = _inspect_zip(data)
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
            result.formula_cells = _sheet_formulas(formulas, parts, sheet_name, position)
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


def _sheet_formulas(
    formulas: dict[str, set[tuple[int, int]]], parts: dict[str, str], name: str, position: int
) -> set[tuple[int, int]]:
    """The formula cells of the sheet ``name``, found in the member the workbook's
    relationships name for it (or, without them, xl/worksheets/sheetN.xml, as Excel and
    openpyxl store the n-th sheet)."""
    part = parts.get(name) or f"xl/worksheets/sheet{position + 1}.xml"
    return formulas.get(part, set())


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
        if key is None and text == PROBLEMS_HEADER:
            continue  # our own annotation column, in a corrected file sent back
        if key is None:
            unknown.append((index, text[:100]))
        elif key in columns:
            duplicate.append((index, key))
        else:
            columns[key] = index
    body = list(zip(range(header + 2, len(rows) + 1), rows[header + 1 :], strict=True))
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
    # The sniffer is misled by a quoted cell with another separator in it ("a; b" in a comma
    # file): the separator that yields the header row wins.
    for candidate in dict.fromkeys([delimiter, ",", ";", "\t"]):
        try:
            head = list(
                itertools.islice(
                    csv.reader(io.StringIO(sample, newline=""), delimiter=candidate),
                    HEADER_SEARCH_ROWS,
                )
            )
        except csv.Error:
            continue
        if _find_header(head) is not None:
            delimiter = candidate
            break
    rows: list[list[object]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ReadError(
                    "file_too_many_rows",
                    f"The file has more than {MAX_ROWS:,} rows. Split it into several files "
                    "(for example one per year) and upload each.",
                )
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ReadError(
                "text_too_long",
                f"Line {reader.line_num} of the CSV file has a cell of more than "
                f"{MAX_CELL_CHARS * 10:,} characters (a stray quote mark can join many lines "
                "into one cell). Shorten the cell or check its quotes, then save it again.",
            ) from exc
        raise ReadError(
            "csv_malformed",
            f"The CSV file cannot be read ({exc}). Save it again from Excel as 'CSV UTF-8', "
            "or upload the .xlsx workbook.",
        ) from exc
    header = _find_header(rows)
    if header is None:
        raise _no_header()
    return _sheet("csv", rows, header, "csv")
