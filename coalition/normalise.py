"""Parsers for one spreadsheet cell each: period, count, species group, country, free text.

The validator calls these for every cell of an upload (200,000 rows and more), so each one takes
the value exactly as python-calamine or the csv module gives it (``str``, ``int``, ``float``,
``bool``, ``datetime``/``date``/``time``/``timedelta``, ``None``) and either returns the
canonical value or raises :class:`ParseError`, whose ``code`` is stable for machines and whose
``message`` says in plain words what is wrong and how to fix it. Nothing here touches the
database except the two ``from_db`` constructors, which read the reference tables once.

What is accepted, and why:

* **Periods** — ``2019-07`` / ``2019-Q3`` and the spellings people type or Excel writes:
  ``2019-7``, ``2019/07``, ``2019.07``, ``201907`` (six digits are unambiguous between 2000 and
  2040), ``07/2019``, ``Jul 2019``, ``July 2019``, ``Jul-19`` (Excel's ``mmm-yy`` display,
  written as is into a CSV), ``2019Q3``, ``Q3 2019``, ``3Q 2019``, ``2019年第三季度``,
  ``2019年Q3``, ``2019年7月``, a date cell or ISO date text (``2019-07-15``, which means its
  month). Day-first or month-first dates (``15/07/2019``) are refused: their month depends on
  the writer's locale. A number cell such as ``2019.07`` is read as July only with two decimals;
  ``2019.1`` could be January or October (Excel drops the zero of ``2019.10``) and is refused.
* **Counts** — whole numbers, also as text with thousands separators (``1,234``, ``1 234``,
  ``1'234``, Indian ``1,23,456``), a ``+`` sign, full-width digits or ``.0``. A dot followed by
  three digits (``1.234``) is refused rather than guessed: it is 1.234 to some and 1234 to others.
* **Species groups and countries** — any spelling in the reference tables, ignoring case, extra
  spaces, full-width forms and (as a second try) punctuation and accents. Countries also accept
  pycountry's names, the UN M49 names and codes, and ``data/country_aliases.csv``, whose rows
  with an empty ``iso3`` are the words that mean "global / unspecified" (returned as ``None``).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import gettext
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry

from coalition.i18n import t
from coalition.reference import DATA_DIR, FIRST_YEAR, LAST_YEAR, fold

COUNTRY_ALIASES = DATA_DIR / "country_aliases.csv"
UN_M49 = DATA_DIR / "unsd_m49.csv"
MAX_COUNT = 10**12
# A spelling that only starts with the catch-all group's words ("other birds", "mixed reptiles")
# names something more specific; it must not be filed under "other" by the prefix rule.
CATCH_ALL_GROUP = "other"
_SHOWN_LENGTH = 40


class ParseError(ValueError):
    """A cell that cannot be read. ``code`` is stable (``period_unparseable``, ``count_negative``
    …); ``message`` says what is wrong and how to fix it, in the current language;
    ``suggestions`` are close known values (``"elephants (Elephants (ivory))"``); ``params`` are
    the values the message was formatted with."""

    def __init__(
        self,
        code: str,
        message: str,
        suggestions: tuple[str, ...] = (),
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.suggestions = tuple(suggestions)
        self.params = dict(params or {})

    def __repr__(self) -> str:
        return f"ParseError({self.code!r}, {self.message!r}, {self.suggestions!r})"

    def __reduce__(self):  # so that it survives pickling (a process pool, Streamlit's cache)
        return (type(self), (self.code, self.message, self.suggestions), {"params": self.params})


def _error(code: str, msgid: str, suggestions: tuple[str, ...] = (), **params: Any) -> ParseError:
    return ParseError(code, t(msgid, **params), suggestions, params=params)


def _shown(value: object) -> str:
    """The cell as a message quotes it: stripped, and shortened if long."""
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value).strip()
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


# Dashes and minus signs that NFKC leaves alone but people (and word processors) type.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-"))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES).strip()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- Periods --------------------------------------------------------------------------------

_MONTH_LABELS = {
    (y, m): f"{y}-{m:02d}" for y in range(FIRST_YEAR, LAST_YEAR + 1) for m in range(1, 13)
}
_CANONICAL_PERIODS = frozenset(
    [*_MONTH_LABELS.values()]
    + [f"{y}-Q{q}" for y in range(FIRST_YEAR, LAST_YEAR + 1) for q in range(1, 5)]
)

_ZH_NUMBERS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}

_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        [
            "JAN JANUARY JANVIER ENE ENERO",
            "FEB FEBRUARY FEV FEVRIER FEBRERO",
            "MAR MARCH MARS MARZO",
            "APR APRIL AVR AVRIL ABR ABRIL",
            "MAY MAI MAYO",
            "JUN JUNE JUIN JUNIO",
            "JUL JULY JUIL JUILLET JULIO",
            "AUG AUGUST AOUT AGO AGOSTO",
            "SEP SEPT SEPTEMBER SEPTEMBRE SEPTIEMBRE SETIEMBRE",
            "OCT OCTOBER OCTOBRE OCTUBRE",
            "NOV NOVEMBER NOVEMBRE NOVIEMBRE",
            "DEC DECEMBER DECEMBRE DIC DICIEMBRE",
        ],
        start=1,
    )
    for name in names.split()
}

_Q = r"(?:Q|QTR|QUARTER)"
_ZH_NUM = r"\d{1,2}|[一二三四五六七八九十]|十[一二]"
_QUARTER_PATTERNS = [
    re.compile(p)
    for p in (
        rf"(?P<y>\d{{4}})\s*年?\s*[-/.,]?\s*{_Q}\s*(?P<q>\d)\s*(?:季度?)?",  # 2019-Q3, 2019年Q3
        rf"{_Q}\s*(?P<q>\d)\s*[-/.,]?\s*(?P<y>\d{{4}})",  # Q3 2019, Quarter 3, 2019
        r"(?P<q>\d)\s*Q\s*[-/.,]?\s*(?P<y>\d{4})",  # 3Q 2019
        r"(?P<y>\d{4})\s*[-/.,]?\s*(?P<q>\d)\s*Q",  # 2019 3Q
        rf"(?P<y>\d{{4}})\s*年?\s*第?\s*(?P<q>{_ZH_NUM})\s*季度?",  # 2019年第三季度
    )
]
_MONTH_PATTERNS = [
    re.compile(p)
    for p in (
        r"(?P<y>\d{4})\s*[-/.\s]\s*(?P<m>\d{1,2})",  # 2019-07, 2019/7, 2019.07
        r"(?P<y>\d{4})(?P<m>\d{2})",  # 201907
        r"(?P<m>\d{1,2})\s*[-/.]\s*(?P<y>\d{4})",  # 07/2019
        rf"(?P<y>\d{{4}})\s*年\s*(?P<m>{_ZH_NUM})\s*月份?",  # 2019年7月
        # a full date (its month); a time of day, as a date cell written out as text has, is
        # allowed after it
        r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
        r"(?:[\sT]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[-+]\d{2}:?\d{2})?)?",
        r"(?P<name>[^\W\d_]{3,10})\.?\s*[-/.,\s]?\s*(?P<y>\d{4}|\d{2})",  # Jul 2019, Jul-19
        r"(?P<y>\d{4})\s*[-/.,\s]?\s*(?P<name>[^\W\d_]{3,10})\.?",  # 2019 Jul
    )
]


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return _ZH_NUMBERS.get(text)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# What a text that is not a period gives instead: the reason, for the message.
_UNPARSEABLE = ("unparseable",)
_OUT_OF_RANGE = ("out_of_range",)


@lru_cache(maxsize=4096)
def _period_from_text(text: str) -> str | tuple[str]:
    """The period a text names, or ``_UNPARSEABLE`` / ``_OUT_OF_RANGE``."""
    s = re.sub(r"\s+", " ", _nfkc(text)).upper()
    if s in _CANONICAL_PERIODS:
        return s
    for pattern in _QUARTER_PATTERNS:
        if m := pattern.fullmatch(s):
            return _period(int(m["y"]), quarter=_number(m["q"]))
    for pattern in _MONTH_PATTERNS:
        if not (m := pattern.fullmatch(s)):
            continue
        groups = m.groupdict()
        if groups.get("name") is not None:
            month = _MONTH_NAMES.get(_strip_accents(m["name"]))
            if month is None:
                continue
            year = int(m["y"])
            return _period(year + 2000 if year < 100 else year, month=month)
        month = _number(m["m"])
        if groups.get("d") is not None:
            try:
                dt.date(int(m["y"]), month or 0, int(m["d"]))
            except ValueError:
                return _UNPARSEABLE
        return _period(int(m["y"]), month=month)
    return _UNPARSEABLE


def _period(year: int, *, month: int | None = None, quarter: int | None = None):
    if month is not None and 1 <= month <= 12:
        label = f"{year}-{month:02d}"
    elif quarter is not None and 1 <= quarter <= 4:
        label = f"{year}-Q{quarter}"
    else:
        return _UNPARSEABLE
    return label if FIRST_YEAR <= year <= LAST_YEAR else _OUT_OF_RANGE


def parse_period(value: object) -> str:
    """The period a cell names: ``'2019-07'`` (a month) or ``'2019-Q3'`` (a quarter).

    A date means its month. Whether the period lies in the future is the validator's question.
    Raises ``period_missing`` for a blank cell and ``period_unparseable`` for anything else that
    is not a month or quarter of 2000–2040.
    """
    if type(value) is str and value in _CANONICAL_PERIODS:
        return value
    if isinstance(value, dt.date):  # a datetime is a date too
        result = _MONTH_LABELS.get((value.year, value.month), _OUT_OF_RANGE)
    elif _is_blank(value):
        raise _error(
            "period_missing",
            "The period is missing: write a month as 2019-07 or a quarter as 2019-Q3.",
        )
    elif isinstance(value, str):
        result = _period_from_text(value)
    elif isinstance(value, bool):
        result = _UNPARSEABLE
    elif isinstance(value, numbers.Integral):
        result = _period_from_text(str(int(value)))
    elif isinstance(value, float) and math.isfinite(value):
        text = repr(value)
        if value.is_integer():
            text = str(int(value))
        elif len(text.partition(".")[2]) != 2:  # 2019.1: January, or October without its 0?
            text = "?"
        result = _period_from_text(text)
    else:
        result = _UNPARSEABLE
    if isinstance(result, str):
        return result
    if result is _OUT_OF_RANGE:
        raise _error(
            "period_unparseable",
            "'{value}' is outside the years the tracker covers ({first}–{last}): "
            "write a month as 2019-07 or a quarter as 2019-Q3.",
            value=_shown(value),
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    raise _error(
        "period_unparseable",
        "'{value}' is not a period: write a month as 2019-07 or a quarter as 2019-Q3.",
        value=_shown(value),
    )


# --- Counts ---------------------------------------------------------------------------------

# Spaces of every width and apostrophes (1'234, Swiss) that separate thousands.
_GROUP_SEPARATORS = str.maketrans(dict.fromkeys("\u00a0\u202f\u2009\u2007\u3000'\u2019", " "))
_NUMBER = re.compile(r"(?P<int>\d+(?:[ ,]\d+)*)(?:\.(?P<frac>\d+))?")
_GROUPED = re.compile(r"\d{1,3}(?:([ ,])\d{3})?(?:\1\d{3})*")  # 1,234,567 or 1 234 567
_INDIAN = re.compile(r"\d{1,2}(?:,\d{2})+,\d{3}")  # 12,34,567
_DOT_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")  # 1.234 or 1.234.567,0
_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?E[-+]?\d+")
# The common case, checked first: ASCII digits grouped by threes with one kind of separator.
_PLAIN_GROUPED = re.compile(
    r"[0-9]{1,3}(?:(?:,[0-9]{3})+|(?: [0-9]{3})+|(?:\u00a0[0-9]{3})+|(?:\u202f[0-9]{3})+)"
)
_PLAIN_POINT_ZERO = re.compile(r"[0-9]+\.0+")
# Floating-point noise in a formula's result (2.9999999999999996) is not a fraction.
_WHOLE_TOLERANCE = 1e-6


def _checked_count(number: int, value: object) -> int:
    if number < 0:
        raise _error(
            "count_negative",
            "'{value}' is negative: counts cannot be negative; type 0 or more, "
            "or leave the cell blank if it was not reported.",
            value=_shown(value),
        )
    if number > MAX_COUNT:
        raise _error(
            "count_too_large",
            "'{value}' is larger than any plausible count (over 1,000,000,000,000): "
            "check the cell; it may hold an ID or a pasted value instead of a count.",
            value=_shown(value),
        )
    return number


def _not_whole(value: object, thousands: str | None = None) -> ParseError:
    if thousands:
        return _error(
            "count_not_whole",
            "'{value}' is not a whole number: counts are whole numbers. If the dot separates "
            "thousands, write {number} (without the dot) or {number:,}.",
            value=_shown(value),
            number=int(thousands),
        )
    return _error(
        "count_not_whole",
        "'{value}' is not a whole number: counts are whole numbers; type the count without "
        "decimals.",
        value=_shown(value),
    )


def _not_number(value: object) -> ParseError:
    return _error(
        "count_not_number",
        "'{value}' is not a number: type the count as a whole number (e.g. 1234), "
        "or leave the cell blank if it was not reported.",
        value=_shown(value),
    )


def _count_from_float(number: float, value: object) -> int:
    if not math.isfinite(number):
        raise _not_number(value)
    whole = round(number)
    if abs(number - whole) > _WHOLE_TOLERANCE:
        _checked_count(math.floor(number), value)  # a negative fraction is negative first
        raise _not_whole(value)
    return _checked_count(int(whole), value)


def _count_from_text(value: str) -> int:
    s = _nfkc(value).translate(_GROUP_SEPARATORS)
    s = re.sub(r"\s+", " ", s).strip()
    negative = False
    if s[:1] in "+-" and len(s) > 1:
        negative = s[0] == "-"
        s = s[1:].lstrip()
    if s.startswith("="):
        raise _error(
            "count_not_number",
            "'{value}' is a formula, not a number: type the number itself (in Excel, copy the "
            "cells and use Paste Special → Values).",
            value=_shown(value),
        )
    m = _NUMBER.fullmatch(s)
    if m is None:
        if _DOT_THOUSANDS.fullmatch(s):
            raise _not_whole(value, thousands=re.sub(r"\D", "", s.partition(",")[0]))
        if _SCIENTIFIC.fullmatch(s.upper()):
            raise _error(
                "count_not_number",
                "'{value}' is in scientific notation, which may have lost digits: type the "
                "whole count (format the cell as a number with no decimals).",
                value=_shown(value),
            )
        raise _not_number(value)
    whole, frac = m["int"], m["frac"]
    if frac is not None and len(frac) == 3 and whole.isdigit() and len(whole) <= 3:
        raise _not_whole(value, thousands=whole + frac)  # 1.234: a thousands dot, or 1.234?
    if whole.isdigit():
        digits = whole
    elif _GROUPED.fullmatch(whole) or _INDIAN.fullmatch(whole):
        digits = re.sub("[ ,]", "", whole)
    elif frac is None and re.fullmatch(r"\d+,\d{1,2}", whole):
        # 12,5 or 12,00: a decimal comma
        digits, frac = whole.split(",")
    else:
        raise _not_number(value)
    if frac is not None and frac.strip("0"):
        if negative:
            raise _checked_count(-1, value)
        raise _not_whole(value)
    number = int(digits)
    return _checked_count(-number if negative else number, value)


def parse_count(value: object) -> int | None:
    """A count cell as a non-negative whole number; ``None`` when blank ("not reported",
    which is not 0).

    Raises ``count_negative``, ``count_not_whole``, ``count_not_number`` or
    ``count_too_large``.
    """
    kind = type(value)
    if kind is int:
        return value if 0 <= value <= MAX_COUNT else _checked_count(value, value)
    if kind is float:
        if value.is_integer() and 0 <= value <= MAX_COUNT:
            return int(value)
        return _count_from_float(value, value)
    if value is None:
        return None
    if kind is str:
        if value.isdigit() and value.isascii():
            return _checked_count(int(value), value)
        if _PLAIN_GROUPED.fullmatch(value):  # the separator before the last group of three
            return _checked_count(int(value.replace(value[-4], "")), value)
        if _PLAIN_POINT_ZERO.fullmatch(value):  # 12.0, as pandas writes a float column
            return _checked_count(int(value.partition(".")[0]), value)
        if not value.strip():
            return None
        return _count_from_text(value)
    if isinstance(value, bool):
        raise _not_number(value)
    if isinstance(value, numbers.Integral):
        return _checked_count(int(value), value)
    if isinstance(value, numbers.Real):
        return _count_from_float(float(value), value)
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        raise _error(
            "count_not_number",
            "'{value}' is a date or time, not a number: format the cell as a number and type "
            "the count.",
            value=_shown(value),
        )
    return _count_from_text(str(value))


# --- Free text ------------------------------------------------------------------------------


def clean_text(value: object, max_length: int = 500) -> str | None:
    """A free-text cell (scientific name, notes) stripped of surrounding spaces; ``None`` when
    blank. Raises ``text_too_long`` beyond ``max_length`` characters."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    text = text.strip()
    if not text:
        return None
    if len(text) > max_length:
        raise _error(
            "text_too_long",
            "The text is {length} characters long; the limit is {limit}: shorten it "
            "(longer explanations can go to the secretariat by email).",
            length=len(text),
            limit=max_length,
        )
    return text


# --- Looking up spellings -------------------------------------------------------------------

_MISSING = object()


def light_key(text: str) -> str:
    """The first form a spelling is looked up in: NFKC, case-folded, single spaces."""
    return fold(_nfkc(text))


def _loose_words(text: str) -> list[str]:
    s = _strip_accents(light_key(text)).replace("&", " and ")
    s = re.sub(r"[.'`\u2019\u02bc]", "", s)  # U.S.A. → usa, Côte d'Ivoire → cote divoire
    return re.sub(r"[\W_]+", " ", s).split()


def _species_loose_key(text: str) -> str:
    """The second form for species: also without punctuation and accents."""
    return " ".join(_loose_words(text))


def _country_loose_key(text: str) -> str:
    """The second form for countries: letters and digits only, without a leading 'the', with
    'St' read as 'Saint' (so 'Viet Nam' = 'Vietnam', 'St. Lucia' = 'Saint Lucia')."""
    words = _loose_words(text)
    if words[:1] == ["the"]:
        words = words[1:]
    return "".join("saint" if w == "st" else w for w in words)


def _loose_table(table: Mapping[str, Any], key) -> dict[str, Any]:
    """``table`` re-keyed by a looser form; keys that become the spelling of two different
    values are left out, since guessing between them would be wrong half the time."""
    loose: dict[str, Any] = {}
    ambiguous: set[str] = set()
    for spelling, target in table.items():
        k = key(spelling)
        if not k or k in ambiguous:
            continue
        if k in loose and loose[k] != target:
            ambiguous.add(k)
            del loose[k]
        else:
            loose[k] = target
    return loose


def _closest(text: str, candidates: Iterable[str], limit: int = 12) -> list[str]:
    return difflib.get_close_matches(text, list(candidates), n=limit, cutoff=0.6)


# --- Species groups -------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff]")


class SpeciesResolver:
    """Reads a species-group cell: a slug, an English or Chinese name, a synonym (ivory, 象牙)
    or a scientific name, the last also with extra words ("Manis javanica scales")."""

    def __init__(self, synonyms: Mapping[str, str], names: Mapping[str, str]) -> None:
        """``synonyms``: every spelling → group slug; ``names``: slug → English name."""
        self.names = dict(names)
        exact: dict[str, str] = {}
        for spelling, slug in synonyms.items():
            exact.setdefault(light_key(spelling), slug)
        for slug in self.names:
            exact.setdefault(light_key(slug), slug)
        self._exact = exact
        self._loose = _loose_table(exact, _species_loose_key)
        # the spellings as listed, so that the common case is one dict lookup without folding
        self._raw = {
            s: exact[k]
            for s in [*synonyms, *self.names, *self.names.values()]
            if (k := light_key(s)) in exact
        }
        self._resolve_text = lru_cache(maxsize=8192)(self._find)

    @classmethod
    def from_db(cls, cur) -> SpeciesResolver:
        names = dict(
            cur.execute("SELECT slug, name_en FROM species_groups ORDER BY sort_order").fetchall()
        )
        rows = cur.execute("SELECT synonym, species_group, kind FROM species_synonyms").fetchall()
        synonyms = {synonym: group for synonym, group, _ in rows}
        # A binomial's genus names the group of its listed species (Ursus thibetanus → Ursus →
        # bears), unless the genus has species in two groups or is listed itself.
        genera: dict[str, set[str]] = {}
        for synonym, group, kind in rows:
            words = synonym.split()
            if kind == "taxon" and len(words) == 2:
                genera.setdefault(words[0], set()).add(group)
        for genus, groups in genera.items():
            if len(groups) == 1 and genus not in synonyms:
                synonyms[genus] = groups.pop()
        return cls(synonyms, names)

    def label(self, slug: str) -> str:
        return f"{slug} ({self.names[slug]})" if slug in self.names else slug

    def resolve(self, value: object) -> str:
        """The species-group slug a cell names. Raises ``species_missing`` for a blank cell and
        ``species_unknown`` (with up to three close groups as suggestions) otherwise."""
        if type(value) is str and (found := self._raw.get(value)) is not None:
            return found
        if _is_blank(value):
            raise _error(
                "species_missing",
                "The species group is missing: choose one from the list (e.g. elephants, "
                "pangolins, birds), or write other if none fits.",
            )
        text = _shown(value) if not isinstance(value, str) else value
        found = self._resolve_text(text)
        if isinstance(found, str):
            return found
        raise _error(
            "species_unknown",
            "'{value}' is not a species group: use one from the list, e.g. {examples}.",
            found,
            value=_shown(value),
            examples=", ".join(found or [self.label(s) for s in list(self.names)[:3]]),
        )

    def _find(self, text: str) -> str | tuple[str, ...]:
        """The slug, or a tuple of suggestions when there is none."""
        key = light_key(text)
        if (found := self._exact.get(key)) is not None:
            return found
        loose = _species_loose_key(text)
        if (found := self._loose.get(loose)) is not None:
            return found
        words = loose.split()
        # a plural or singular of a listed name: "rhinos", "big cats"
        if words and words[-1].isascii() and len(words[-1]) > 3:
            last = words[-1]
            for variant in (last[:-1], last[:-2], last + "s"):
                if (found := self._loose.get(" ".join([*words[:-1], variant]))) is not None:
                    return found
        # the longest listed prefix: "Manis javanica scales", "Panthera tigris altaica", 象牙制品
        for n in range(len(words) - 1, 0, -1):
            found = self._loose.get(" ".join(words[:n]))
            if found is not None and found != CATCH_ALL_GROUP:
                return found
        if len(words) == 1 and _CJK.match(loose):
            for n in range(len(loose) - 1, 1, -1):  # at least two characters: 熊猫 is not 熊
                found = self._loose.get(loose[:n])
                if found is not None and found != CATCH_ALL_GROUP:
                    return found
        return self._suggest(key)

    def _suggest(self, key: str) -> tuple[str, ...]:
        seen: list[str] = []
        for spelling in _closest(key, self._exact):
            slug = self._exact[spelling]
            if slug not in seen:
                seen.append(slug)
        return tuple(self.label(slug) for slug in seen[:3])


# --- Countries ------------------------------------------------------------------------------


def _read_aliases(path: Path = COUNTRY_ALIASES) -> list[tuple[str, str | None]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(r["alias"], r["iso3"].strip() or None) for r in csv.DictReader(f)]


def _read_un_names(path: Path = UN_M49) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [
            (r["Country or Area"], r["ISO-alpha3 Code"])
            for r in csv.DictReader(f, delimiter=";")
            if r["ISO-alpha3 Code"]
        ]


def _pycountry_names(iso3s: Iterable[str]) -> list[tuple[str, str]]:
    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    pairs = []
    for iso3 in iso3s:
        country = pycountry.countries.get(alpha_3=iso3)
        if country is None:
            continue
        for attr in ("name", "official_name", "common_name"):
            if name := getattr(country, attr, None):
                pairs += [(name, iso3), (zh.gettext(name), iso3)]
    return pairs


class CountryResolver:
    """Reads a country cell as an ISO alpha-3 code: a code (VN, VNM, 704), an English or Chinese
    name in any common spelling; ``None`` for a blank cell or a word meaning "global"."""

    def __init__(self, spellings: Iterable[tuple[str, str | None]], names: Mapping[str, str]):
        """``spellings``: (spelling, ISO alpha-3 or None for global), the more authoritative
        first: when two spellings fold to the same text, the first one wins. ``names``: ISO
        alpha-3 → English name, for suggestions."""
        self.names = dict(names)
        exact: dict[str, str | None] = {}
        raw: dict[str, str | None] = {}
        for spelling, iso3 in spellings:
            if (key := light_key(spelling)) and (iso3 is None or iso3 in self.names):
                raw.setdefault(spelling, exact.setdefault(key, iso3))
        self._exact = exact
        # the spellings as listed, so that the common case is one dict lookup without folding
        self._raw = raw
        self._loose = _loose_table(exact, _country_loose_key)
        # names only: two and three letter codes are close to too much
        self._names_for_suggestions = [k for k, v in exact.items() if v is not None and len(k) > 3]
        self._resolve_text = lru_cache(maxsize=8192)(self._find)

    @classmethod
    def from_db(cls, cur) -> CountryResolver:
        """From the countries table, then the aliases file, pycountry's names (English and
        Chinese) and the UN M49 names and codes: an earlier source wins a conflict."""
        rows = cur.execute(
            "SELECT iso3, iso2, m49, name_en, name_zh FROM countries ORDER BY iso3"
        ).fetchall()
        spellings: list[tuple[str, str | None]] = []
        spellings += [(code, iso3) for iso3, iso2, *_ in rows for code in (iso3, iso2)]
        spellings += [(name, r[0]) for r in rows for name in (r[3], r[4])]
        spellings += _read_aliases()
        spellings += _pycountry_names(r[0] for r in rows)
        spellings += _read_un_names()
        spellings += [(m49, iso3) for iso3, _, m49, *_ in rows if m49]
        return cls(spellings, {r[0]: r[3] for r in rows})

    def label(self, iso3: str) -> str:
        return f"{iso3} ({self.names[iso3]})" if iso3 in self.names else iso3

    def resolve(self, value: object) -> str | None:
        """The ISO alpha-3 code a cell names, or ``None`` for global / unspecified. Raises
        ``country_unknown`` (with up to three close countries as suggestions)."""
        if type(value) is str:
            found = self._raw.get(value, _MISSING)
            if found is not _MISSING:
                return found
            if not value.strip():
                return None
            text = value
        elif value is None:
            return None
        elif isinstance(value, bool):
            text = "?"
        elif isinstance(value, numbers.Integral) or (
            isinstance(value, float) and value.is_integer()
        ):
            text = f"{int(value):03d}"  # a UN M49 code typed as a number
        else:
            text = _shown(value)
        if (digits := text.strip()).isdigit() and len(digits) < 3:
            text = digits.zfill(3)
        found = self._resolve_text(text)
        if not isinstance(found, tuple):
            return found
        raise _error(
            "country_unknown",
            "'{value}' is not a country or territory: use an ISO code (VNM) or a name "
            "(Viet Nam); leave it blank for global.",
            found,
            value=_shown(value),
        )

    def _find(self, text: str) -> str | None | tuple[str, ...]:
        key = light_key(text)
        found = self._exact.get(key, _MISSING)
        if found is _MISSING:
            found = self._loose.get(_country_loose_key(text), _MISSING)
        if found is not _MISSING:
            return found
        return self._suggest(key)

    def _suggest(self, key: str) -> tuple[str, ...]:
        seen: list[str] = []
        for spelling in _closest(key, self._names_for_suggestions):
            iso3 = self._exact[spelling]
            if iso3 not in seen:
                seen.append(iso3)
        return tuple(self.label(iso3) for iso3 in seen[:3])
