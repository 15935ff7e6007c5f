"""Builders for the submission tests: upload files made in code, a partner's database, and the
row counts that show whether anything was written.

Files are built three ways: with openpyxl (a workbook as Excel would save it), as plain bytes
(CSV in any encoding, and hostile files), and as a hand-assembled .xlsx zip whose sheet XML is
given as bytes — the only way to make a million-row sheet, an XML bomb or a zip whose headers
lie quickly and without a spreadsheet library in the way.

The builders are reached through the ``files`` fixture (tests/ is not a package, so a test
module cannot import this file by name).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import multiprocessing
import resource
import shutil
import struct
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from click.testing import CliRunner, Result

from coalition import store
from coalition.cli import cli
from coalition.db import Database
from coalition.reader import ReadError
from coalition.template import EXAMPLE_ROW, FIRST_DATA_ROW, HEADER_ROW, build_template

PARTNER = "acme"
PLATFORMS = ("Acme Market", "Acme Resale")
JOINED = dt.date(2018, 3, 1)
# validate() is given this date; CLI runs use the real date, so their periods lie in 2018–2020
TODAY = dt.date(2020, 6, 15)

# The template's header cells ("key / label"), in the template's column order.
KEYS = (
    "period",
    "platform",
    "species_group",
    "taxon",
    "country",
    "listings_removed",
    "listings_blocked",
    "accounts_actioned",
    "reports_received",
    "listings_detected",
    "search_effort",
    "notes",
)
SHORT = ("period", "platform", "species_group", "country", "listings_removed", "listings_blocked")
ZH_LABELS = {
    "period": "期间",
    "platform": "平台",
    "species_group": "物种类别",
    "taxon": "学名",
    "country": "国家/地区",
    "listings_removed": "下架商品数",
    "listings_blocked": "拦截商品数",
    "accounts_actioned": "处置账号数",
    "reports_received": "收到举报数",
    "listings_detected": "监测发现商品数",
    "search_effort": "监测搜索次数",
    "notes": "备注",
}


# --- workbooks and CSV files ---------------------------------------------------------------


def xlsx(
    rows: Iterable[Sequence[object]],
    header: Sequence[object] | None = SHORT,
    *,
    above: Sequence[Sequence[object]] = (),
    sheet: str = "Data",
    merged: Sequence[str] = (),
    formulas_as_text: bool = False,
) -> bytes:
    """A workbook as openpyxl saves it: ``above`` (title rows), the header, then ``rows``.
    A cell value ``None`` stays empty; a ``str`` starting with "=" is a formula (unless
    ``formulas_as_text``)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in above:
        ws.append(list(row))
    if header is not None:
        ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    if formulas_as_text:
        for line in ws.iter_rows():
            for cell in line:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    for area in merged:
        ws.merge_cells(area)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Iterable[Sequence[object]],
    header: Sequence[object] | None = SHORT,
    *,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    """A CSV file as Excel writes one: every row, blank cells empty, CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


# --- hand-made .xlsx archives --------------------------------------------------------------

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = b"</sheetData></worksheet>"
EMPTY_STRINGS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
    b'uniqueCount="0"/>'
)


def cell_xml(ref: str, value: object) -> bytes:
    """One cell: a number, or an inline string."""
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'.encode()
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'.encode()


def row_xml(number: int, values: Sequence[object]) -> bytes:
    cells = b"".join(
        cell_xml(f"{openpyxl.utils.get_column_letter(i + 1)}{number}", v)
        for i, v in enumerate(values)
        if v is not None
    )
    return f'<row r="{number}">'.encode() + cells + b"</row>"


def sheet_xml(rows: Sequence[Sequence[object]], header: Sequence[object] = SHORT) -> bytes:
    """A whole sheet (header in row 1) as XML, for the hand-made archives."""
    body = b"".join(row_xml(i + 2, r) for i, r in enumerate(rows))
    return SHEET_OPEN + row_xml(1, header) + body + SHEET_CLOSE


def streamed_sheet(body: Iterable[bytes], header: Sequence[object] = SHORT) -> Iterator[bytes]:
    """A sheet's XML in chunks: the header in row 1, then ``body`` (row elements)."""
    yield SHEET_OPEN + row_xml(1, header)
    yield from body
    yield SHEET_CLOSE


def raw_xlsx(
    sheet: bytes | Iterable[bytes],
    *,
    shared_strings: bytes = EMPTY_STRINGS,
    members: dict[str, bytes] | None = None,
    level: int = 6,
    sheet_path: str = "xl/worksheets/sheet1.xml",
) -> bytes:
    """A minimal .xlsx zip with one sheet. ``sheet`` may be an iterable of chunks, streamed into
    the archive, so that a sheet of hundreds of MB never exists in memory at once.
    ``sheet_path`` puts the sheet elsewhere (the workbook's relationships point to it)."""
    target = sheet_path.removeprefix("xl/").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr(
            "[Content_Types].xml",
            CONTENT_TYPES.replace(b"/xl/worksheets/sheet1.xml", b"/" + sheet_path.encode()),
        )
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr(
            "xl/_rels/workbook.xml.rels", WORKBOOK_RELS.replace(b"worksheets/sheet1.xml", target)
        )
        archive.writestr("xl/sharedStrings.xml", shared_strings)
        if isinstance(sheet, bytes):
            archive.writestr(sheet_path, sheet)
        else:
            info = zipfile.ZipInfo(sheet_path, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as fh:
                for chunk in sheet:
                    fh.write(chunk)
        for name, content in (members or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size that ``member``'s local and central headers declare (the
    CRC stays that of the real content), as a crafted zip bomb does to slip past a size check."""
    out = bytearray(data)
    name = member.encode()
    # local file header: signature, ..., uncompressed size at offset 22, name at offset 30
    at = 0
    while (at := out.find(b"PK\x03\x04", at)) != -1:
        length = struct.unpack_from("<H", out, at + 26)[0]
        if out[at + 30 : at + 30 + length] == name:
            struct.pack_into("<I", out, at + 22, size)
        at += 4
    # central directory header: uncompressed size at offset 24, name at offset 46
    at = 0
    while (at := out.find(b"PK\x01\x02", at)) != -1:
        length = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46 : at + 46 + length] == name:
            struct.pack_into("<I", out, at + 24, size)
        at += 4
    return bytes(out)


def ole2(payload: bytes = b"") -> bytes:
    """The start of a compound document (the .xls / encrypted-workbook container): its magic
    bytes, a plausible header, then ``payload``. The reader sniffs only these bytes."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 24, 0x3E, 0x3, 0xFFFE)  # minor, major version, byte order
    struct.pack_into("<H", header, 30, 9)  # sector shift: 512-byte sectors
    return bytes(header) + payload + bytes(-(len(payload)) % 512)


class Files:
    """The builders, as the ``files`` fixture hands them to a test."""

    xlsx = staticmethod(xlsx)
    csv = staticmethod(csv_bytes)
    raw_xlsx = staticmethod(raw_xlsx)
    streamed_sheet = staticmethod(streamed_sheet)
    sheet_xml = staticmethod(sheet_xml)
    row_xml = staticmethod(row_xml)
    lie_about_size = staticmethod(lie_about_size)
    ole2 = staticmethod(ole2)

    def __init__(self, database: Path) -> None:
        self._database = database
        self._templates: dict[str, bytes] = {}

    def template(self, lang: str = "en") -> bytes:
        """acme's template as ``coalition template`` writes it (dated TODAY)."""
        if lang not in self._templates:
            with Database(self._database).read() as cur:
                self._templates[lang] = build_template(cur, PARTNER, lang, today=TODAY)
        return self._templates[lang]

    def filled_template(
        self, rows: Sequence[dict[str, object]], lang: str = "en", *, keep_example: bool = True
    ) -> bytes:
        """The template with ``rows`` (column key -> value) typed in from row FIRST_DATA_ROW,
        as a partner fills it in Excel (drop-downs, hidden lists and all)."""
        wb = openpyxl.load_workbook(io.BytesIO(self.template(lang)))
        ws = wb[DATA_SHEET[lang]]
        at = {
            str(ws.cell(HEADER_ROW, c).value).split(" / ")[0]: c
            for c in range(1, ws.max_column + 1)
        }
        if not keep_example:
            ws.delete_rows(EXAMPLE_ROW)
        first = FIRST_DATA_ROW if keep_example else EXAMPLE_ROW
        for offset, row in enumerate(rows):
            for key, value in row.items():
                ws.cell(first + offset, at[key]).value = value
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()


DATA_SHEET = {"en": "Data", "zh": "数据"}


@pytest.fixture(scope="session")
def files(partner_db_file: Path) -> Files:
    return Files(partner_db_file)


# --- running a reader where a crash or a memory blow-up cannot hurt the test run -----------


@dataclass
class Isolated:
    """The outcome of a function run in a forked child: what it returned or raised, how long it
    took, and how much the child's peak resident memory grew (MB)."""

    outcome: object
    seconds: float
    peak_growth_mb: float
    exitcode: int | None


def _child(conn, fn, args, limit_mb: int) -> None:
    with open("/proc/self/status") as status:
        vm = next(int(line.split()[1]) for line in status if line.startswith("VmSize")) * 1024
    # address space beyond what the parent had: a runaway allocation fails instead of
    # taking the machine (python-calamine aborts the process when an allocation fails)
    resource.setrlimit(resource.RLIMIT_AS, (vm + limit_mb * 2**20, resource.RLIM_INFINITY))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        outcome: object = ("returned", type(fn(*args)).__name__)
    except ReadError as exc:
        outcome = ("ReadError", exc.code, exc.message)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as is
        outcome = ("raised", type(exc).__name__, str(exc)[:300])
    elapsed = time.perf_counter() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    conn.send((outcome, elapsed, growth))
    conn.close()


def run_isolated(fn, *args, limit_mb: int = 2000, timeout: float = 60) -> Isolated:
    """Run ``fn(*args)`` in a forked child with at most ``limit_mb`` more address space."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, fn, args, limit_mb))
    child.start()
    send.close()
    try:
        if receive.poll(timeout):
            outcome, seconds, growth = receive.recv()
        else:
            outcome, seconds, growth = ("timeout",), timeout, float("nan")
    except EOFError:  # the child died without a word: killed, or aborted by a native library
        outcome, seconds, growth = ("died",), float("nan"), float("nan")
    child.join(10)
    if child.exitcode is None:
        child.kill()
        child.join()
    return Isolated(outcome, seconds, growth, child.exitcode)


@pytest.fixture(scope="session")
def isolated():
    return run_isolated


# --- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def partner_db_file(tmp_path_factory: pytest.TempPathFactory, empty_db_file: Path) -> Path:
    """An initialised database with the partner ``acme`` (joined 2018-03) and its two
    platforms, and a second partner whose platform ``acme`` must not use."""
    path = tmp_path_factory.mktemp("partner") / "partner.duckdb"
    shutil.copyfile(empty_db_file, path)
    with Database(path).write() as cur:
        store.add_partner(
            cur,
            PARTNER,
            "Acme Trade",
            "e-commerce",
            JOINED,
            platforms=((PLATFORMS[0], "marketplace"), (PLATFORMS[1], "second-hand")),
        )
        store.add_partner(
            cur, "other", "Other Co", "social-media", JOINED, platforms=(("Other Net", "social"),)
        )
    return path


@pytest.fixture
def db(partner_db_file: Path, tmp_path: Path) -> Database:
    """A fresh copy of the partner database for one test."""
    path = tmp_path / "coalition.duckdb"
    shutil.copyfile(partner_db_file, path)
    return Database(path, retry_seconds=5)


def table_counts(db: Database) -> dict[str, int]:
    """How many rows files, submissions and records hold."""
    with db.read() as cur:
        return {
            table: cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("files", "submissions", "records")
        }


@pytest.fixture
def counts() -> Callable[[Database], dict[str, int]]:
    return table_counts


@dataclass
class Cli:
    """Runs ``coalition`` commands in-process against one database."""

    db: Database
    folder: Path

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--db", str(self.db.path)], catch_exceptions=False)

    def file(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def ingest(self, name: str, data: bytes, *flags: str) -> Result:
        return self("ingest", str(self.file(name, data)), "--partner", PARTNER, *flags)

    def validate(self, name: str, data: bytes, *flags: str) -> Result:
        return self("validate", str(self.file(name, data)), "--partner", PARTNER, *flags)


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Cli:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return Cli(db, folder)
