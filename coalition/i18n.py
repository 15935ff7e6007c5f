"""Every text a user reads goes through :func:`t`.

Translations are GNU gettext catalogues, domain ``messages``, in ``locales/<code>/LC_MESSAGES/``
(``messages.po`` written by translators, ``messages.mo`` compiled from it and committed; see
``scripts/messages.py``). The English text is the message id itself, so English needs no
catalogue and a missing translation falls back to English. A message id is a
:meth:`str.format` template: ``t("Partners reporting in {period}", period="2020-Q4")``.

The language is per thread (a Streamlit session runs its script in its own thread), so the app
calls :func:`set_language` at the start of every run; the command line keeps the default.
Numbers and dates are written the way a reader of that language expects (through Babel), and
species groups, countries and regions are named in that language.
"""

from __future__ import annotations

import ast
import contextvars
import csv
import datetime as dt
import gettext
import re
from collections.abc import Iterable, Iterator, Mapping
from copy import copy
from functools import cache
from pathlib import Path
from typing import IO, Any

import pandas as pd
from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_format_date
from babel.numbers import NumberPattern, get_group_symbol, parse_pattern

DOMAIN = "messages"
ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
DATA_DIR = ROOT / "data"
DEFAULT_LANGUAGE = "en"

# The languages offered to users, each named in itself. French and Spanish catalogues are
# partial: what is not translated yet shows in English.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "zh_Hans": "简体中文",
    "fr": "Français",
    "es": "Español",
}
PARTIAL_LANGUAGES = frozenset({"fr", "es"})

_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "language", default=DEFAULT_LANGUAGE
)


def normalise_language(code: str | None) -> str:
    """The tracker's code for a language tag: ``"zh"``, ``"zh-CN"``, ``"zh_Hans"`` →
    ``"zh_Hans"``; ``"fr_CA"`` → ``"fr"``; ``""``/None → ``"en"``. Unknown languages are kept
    as given (they get English)."""
    if not code:
        return DEFAULT_LANGUAGE
    tag = code.replace("-", "_")
    base = tag.split("_", 1)[0].lower()
    if base == "zh":
        # Simplified Chinese is the only Chinese catalogue; better than English for any reader.
        return "zh_Hans"
    return base if base in LANGUAGES else tag


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    for code in dict.fromkeys((language.replace("-", "_"), normalise_language(language))):
        path = LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if path.is_file():
            with path.open("rb") as file:
                return gettext.GNUTranslations(file)
    return gettext.NullTranslations()


def set_language(code: str) -> None:
    """Use ``code`` (``"en"``, ``"zh_Hans"``, ``"zh_CN"``, ``"fr"``, …) for the texts of this
    thread from now on."""
    _language.set(code or DEFAULT_LANGUAGE)


def get_language() -> str:
    """The language code set for this thread, as given to :func:`set_language`."""
    return _language.get()


def t(msgid: str, /, *, plural: str | None = None, n: int | None = None, **kwargs: object) -> str:
    """The text ``msgid`` in the current language, formatted with ``kwargs`` (and ``n``).

    With ``plural``, the singular or the plural form for the number ``n``:
    ``t("{n} platform", plural="{n} platforms", n=3)``.
    """
    catalogue = _catalogue(get_language())
    if n is not None:
        kwargs["n"] = n
    if plural is not None:
        if n is None:
            raise TypeError("t(..., plural=...) needs the number n")
        return catalogue.ngettext(msgid, plural, n).format(**kwargs)
    return catalogue.gettext(msgid).format(**kwargs)


def N_(msgid: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    """Mark a text for translation where it is defined; :func:`t` translates it where shown."""
    return msgid


# --- Numbers and dates as a reader sees them ------------------------------------------------

MISSING = "—"

# Dates in English stay ISO 8601 (2020-12-31): the secretariat's convention, unambiguous for
# readers on every continent. Other languages get their own medium form (2020年12月31日,
# 31 déc. 2020, 31 dic 2020).
_DATE_FORMATS = {"en": "yyyy-MM-dd"}


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(normalise_language(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


# Parsed once: a table's column formats the same pattern hundreds of times per page.
@cache
def _percent_pattern(language: str, digits: int) -> NumberPattern:
    pattern = copy(_locale(language).percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return pattern


@cache
def _decimal_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * digits if digits > 0 else ""))


def format_percent(value: float | None, digits: int = 1) -> str:
    """0.3965 → '39.6%' (in French '39,6 %'); missing → '—'."""
    if _missing(value):
        return MISSING
    language = get_language()
    return _percent_pattern(language, digits).apply(value, _locale(language))


@cache
def _group_symbol(language: str) -> str:
    return get_group_symbol(_locale(language))


def format_count(value: float | None) -> str:
    """1234567 → '1,234,567' (in French '1 234 567'); missing → '—'."""
    if _missing(value):
        return MISSING
    language = get_language()
    if isinstance(value, int | float) and 0 <= value < 1e15:
        # what babel gives for a count (rounded half to even, grouped by threes), at a
        # tenth of the cost: a page's hover texts format thousands of them
        text = f"{round(value):,}"
        group = _group_symbol(language)
        return text if group == "," else text.replace(",", group)
    return _decimal_pattern(0).apply(value, _locale(language))


def format_number(value: float | None, digits: int = 1) -> str:
    """12.345 → '12.3' (in French '12,3'), with thousands separators; missing → '—'."""
    if _missing(value):
        return MISSING
    return _decimal_pattern(digits).apply(value, _locale(get_language()))


def format_date(value: dt.date | None) -> str:
    """2020-12-31 in English, 2020年12月31日 in Chinese, 31 déc. 2020 in French; missing → '—'."""
    if _missing(value):
        return MISSING
    language = normalise_language(get_language())
    fmt = _DATE_FORMATS.get(language, "medium")
    return _babel_format_date(value, fmt, locale=_locale(language))


# --- Names of species groups, countries and regions ------------------------------------------


def _wants_chinese(lang: str | None) -> bool:
    return normalise_language(lang or get_language()) == "zh_Hans"


@cache
def _species_names() -> dict[str, tuple[str, str]]:
    with (DATA_DIR / "species_groups.csv").open(encoding="utf-8", newline="") as file:
        return {r["slug"]: (r["name_en"], r["name_zh"]) for r in csv.DictReader(file)}


def species_name(slug_or_row: str | Mapping[str, Any] | Any, lang: str | None = None) -> str:
    """A species group's name in ``lang`` (default: the current language), English where there
    is no name in that language. Takes the group's slug (``"pangolins"``) or a row with
    ``name_en`` and ``name_zh`` (a dict, a pandas row or a named tuple)."""
    if isinstance(slug_or_row, str):
        names = _species_names().get(slug_or_row)
        if names is None:
            return slug_or_row
        name_en, name_zh = names
    else:
        get = slug_or_row.get if isinstance(slug_or_row, Mapping | pd.Series) else None
        name_en = get("name_en") if get else getattr(slug_or_row, "name_en", None)
        name_zh = get("name_zh") if get else getattr(slug_or_row, "name_zh", None)
    if _wants_chinese(lang) and name_zh and not _missing(name_zh):
        return str(name_zh)
    return str(name_en)


@cache
def _country_names() -> dict[str, tuple[str, str]]:
    from coalition.reference import countries_table  # the one list of countries, with fixes

    table = countries_table()
    return {r.iso3: (r.name_en, r.name_zh) for r in table.itertuples(index=False)}


@cache
def _pycountry_catalogue(language: str) -> gettext.NullTranslations:
    import pycountry

    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(iso3: str, lang: str | None = None) -> str:
    """A country's name (by ISO 3166 alpha-3 code) in ``lang`` (default: the current
    language): Chinese from the tracker's country table, French and Spanish from pycountry's
    catalogues, English otherwise. An unknown code is returned as given."""
    names = _country_names().get(iso3)
    if names is None:
        return iso3
    name_en, name_zh = names
    language = normalise_language(lang or get_language())
    if language == "zh_Hans":
        return name_zh or name_en
    if language in ("fr", "es"):
        import pycountry

        country = pycountry.countries.get(alpha_3=iso3)
        if country is not None:
            return _pycountry_catalogue(language).gettext(country.name)
    return name_en


# The tracker's row for records without a country (coalition.reference.GLOBAL).
GLOBAL_REGION = N_("Global / unspecified")


@cache
def _region_names() -> dict[str, dict[str, str]]:
    with (DATA_DIR / "region_names.csv").open(encoding="utf-8", newline="") as file:
        return {r["name_en"]: r for r in csv.DictReader(file)}


def region_name(name_en: str, lang: str | None = None) -> str:
    """A UN M49 region or subregion (by its English name, as stored: ``"Eastern Asia"``) in
    ``lang`` (default: the current language), from ``data/region_names.csv`` (the UN's own
    names). The tracker's row for records without a country is translated too."""
    language = normalise_language(lang or get_language())
    if name_en == GLOBAL_REGION:
        return _catalogue(lang or get_language()).gettext(GLOBAL_REGION)
    row = _region_names().get(name_en)
    if row is None:
        return name_en
    column = "name_zh" if language == "zh_Hans" else f"name_{language}"
    return row.get(column) or name_en


# --- Extraction (used by Babel through babel.cfg, and by scripts/messages.py) ----------------

# Which positional arguments of which calls are message ids (1-based), in pybabel's -k syntax.
# extract_messages reads t("…", plural="…", n=…) as t(msgid, plural): two arguments, "t:1,2,2t";
# t("…") has one, "t:1,1t". _error(code, msgid, …) is normalise.py's error constructor.
KEYWORDS = ("t:1,1t", "t:1,2,2t", "N_", "_error:2")
COMMENT_TAGS = ("Translators:",)


def extract_messages(
    fileobj: IO[bytes],
    keywords: Iterable[str],
    comment_tags: Iterable[str],
    options: dict[str, Any],
) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """A Babel extraction method for Python sources that reads calls the way the tracker writes
    them: positional arguments, then a ``plural=`` keyword taken as the next argument. Yields
    ``(line, function, arguments, comments)`` with None for an argument that is not a string
    literal (Babel then skips the call). Comments starting with a comment tag on the lines
    just above a call are passed on to translators."""
    encoding = options.get("encoding", "utf-8")
    source = fileobj.read().decode(encoding)
    lines = source.splitlines()
    names = set(keywords)
    tags = tuple(comment_tags)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in names:
            continue
        args: list[str | None] = [_literal(a) for a in node.args]
        for keyword in node.keywords:
            if keyword.arg == "plural":
                args.append(_literal(keyword.value))
        yield node.lineno, name, tuple(args), _comments_above(lines, node.lineno, tags)


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _comments_above(lines: list[str], lineno: int, tags: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        found.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    for i, text in enumerate(found):
        if tags and text.startswith(tags):
            return [" ".join(found[i:])]
    return []


_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def placeholders(text: str) -> list[str]:
    """The ``{…}`` fields of a :meth:`str.format` template, sorted (``{{`` and ``}}`` are
    literal braces, not fields)."""
    return sorted(m.group(1) for m in _FIELD.finditer(text) if m.group(1) is not None)
