"""Validating an upload: every problem of a file at once, blocking errors kept apart from
warnings, each with the spreadsheet row, the column key, a code and a message that says how to
fix it. Validation writes nothing.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Number
from operator import itemgetter

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from coalition.columns import COUNT_KEYS, REQUIRED, TOTAL_WORDS, by_key, is_example
from coalition.i18n import N_, format_count, t
from coalition.normalise import (
    MAX_COUNT,
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
            t(
                "There is no partner '{partner}'. Known partners: {known}; add it with "
                "'coalition partner add'.",
                partner=partner,
                known=", ".join(known) or t("none yet"),
            ),
        )
        return Validation(report, empty)
    with _collector_paused():
        # the sheet's hundreds of thousands of lists are freed when _read_and_check returns,
        # before the collector runs again: it would otherwise walk them all once (0.1 s)
        records = _read_and_check(cur, partner, found[1], data, file_name, report, today)
    return Validation(report, records if records is not None and report.valid else empty)


def _read_and_check(
    cur: duckdb.DuckDBPyConnection,
    partner: str,
    joined: dt.date,
    data: bytes,
    file_name: str,
    report: Report,
    today: dt.date | None,
) -> pd.DataFrame | None:
    """Read the upload and check its rows into ``report``; the normalised rows, or None when
    the file could not be read or its header is wrong."""
    try:
        sheet = read_upload(data, file_name)
    except ReadError as exc:
        report.error(None, None, exc.code, exc.message)
        return None
    report.sheet, report.header_row = sheet.name, sheet.header_row
    _check_header(sheet, report)
    if not report.valid:
        return None
    records = _RowChecker(cur, partner, joined, sheet, report, today or dt.date.today()).run()
    # the rows that parsed are checked further even when others did not: every problem at once
    if len(records):
        _duplicates(records, report)
        _warn_supersede(cur, partner, records, report)
        _warn_jumps(cur, partner, records, report)
    return records


_collector = {"pauses": 0, "was_enabled": True}
_collector_lock = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an upload is read and checked.

    A 200,000-row sheet is hundreds of thousands of lists and tuples; every few thousand new
    ones the collector walks all of them again, which took a third of the validation time.
    They hold no reference cycles, so reference counting frees them as usual; cycles made by
    other threads meanwhile are collected once the last validation running ends.
    """
    with _collector_lock:
        if _collector["pauses"] == 0:
            _collector["was_enabled"] = gc.isenabled()
            gc.disable()
        _collector["pauses"] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector["pauses"] -= 1
            if _collector["pauses"] == 0 and _collector["was_enabled"]:
                gc.enable()


def _check_header(sheet: Sheet, report: Report) -> None:
    labels = by_key()
    where = t("row {n}", n=sheet.header_row)
    for key in REQUIRED:
        if key not in sheet.columns:
            report.error(
                sheet.header_row,
                key,
                "column_missing",
                t(
                    "The header ({where}) has no '{key}' column ('{en}' / '{zh}'). Add it, "
                    "or copy the data into the template.",
                    where=where,
                    key=key,
                    en=labels[key].label_en,
                    zh=labels[key].label_zh,
                ),
            )
    if not any(key in sheet.columns for key in COUNT_KEYS):
        report.error(
            sheet.header_row,
            None,
            "no_count_column",
            t(
                "The header ({where}) has no count column: add at least one of {keys}.",
                where=where,
                keys=", ".join(COUNT_KEYS),
            ),
        )
    for index, key in sheet.duplicate_headers:
        report.error(
            sheet.header_row,
            key,
            "column_duplicate",
            t(
                "Column {column} repeats the '{key}' column. Keep one of them and delete or "
                "rename the other.",
                column=column_letter(index),
                key=key,
            ),
        )
    for index, text in sheet.unknown_headers:
        report.warn(
            sheet.header_row,
            None,
            "column_unknown",
            t(
                "Column {column} ('{text}') is not a template column and will be ignored.",
                column=column_letter(index),
                text=text,
            ),
        )


# What the species and country resolvers are built from, as read from the database. Building
# them folds every spelling and derives a looser table (a tenth of a second or more), so they
# are kept between validations, keyed by these rows themselves — read afresh every time, in the
# caller's transaction. Any change to the reference tables (a new synonym, a renamed country,
# another database, a restored backup) is a different key and so a new resolver; nothing else
# can make a kept resolver stale, as the files they also read (data/*.csv, pycountry's names)
# ship with the tracker and do not change while it runs.
REFERENCE_ROWS = (
    "SELECT slug, name_en, sort_order FROM species_groups ORDER BY sort_order, slug",
    "SELECT synonym, species_group, kind FROM species_synonyms ORDER BY synonym",
    "SELECT iso3, iso2, m49, name_en, name_zh FROM countries ORDER BY iso3",
)
RESOLVERS_KEPT = 4  # a few databases at once (tests, a restore beside the live one)
_resolvers: OrderedDict[tuple, tuple[SpeciesResolver, CountryResolver]] = OrderedDict()
_resolvers_lock = threading.Lock()


def resolvers(cur: duckdb.DuckDBPyConnection) -> tuple[SpeciesResolver, CountryResolver]:
    """The species and country resolvers for the reference tables as ``cur`` sees them: built
    once per content of those tables, then reused (they only read their tables)."""
    key = tuple(tuple(cur.execute(sql).fetchall()) for sql in REFERENCE_ROWS)
    with _resolvers_lock:
        found = _resolvers.get(key)
        if found is not None:
            _resolvers.move_to_end(key)
            return found
    built = (SpeciesResolver.from_db(cur), CountryResolver.from_db(cur))
    with _resolvers_lock:
        _resolvers[key] = built
        while len(_resolvers) > RESOLVERS_KEPT:
            _resolvers.popitem(last=False)
    return built


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
        self.species, self.countries = resolvers(cur)
        self.memo: dict[str, dict[object, tuple[object, ParseError | None]]] = {
            "period": {},
            "platform": {},
            "species_group": {},
            "country": {},
            "taxon": {},
            "notes": {},
        }

    def _column(self, key: str, raw: list, parse) -> tuple[list, dict[int, ParseError]]:
        """Parse a whole column, each distinct value once. Returns the values (None where a
        cell failed) and the errors by position."""
        table = self.memo[key]  # (type, value) -> (parsed, error): True, 1 and 1.0 differ
        distinct: dict | None = None  # key -> a cell with that key
        try:
            keys = dict.fromkeys(raw)
        except TypeError:  # an unhashable cell value
            cells = [(type(v), str(v)) for v in raw]
        else:
            # values of different types are equal only if they are numbers: without a number
            # among the distinct values (text, dates) there is none among the cells
            if not any(isinstance(v, Number) for v in keys):
                cells = raw
                distinct = {v: v for v in keys}
            elif len(set(map(type, raw)) & {bool, int, float}) <= 1:
                cells = raw  # no two cells are equal with different types: the value is the key
            else:
                cells = list(zip(map(type, raw), raw, strict=True))
        if distinct is None:
            distinct = dict(zip(cells, raw, strict=True))
        parsed: dict = {}
        failing: dict = {}
        for cell, value in distinct.items():
            memo_key = (type(value), value) if cells is raw else cell
            if memo_key not in table:
                try:
                    table[memo_key] = (parse(value), None)
                except ParseError as exc:
                    table[memo_key] = (None, exc)
            parsed[cell], problem = table[memo_key]
            if problem is not None:
                failing[cell] = problem
        values = list(map(parsed.__getitem__, cells))
        errors = {}
        if failing:
            errors = {i: failing[c] for i, c in enumerate(cells) if c in failing}
        return values, errors

    def _platform(self, value: object) -> str:
        if _is_blank(value):
            raise ParseError(
                "platform_missing",
                t(
                    "The platform is empty: choose one of yours ({platforms}).",
                    platforms=self.platform_list,
                ),
            )
        name = self.platforms.get(fold(value))
        if name is None:
            raise ParseError(
                "platform_unknown",
                t(
                    "'{value}' is not one of your registered platforms ({platforms}). Use "
                    "one of these names, or ask the secretariat to register the platform.",
                    value=value,
                    platforms=self.platform_list,
                ),
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
                t(
                    "{period} is in the future. Check the year and the month or quarter; "
                    "figures can be sent once a period has begun.",
                    period=period,
                ),
            )
        if end < self.joined:
            raise ParseError(
                "period_before_membership",
                t(
                    "{period} is before the partner joined the coalition ({joined}). Remove "
                    "the row, or ask the secretariat to correct the joining date.",
                    period=period,
                    joined=f"{self.joined:%Y-%m}",
                ),
            )
        return period

    def run(self) -> pd.DataFrame:
        """Check every row; return the normalised rows that have no errors.

        The work goes column by column (a column holds a few distinct values, each parsed
        once); the problems are then reported row by row, in the order a reader of the sheet
        meets them.
        """
        sheet, report = self.sheet, self.report
        cols = sheet.columns
        rows = sheet.rows
        formula_rows = {row for row, _ in sheet.formula_cells}
        last = len(rows) - 1
        while last >= 0 and _blank_row(rows[last][1]):
            last -= 1
        every_number = list(map(itemgetter(0), rows))
        every_line = list(map(itemgetter(1), rows))
        whole_grid = _grid(every_line)  # rows × columns, so that a column is one slice
        skip = np.zeros(len(rows), dtype=bool)
        # most rows start with a value: only the others need a look at the whole row
        if whole_grid.shape[1]:
            maybe_blank = np.flatnonzero(_blank_cells(whole_grid[:, 0]))
        else:
            maybe_blank = np.arange(len(rows))
        for index in maybe_blank.tolist():
            if every_number[index] not in formula_rows and _blank_row(every_line[index]):
                skip[index] = True
                report.skipped["blank"] = report.skipped.get("blank", 0) + 1
        notes_at = cols.get("notes")
        if notes_at is not None and notes_at < whole_grid.shape[1]:
            notes = whole_grid[:, notes_at]
            examples: dict[object, bool] = {}  # a note and whether it marks the example
            for index in np.flatnonzero(~_blank_cells(notes) & ~skip).tolist():
                note = notes[index]
                if (example := examples.get(note)) is None:
                    example = examples[note] = is_example(note)
                if example:
                    skip[index] = True
                    report.skipped["example"] = report.skipped.get("example", 0) + 1
        totals_row: tuple[int, list] | None = None
        if last >= 0 and not skip[last] and _is_totals(every_line[last]):
            totals_row = rows[last]
            skip[last] = True
            report.skipped["totals"] = report.skipped.get("totals", 0) + 1
        if skip.any():
            kept_at = np.flatnonzero(~skip)
            numbers = list(map(every_number.__getitem__, kept_at.tolist()))
            grid = whole_grid[kept_at]
        else:
            numbers, grid = every_number, whole_grid
        report.rows += len(numbers)

        def column(key: str) -> list:
            at = cols.get(key)
            if at is None or at >= grid.shape[1]:
                return [None] * len(numbers)
            return grid[:, at].tolist()

        def count_column(key: str) -> np.ndarray:
            at = cols.get(key)
            if at is None or at >= grid.shape[1]:
                return np.full(len(numbers), None, dtype=object)
            return grid[:, at]

        values: dict[str, list] = {}
        errors: dict[str, dict[int, ParseError]] = {}
        for key, parse in (
            ("period", self._period),
            ("platform", self._platform),
            ("country", self.countries.resolve),
            ("taxon", clean_text),
        ):
            values[key], errors[key] = self._column(key, column(key), parse)
        # a scientific name alone names its group
        species = column("species_group")
        if any(values["taxon"]):
            species = [
                taxon if taxon and _is_blank(raw) else raw
                for raw, taxon in zip(species, values["taxon"], strict=True)
            ]
        values["species_group"], errors["species_group"] = self._column(
            "species_group", species, self.species.resolve
        )
        values["notes"], errors["notes"] = self._column("notes", column("notes"), _clean_notes)
        raw_counts = {key: count_column(key) for key in COUNT_KEYS}
        counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # key -> (values, blank)
        for key in COUNT_KEYS:
            *counts[key], errors[key] = self._counts(key, numbers, raw_counts[key])

        failed = {i for found in errors.values() for i in found}
        is_failed = np.zeros(len(numbers), dtype=bool)
        is_failed[list(failed)] = True
        counted = np.zeros(len(numbers), dtype=bool)
        for _, blank in counts.values():
            counted |= ~blank
        empty = set(np.flatnonzero(~counted & ~is_failed).tolist())
        merged = _merged_data_rows(sheet)
        # a row with merged cells is an error, but its values are still checked further
        in_merged = {i for i, number in enumerate(numbers) if number in merged} if merged else set()
        for i in sorted(failed | empty | in_merged):
            number = numbers[i]
            found = [(key, errors[key][i]) for key in ROW_ORDER if i in errors[key]]
            if number in merged:
                found.insert(0, (None, "merged_cells"))
            if i in empty:
                found.append((None, "row_no_counts"))
            room = MAX_PROBLEMS - len(report.errors) - len(report.warnings)
            if room < len(found):  # count what does not fit, without writing its message
                report.truncated += len(found) - max(room, 0)
                found = found[: max(room, 0)]
            for key, problem in found:
                if problem == "merged_cells":
                    report.error(
                        number,
                        None,
                        "merged_cells",
                        t(
                            "Row {row} has merged cells ({cells}). Unmerge them and fill in "
                            "every cell of the row.",
                            row=number,
                            cells=merged[number],
                        ),
                    )
                elif problem == "row_no_counts":
                    report.error(
                        number,
                        None,
                        "row_no_counts",
                        t(
                            "Row {row} has no figures: fill in at least one count (0 means "
                            "none; blank means not reported), or delete the row.",
                            row=number,
                        ),
                    )
                else:
                    if problem is _FAILED:  # a count cell: its message is written only now
                        problem = _count_problem(raw_counts[key][i])
                    report.error(number, key, problem.code, problem.message)
        good = np.flatnonzero(counted & ~is_failed)
        every = len(good) == len(numbers)
        out = {
            key: values[key] if every else list(map(values[key].__getitem__, good.tolist()))
            for key in RECORD_COLUMNS
            if key not in COUNT_KEYS
        }
        # an array: pandas took 40 ms to make a column of a list of 200,000 numbers, eight times
        # as long
        out["row"] = np.array(numbers, dtype=np.int64)[slice(None) if every else good]
        for key in COUNT_KEYS:
            whole, blank = counts[key]
            out[key] = pd.arrays.IntegerArray(
                whole if every else whole[good], blank if every else blank[good]
            )

        # a formula whose value was never calculated reads as empty, even beyond the last row
        seen = {number for number, _ in rows} if sheet.formula_cells else set()
        for number, position in sorted(sheet.formula_cells):
            if number > sheet.header_row and number not in seen:
                key = next((k for k, p in cols.items() if p == position), None)
                report.error(
                    number,
                    key,
                    "count_formula",
                    _formula_message(position, number),
                )
        frame = pd.DataFrame({key: _texts(out[key]) for key in (*RECORD_COLUMNS, "row")})
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

    def _counts(
        self, key: str, numbers: list[int], raw: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict]:
        """A count column as whole numbers and a mask of the blank (or failed) cells, with
        its errors by position."""
        size = len(raw)
        whole = np.zeros(size, dtype=np.int64)
        blank = np.ones(size, dtype=bool)
        pending = np.ones(size, dtype=bool)  # cells that need the full parser
        # the common cells at C speed: whole floats (how calamine gives numbers), ints, blanks
        if all(type(v) is float for v in raw[:32]) and (  # the first cells tell most columns
            pd.api.types.infer_dtype(raw, skipna=False) == "floating"  # floats only
        ):
            kinds = None
            floats = np.arange(size)
        else:
            kinds = np.fromiter(map(type, raw), dtype=object, count=size)
            floats = np.flatnonzero(np.equal(kinds, float))
        if len(floats):
            number = (raw if kinds is None else raw[floats]).astype(np.float64)
            fine = (number >= 0) & (number <= MAX_COUNT) & (number == np.floor(number))
            floats = floats[fine]
            whole[floats] = number[fine].astype(np.int64)
            blank[floats] = pending[floats] = False
        if kinds is not None:
            ints = np.flatnonzero(np.equal(kinds, int))
            if len(ints):
                ints = ints[[0 <= v <= MAX_COUNT for v in raw[ints]]]
                whole[ints] = raw[ints].astype(np.int64)
                blank[ints] = pending[ints] = False
            pending[np.equal(kinds, type(None))] = False
            strings = np.flatnonzero(np.equal(kinds, str))
            if len(strings):
                pending[strings[~raw[strings].astype(bool)]] = False  # "" (a blank cell)
        errors: dict[int, object] = {}  # a ParseError, or _FAILED
        position = self.sheet.columns.get(key)
        formulas = self.sheet.formula_cells if position is not None else set()
        if formulas:
            at = {number: i for i, number in enumerate(numbers)}
            for number, col in formulas:
                if col == position and number in at:
                    i = at[number]
                    blank[i], pending[i] = True, False
                    errors[i] = ParseError(
                        "count_formula",
                        _formula_message(position, number),
                    )
        for i in np.flatnonzero(pending).tolist():
            try:
                value = parse_count(raw[i])
            except ParseError:
                # the message is written when reported: a file of 300,000 bad rows would
                # otherwise hold millions of them, of which a report lists 5,000
                errors[i] = _FAILED
                continue
            if value is not None:
                whole[i], blank[i] = value, False
        return whole, blank, errors


_FAILED = object()  # a count cell that failed to parse


def _formula_message(position: int, number: int) -> str:
    return t(
        "{cell} holds a formula. Type the number itself (copy the cell, then Paste Special › "
        "Values).",
        cell=f"{column_letter(position)}{number}",
    )


# The order in which the problems of one row are reported: as the template's columns run.
ROW_ORDER = ("period", "platform", "country", "taxon", "species_group", "notes", *COUNT_KEYS)


def _count_problem(value: object) -> ParseError:
    try:
        parse_count(value)
    except ParseError as exc:
        return exc
    raise AssertionError(f"{value!r} failed to parse once and not the second time")


_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # what pandas makes of a list of texts


def _texts(values: object) -> object:
    """A list of texts (or None) as the column pandas would make of it, built through pyarrow
    (three times faster than pandas' own look at every value). Anything else as it is."""
    if not isinstance(values, list):
        return values
    try:
        array = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return values  # not all texts
    if array.null_count == len(array):
        return values  # no text at all: pandas keeps such a column as objects
    return pd.array(array, dtype=_TEXT)


def _grid(lines: list[list]) -> np.ndarray:
    """The rows as one two-dimensional array of cells (rows of a CSV file may differ in
    length: the short ones are padded with None)."""
    widths = set(map(len, lines))
    width = max(widths, default=0)
    if len(widths) > 1:
        lines = [cells + [None] * (width - len(cells)) for cells in lines]
    cells = itertools.chain.from_iterable(lines)  # row after row: twice as fast as grid[:] =
    return np.fromiter(cells, dtype=object, count=len(lines) * width).reshape(len(lines), width)


# the types of cell values the readers make; two values of these types are equal only if both
# are blank or neither is (a text is never equal to a number, a date or None)
_PLAIN = frozenset({str, float, int, bool, type(None), dt.datetime, dt.date, dt.time, dt.timedelta})


def _blank_cells(column: np.ndarray) -> np.ndarray:
    """Which cells of a column are blank: None, or text that is empty or only spaces."""
    cells = column.tolist()
    try:
        distinct = dict.fromkeys(cells)  # a column holds few distinct values: each looked at once
    except TypeError:  # an unhashable value
        distinct = None
    if distinct is not None and all(type(v) in _PLAIN for v in distinct):
        blank = {v: v is None or (type(v) is str and (not v or v.isspace())) for v in distinct}
        return np.fromiter(map(blank.__getitem__, cells), dtype=bool, count=len(cells))
    kinds = np.fromiter(map(type, column), dtype=object, count=len(column))
    blank = np.equal(kinds, type(None))
    strings = np.flatnonzero(np.equal(kinds, str))
    if len(strings):
        text = column[strings]
        blank[strings] = (text == "") | np.fromiter(
            map(str.isspace, text), dtype=bool, count=len(text)
        )
    return blank


def _blank_row(cells: list) -> bool:
    for c in cells:
        if c is not None and not (isinstance(c, str) and (not c or c.isspace())):
            return False
    return True


def _clean_notes(value: object) -> str | None:
    return clean_text(value, max_length=2000)


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
                t(
                    "The totals row says {stated} but the rows above add up to {actual}. "
                    "Check the figures; the totals row itself is not stored.",
                    stated=format_count(stated),
                    actual=format_count(actual),
                ),
            )


def _duplicates(records: pd.DataFrame, report: Report) -> None:
    key = ["platform", "period", "species_group", "country"]
    keyed = records.assign(country=records["country"].fillna(""))
    repeated = keyed.duplicated(subset=key, keep="first")
    if repeated.any():
        first = keyed.groupby(key, sort=False)["row"].transform("first")
        for number, first_number in zip(
            keyed.loc[repeated, "row"].tolist(), first[repeated].tolist(), strict=True
        ):
            report.error(
                number,
                "period",
                "duplicate_row",
                t(
                    "Row {row} repeats row {first} (same platform, period, species group and "
                    "country). Add the figures together into one row, or delete one of them.",
                    row=number,
                    first=first_number,
                ),
            )
    is_quarter = keyed["period"].str.contains("Q", regex=False).to_numpy(dtype=bool)
    if is_quarter.any() and not is_quarter.all():  # both months and quarters
        months, quarters = keyed[~is_quarter], keyed[is_quarter]
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
                t(
                    "Row {row} gives {month} and row {row_q} gives {quarter} for the same "
                    "platform, species group and country: the quarter already includes the "
                    "month. Send either months or the quarter.",
                    row=r.row,
                    month=r.period,
                    row_q=r.row_q,
                    quarter=r.period_q,
                ),
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
            t(
                "{platform} already has figures for {period}. This file will supersede them "
                "once accepted (the old figures stay in the history).",
                platform=platform,
                period=stored,
            ),
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


_KEY = ["platform", "period", "species_group", "country"]


def _warn_jumps(cur, partner: str, records: pd.DataFrame, report: Report) -> None:
    """Warn where a count is more than ten times, or less than a tenth of, the same key's
    previous period: the file's own row for that period if it has one (the first, in file
    order), else the stored figures. Done with arrays: each key is turned into one whole
    number, and each row's previous period found by a binary search."""
    periods = records["period"].unique().tolist()
    previous = {p: previous_period(p) for p in periods}
    stored = cur.execute(
        PREVIOUS_VALUES, {"partner": partner, "periods": sorted(set(previous.values()))}
    ).df()
    size = len(records)
    keys = pd.concat(
        [
            records[_KEY].assign(country=records["country"].fillna("")).astype("str"),
            stored[_KEY].astype("str"),
        ],
        ignore_index=True,
    )
    code: dict[str, np.ndarray] = {}
    radix: dict[str, int] = {}
    for name in _KEY:
        code[name], uniques = pd.factorize(keys[name])
        radix[name] = len(uniques)
        if name == "period":  # the previous periods get numbers too
            number = {u: i for i, u in enumerate(uniques)}
            for p in previous.values():
                number.setdefault(p, len(number))
            radix[name] = len(number)
            before_of = np.array([number.get(previous.get(u), -1) for u in uniques] or [0])
            code["previous"] = before_of[code["period"][:size]]

    def combine(period: np.ndarray, rows: slice) -> np.ndarray:
        out = code["platform"][rows].astype(np.int64)
        out = out * radix["period"] + period
        out = out * radix["species_group"] + code["species_group"][rows]
        return out * radix["country"] + code["country"][rows]

    every = slice(None)
    unique, first = np.unique(combine(code["period"], every), return_index=True)
    wanted = combine(code["previous"], slice(0, size))
    at = np.minimum(np.searchsorted(unique, wanted), len(unique) - 1)
    found = np.flatnonzero(unique[at] == wanted)  # rows of the file, in file order
    source = first[at[found]]  # rows of keys: the file's first, else the stored
    numbers = records["row"].to_numpy()[found]
    shown = records["period"].to_numpy()[found]
    for key_name in COUNT_KEYS:
        counts = np.concatenate(
            [
                records[key_name].to_numpy(dtype=np.float64, na_value=np.nan),
                stored[key_name].to_numpy(dtype=np.float64, na_value=np.nan),
            ]
        )
        now, before = counts[found], counts[source]
        # a blank on either side (NaN) is no jump
        big = (now >= JUMP_MINIMUM) | (before >= JUMP_MINIMUM)
        jump = big & ((now > JUMP_FACTOR * before) | (now * JUMP_FACTOR < before))
        for i in np.flatnonzero(jump).tolist():
            value, prior = now[i], before[i]
            message = (
                N_(
                    "{key} is {value}, more than 10 times the {prior} of {period} for the same "
                    "platform, species group and country. Check the figure; if it is right, "
                    "acknowledge the warning."
                )
                if value > prior
                else N_(
                    "{key} is {value}, less than a tenth of the {prior} of {period} for the "
                    "same platform, species group and country. Check the figure; if it is "
                    "right, acknowledge the warning."
                )
            )
            report.warn(
                int(numbers[i]),
                key_name,
                "jump",
                t(
                    message,
                    key=key_name,
                    value=format_count(int(value)),
                    prior=format_count(int(prior)),
                    period=previous[shown[i]],
                ),
            )
