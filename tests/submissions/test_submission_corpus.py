"""A corpus of upload files, each with the outcome it must get: run through ``validate`` (with a
fixed date) and through ``coalition ingest`` (which must store all of a file or nothing).

Every case names its expected problems as (spreadsheet row as Excel shows it, column key, code)
and, for a valid file, the normalised rows it loads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from coalition.validation import validate

PARTNER = "acme"
TODAY = dt.date(2020, 6, 15)  # as conftest.TODAY
M, R = "Acme Market", "Acme Resale"
SHORT = ("period", "platform", "species_group", "country", "listings_removed", "listings_blocked")
ZH = ("期间", "平台", "物种类别", "国家/地区", "下架商品数", "拦截商品数")
NORMALISED = (
    "platform",
    "period",
    "species_group",
    "country",
    "listings_removed",
    "listings_blocked",
)

# Chinese values in a file with Chinese headers, and what they normalise to
ZH_ROWS = [
    ("2019年第3季度", M, "象牙", "越南", 10, 20),
    ("2019年7月", R, "穿山甲", "中国香港", 5, None),
]
ZH_RECORDS = [
    (M, "2019-Q3", "elephants", "VNM", 10, 20),
    (R, "2019-07", "pangolins", "HKG", 5, None),
]


@dataclass(frozen=True)
class Case:
    """One file of the corpus and what validating it must give."""

    name: str
    build: Callable  # (files) -> (file name, bytes)
    errors: frozenset = frozenset()  # {(row, column, code)}
    warnings: frozenset = frozenset()
    rows: int | None = None
    skipped: dict = field(default_factory=dict)
    records: tuple = ()  # normalised rows, NORMALISED columns, in file order
    # the CLI validates against the real date: a case about "the future" only runs through
    # validate() with TODAY
    dated: bool = False


def _template_en(f):
    rows = [
        {
            "period": "2019-Q3",
            "platform": M,
            "species_group": "Elephants (ivory)",  # as the drop-down offers it
            "country": "Vietnam",
            "listings_removed": 120,
            "listings_blocked": 450,
            "search_effort": 200,
            "listings_detected": 8,
            "notes": "from the quarterly sweep",
        },
        {
            "period": "2019-Q3",
            "platform": R,
            "species_group": "Pangolins",
            "country": None,  # global
            "listings_removed": 0,
            "listings_blocked": 3,
        },
    ]
    return "acme-template.xlsx", f.filled_template(rows, "en")


def _template_zh(f):
    rows = [
        dict(zip(SHORT, r, strict=True))
        for r in [
            ("2019年第3季度", M, "大象（象牙）", "越南", 10, 20),
            ("2019年7月", R, "穿山甲", "中国香港", 5, None),
        ]
    ]
    return "模板.xlsx", f.filled_template(rows, "zh")


def _odd_headers(f):
    header = (
        "  PERIOD ",
        "Platform",
        "species_Group",
        "Country / Territory",
        "listings  REMOVED",
        "listings_blocked / Listings blocked",
    )
    return "odd.xlsx", f.xlsx([("2019-Q3", M, "ivory", "VNM", 1, 2)], header)


def _counts_as_text(f):
    rows = [
        ("2019-Q3", M, "ivory", "VNM", "1,234", "1 234"),
        ("2019-Q3", M, "pangolins", "VNM", 12.0, "12.0"),
        (dt.datetime(2019, 7, 15), M, "birds", "CHN", 7, None),  # an Excel date cell
        (dt.date(2019, 8, 1), M, "birds", "CHN", 3, 0),
    ]
    return "counts.xlsx", f.xlsx(rows)


GOOD_ROWS = [("2019-Q3", M, "ivory", "VNM", 10, 20), ("2019-Q3", R, "pangolins", "", 5, 1)]
GOOD_RECORDS = ((M, "2019-Q3", "elephants", "VNM", 10, 20), (R, "2019-Q3", "pangolins", None, 5, 1))


def _all_errors(f):
    # a title row above the header: every data row is one further down than its index
    rows = [
        ("2019-Q3", M, "ivory", "VNM", 10, 20),  # 3: fine
        ("2019-Q3", "Other Net", "ivory", "VNM", 1, 1),  # 4: another partner's platform
        ("2019-Q3", M, "elefants", "VNM", 1, 1),  # 5: unknown species, close to elephants
        ("2019-Q3", M, "pangolins", "Narnia", 1, 1),  # 6: unknown country
        ("sometime", M, "pangolins", "VNM", 1, 1),  # 7: not a period
        ("2021-Q1", M, "pangolins", "VNM", 1, 1),  # 8: after TODAY
        ("2017-Q4", M, "pangolins", "VNM", 1, 1),  # 9: before acme joined (2018-03)
        ("2019-Q3", M, "bears", "VNM", -1, 1),  # 10: negative
        ("2019-Q3", M, "big_cats", "VNM", 1.5, 1),  # 11: not whole
        ("2019-Q3", M, "birds", "VNM", "lots", 1),  # 12: not a number
        ("2019-Q3", M, "ivory", "VNM", 3, 4),  # 13: repeats row 3
        ("2019-07", M, "ivory", "VNM", 1, 1),  # 14: a month inside row 3's quarter
        ("2019-Q3", M, "corals", "VNM", None, None),  # 15: no counts
    ]
    return "errors.xlsx", f.xlsx(rows, above=[("acme — Q3 figures",)])


def _jumps_in_file(f):
    rows = [
        ("2019-07", M, "ivory", "VNM", 30, 5),
        ("2019-08", M, "ivory", "VNM", 400, 5),  # more than 10 times July
        ("2019-09", M, "ivory", "VNM", 30, 5),  # less than a tenth of August
        ("2019-10", M, "ivory", "VNM", 4, 5),  # 30 -> 4: not below a tenth
        ("2019-07", M, "pangolins", "VNM", 1, 5),
        ("2019-08", M, "pangolins", "VNM", 15, 5),  # 15 times, but under the noise floor of 20
    ]
    return "jumps.xlsx", f.xlsx(rows)


CASES = [
    # --- good files ---------------------------------------------------------------------
    Case(
        "template filled in English, example row left in",
        _template_en,
        rows=2,
        skipped={"example": 1},
        records=(
            (M, "2019-Q3", "elephants", "VNM", 120, 450),
            (R, "2019-Q3", "pangolins", None, 0, 3),
        ),
    ),
    Case(
        "template filled in Chinese",
        _template_zh,
        rows=2,
        skipped={"example": 1},
        records=tuple(ZH_RECORDS),
    ),
    Case(
        "plain workbook with Chinese headers and values",
        lambda f: ("中文.xlsx", f.xlsx(ZH_ROWS, ZH)),
        rows=2,
        records=tuple(ZH_RECORDS),
    ),
    Case(
        "CSV UTF-8 with BOM, Chinese",
        lambda f: ("bom.csv", f.csv(ZH_ROWS, ZH, bom=True)),
        rows=2,
        records=tuple(ZH_RECORDS),
    ),
    Case(
        "CSV UTF-8 without BOM",
        lambda f: ("plain.csv", f.csv(GOOD_ROWS)),
        rows=2,
        records=GOOD_RECORDS,
    ),
    Case(
        "CSV with semicolons",
        lambda f: ("semi.csv", f.csv(ZH_ROWS, ZH, delimiter=";")),
        rows=2,
        records=tuple(ZH_RECORDS),
    ),
    Case(
        "a comma CSV whose notes hold a quoted semicolon",
        lambda f: (
            "quoted.csv",
            f.csv([(*r, 'said "no"; then yes') for r in GOOD_ROWS], (*SHORT, "notes")),
        ),
        rows=2,
        records=GOOD_RECORDS,
    ),
    Case(
        "title rows above the header, blank rows between",
        lambda f: (
            "titled.xlsx",
            f.xlsx(
                [GOOD_ROWS[0], (None,) * 6, ("",) * 6, GOOD_ROWS[1], (None,) * 6],
                above=[("Acme Trade — submission",), ("prepared by T&S",), ()],
            ),
        ),
        rows=2,
        skipped={"blank": 2},  # the trailing empty row is not written at all
        records=GOOD_RECORDS,
    ),
    Case(
        "headers in odd case, spacing, underscores and key / label form",
        _odd_headers,
        rows=1,
        records=((M, "2019-Q3", "elephants", "VNM", 1, 2),),
    ),
    Case(
        "counts as text with separators, whole floats, Excel date cells as periods",
        _counts_as_text,
        rows=4,
        records=(
            (M, "2019-Q3", "elephants", "VNM", 1234, 1234),
            (M, "2019-Q3", "pangolins", "VNM", 12, 12),
            (M, "2019-07", "birds", "CHN", 7, None),
            (M, "2019-08", "birds", "CHN", 3, 0),
        ),
    ),
    Case(
        "a trailing totals row that adds up",
        lambda f: ("totals.xlsx", f.xlsx([*GOOD_ROWS, ("Total", None, None, None, 15, 21)])),
        rows=2,
        skipped={"totals": 1},
        records=GOOD_RECORDS,
    ),
    Case(
        "a trailing totals row that does not add up",
        lambda f: ("bad-totals.xlsx", f.xlsx([*GOOD_ROWS, ("合计", None, None, None, 15, 99)])),
        rows=2,
        skipped={"totals": 1},
        warnings=frozenset({(4, "listings_blocked", "totals_mismatch")}),
        records=GOOD_RECORDS,
    ),
    Case(
        "the example row left in a plain workbook",
        lambda f: (
            "example.xlsx",
            f.xlsx(
                [(*GOOD_ROWS[0], "EXAMPLE – delete"), (*GOOD_ROWS[1], None)],
                (*SHORT, "notes"),
            ),
        ),
        rows=1,
        skipped={"example": 1},
        records=GOOD_RECORDS[1:],
    ),
    Case(
        "an extra column the template does not have",
        lambda f: (
            "extra.xlsx",
            f.xlsx([(*r, "internal id 7") for r in GOOD_ROWS], (*SHORT, "Ticket")),
        ),
        rows=2,
        warnings=frozenset({(1, None, "column_unknown")}),
        records=GOOD_RECORDS,
    ),
    # --- errors -------------------------------------------------------------------------
    Case(
        "a required column missing",
        lambda f: (
            "no-species.xlsx",
            f.xlsx(
                [("2019-Q3", M, "VNM", 1)], ("period", "platform", "country", "listings_removed")
            ),
        ),
        errors=frozenset({(1, "species_group", "column_missing")}),
        rows=0,
    ),
    Case(
        "no count column",
        lambda f: ("no-counts.xlsx", f.xlsx([("2019-Q3", M, "ivory", "VNM")], SHORT[:4])),
        errors=frozenset({(1, None, "no_count_column")}),
        rows=0,
    ),
    Case(
        "every row error at once, rows numbered as Excel shows them",
        _all_errors,
        errors=frozenset(
            {
                (4, "platform", "platform_unknown"),
                (5, "species_group", "species_unknown"),
                (6, "country", "country_unknown"),
                (7, "period", "period_unparseable"),
                (8, "period", "period_future"),
                (9, "period", "period_before_membership"),
                (10, "listings_removed", "count_negative"),
                (11, "listings_removed", "count_not_whole"),
                (12, "listings_removed", "count_not_number"),
                (13, "period", "duplicate_row"),
                (14, "period", "overlapping_periods"),
                (15, None, "row_no_counts"),
            }
        ),
        rows=13,
        dated=True,
    ),
    # --- warnings -----------------------------------------------------------------------
    Case(
        "a tenfold jump and a fall to a tenth within the file",
        _jumps_in_file,
        warnings=frozenset({(3, "listings_removed", "jump"), (4, "listings_removed", "jump")}),
        rows=6,
        records=(
            (M, "2019-07", "elephants", "VNM", 30, 5),
            (M, "2019-08", "elephants", "VNM", 400, 5),
            (M, "2019-09", "elephants", "VNM", 30, 5),
            (M, "2019-10", "elephants", "VNM", 4, 5),
            (M, "2019-07", "pangolins", "VNM", 1, 5),
            (M, "2019-08", "pangolins", "VNM", 15, 5),
        ),
    ),
]


def _problems(items) -> set[tuple]:
    return {(p["row"], p["column"], p["code"]) for p in items}


def _records(frame) -> list[tuple]:
    rows = frame[list(NORMALISED)].astype(object).where(frame[list(NORMALISED)].notna(), None)
    return [tuple(r) for r in rows.itertuples(index=False, name=None)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate(case: Case, files, db):
    name, data = case.build(files)
    with db.read() as cur:
        validation = validate(cur, PARTNER, data, name, today=TODAY)
    report = validation.report
    assert _problems(report.as_dict()["errors"]) == case.errors
    assert _problems(report.as_dict()["warnings"]) == case.warnings
    assert report.valid == (not case.errors)
    if case.rows is not None:
        assert report.rows == case.rows
    assert report.skipped == case.skipped
    if not case.errors:
        assert _records(validation.records) == list(case.records)
    else:
        assert validation.records.empty


@pytest.mark.parametrize("case", [c for c in CASES if not c.dated], ids=lambda c: c.name)
def test_ingest_command(case: Case, files, run, counts):
    """``coalition ingest`` reports what validate() reports, and stores all or nothing:
    errors → exit 1, nothing; warnings → exit 1 and nothing until --yes; else stored."""
    name, data = case.build(files)
    before = counts(run.db)
    result = run.ingest(name, data, "--json")
    payload = json.loads(result.stdout)
    assert _problems(payload["errors"]) == case.errors
    assert _problems(payload["warnings"]) == case.warnings
    if case.errors or case.warnings:
        assert result.exit_code == 1
        assert payload["stored"] is False
        assert payload["reason"] == ("invalid" if case.errors else "warnings")
        assert counts(run.db) == before
    if case.warnings and not case.errors:
        result = run.ingest(name, data, "--yes")
        assert result.exit_code == 0, result.output
        assert "Stored as submission" in result.output
    if not case.errors:
        after = counts(run.db)
        assert after == {
            "files": before["files"] + 1,
            "submissions": before["submissions"] + 1,
            "records": before["records"] + len(case.records),
        }


def test_error_messages_say_how_to_fix(files, db):
    """The messages name what is allowed: the partner's platforms, the closest species."""
    name, data = _all_errors(files)
    with db.read() as cur:
        report = validate(cur, PARTNER, data, name, today=TODAY).report
    by_code = {p.code: p.message for p in report.errors}
    assert "Acme Market" in by_code["platform_unknown"]
    assert "Acme Resale" in by_code["platform_unknown"]
    assert "Other Net" not in by_code["platform_unknown"].split("(")[1]  # not offered
    assert "elephants" in by_code["species_unknown"]
    assert "'Narnia'" in by_code["country_unknown"]
    assert "2021-Q1" in by_code["period_future"]
    assert "2018-03" in by_code["period_before_membership"]
    assert "row 3" in by_code["duplicate_row"]
    assert "2019-Q3" in by_code["overlapping_periods"]
    # every problem is at a row a partner can find, in sheet order
    rows = [p.row for p in report.errors if p.code not in ("duplicate_row", "overlapping_periods")]
    assert rows == sorted(rows)


def test_cli_validate_writes_nothing_and_exits_by_validity(files, run, counts):
    before = counts(run.db)
    ok = run.validate("ok.csv", files.csv(GOOD_ROWS), "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["valid"] is True
    bad = run.validate("bad.xlsx", _all_errors(files)[1])
    assert bad.exit_code == 1
    assert "row 4, platform:" in bad.stdout
    assert "[platform_unknown]" in bad.stdout
    assert counts(run.db) == before
