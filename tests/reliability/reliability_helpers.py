"""Builders for the reliability tests: partners and upload files made in code (deterministic,
as large as a test needs)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from xml.sax.saxutils import escape

from coalition import store
from coalition.db import Database

PARTNERS = 10
JOINED = dt.date(2018, 1, 1)
HEADER = (
    "period",
    "platform",
    "species_group",
    "country",
    "listings_removed",
    "listings_blocked",
    "listings_detected",
    "search_effort",
    "notes",
)


def partner(i: int) -> str:
    return f"partner-{i}"


def platforms(i: int) -> tuple[str, str]:
    return (f"Market {i}", f"Resale {i}")


def months(first_year: int = 2018, count: int = 24) -> list[str]:
    return [f"{first_year + m // 12}-{m % 12 + 1:02d}" for m in range(count)]


def upload_csv(
    cur, i: int, rows: int, *, note: str = "", months_count: int = 24, first_year: int = 2018
) -> bytes:
    """A valid CSV for partner ``i`` with ``rows`` distinct rows (platform x month x species x
    country), counts following a formula, ``note`` in every notes cell."""
    species = [r[0] for r in cur.execute("SELECT slug FROM species_groups ORDER BY 1").fetchall()]
    countries = [r[0] for r in cur.execute("SELECT iso3 FROM countries ORDER BY 1").fetchall()]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    n = 0
    for country in countries:
        for platform in platforms(i):
            for month in months(first_year, months_count):
                for sp in species:
                    if n == rows:
                        return out.getvalue().encode()
                    writer.writerow(
                        (month, platform, sp, country, 40 + n % 7, 20 + n % 3, 5 + n % 2, 100, note)
                    )
                    n += 1
    raise ValueError(f"cannot make {rows} distinct rows")


def add_partners(db: Database, count: int = PARTNERS) -> None:
    """Partners 0..count-1, each with two platforms, in one transaction."""
    with db.write() as cur:
        for i in range(count):
            store.add_partner(
                cur,
                partner(i),
                f"Partner {i}",
                "e-commerce",
                JOINED,
                platforms=tuple((name, "marketplace") for name in platforms(i)),
            )


# --- a minimal .xlsx, written by hand: fast enough for thousands of generated workbooks -----

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
# Characters XML 1.0 cannot hold at all (a spreadsheet cannot contain them either)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# OOXML reads _xHHHH_ in a string as the character HHHH; Excel writes a literal one as
# _x005F_xHHHH_ (the underscore escaped), and so does this builder
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def xml_text(value: str) -> str:
    """``value`` as the text of an inline-string cell (Excel's escaping)."""
    return escape(_OOXML_ESCAPE.sub(r"_x005F_\1", value))


def xlsx_cell(ref: str, value: object) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = xml_text(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def xlsx_bytes(rows: list[list[object]], sheet: str = "Data") -> bytes:
    """A one-sheet workbook holding ``rows`` (None leaves a cell empty)."""
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(xlsx_cell(f"{column(c)}{r}", v) for c, v in enumerate(row) if v is not None)
        body.append(f'<row r="{r}">{cells}</row>')
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheet=escape(sheet)))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buffer.getvalue()


def csv_bytes(rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding, errors="replace")
