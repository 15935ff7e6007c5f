"""Bad and hostile files: each must be refused with a clear message, quickly, in bounded memory,
and with the database untouched.

Each file is read twice. First by ``read_upload`` in a forked child whose address space is
capped (a runaway allocation then fails there instead of taking the test run down); the child
reports the time and how far its peak resident memory grew. Then by ``coalition ingest`` in
this process, after which files, submissions and records must hold exactly what they held
before.

Run with ``-s`` to see the measurements.
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import random
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from coalition.reader import MAX_FILE_BYTES, read_upload

ROW = ("2019-Q3", "Acme Market", "ivory", "VNM", 10, 20)
NOTES = ("period", "platform", "species_group", "country", "listings_removed", "notes")
SECONDS = 5.0
# How far the reading child's peak memory may grow. Reading a small valid workbook grows it by
# a few MB; any of these files, read without the checks, would take hundreds of MB to GBs.
GROWTH_MB = 100
MEASURED: list[tuple[str, str, float, float]] = []


def _laughs(levels: int = 10) -> bytes:
    """The classic 'billion laughs' document type declaration: 10^9 'lol's from 1 KB."""
    entities = b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10 if i else b"lol")
        for i in range(levels)
    )
    return b'<?xml version="1.0"?>\n<!DOCTYPE lolz [' + entities + b"]>\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


ODS = _zip(
    {
        "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": b"<office:document-content/>",
    }
)
DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
PNG = b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(4000)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + random.Random(2).randbytes(4000)
NOISE = b"\xff\xfe\x00" + random.Random(3).randbytes(8000)


def _minimal_rows(count: int, start: int = 2) -> Iterator[bytes]:
    """``count`` empty row elements, in blocks of 50,000."""
    for first in range(start, start + count, 50_000):
        last = min(first + 50_000, start + count)
        yield b"".join(b'<row r="%d"/>' % n for n in range(first, last))


def _spaces(megabytes: int) -> Iterator[bytes]:
    block = b" " * (1 << 20)
    for _ in range(megabytes):
        yield block


@cache
def _zip_bomb(f) -> bytes:
    """A valid .xlsx whose sheet inflates from 300 KB to 300 MB of spaces (built once)."""
    return f.raw_xlsx(f.streamed_sheet(_spaces(300)))


def _far(f, element: bytes) -> bytes:
    """A good sheet with one more row element: a value placed far away."""
    return f.raw_xlsx(f.sheet_xml([ROW]).replace(b"</sheetData>", element + b"</sheetData>"))


def _far_in_a_long_sheet(f, element: bytes) -> bytes:
    """A sheet whose rows are numbered from 150,000 (six digits, as in any long sheet), with
    one more row element after them."""
    rows = b"".join(f.row_xml(n, ROW) for n in range(150_000, 150_050))
    return f.raw_xlsx(f.sheet_xml([ROW]).replace(b"</sheetData>", rows + element + b"</sheetData>"))


def _long_text(f, length: int, *, seed: int = 7) -> bytes:
    # random letters: a megabyte of one letter would compress 1000:1 and be called a zip bomb
    text = "".join(random.Random(seed).choices("abcdefghij klmnopqrstuvwxyz", k=length))
    return f.raw_xlsx(f.sheet_xml([(*ROW[:5], text)], NOTES))


@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable  # (files) -> (file name, bytes)
    code: str
    row: int | None = None  # where the problem is; None for the file as a whole
    column: str | None = None

    @property
    def refused_by_reader(self) -> bool:
        return self.row is None


CASES = [
    Hostile("empty .xlsx", lambda f: ("empty.xlsx", b""), "file_empty"),
    Hostile("empty .csv", lambda f: ("empty.csv", b""), "file_empty"),
    Hostile("a PNG renamed .xlsx", lambda f: ("photo.xlsx", PNG), "file_not_xlsx"),
    Hostile("a PDF renamed .xlsx", lambda f: ("report.xlsx", PDF), "file_not_xlsx"),
    Hostile("random bytes as .xlsx", lambda f: ("noise.xlsx", NOISE), "file_not_xlsx"),
    Hostile("random bytes as .csv", lambda f: ("noise.csv", NOISE), "csv_not_utf8"),
    Hostile("random bytes as .dat", lambda f: ("noise.dat", NOISE), "file_type"),
    Hostile(
        "an old .xls (OLE2)",
        lambda f: ("old.xls", f.ole2("Workbook".encode("utf-16-le"))),
        "file_xls",
    ),
    Hostile(
        "an old .xls renamed .xlsx",
        lambda f: ("old.xlsx", f.ole2("Workbook".encode("utf-16-le"))),
        "file_xls",
    ),
    Hostile(
        "a password-protected workbook",
        lambda f: ("locked.xlsx", f.ole2("EncryptionInfo".encode("utf-16-le"))),
        "file_encrypted",
    ),
    Hostile(
        "an XML bomb in sharedStrings.xml",
        lambda f: (
            "laughs.xlsx",
            f.raw_xlsx(
                f.sheet_xml([ROW]),
                shared_strings=_laughs() + b"<sst><si><t>&lol9;</t></si></sst>",
            ),
        ),
        "file_xml_dtd",
    ),
    Hostile(
        "an XML bomb in sheet1.xml",
        lambda f: (
            "laughs.xlsx",
            f.raw_xlsx(_laughs() + f.sheet_xml([ROW]).split(b"?>\n", 1)[1]),
        ),
        "file_xml_dtd",
    ),
    Hostile("a zip bomb: 300 MB of spaces", lambda f: ("bomb.xlsx", _zip_bomb(f)), "file_zip_bomb"),
    Hostile(
        "a zip bomb whose headers say 1 KB",
        lambda f: (
            "liar.xlsx",
            f.lie_about_size(_zip_bomb(f), "xl/worksheets/sheet1.xml", 1000),
        ),
        "file_corrupt",
    ),
    Hostile(
        "a zip bomb whose headers say 1 MB (under the ratio rule)",
        lambda f: (
            "liar.xlsx",
            f.lie_about_size(_zip_bomb(f), "xl/worksheets/sheet1.xml", 1_000_000),
        ),
        "file_corrupt",
    ),
    Hostile(
        "a million rows",
        lambda f: ("million.xlsx", f.raw_xlsx(f.streamed_sheet(_minimal_rows(1_000_000)))),
        "file_too_many_rows",
    ),
    Hostile(
        "a million rows in a sheet stored outside xl/worksheets",
        lambda f: (
            "hidden.xlsx",
            f.raw_xlsx(f.streamed_sheet(_minimal_rows(1_000_000)), sheet_path="xl/media/data.xml"),
        ),
        "file_too_many_rows",
    ),
    Hostile(
        "one value in the sheet's last cell, XFD1048576",
        lambda f: ("far.xlsx", _far(f, b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
        "file_too_many_rows",
    ),
    Hostile(
        "one value at row 300,031, after rows numbered 150,000 and up",
        lambda f: (
            "far.xlsx",
            _far_in_a_long_sheet(f, b'<row r="300031"><c r="A300031"><v>1</v></c></row>'),
        ),
        "file_too_many_rows",
    ),
    Hostile(
        "one value at XFD2000 (32 million cells)",
        lambda f: ("wide.xlsx", _far(f, b'<row r="2000"><c r="XFD2000"><v>1</v></c></row>')),
        "file_too_many_cells",
    ),
    Hostile(
        "the same written in lower case with single quotes",
        lambda f: ("wide.xlsx", _far(f, b"<row><c r='xfd2000'><v>1</v></c></row>")),
        "file_too_many_cells",
    ),
    Hostile(
        "20,000 cells without references in one row, and a value in row 2000",
        lambda f: (
            "implicit.xlsx",
            _far(
                f,
                b"<row>"
                + b"<c><v>1</v></c>" * 20_000
                + b'</row><row r="2000"><c><v>1</v></c></row>',
            ),
        ),
        "file_too_many_cells",
    ),
    Hostile(
        "a 1 MB cell in a CSV",
        lambda f: ("long.csv", f.csv([(*ROW[:5], "x" * 1_000_000)], NOTES)),
        "text_too_long",
    ),
    Hostile(
        "a GBK-encoded CSV",
        lambda f: (
            "gbk.csv",
            f.csv([("2019年7月", "Acme Market", "象牙", "越南", 1, 2)], encoding="gbk"),
        ),
        "csv_not_utf8",
    ),
    Hostile(
        "a Latin-1 CSV",
        lambda f: ("latin1.csv", f.csv([(*ROW[:3], "Côte d'Ivoire", 1, 2)], encoding="latin-1")),
        "csv_not_utf8",
    ),
    Hostile("an .ods spreadsheet", lambda f: ("sheet.ods", ODS), "file_type"),
    Hostile("a .docx document", lambda f: ("letter.docx", DOCX), "file_type"),
    Hostile("a .docx renamed .xlsx", lambda f: ("letter.xlsx", DOCX), "file_not_xlsx"),
    Hostile(
        "a truncated .xlsx",
        lambda f: ("cut.xlsx", (data := f.xlsx([ROW]))[: len(data) * 2 // 3]),
        "file_corrupt",
    ),
    # refused by validation, at a row and column
    Hostile(
        "formulas in count cells",
        lambda f: (
            "formulas.xlsx",
            f.xlsx([ROW, (*ROW[:2], "pangolins", "VNM", 1, "=SUM(F2:F2)")]),
        ),
        "count_formula",
        row=3,
        column="listings_blocked",
    ),
    Hostile(
        "a formula in the template's Data sheet (its second sheet)",
        lambda f: (
            "template.xlsx",
            f.filled_template(
                [
                    dict(
                        period="2019-Q3",
                        platform="Acme Market",
                        species_group="ivory",
                        listings_removed="=2+3",
                    )
                ]
            ),
        ),
        "count_formula",
        row=5,
        column="listings_removed",
    ),
    Hostile(
        "merged cells in the data area",
        lambda f: (
            "merged.xlsx",
            f.xlsx([ROW, (None, *ROW[1:2], "bears", "VNM", 1, 2)], merged=["A2:A3"]),
        ),
        "merged_cells",
        row=2,
    ),
    Hostile(
        "a 100,000-character note",
        lambda f: ("essay.xlsx", _long_text(f, 100_000)),
        "text_too_long",
        row=2,
        column="notes",
    ),
    Hostile(
        "a 1 MB cell in a workbook",
        lambda f: ("megabyte.xlsx", _long_text(f, 1_000_000)),
        "text_too_long",
        row=2,
        column="notes",
    ),
    Hostile(
        "a 100,000-character note in a CSV",
        lambda f: ("essay.csv", f.csv([(*ROW[:5], "y" * 100_000)], NOTES)),
        "text_too_long",
        row=2,
        column="notes",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def measurements():
    yield
    if MEASURED:
        print(
            "\n\nfile                                                      code"
            "                   seconds  peak +MB"
        )
        for name, code, seconds, growth in MEASURED:
            print(f"{name:57} {code:22} {seconds:7.3f} {growth:8.1f}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reader_refuses_quickly_in_bounded_memory(case: Hostile, files, isolated):
    name, data = case.build(files)
    run = isolated(read_upload, data, name)
    MEASURED.append((case.name, case.code, run.seconds, run.peak_growth_mb))
    assert run.exitcode == 0, f"the reading process died: {run}"
    if case.refused_by_reader:
        kind, code, message = run.outcome
        assert (kind, code) == ("ReadError", case.code)
        assert len(message) > 40  # says what is wrong and what to do
    else:
        assert run.outcome == ("returned", "Sheet")
    assert run.seconds < SECONDS
    assert run.peak_growth_mb < GROWTH_MB


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ingest_refuses_and_writes_nothing(case: Hostile, files, run, counts):
    name, data = case.build(files)
    before = counts(run.db)
    started = time.perf_counter()
    result = run.ingest(name, data, "--json", "--accept")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False and payload["stored"] is False
    found = [p for p in payload["errors"] if p["code"] == case.code]
    assert found, payload["errors"]
    assert (found[0]["row"], found[0]["column"]) == (case.row, case.column)
    assert counts(run.db) == before
    assert elapsed < SECONDS


def test_a_file_over_the_limit_is_refused_before_it_is_read(run, counts, monkeypatch):
    path = run.folder / "huge.xlsx"
    with path.open("wb") as fh:  # sparse: 21 MB on paper, nothing on disk
        fh.truncate(MAX_FILE_BYTES + 1_048_576)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} was read"))
    before = counts(run.db)
    started = time.perf_counter()
    result = run("ingest", str(path), "--partner", "acme", "--accept")
    assert time.perf_counter() - started < 1
    assert result.exit_code == 1
    assert "21.0 MB; the limit is 20 MB" in result.output
    assert counts(run.db) == before


def test_the_reader_refuses_oversized_bytes_too():
    with pytest.raises(Exception) as raised:
        read_upload(b"PK\x03\x04" + bytes(MAX_FILE_BYTES), "big.xlsx")
    assert raised.value.code == "file_too_large"


def _abort_quietly() -> None:
    faulthandler.disable()  # no stack dump in the test output
    os.abort()


def test_a_crashing_reader_is_reported_not_survived_silently(isolated):
    """The isolation itself: a child that dies is seen as dead, not as a pass."""
    run = isolated(_abort_quietly)
    assert run.exitcode != 0 and run.outcome == ("died",)


def test_a_formula_in_a_sheet_stored_under_another_name_is_reported(files, db):
    from coalition.validation import validate

    formula = b'<c r="F2"><f>SUM(7,5)</f><v>12</v></c>'
    sheet = files.raw_xlsx(
        files.sheet_xml([ROW]).replace(b'<c r="F2"><v>20</v></c>', formula),
        sheet_path="xl/worksheets/data.xml",
    )
    with db.read() as cur:
        report = validate(cur, "acme", sheet, "renamed.xlsx").report
    assert {(p.row, p.column, p.code) for p in report.errors} == {
        (2, "listings_blocked", "count_formula")
    }


@pytest.mark.parametrize(
    "cell",
    [
        b'<c s="0" r="F2"><f>SUM(7,5)</f><v>12</v></c>',  # the reference after another attribute
        b'<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="F2">'
        b"<x:f>SUM(7,5)</x:f><x:v>12</x:v></x:c>",  # a namespace prefix
    ],
)
def test_a_formula_written_in_an_unusual_form_is_reported(files, db, cell):
    from coalition.validation import validate

    sheet = files.raw_xlsx(files.sheet_xml([ROW]).replace(b'<c r="F2"><v>20</v></c>', cell))
    with db.read() as cur:
        report = validate(cur, "acme", sheet, "unusual.xlsx").report
    assert {(p.row, p.column, p.code) for p in report.errors} == {
        (2, "listings_blocked", "count_formula")
    }
