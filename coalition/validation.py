"""Validating an upload: every problem of a file at once, blocking errors kept apart from
warnings, each with the spreadsheet row, the column key, a code and a message that says how to
fix it. Validation writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from coalition.columns import COUNT_KEYS, REQUIRED, TOTAL_WORDS, by_key, is_example
from coalition.normalise import (
    CountryResolver,
    ParseError,
    SpeciesResolver,
    clean_text,
    parse_count,
    parse_period,
)
from coalition.reader import ReadError, Sheet, column_letter, read_upload
from coalition.reference import fold
from coalition.store import RECORD_COLUMNS

MAX_PROBLEMS = 5_000
JUMP_FACTOR = 10
JUMP_MINIMUM = 20  # below this, a tenfold change is noise (2 → 25), not a warning


@dataclass(frozen=True)
class Problem:
    """One problem: where (spreadsheet row, column key), what (code), and how to fix it."""

    row: int | None
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class Report:
    """The outcome of validating one file (frictionless-style: a typed report, not strings)."""

    file_name: str
    sha256: str
    rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    skipped: dict[str, int] = field(default_factory=dict)  # blank / example / totals rows
    truncated: int = 0  # problems beyond MAX_PROBLEMS, counted but not listed

    @property
    def valid(self) -> bool:
        return not self.errors

    def error(self, row: int | None, column: str | None, code: str, message: str) -> None:
        self._add(self.errors, Problem(row, column, code, message))

    def warn(self, row: int | None, column: str | None, code: str, message: str) -> None:
        self._add(self.warnings, Problem(row, column, code, message))

    def _add(self, bucket: list[Problem], problem: Problem) -> None:
        if len(self.errors) + len(self.warnings) >= MAX_PROBLEMS:
            self.truncated += 1
        else:
            bucket.append(problem)

    def as_dict(self) -> dict:
        """The shape of ``coalition validate --json``."""
        return {
            "valid": self.valid,
            "rows": self.rows,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }

    def flatten(self) -> pd.DataFrame:
        """All problems as one table: severity, row, column, code, message."""
        rows = [("error", *p.as_dict().values()) for p in self.errors]
        rows += [("warning", *p.as_dict().values()) for p in self.warnings]
        frame = pd.DataFrame(rows, columns=["severity", "row", "column", "code", "message"])
        frame["row"] = frame["row"].astype("Int64")
        return frame


@dataclass
class Validation:
    report: Report
    records: pd.DataFrame  # normalised rows (RECORD_COLUMNS + 'row'), empty when invalid


def validate(
    cur: duckdb.DuckDBPyConnection,
    partner: str,
    data: bytes,
    file_name: str,
    *,
    today: dt.date | None = None,
) -> Validation:
    """Read and check an upload for ``partner``; nothing is written."""
    report = Report(file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    empty = pd.DataFrame(columns=[*RECORD_COLUMNS, "row"])
    found = cur.execute("SELECT name, joined FROM partners WHERE slug = ?", [partner]).fetchone()
    if found is None:
        known = [r[0] for r in cur.execute("SELECT slug FROM partners ORDER BY slug").fetchall()]
        report.error(
            None,
            None,
            "partner_unknown",
            f"There is no partner '{partner}'. Known partners: "
            f"{', '.join(known) or 'none yet'}; add it with 'coalition partner add'.",
        )
        return Validation(report, empty)
    try:
        sheet = read_upload(data, file_name)
    except ReadError as exc:
        report.error(None, None, exc.code, exc.message)
        return Validation(report, empty)
    report.sheet, report.header_row = sheet.name, sheet.header_row
    _check_header(sheet, report)
    if not report.valid:
        return Validation(report, empty)
    checker = _RowChecker(cur, partner, found[1], sheet, report, today or dt.date.today())
    records = checker.run()
    # the rows that parsed are checked further even when others did not: every problem at once
    if len(records):
        _duplicates(records, report)
        _warn_supersede(cur, partner, records, report)
        _warn_jumps(cur, partner, records, report)
    return Validation(report, records if report.valid else empty)


def _check_header(sheet: Sheet, report: Report) -> None:
    labels = by_key()
    where = f"row {sheet.header_row}"
    for key in REQUIRED:
        if key not in sheet.columns:
            report.error(
                sheet.header_row,
                key,
                "column_missing",
                f"The header ({where}) has no '{key}' column ('{labels[key].label_en}' / "
                f"'{labels[key].label_zh}'). Add it, or copy the data into the template.",
            )
    if not any(key in sheet.columns for key in COUNT_KEYS):
        report.error(
            sheet.header_row,
            None,
            "no_count_column",
            f"The header ({where}) has no count column: add at least one of "
            f"{', '.join(COUNT_KEYS)}.",
        )
    for index, key in sheet.duplicate_headers:
        report.error(
            sheet.header_row,
            key,
            "column_duplicate",
            f"Column {column_letter(index)} repeats the '{key}' column. Keep one of "
            "them and delete or rename the other.",
        )
    for index, text in sheet.unknown_headers:
        report.warn(
            sheet.header_row,
            None,
            "column_unknown",
            f"Column {column_letter(index)} ('{text}') is not a template column and "
            "will be ignored.",
        )


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


class _RowChecker:
    """Checks and normalises the rows, remembering each distinct value's outcome (a file of
    200,000 rows has only a few dozen distinct periods, platforms, species and countries)."""

    def __init__(
        self, cur, partner: str, joined: dt.date, sheet: Sheet, report: Report, today: dt.date
    ) -> None:
        self.sheet, self.report, self.today, self.joined = sheet, report, today, joined
        names = [
            r[0]
            for r in cur.execute(
                "SELECT name FROM platforms WHERE partner = ? ORDER BY name", [partner]
            ).fetchall()
        ]
        self.platforms = {fold(n): n for n in names}
        self.platform_list = ", ".join(names) or "none registered"
        self.species = SpeciesResolver.from_db(cur)
        self.countries = CountryResolver.from_db(cur)
        self.memo: dict[str, dict[object, tuple[object, ParseError | None]]] = {
            "period": {},
            "platform": {},
            "species_group": {},
            "country": {},
            "taxon": {},
        }

    def _memo(self, key: str, value: object, parse) -> tuple[object, ParseError | None]:
        table = self.memo[key]
        # True, 1 and 1.0 are one dict key; their outcomes may differ
        hashable = (type(value), value if not isinstance(value, list) else str(value))
        if hashable in table:
            return table[hashable]
        try:
            outcome = (parse(value), None)
        except ParseError as exc:
            outcome = (None, exc)
        table[hashable] = outcome
        return outcome

    def _platform(self, value: object) -> str:
        if _is_blank(value):
            raise ParseError(
                "platform_missing",
                f"The platform is empty: choose one of yours ({self.platform_list}).",
            )
        name = self.platforms.get(fold(value))
        if name is None:
            raise ParseError(
                "platform_unknown",
                f"'{value}' is not one of your registered platforms "
                f"({self.platform_list}). Use one of these names, or ask the "
                "secretariat to register the platform.",
            )
        return name

    def _period(self, value: object) -> str:
        period = parse_period(value)
        first = dt.date(int(period[:4]), 1, 1)
        if "Q" in period:
            q = int(period[-1])
            start = dt.date(first.year, 3 * q - 2, 1)
            end_month = 3 * q
        else:
            start = dt.date(first.year, int(period[5:7]), 1)
            end_month = start.month
        end = (pd.Timestamp(first.year, end_month, 1) + pd.offsets.MonthEnd(0)).date()
        if start > self.today:
            raise ParseError(
                "period_future",
                f"{period} is in the future. Check the year and the month or "
                "quarter; figures can be sent once a period has begun.",
            )
        if end < self.joined:
            raise ParseError(
                "period_before_membership",
                f"{period} is before the partner joined the coalition "
                f"({self.joined:%Y-%m}). Remove the row, or ask the secretariat to "
                "correct the joining date.",
            )
        return period

    def run(self) -> pd.DataFrame:
        sheet, report = self.sheet, self.report
        cols = sheet.columns
        merged_rows = _merged_data_rows(sheet)
        out: dict[str, list] = {c: [] for c in (*RECORD_COLUMNS, "row")}
        rows = sheet.rows
        last = max(
            (i for i, (_, cells) in enumerate(rows) if not all(_is_blank(c) for c in cells)),
            default=-1,
        )
        totals_row: tuple[int, list] | None = None
        formula_rows = {row for row, _ in sheet.formula_cells}
        for index, (number, cells) in enumerate(rows):
            if number not in formula_rows and all(_is_blank(c) for c in cells):
                report.skipped["blank"] = report.skipped.get("blank", 0) + 1
                continue

            def cell(key: str, cells=cells) -> object:
                position = cols.get(key)
                return cells[position] if position is not None and position < len(cells) else None

            notes = cell("notes")
            if is_example(notes):
                report.skipped["example"] = report.skipped.get("example", 0) + 1
                continue
            if index == last and _is_totals(cells):
                totals_row = (number, cells)
                report.skipped["totals"] = report.skipped.get("totals", 0) + 1
                continue
            report.rows += 1
            if number in merged_rows:
                report.error(
                    number,
                    None,
                    "merged_cells",
                    f"Row {number} has merged cells ({merged_rows[number]}). Unmerge "
                    "them and fill in every cell of the row.",
                )
            values = self._row(number, cell)
            if values is not None:
                for key, value in values.items():
                    out[key].append(value)
                out["row"].append(number)
        # a formula whose value was never calculated reads as empty, even beyond the last row
        seen = {number for number, _ in rows}
        for number, position in sorted(sheet.formula_cells):
            if number > sheet.header_row and number not in seen:
                key = next((k for k, p in cols.items() if p == position), None)
                report.error(
                    number,
                    key,
                    "count_formula",
                    f"{column_letter(position)}{number} holds a formula. Type the number "
                    "itself (copy the cell, then Paste Special › Values).",
                )
        frame = pd.DataFrame(out)
        for key in COUNT_KEYS:
            frame[key] = pd.array(frame[key], dtype="Int64")
        if totals_row is not None:
            _check_totals(totals_row, cols, frame, report)
        if report.rows == 0 and report.valid:
            report.error(
                None,
                None,
                "no_rows",
                "The data sheet has a header but no rows of figures. Fill in at least "
                "one row below the header (the example row is ignored).",
            )
        return frame

    def _row(self, number: int, cell) -> dict | None:
        report, ok = self.report, True
        values: dict[str, object] = {}
        for key, parse in (
            ("period", self._period),
            ("platform", self._platform),
            ("country", self.countries.resolve),
        ):
            values[key], problem = self._memo(key, cell(key), parse)
            if problem:
                report.error(number, key, problem.code, problem.message)
                ok = False
        taxon, problem = self._memo("taxon", cell("taxon"), clean_text)
        if problem:
            report.error(number, "taxon", problem.code, problem.message)
            ok = False
        values["taxon"] = taxon
        raw_species = cell("species_group")
        if _is_blank(raw_species) and taxon:
            raw_species = taxon  # a scientific name alone names its group
        values["species_group"], problem = self._memo(
            "species_group", raw_species, self.species.resolve
        )
        if problem:
            report.error(number, "species_group", problem.code, problem.message)
            ok = False
        try:
            values["notes"] = clean_text(cell("notes"), max_length=2000)
        except ParseError as exc:
            report.error(number, "notes", exc.code, exc.message)
            ok = False
        counted = False
        for key in COUNT_KEYS:
            raw = cell(key)
            position = self.sheet.columns.get(key)
            if position is not None and (number, position) in self.sheet.formula_cells:
                report.error(
                    number,
                    key,
                    "count_formula",
                    f"{column_letter(position)}{number} holds a formula. Type the number "
                    "itself (copy the cell, then Paste Special › Values).",
                )
                ok = False
                continue
            kind = type(raw)
            if kind is int and raw >= 0:
                value = raw
            elif kind is float and raw >= 0 and raw.is_integer() and raw < 1e12:
                value = int(raw)
            else:
                try:
                    value = parse_count(raw)
                except ParseError as exc:
                    report.error(number, key, exc.code, exc.message)
                    ok = False
                    continue
            values[key] = value
            counted = counted or value is not None
        if ok and not counted:
            report.error(
                number,
                None,
                "row_no_counts",
                f"Row {number} has no figures: fill in at least one count (0 means none; "
                "blank means not reported), or delete the row.",
            )
            ok = False
        return values if ok else None


def _merged_data_rows(sheet: Sheet) -> dict[int, str]:
    rows: dict[int, str] = {}
    for (r0, c0), (r1, c1) in sheet.merged_ranges:
        first, last = r0 + 1, r1 + 1  # calamine counts from 0
        if last <= sheet.header_row:
            continue
        label = f"{column_letter(c0)}{first}:{column_letter(c1)}{last}"
        for number in range(max(first, sheet.header_row + 1), last + 1):
            rows.setdefault(number, label)
    return rows


def _is_totals(cells: list) -> bool:
    for c in cells:
        if isinstance(c, str) and c.strip():
            return fold(c).rstrip(":：") in TOTAL_WORDS
    return False


def _check_totals(totals_row, cols: dict[str, int], frame: pd.DataFrame, report: Report) -> None:
    number, cells = totals_row
    for key in COUNT_KEYS:
        position = cols.get(key)
        if position is None or position >= len(cells) or _is_blank(cells[position]):
            continue
        try:
            stated = parse_count(cells[position])
        except ParseError:
            continue
        actual = int(frame[key].sum()) if len(frame) else 0
        if stated != actual:
            report.warn(
                number,
                key,
                "totals_mismatch",
                f"The totals row says {stated:,} but the rows above add up to {actual:,}. "
                "Check the figures; the totals row itself is not stored.",
            )


def _duplicates(records: pd.DataFrame, report: Report) -> None:
    key = ["platform", "period", "species_group", "country"]
    keyed = records.assign(country=records["country"].fillna(""))
    first_rows: dict[tuple, int] = {}
    for values, number in zip(
        keyed[key].itertuples(index=False, name=None), keyed["row"], strict=True
    ):
        if values in first_rows:
            report.error(
                number,
                "period",
                "duplicate_row",
                f"Row {number} repeats row {first_rows[values]} (same platform, period, "
                "species group and country). Add the figures together into one row, or "
                "delete one of them.",
            )
        else:
            first_rows[values] = number
    months = keyed[~keyed["period"].str.contains("Q")]
    quarters = keyed[keyed["period"].str.contains("Q")]
    if len(months) and len(quarters):
        months = months.assign(
            quarter=months["period"].str[:4]
            + "-Q"
            + ((months["period"].str[5:7].astype(int) - 1) // 3 + 1).astype(str)
        )
        clash = months.merge(
            quarters, left_on=[*key[:1], "quarter", *key[2:]], right_on=key, suffixes=("", "_q")
        )
        for r in clash.itertuples():
            report.error(
                r.row,
                "period",
                "overlapping_periods",
                f"Row {r.row} gives {r.period} and row {r.row_q} gives {r.period_q} for "
                "the same platform, species group and country: the quarter already "
                "includes the month. Send either months or the quarter.",
            )


SUBMITTED_PAIRS = """
SELECT DISTINCT n.platform, n.period, min(n.row) OVER (PARTITION BY n.platform, n.period) AS row,
       f.period AS stored_period
FROM file_pairs AS n
JOIN periods AS np ON np.period = n.period
JOIN facts AS f ON f.platform = n.platform AND f.partner = $partner
 AND f.status IN ('accepted', 'submitted')
 AND f.start_date <= np.end_date AND np.start_date <= f.end_date
ORDER BY row
"""


def _warn_supersede(cur, partner: str, records: pd.DataFrame, report: Report) -> None:
    pairs = records.groupby(["platform", "period"], as_index=False)["row"].min()
    cur.register("file_pairs", pairs)
    try:
        found = cur.execute(SUBMITTED_PAIRS, {"partner": partner}).fetchall()
    finally:
        cur.unregister("file_pairs")
    seen = set()
    for platform, period, row, stored in found:
        if (platform, period) in seen:
            continue
        seen.add((platform, period))
        report.warn(
            int(row),
            "period",
            "period_already_submitted",
            f"{platform} already has figures for {stored}. This file will supersede "
            "them once accepted (the old figures stay in the history).",
        )


PREVIOUS_VALUES = """
SELECT platform, period, species_group, coalesce(country, '') AS country,
       sum(listings_removed) AS listings_removed, sum(listings_blocked) AS listings_blocked,
       sum(accounts_actioned) AS accounts_actioned, sum(reports_received) AS reports_received,
       sum(listings_detected) AS listings_detected, sum(search_effort) AS search_effort
FROM facts
WHERE partner = $partner AND status IN ('accepted', 'submitted')
  AND list_contains($periods, period)
GROUP BY ALL
"""


def previous_period(period: str) -> str:
    year = int(period[:4])
    if "Q" in period:
        q = int(period[-1])
        return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"
    month = int(period[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _warn_jumps(cur, partner: str, records: pd.DataFrame, report: Report) -> None:
    key = ["platform", "period", "species_group", "country"]
    current = records.assign(country=records["country"].fillna(""))
    current["previous"] = current["period"].map(
        {p: previous_period(p) for p in current["period"].unique()}
    )
    stored = cur.execute(
        PREVIOUS_VALUES, {"partner": partner, "periods": sorted(set(current["previous"]))}
    ).df()
    # the file's own figures for the previous period take precedence over stored ones
    earlier = pd.concat([current[key + list(COUNT_KEYS)], stored], ignore_index=True)
    earlier = earlier.drop_duplicates(subset=key, keep="first")
    joined = current.merge(
        earlier,
        left_on=["platform", "previous", "species_group", "country"],
        right_on=key,
        suffixes=("", "_before"),
    )
    for key_name in COUNT_KEYS:
        now = joined[key_name].astype("Float64")
        before = joined[f"{key_name}_before"].astype("Float64")
        big = now.combine(before, max) >= JUMP_MINIMUM
        jump = big & ((now > JUMP_FACTOR * before) | (now * JUMP_FACTOR < before))
        for r in joined[jump.fillna(False)].itertuples():
            value, prior = getattr(r, key_name), getattr(r, f"{key_name}_before")
            direction = "more than 10 times" if value > prior else "less than a tenth of"
            report.warn(
                r.row,
                key_name,
                "jump",
                f"{key_name} is {int(value):,}, {direction} the {int(prior):,} of "
                f"{r.previous} for the same platform, species group and country. Check "
                "the figure; if it is right, acknowledge the warning.",
            )
