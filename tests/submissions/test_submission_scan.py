"""The fast safety scan of a sheet's XML (``coalition.reader._SheetScan``), held to its edges.

The scan looks at whole tags only and reads a row number exactly only where one may lie beyond
the limit: six digits from 300000, or seven digits or more. These tests pin the limit to the
row (the last row a sheet may reach is MAX_ROWS + HEADER_SEARCH_ROWS), among the six-digit row
numbers of a long sheet, and show that where the zip member's chunks happen to be cut changes
nothing: not for a reference, not for a document type declaration, not for a formula.
"""

from __future__ import annotations

import io
import random
import struct
import threading

import pytest

from coalition import reader
from coalition.reader import (
    HEADER_SEARCH_ROWS,
    MAX_ROWS,
    ReadError,
    _inspect_zip,
    _SheetScan,
    read_upload,
)
from coalition.validation import validate

LIMIT = MAX_ROWS + HEADER_SEARCH_ROWS  # 300,030: the last row a sheet may reach
ROW = ("2019-Q3", "Acme Market", "ivory", "VNM", 10, 20)
CHUNK = 1 << 20  # what the reader reads from a zip member at a time
GROWTH_MB = 100


def long_sheet(files, extra: bytes = b"") -> bytes:
    """A sheet whose rows are numbered 150,000 and up (six digits, as in any long sheet), with
    ``extra`` (row elements) after them."""
    header = files.row_xml(1, ("period", "platform", "species_group", "country", "a", "b"))
    body = b"".join(files.row_xml(n, ROW) for n in range(150_000, 150_040))
    whole = files.sheet_xml([ROW])
    start, end = whole.index(b"<sheetData>") + len(b"<sheetData>"), whole.index(b"</sheetData>")
    return whole[:start] + header + body + extra + whole[end:]


def outcome(xml: bytes, cuts: list[int]) -> tuple:
    """Feed ``xml`` to a scan in pieces cut at ``cuts``: the refusal, or what the scan found."""
    scan = _SheetScan()
    edges = [0, *sorted(cuts), len(xml)]
    try:
        for start, end in zip(edges, edges[1:], strict=False):
            scan.feed(xml[start:end])
        scan.feed(b"", final=True)
    except ReadError as exc:
        return ("refused", exc.code, exc.message)
    return ("read", scan.rows, scan.needs_exact_extent)


def letters(count: int, seed: int = 5) -> bytes:
    """Random lower-case letters (text that does not compress like a zip bomb)."""
    table = bytes(ord("a") + i % 26 for i in range(256))
    return random.Random(seed).randbytes(count).translate(table)


def padded_to(xml_before: bytes, target: int, offset: int) -> bytes:
    """A comment that moves what follows ``xml_before`` so that its byte ``offset`` falls on
    ``target`` (a chunk's edge)."""
    length = target - offset - len(xml_before) - len(b"<!---->")
    assert length > 0
    return b"<!--" + letters(length) + b"-->"


# --- the row limit, to the row ---------------------------------------------------------------


@pytest.mark.parametrize(
    "number, refused",
    [
        (299_999, False),
        (300_000, False),
        (LIMIT, False),
        (LIMIT + 1, True),
        (399_999, True),
        (999_999, True),
        (1_000_000, True),
        (1_048_576, True),
    ],
)
@pytest.mark.parametrize(
    "element",
    [
        '<row r="{n}"><c r="A{n}"><v>1</v></c></row>',  # row and cell
        '<row r="9"><c r="B{n}"><v>1</v></c></row>',  # the cell alone, under a near row
        '<row r="{n}"/>',  # an empty row element
    ],
    ids=["row and cell", "cell", "empty row"],
)
def test_one_far_row_among_six_digit_rows(files, number: int, refused: bool, element: str):
    data = files.raw_xlsx(long_sheet(files, element.format(n=number).encode()))
    if refused:
        with pytest.raises(ReadError) as raised:
            _inspect_zip(data)
        assert raised.value.code == "file_too_many_rows"
        assert f"as far as row {number:,}" in raised.value.message
    else:
        _inspect_zip(data)  # no refusal


@pytest.mark.parametrize(
    "reference, refused",
    [
        ("A0300031", True),  # a leading zero: still row 300,031
        ("A000000300031", True),
        ("A0299999", False),  # seven digits, but row 299,999
        ("A0000000000042", False),
    ],
)
def test_leading_zeros_are_read_as_the_number_they_make(files, reference: str, refused: bool):
    element = f'<row r="9"><c r="{reference}"><v>1</v></c></row>'.encode()
    data = files.raw_xlsx(long_sheet(files, element))
    if refused:
        with pytest.raises(ReadError, match="as far as row 300,031"):
            _inspect_zip(data)
    else:
        _inspect_zip(data)


def test_a_sheet_reaching_row_299999_is_read(files):
    element = b'<row r="299999"><c r="A299999"><v>1</v></c></row>'
    sheet = read_upload(files.raw_xlsx(long_sheet(files, element)), "long.xlsx")
    assert sheet.rows[-1][0] == 299_999
    assert sheet.rows[-1][1][0] == 1


# --- wherever the chunks are cut ---------------------------------------------------------------


def sheets(files) -> dict[str, bytes]:
    return {
        "far cell": long_sheet(files, b'<row r="9"><c r="A300031"><v>1</v></c></row>'),
        "far row": long_sheet(files, b'<row r="300031"/>'),
        "last row allowed": long_sheet(files, f'<row r="{LIMIT}"/>'.encode()),
        "seven digits, leading zero": long_sheet(files, b'<row r="9"><c r="A0299999"/></row>'),
        "column beyond Z": long_sheet(files, b'<row r="9"><c r="AB9"><v>1</v></c></row>'),
        "prefixed": long_sheet(files, b'<x:row r="9"><x:c r="A9"><x:v>1</x:v></x:c></x:row>'),
        "no reference": long_sheet(files, b"<row><c><v>1</v></c></row>"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "far cell",
        "far row",
        "last row allowed",
        "seven digits, leading zero",
        "column beyond Z",
        "prefixed",
        "no reference",
    ],
)
def test_the_scan_does_not_depend_on_where_the_chunks_are_cut(files, name: str):
    xml = sheets(files)[name]
    whole = outcome(xml, [])
    tail = xml.rindex(b"</sheetData>")
    # every cut through the last 120 bytes before the end of the data (where the odd element
    # is), and random pairs of cuts anywhere
    for at in range(tail - 120, tail + 1):
        assert outcome(xml, [at]) == whole, at
    rng = random.Random(name)
    for _ in range(200):
        assert outcome(xml, rng.sample(range(1, len(xml)), 2)) == whole
    assert outcome(xml, list(range(1, len(xml), 97))) == whole  # many small pieces


def test_the_odd_elements_get_the_exact_reading_and_the_plain_sheet_does_not(files):
    found = {name: outcome(xml, []) for name, xml in sheets(files).items()}
    assert found["far cell"][:2] == found["far row"][:2] == ("refused", "file_too_many_rows")
    assert found["last row allowed"] == ("read", 42, False)
    assert found["seven digits, leading zero"] == ("read", 42, False)
    for name in ("column beyond Z", "prefixed", "no reference"):
        assert found[name][0] == "read" and found[name][2] is True, name


def test_megabytes_without_a_tag_end_send_the_sheet_to_the_exact_reading():
    scan = _SheetScan()
    scan.feed(b'<sheetData><row r="2"><c r="A2" t="inlineStr"><is><t>')
    for _ in range(5):
        scan.feed(letters(CHUNK))
    assert scan.needs_exact_extent


def test_a_reference_cut_by_a_chunk_edge_after_megabytes_of_text(files, isolated):
    """4.5 MB of text in one cell (no '>' in it), then a cell at A1048576 whose reference the
    1 MB chunks of the zip member cut in two. A scan that looked at the text in pieces cut
    anywhere would miss it, and python-calamine would build a grid of a million rows."""
    sheet = long_sheet(files)
    before = sheet[: sheet.index(b"</sheetData>")]
    before += b'<row r="150100"><c r="A150100" t="inlineStr"><is><t>'
    before += letters(CHUNK * 9 // 2) + b"</t></is></c></row>"
    cut = b'<row r="150101"><c r="A10'  # to end at the edge of the fifth chunk
    xml = before + padded_to(before, 5 * CHUNK, len(cut)) + cut
    assert len(xml) == 5 * CHUNK
    xml += b'48576"><v>1</v></c></row></sheetData></worksheet>'
    data = files.raw_xlsx(xml)
    run = isolated(read_upload, data, "far.xlsx")
    assert run.exitcode == 0, run
    kind, code, message = run.outcome
    assert (kind, code) == ("ReadError", "file_too_many_rows")
    assert "as far as row 1,048,576" in message
    assert run.peak_growth_mb < GROWTH_MB


@pytest.mark.parametrize("offset", range(0, 10))
def test_a_document_type_declaration_cut_by_a_chunk_edge_is_refused(files, offset: int):
    declaration = b'<!DOCTYPE x [<!ENTITY a "b">]>'
    prolog = b'<?xml version="1.0"?>\n'
    xml = (
        prolog
        + padded_to(prolog, CHUNK, offset)
        + declaration
        + files.sheet_xml([ROW]).split(b"?>\n", 1)[1]
    )
    assert xml[CHUNK - offset : CHUNK - offset + 9] == b"<!DOCTYPE"
    with pytest.raises(ReadError) as raised:
        _inspect_zip(files.raw_xlsx(xml))
    assert raised.value.code == "file_xml_dtd"


@pytest.mark.parametrize("offset", [0, 1, 2, 5, 11, 12])
def test_a_formula_cut_by_a_chunk_edge_is_reported(files, db, offset: int):
    plain = files.sheet_xml([ROW])
    formula = b'<c r="F2"><f>SUM(7,5)</f><v>12</v></c>'
    at = plain.index(b'<c r="F2">')
    before = plain[:at]
    xml = before + padded_to(before, CHUNK, offset) + formula + plain[at:].split(b"</c>", 1)[1]
    assert xml[CHUNK - offset : CHUNK - offset + len(formula)] == formula
    with db.read() as cur:
        report = validate(cur, "acme", files.raw_xlsx(xml), "cut.xlsx").report
    assert {(p.row, p.column, p.code) for p in report.errors} == {
        (2, "listings_blocked", "count_formula")
    }


def test_the_close_look_is_skipped_only_where_no_far_reference_can_be():
    """_may_lie_far says no only where the exact pattern finds no row beyond the limit: random
    pieces of references, digits, quotes and tags, around the limit and far beyond it."""
    tokens = [
        ' r="',
        '<c r="A',
        '<row r="',
        "AB",
        '"',
        ">",
        "<v>",
        " ",
        "\t",
        "0",
        "00",
        "1",
        "2",
        "3",
        "9",
        "29999",
        "30003",
        "299999",
        "300030",
        "300031",
        "1048576",
    ]
    rng = random.Random(2018)
    checked = 0
    for _ in range(3000):
        body = ("".join(rng.choices(tokens, k=rng.randint(1, 40))) + ">").encode()
        shape = body.translate(reader._SHAPES)
        found = [int(n) for n in reader._FAR_ROW.findall(body.translate(reader._SPACES))]
        if found and max(found) > LIMIT:
            checked += 1
            assert reader._may_lie_far(body, shape, 0, len(body)), body
    assert checked > 100  # the random pieces did hold far references


# --- a large member is inflated by a second thread, ahead of the scan ------------------------


def _wrong_crc(data: bytes, member: str) -> bytes:
    """``data`` with the CRC that ``member``'s local and central headers declare changed (the
    content stays as it is): a damaged file, found only once the whole member is read."""
    out = bytearray(data)
    name = member.encode()
    for signature, crc_at, length_at, name_at in (
        (b"PK\x03\x04", 14, 26, 30),
        (b"PK\x01\x02", 16, 28, 46),
    ):
        at = 0
        while (at := out.find(signature, at)) != -1:
            length = struct.unpack_from("<H", out, at + length_at)[0]
            if out[at + name_at : at + name_at + length] == name:
                crc = struct.unpack_from("<I", out, at + crc_at)[0]
                struct.pack_into("<I", out, at + crc_at, crc ^ 1)
            at += 4
    return bytes(out)


def large_sheets(files) -> dict[str, bytes]:
    """Workbooks whose sheet is larger than reader.READ_AHEAD_FROM (a long text cell), with
    what is wrong with them after it, or in their zip headers."""
    sheet = long_sheet(files)
    at = sheet.index(b"</sheetData>")
    text = b'<row r="150100"><c r="A150100" t="inlineStr"><is><t>' + letters(CHUNK * 5)
    text += b"</t></is></c></row>"

    def with_rows(extra: bytes) -> bytes:
        return files.raw_xlsx(sheet[:at] + text + extra + sheet[at:])

    plain = with_rows(b"")
    return {
        "plain": plain,
        "far row at the end": with_rows(b'<row r="300031"/>'),
        "declaration at the end": with_rows(b'<!DOCTYPE x [<!ENTITY a "b">]>'),
        "wrong checksum": _wrong_crc(plain, "xl/worksheets/sheet1.xml"),
        "declared shorter": files.lie_about_size(plain, "xl/worksheets/sheet1.xml", 3 * CHUNK),
    }


def _inspect_outcome(data: bytes) -> tuple:
    try:
        formulas, parts = _inspect_zip(data)
    except ReadError as exc:
        return ("refused", exc.code)
    return ("read", formulas, parts)


def _readers_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "xlsx-read-ahead"]


def test_a_large_member_gives_the_same_outcome_read_ahead_or_in_turn(files, monkeypatch):
    workbooks = large_sheets(files)
    assert all(
        reader.zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size
        > reader.READ_AHEAD_FROM
        for name, data in workbooks.items()
        if name != "declared shorter"
    )
    ahead = {name: _inspect_outcome(data) for name, data in workbooks.items()}
    assert not _readers_alive()  # every reader stopped, also after a refusal midway
    monkeypatch.setattr(reader, "READ_AHEAD_FROM", 1 << 40)  # every member read in turn
    in_turn = {name: _inspect_outcome(data) for name, data in workbooks.items()}
    assert ahead == in_turn
    assert ahead["plain"][0] == "read"
    assert ahead["far row at the end"] == ("refused", "file_too_many_rows")
    assert ahead["declaration at the end"] == ("refused", "file_xml_dtd")
    assert ahead["wrong checksum"] == ("refused", "file_corrupt")
    assert ahead["declared shorter"] == ("refused", "file_corrupt")


def test_the_reader_thread_stops_when_the_scan_stops_early(files, monkeypatch):
    """A refusal in the first chunk of a large member: the reader, which had chunks waiting,
    is stopped before the refusal reaches the caller (none is left reading)."""
    monkeypatch.setattr(reader, "READ_AHEAD_FROM", 0)  # even the small members read ahead
    sheet = long_sheet(files)
    at = sheet.index(b"<sheetData>")
    data = files.raw_xlsx(
        sheet[:at] + b'<!DOCTYPE x [<!ENTITY a "b">]>' + sheet[at:] + letters(CHUNK * 6)
    )
    with pytest.raises(ReadError) as raised:
        _inspect_zip(data)
    assert raised.value.code == "file_xml_dtd"
    assert not _readers_alive()


def test_pairs_are_counted_and_found_as_bytes_count_and_find_do():
    """_pairs and _pair_offsets compare two-byte words at even and odd offsets: every pair,
    whatever its offset from the start of the piece, counted once (random pieces of tags,
    digits and quotes, cut anywhere)."""
    rng = random.Random(7)
    tokens = [b"<c", b"<f", b"<", b"c", b"f", b'0"', b"0", b'"', b"<row", b' r="A1"', b">"]
    for _ in range(2000):
        data = b"".join(rng.choices(tokens, k=rng.randint(0, 30)))
        start = rng.randint(0, len(data))
        end = rng.randint(start, len(data))
        for pair in (b"<c", b"<f", b'0"'):
            assert reader._pairs(data, pair, start, end) == data.count(pair, start, end)
            found = sorted(reader._pair_offsets(data, pair, start, end).tolist())
            expected = [i - start for i in range(start, end - 1) if data[i : i + 2] == pair]
            assert found == expected, (data, pair, start, end)
