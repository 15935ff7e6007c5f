"""Hostile input: thousands of generated workbooks and CSV files through ``ingest`` (which
validates, then stores all or nothing).

* Whatever the bytes — random, a valid file with bytes flipped, cut or spliced, a zip of random
  members, near-valid sheets with wrong, odd or missing values — ``ingest`` returns a report and
  never raises, and when the file is not stored nothing at all is written (every table's rows
  and the data version are unchanged).
* Text with quotes, semicolons, SQL and HTML in every text field — notes, scientific name, file
  name, partner and platform names — is stored and read back exactly as given, and the SQL in it
  is never run.
* A file over the size limit is refused before it is read, by the reader and the command line.

The number of files fuzzed is printed (``pytest -s``). ``COALITION_FUZZ_SCALE`` multiplies the
example counts (e.g. 0.1 for a quick look, 10 for a long hunt).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coalition import reader, store
from coalition.cli import cli
from coalition.db import Database
from coalition.ingest import ingest
from coalition.validation import validate

from .reliability_helpers import csv_bytes, platforms, xlsx_bytes

TODAY = dt.date(2020, 6, 15)
PARTNER = "partner-0"
PLATFORM_NAMES = platforms(0)
SCALE = float(os.environ.get("COALITION_FUZZ_SCALE", "1"))
FUZZED: Counter = Counter()
COUNT_KEYS = (
    "listings_removed",
    "listings_blocked",
    "listings_detected",
    "search_effort",
)
TABLES = (
    "meta",
    "partners",
    "platforms",
    "files",
    "submissions",
    "records",
    "audit_log",
    "users",
    "baselines",
    "targets",
)


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    database=None,
    derandomize=True,  # the same files on every run
    print_blob=True,
)


@pytest.fixture(scope="module", autouse=True)
def report_count():
    yield
    print(
        f"\nfuzz: {sum(FUZZED.values()):,} files through ingest "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(FUZZED.items()))})"
    )


@pytest.fixture
def held(partners_db: Database):
    """The partners database, held open for the whole test (one opening, not one per file)."""
    with partners_db.read():
        yield partners_db


# one statement (a UNION: scalar subqueries would take DuckDB fifty times longer to plan)
SNAPSHOT = " UNION ALL ".join(
    [f"SELECT '{t}', count(*) FROM {t}" for t in TABLES]
    + ["SELECT 'data_version', CAST(value AS BIGINT) FROM meta WHERE key = 'data_version'"]
)


def snapshot(db: Database) -> dict[str, int]:
    """Every table's row count and the data version: any write changes one of them."""
    with db.read() as cur:
        return dict(cur.execute(SNAPSHOT).fetchall())


def through_ingest(db: Database, data: bytes, name: str, kind: str) -> None:
    """The property every file must keep: a report, never an exception; a write only for a
    valid file, and then exactly its rows."""
    FUZZED[kind] += 1
    before = snapshot(db)
    result = ingest(
        db,
        PARTNER,
        data,
        name,
        uploaded_by="fuzz",
        acknowledge_warnings=True,
        accept=True,
        today=TODAY,
    )
    after = snapshot(db)
    if result.stored:
        assert result.report.valid
        stored_rows = after["records"] - before["records"]
        with db.read() as cur:
            assert (
                stored_rows
                == cur.execute(
                    "SELECT count(*) FROM records WHERE submission_id = ?", [result.submission_id]
                ).fetchone()[0]
            )
        FUZZED["stored (valid)"] += 1
        assert after["submissions"] == before["submissions"] + 1
    else:
        assert after == before, (result.reason, result.report.errors[:3])
        if result.reason == "invalid":
            assert result.report.errors


# --- structure-level garbage ------------------------------------------------------------------


def _valid_rows() -> list[list[object]]:
    return [
        ["period", "platform", "species_group", "country", "listings_removed", "notes"],
        ["2019-Q3", PLATFORM_NAMES[0], "elephants", "CHN", 10, "a note"],
        ["2019-07", PLATFORM_NAMES[1], "pangolins", "VNM", 3, ""],
    ]


BASES = {
    "base.xlsx": xlsx_bytes(_valid_rows()),
    "base.csv": csv_bytes(_valid_rows()),
}


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, at, value in edits:
        if not out:
            break
        at %= len(out)
        if kind == 0:
            out[at] = value  # overwrite a byte
        elif kind == 1:
            del out[at : at + value + 1]  # cut
        elif kind == 2:
            out[at:at] = bytes([value]) * (value % 7 + 1)  # insert
        else:
            out = out[: at + 1]  # truncate
    return bytes(out)


def _zip_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


MEMBER_NAMES = st.sampled_from(
    [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.xml",
        "xl/sharedStrings.xml",
        "../../etc/passwd",
        "xl/worksheets/sheet2.xml",
    ]
)
XMLISH = st.text(alphabet="<>/=\"' abcxrvt:1&;!-[]?", max_size=300).map(str.encode)
NAMES = st.sampled_from(["upload.xlsx", "upload.csv", "upload.txt", "upload", "UPLOAD.XLSX"])

garbage = st.one_of(
    st.tuples(st.just("random bytes"), st.binary(max_size=3000)),
    st.tuples(
        st.just("mutated file"),
        st.builds(
            _mutate,
            st.sampled_from(sorted(BASES.values())),
            st.lists(
                st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255)),
                min_size=1,
                max_size=6,
            ),
        ),
    ),
    st.tuples(
        st.just("zip of random members"),
        st.builds(
            _zip_of, st.lists(st.tuples(MEMBER_NAMES, st.binary(max_size=200) | XMLISH), max_size=6)
        ),
    ),
    st.tuples(
        st.just("random text"),
        st.builds(
            lambda text, enc: text.encode(enc, errors="replace"),
            st.text(max_size=1500),
            st.sampled_from(["utf-8", "utf-16", "gbk", "latin-1", "utf-8-sig"]),
        ),
    ),
)


@settings(SETTINGS, max_examples=examples(2500))
@given(case=garbage, name=NAMES)
def test_garbage_never_raises_and_never_writes(held: Database, case, name) -> None:
    kind, data = case
    through_ingest(held, data, name, kind)


# --- near-valid sheets ------------------------------------------------------------------------

HEADERS = {
    "period": ["period", "Period", "期间", "PERIOD ", "Reporting period"],
    "platform": ["platform", "Platform", "平台"],
    "species_group": ["species_group", "Species group", "物种类别", "species"],
    "country": ["country", "Country / territory", "国家/地区", "country code"],
    "taxon": ["taxon", "Scientific name"],
    "listings_removed": ["listings_removed", "Listings removed", "下架商品数"],
    "listings_blocked": ["listings_blocked", "Listings blocked"],
    "listings_detected": ["listings_detected"],
    "search_effort": ["search_effort"],
    "notes": ["notes", "Notes", "备注"],
}
odd_text = st.text(max_size=40)
VALUES = {
    "period": st.sampled_from(
        ["2019-07", "2019-Q3", "Q3 2019", "2019年7月", "2018-13", "2031-Q1", "2017-Q1", "Jul-19"]
    )
    | st.dates(dt.date(2017, 1, 1), dt.date(2021, 12, 31)).map(str)
    | odd_text
    | st.integers(-5, 50_000),
    "platform": st.sampled_from([*PLATFORM_NAMES, " market 0 ", "Market 1", "Nowhere"]) | odd_text,
    "species_group": st.sampled_from(
        ["elephants", "pangolins", "Elephants", "ivory", "穿山甲", "birds", "dragons"]
    )
    | odd_text,
    "country": st.sampled_from(["CHN", "VNM", "Viet Nam", "中国", "XXX", "", "GLOBAL"]) | odd_text,
    "taxon": st.sampled_from(["Manis javanica", "Loxodonta africana", ""]) | odd_text,
    "count": st.integers(-3, 10**13)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["1,234", "12.5", "-", "n/a", "", "1e3", "0x10", "１２"])
    | odd_text,
    "notes": odd_text,
}


def _value_strategy(key: str):
    return VALUES.get(key, VALUES["count"])


GOOD = {
    "period": ["2019-07", "2019-08", "2019-Q3", "Q4 2019", "2019年7月", "2018-Q2"],
    "platform": [*PLATFORM_NAMES, " market 0 "],
    "species_group": ["elephants", "pangolins", "Elephants", "穿山甲", "birds", "big_cats"],
    "country": ["CHN", "VNM", "Viet Nam", "中国", "", "USA"],
    "taxon": ["Manis javanica", "Loxodonta africana", ""],
    "notes": ["", "checked", 'said "no"; then yes'],
}


@st.composite
def near_valid(draw):
    """A sheet close to the template: the required columns (most of the time), some optional
    ones, in any order. Half the sheets hold good values only (and are often stored); the
    other half mix in wrong, odd and missing values and garbled headers."""
    clean = draw(st.booleans())
    required = {"period", "platform", "species_group"} if clean else {"period", "platform"}
    keys = draw(
        st.lists(st.sampled_from(sorted(HEADERS)), min_size=2, max_size=10, unique=True)
        .map(lambda ks: sorted(set(ks) | required, key=list(HEADERS).index))
        .flatmap(st.permutations)
    )
    if clean and not set(keys) & set(COUNT_KEYS):
        keys = [*keys, "listings_removed"]
    header = [draw(st.sampled_from(HEADERS[k])) for k in keys]
    if not clean and draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(odd_text)  # one header garbled
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        if clean:
            row = [
                draw(st.sampled_from(GOOD[k]))
                if k in GOOD
                else draw(st.integers(0, 10**6) | st.sampled_from(["1,234", ""]))
                for k in keys
            ]
        else:
            row = [draw(_value_strategy(k) | st.none()) for k in keys]
        rows.append(row)
    above = [] if clean else draw(st.lists(st.lists(odd_text, max_size=3), max_size=2))
    return [*above, header, *rows]


@settings(SETTINGS, max_examples=examples(800))
@given(
    rows=near_valid(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gbk"]),
)
def test_near_valid_csv_files(held: Database, rows, delimiter, encoding) -> None:
    data = csv_bytes(rows, delimiter=delimiter, encoding=encoding)
    through_ingest(held, data, "near.csv", "near-valid csv")


@settings(SETTINGS, max_examples=examples(500))
@given(rows=near_valid(), sheet=st.sampled_from(["Data", "数据", "Sheet1", "data "]))
def test_near_valid_workbooks(held: Database, rows, sheet) -> None:
    cleaned = [[_xml_safe(v) for v in row] for row in rows]
    through_ingest(held, xlsx_bytes(cleaned, sheet=sheet), "near.xlsx", "near-valid xlsx")


def _xml_safe(value: object) -> object:
    """A cell value a workbook can hold: no control characters, no NaN or infinity."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, str):
        return "".join(c for c in value if c.isprintable() or c in "\t\n")
    return value


# --- hostile text, stored and read back verbatim --------------------------------------------

HOSTILE = [
    "'; DROP TABLE records; --",
    'Robert"); DROP TABLE partners; --',
    "1; DELETE FROM submissions WHERE 1=1",
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "a;b;c; d",
    'it\'s "quoted" twice',
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "{name} %s %(x)s $x ${x}",
    "\\'; -- backslash",
    "$(rm -rf /) `id`",
    "象牙 🐘 «guillemets» — ünïcødé",
    "line one\nline two",
    "x" * 400,
]
# printable text a cell can hold (no control, private-use, unassigned or surrogate characters),
# with the characters of SQL and HTML injections over-represented
hostile_text = st.sampled_from(HOSTILE) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))
    | st.sampled_from("'\";<>-=+@%{}\\"),
    min_size=1,
    max_size=60,
).map(str.strip).filter(bool)
_serial = itertools.count()


def _read_back(db: Database, submission: int) -> dict:
    with db.read() as cur:
        sub = cur.execute("SELECT file_name FROM submissions WHERE id = ?", [submission]).fetchone()
        rows = cur.execute(
            "SELECT p.name, r.taxon, r.notes FROM records r "
            "JOIN platforms p ON p.id = r.platform_id WHERE r.submission_id = ? ORDER BY r.id",
            [submission],
        ).fetchall()
        partner = cur.execute(
            "SELECT pa.name FROM partners pa JOIN submissions s ON s.partner = pa.slug "
            "WHERE s.id = ?",
            [submission],
        ).fetchone()
    return {"file_name": sub[0], "rows": rows, "partner": partner[0]}


@settings(SETTINGS, max_examples=examples(100))
@given(
    notes=hostile_text,
    taxon=hostile_text.filter(lambda t: len(t) <= 500),
    file_stem=hostile_text.map(lambda t: t.replace("/", "∕")[:100]),
    partner_name=hostile_text,
    platform_name=hostile_text,
    as_workbook=st.booleans(),
)
def test_hostile_text_is_stored_and_read_back_verbatim(
    held: Database, notes, taxon, file_stem, partner_name, platform_name, as_workbook
) -> None:
    FUZZED["hostile text"] += 1
    slug = f"hostile-{next(_serial)}"
    platform = f"{platform_name} [{slug}]"  # names are unique: the slug makes them so
    with held.write() as cur:
        store.add_partner(cur, slug, f"{partner_name} [{slug}]", "other", dt.date(2018, 1, 1))
        store.add_platform(cur, slug, platform)
    rows = [
        ["period", "platform", "species_group", "taxon", "listings_removed", "notes"],
        ["2019-Q3", platform, "elephants", taxon, 5, notes],
    ]
    name = f"{file_stem}.{'xlsx' if as_workbook else 'csv'}"
    data = xlsx_bytes(rows) if as_workbook else csv_bytes(rows)
    result = ingest(held, slug, data, name, uploaded_by="fuzz", accept=True, today=TODAY)
    assert result.stored, result.report.errors[:3]
    back = _read_back(held, result.submission_id)
    assert back["file_name"] == name
    assert back["partner"] == f"{partner_name} [{slug}]"
    assert back["rows"] == [(platform, taxon.strip(), notes.strip())]
    with held.read() as cur:  # the SQL in the text never ran: every table is still there
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert set(TABLES) <= tables


def test_every_hostile_string_in_every_text_field(held: Database) -> None:
    """The fixed list, each string in every field at once, through the command line too."""
    for i, text in enumerate(HOSTILE):
        FUZZED["hostile text"] += 1
        slug = f"fixed-{i}"
        with held.write() as cur:
            store.add_partner(cur, slug, f"{text} {i}", "other", dt.date(2018, 1, 1))
            store.add_platform(cur, slug, f"{text} {i}")
        rows = [
            ["period", "platform", "species_group", "taxon", "listings_removed", "notes"],
            ["2019-Q3", f"{text} {i}", "elephants", text[:500], 5, text],
        ]
        result = ingest(
            held, slug, csv_bytes(rows), f"{text[:80]}.csv", uploaded_by=text, today=TODAY
        )
        assert result.stored, (text, result.report.errors[:3])
        back = _read_back(held, result.submission_id)
        assert back == {
            "file_name": f"{text[:80]}.csv",
            "rows": [(f"{text} {i}", text[:500], text)],
            "partner": f"{text} {i}",
        }
    with held.read() as cur:
        uploaded_by = {r[0] for r in cur.execute("SELECT uploaded_by FROM submissions").fetchall()}
    assert set(HOSTILE) <= uploaded_by


# --- the size limit ---------------------------------------------------------------------------


class Untouchable(bytes):
    """Bytes that fail the test if anything but their length is looked at."""

    def _read(self, *args, **kwargs):
        raise AssertionError("the content of an oversized upload was read")

    startswith = find = __getitem__ = __iter__ = decode = _read


def test_the_reader_refuses_an_oversized_upload_before_reading_it() -> None:
    data = Untouchable(b"PK\x03\x04" + bytes(reader.MAX_FILE_BYTES))
    for name in ("big.xlsx", "big.csv"):
        started = time.perf_counter()
        with pytest.raises(reader.ReadError) as refused:
            reader.read_upload(data, name)
        assert refused.value.code == "file_too_large"
        assert "limit is 20 MB" in refused.value.message
        assert time.perf_counter() - started < 1


def test_validation_refuses_an_oversized_upload_and_writes_nothing(held: Database) -> None:
    data = b"period,platform,species_group\r\n" + b" " * reader.MAX_FILE_BYTES
    before = snapshot(held)
    with held.read() as cur:
        report = validate(cur, PARTNER, data, "big.csv", today=TODAY).report
    assert [e.code for e in report.errors] == ["file_too_large"]
    result = ingest(held, PARTNER, data, "big.csv", uploaded_by="t", accept=True, today=TODAY)
    assert not result.stored and result.reason == "invalid"
    assert snapshot(held) == before


@pytest.mark.parametrize("command", ["ingest", "validate"])
def test_the_command_line_refuses_an_oversized_file_before_reading_it(
    partners_db: Database, tmp_path: Path, monkeypatch, command
) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:  # sparse: nothing is written, the size is what counts
        fh.truncate(reader.MAX_FILE_BYTES + 1)
    before = snapshot(partners_db)

    def no_reading(self, *args, **kwargs):
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    result = CliRunner().invoke(
        cli, [command, str(big), "--partner", PARTNER, "--db", str(partners_db.path)]
    )
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "the limit is 20 MB" in result.output
    assert snapshot(partners_db) == before


def test_the_app_upload_limit_is_the_reader_limit() -> None:
    config = (Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text()
    assert f"maxUploadSize = {reader.MAX_FILE_BYTES // 1_048_576}" in config
