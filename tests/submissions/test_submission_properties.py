"""Properties over random files built from strategies: any small workbook or CSV, however odd,
gets a report and never an exception, and an invalid one writes nothing; a valid one comes back
out of ``coalition export`` exactly as its normalised input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from coalition.cli import cli
from coalition.db import Database
from coalition.ingest import ingest
from coalition.validation import Report

PARTNER = "acme"
TODAY = dt.date(2020, 6, 15)
COUNTS = (
    "listings_removed",
    "listings_blocked",
    "accounts_actioned",
    "reports_received",
    "listings_detected",
    "search_effort",
)
LABELS = {
    "period": ("Period", "期间"),
    "platform": ("Platform", "平台"),
    "species_group": ("Species group", "物种类别"),
    "taxon": ("Scientific name", "学名"),
    "country": ("Country / territory", "国家/地区"),
    "listings_removed": ("Listings removed", "下架商品数"),
    "listings_blocked": ("Listings blocked", "拦截商品数"),
    "accounts_actioned": ("Accounts actioned", "处置账号数"),
    "reports_received": ("Reports received", "收到举报数"),
    "listings_detected": ("Listings detected in monitoring", "监测发现商品数"),
    "search_effort": ("Monitoring searches", "监测搜索次数"),
    "notes": ("Notes", "备注"),
}
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # the examples are cheap to find again; keep the repository clean
    derandomize=True,  # the same examples on every run, as the suite's other fixtures
)


# --- spellings and what they mean ----------------------------------------------------------

PERIODS = {  # months and quarters that never overlap one another
    "2018-Q3": ["2018-Q3", "2018Q3", "Q3 2018", "2018年第3季度", "2018年第三季度"],
    "2018-Q4": ["2018-Q4", "Q4 2018", "2018年Q4"],
    "2019-07": ["2019-07", "2019-7", "2019/07", "Jul 2019", "2019年7月", dt.datetime(2019, 7, 15)],
    "2019-08": ["2019-08", "Aug-19", "2019年8月", dt.date(2019, 8, 1)],
}
PLATFORMS = {
    "Acme Market": ["Acme Market", "acme market", " ACME  MARKET "],
    "Acme Resale": ["Acme Resale"],
}
SPECIES = {
    "elephants": ["elephants", "ivory", "象牙", "Elephants (ivory)", "Loxodonta africana"],
    "pangolins": ["pangolins", "穿山甲", "pangolin scales", "Manis javanica"],
    "big_cats": ["tiger", "老虎", "big cats"],
    "birds": ["birds", "parrots"],
}
COUNTRIES = {
    "VNM": ["VNM", "VN", "Viet Nam", "Vietnam", "越南"],
    "HKG": ["HKG", "中国香港", "Hong Kong SAR"],
    "CHN": ["CHN", "China", "中国"],
    None: ["", None, "global"],
}
HOSTILE_TEXT = [
    'say "hello"',
    "semi;colon;separated",
    "Robert'); DROP TABLE records;--",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "🐘🦏 象牙",
    "line\nbreak",
    "tab\there",
    "\u200b",
    "  ",
    "",
    "1,2,3",
    "NULL",
    "-0",
    "1e6",
    "1.234",
    "TOTAL",
    "EXAMPLE",
]


def _header_variants(key: str) -> list[str]:
    en, zh = LABELS[key]
    return [
        key,
        key.upper(),
        key.replace("_", " ").title(),
        f"  {en.upper()} ",
        en,
        zh,
        f"{key} / {en}",
        f"{key} / {zh}",
    ]


@st.composite
def headers(draw) -> tuple[list[str], list[str]]:
    """Keys in a random order (the required ones, at least one count, any others) and a
    spelling of each as a header cell."""
    extra = draw(st.lists(st.sampled_from([*COUNTS, "taxon", "notes"]), unique=True))
    keys = ["period", "platform", "species_group", "country", *extra]
    if not any(k in COUNTS for k in keys):
        keys.append(draw(st.sampled_from(COUNTS)))
    keys = draw(st.permutations(keys))
    cells = [draw(st.sampled_from(_header_variants(k))) for k in keys]
    return list(keys), cells


def _anything(key: str):
    pools = {
        "period": [s for spellings in PERIODS.values() for s in spellings] + ["2021-Q1", "2017-12"],
        "platform": [s for spellings in PLATFORMS.values() for s in spellings] + ["Other Net"],
        "species_group": [s for spellings in SPECIES.values() for s in spellings] + ["unicorn"],
        "country": [s for spellings in COUNTRIES.values() for s in spellings] + ["Atlantis"],
        "taxon": ["Manis javanica", "", None],
        "notes": ["", None, "checked"],
    }
    typed = pools.get(key, [0, 7, 12.0, 1234, "1,234", "1 234", "", None, -3, 2.5])
    return st.one_of(
        st.sampled_from(typed),
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=12),
        st.integers(-10, 10**13),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
    )


@st.composite
def any_file(draw) -> tuple[str, list[str], list[list]]:
    """(kind, header, rows) of a small file with anything in its cells."""
    keys, header = draw(headers())
    rows = draw(st.lists(st.tuples(*[_anything(k) for k in keys]).map(list), max_size=8))
    # sometimes an empty row among the others
    if draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), [None] * len(keys))
    kind = draw(st.sampled_from(KINDS))
    return kind, header, rows


@st.composite
def valid_file(draw) -> tuple[str, list[str], list[list], list[dict]]:
    """(kind, header, rows, expected export rows) of a file that is valid for acme."""
    extra = draw(st.lists(st.sampled_from([*COUNTS, "taxon", "notes"]), unique=True, min_size=1))
    if not any(k in COUNTS for k in extra):
        extra.append(draw(st.sampled_from(COUNTS)))
    keys = draw(st.permutations(["period", "platform", "species_group", "country", *extra]))
    header = [draw(st.sampled_from(_header_variants(k))) for k in keys]
    kind = draw(st.sampled_from(KINDS))
    grid = draw(
        st.lists(
            st.tuples(
                st.sampled_from(sorted(PLATFORMS)),
                st.sampled_from(sorted(PERIODS)),
                st.sampled_from(sorted(SPECIES)),
                st.sampled_from(["VNM", "HKG", "CHN", None]),
            ),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    rows, expected = [], []
    for platform, period, species, country in grid:
        counts = {k: draw(st.none() | st.integers(0, 2_000_000)) for k in COUNTS if k in keys}
        if all(v is None for v in counts.values()):
            counts[next(k for k in keys if k in COUNTS)] = draw(st.integers(0, 2_000_000))
        meaning = {
            "period": draw(st.sampled_from(PERIODS[period])),
            "platform": draw(st.sampled_from(PLATFORMS[platform])),
            "species_group": draw(st.sampled_from(SPECIES[species])),
            "country": draw(st.sampled_from(COUNTRIES[country])),
            "taxon": draw(st.sampled_from(["", None, "Manis javanica"])),
            "notes": draw(st.sampled_from(["", None, "checked twice", '"quoted"; and more'])),
        }
        for key, number in counts.items():
            meaning[key] = None if number is None else draw(_count_spelling(number, kind))
        rows.append([meaning[k] for k in keys])
        expected.append(
            {
                "partner": PARTNER,
                "platform": platform,
                "period": period,
                "species_group": species,
                "country": country or "",
                **{k: "" if counts.get(k) is None else str(counts[k]) for k in COUNTS},
                "status": "accepted",
            }
        )
    return kind, header, rows, expected


def _count_spelling(number: int, kind: str):
    texts = [str(number), f"{number:,}", f"{number:,}".replace(",", " "), f"{number}.0"]
    if kind == "xlsx":
        return st.sampled_from([number, float(number), *texts])
    return st.sampled_from(texts)


KINDS = ("xlsx", "csv", "csv-bom", "csv-semicolon")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _build(files, kind: str, header: list[str], rows: list[list]) -> tuple[str, bytes]:
    if kind == "xlsx":
        clean = [[_printable(v) for v in row] for row in rows]
        return "random.xlsx", files.xlsx(clean, header, formulas_as_text=True)
    text_rows = [[_cell_text(v) for v in row] for row in rows]
    return "random.csv", files.csv(
        text_rows, header, bom=kind == "csv-bom", delimiter=";" if kind == "csv-semicolon" else ","
    )


def _printable(value: object) -> object:
    # characters a workbook cannot hold at all (openpyxl refuses them, as Excel would)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@pytest.fixture
def fresh_db(partner_db_file: Path):
    """A factory of fresh copies of the partner database (one per hypothesis example)."""
    folder = Path(tempfile.mkdtemp(prefix="props-"))
    made = iter(range(10**6))

    def make() -> Database:
        path = folder / f"db{next(made)}.duckdb"
        shutil.copyfile(partner_db_file, path)
        return Database(path)

    yield make
    shutil.rmtree(folder, ignore_errors=True)


@settings(SETTINGS, max_examples=30)
@given(example=any_file())
def test_any_file_gets_a_report_and_an_invalid_one_writes_nothing(example, files, db, counts):
    kind, header, rows = example
    name, data = _build(files, kind, header, rows)
    before = counts(db)
    # ingest validates first (the same validate() as the CLI's 'validate'), then stores
    result = ingest(db, PARTNER, data, name, uploaded_by="prop", accept=True, today=TODAY)
    after = counts(db)
    report = result.report
    assert isinstance(report, Report)
    assert report.valid == (not report.errors)
    assert all(isinstance(p.message, str) and p.message for p in report.errors + report.warnings)
    assert all(p.row is None or p.row >= 1 for p in report.errors + report.warnings)
    if not report.valid:
        assert not result.stored and result.reason == "invalid"
        assert after == before
    elif result.stored:
        assert after["records"] == before["records"] + report.rows
        assert after["submissions"] == before["submissions"] + 1
    else:
        assert result.reason == "duplicate" and after == before


@settings(SETTINGS, max_examples=12)
@given(example=valid_file())
def test_a_valid_file_comes_back_out_of_export_as_its_normalised_input(
    example, files, fresh_db, tmp_path
):
    kind, header, rows, expected = example
    name, data = _build(files, kind, header, rows)
    db = fresh_db()
    path = tmp_path / name
    path.write_bytes(data)
    runner = CliRunner()
    loaded = runner.invoke(
        cli, ["ingest", str(path), "--partner", PARTNER, "--accept", "--db", str(db.path)]
    )
    assert loaded.exit_code == 0, loaded.output
    exported = runner.invoke(cli, ["export", "--db", str(db.path)])
    assert exported.exit_code == 0, exported.output
    got = list(csv.DictReader(io.StringIO(exported.stdout)))
    key = lambda r: (r["platform"], r["period"], r["species_group"], r["country"])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
