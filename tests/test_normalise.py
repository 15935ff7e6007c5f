"""coalition.normalise: one spreadsheet cell at a time — periods, counts, species groups,
countries and free text — read from every spelling partners use, or refused with a ParseError
that says how to fix the cell."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import math
import pickle
import re
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from coalition import store
from coalition.db import Database
from coalition.normalise import (
    COUNTRY_ALIASES,
    CountryResolver,
    ParseError,
    SpeciesResolver,
    clean_text,
    parse_count,
    parse_period,
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The resolvers and the reference rows, from a real initialised database."""
    db = Database(tmp_path_factory.mktemp("normalise") / "x.duckdb")
    store.init(db)
    with db.read() as cur:
        return {
            "species": SpeciesResolver.from_db(cur),
            "countries": CountryResolver.from_db(cur),
            "country_rows": cur.execute(
                "SELECT iso3, iso2, name_en, name_zh FROM countries ORDER BY iso3"
            ).fetchall(),
            "synonym_rows": cur.execute(
                "SELECT synonym, species_group, kind FROM species_synonyms ORDER BY synonym"
            ).fetchall(),
            "groups": cur.execute(
                "SELECT slug, name_en, name_zh FROM species_groups ORDER BY sort_order"
            ).fetchall(),
        }


@pytest.fixture(scope="module")
def species(reference) -> SpeciesResolver:
    return reference["species"]


@pytest.fixture(scope="module")
def countries(reference) -> CountryResolver:
    return reference["countries"]


def code_of(call, *args) -> str | None:
    try:
        call(*args)
    except ParseError as exc:
        return exc.code
    return None


# --- Periods --------------------------------------------------------------------------------

PERIODS = [
    ("2019-07", "2019-07"),
    ("2019-7", "2019-07"),
    ("2019/07", "2019-07"),
    ("2019.07", "2019-07"),
    ("2019 07", "2019-07"),
    ("201907", "2019-07"),
    ("07/2019", "2019-07"),
    ("7/2019", "2019-07"),
    ("7-2019", "2019-07"),
    ("Jul 2019", "2019-07"),
    ("July 2019", "2019-07"),
    ("Jul-2019", "2019-07"),
    ("JULY, 2019", "2019-07"),
    ("2019 Jul", "2019-07"),
    ("Jul-19", "2019-07"),  # Excel's mmm-yy display, as a CSV saved from Excel holds it
    ("Sept. 2019", "2019-09"),
    ("août 2019", "2019-08"),
    ("diciembre 2019", "2019-12"),
    ("2019-Q3", "2019-Q3"),
    ("2019Q3", "2019-Q3"),
    ("2019 q3", "2019-Q3"),
    ("2019/Q3", "2019-Q3"),
    ("Q3 2019", "2019-Q3"),
    ("Q3-2019", "2019-Q3"),
    ("q3/2019", "2019-Q3"),
    ("Quarter 3, 2019", "2019-Q3"),
    ("3Q 2019", "2019-Q3"),
    ("2019 3Q", "2019-Q3"),
    ("2019年第3季度", "2019-Q3"),
    ("2019年第三季度", "2019-Q3"),
    ("2019年三季度", "2019-Q3"),
    ("2019年Q3", "2019-Q3"),
    ("2019年7月", "2019-07"),
    ("2019年07月", "2019-07"),
    ("2019年十二月", "2019-12"),
    ("2019-07-01", "2019-07"),
    ("2019-07-15 00:00:00", "2019-07"),
    ("2019-07-15T08:30:00", "2019-07"),
    ("2019/07/15", "2019-07"),
    ("2019年7月15日", "2019-07"),
    ("  2019-07  ", "2019-07"),
    ("２０１９－０７", "2019-07"),  # full-width
    ("２０１９年第３季度", "2019-Q3"),
    ("2019–07", "2019-07"),  # an en dash
    (dt.datetime(2019, 7, 15, 13, 5), "2019-07"),
    (dt.date(2019, 7, 1), "2019-07"),
    (201907, "2019-07"),
    (2019.07, "2019-07"),
    ("2000-01", "2000-01"),
    ("2040-Q4", "2040-Q4"),
]


@pytest.mark.parametrize(("value", "expected"), PERIODS, ids=repr)
def test_period_spellings(value, expected):
    assert parse_period(value) == expected


PERIOD_ERRORS = [
    (None, "period_missing"),
    ("", "period_missing"),
    ("   ", "period_missing"),
    ("2019", "period_unparseable"),  # a year is not a period
    ("2019-13", "period_unparseable"),
    ("2019-00", "period_unparseable"),
    ("2019-Q5", "period_unparseable"),
    ("2019-Q0", "period_unparseable"),
    ("1999-07", "period_unparseable"),
    ("2041-Q1", "period_unparseable"),
    (dt.date(1999, 12, 1), "period_unparseable"),
    ("15/07/2019", "period_unparseable"),  # day first or month first: the month is a guess
    ("2019-02-30", "period_unparseable"),
    ("Foo 2019", "period_unparseable"),
    ("H1 2019", "period_unparseable"),
    ("last quarter", "period_unparseable"),
    (2019.1, "period_unparseable"),  # 2019.10 without its zero, or January?
    (43647, "period_unparseable"),  # an Excel serial number
    (True, "period_unparseable"),
    (dt.time(7, 0), "period_unparseable"),
    (dt.timedelta(days=3), "period_unparseable"),
    (math.nan, "period_unparseable"),
]


@pytest.mark.parametrize(("value", "code"), PERIOD_ERRORS, ids=repr)
def test_period_errors(value, code):
    assert code_of(parse_period, value) == code


def test_a_period_message_says_what_is_wrong_and_how_to_fix_it():
    with pytest.raises(ParseError) as exc:
        parse_period("Foo 2019")
    assert exc.value.message == (
        "'Foo 2019' is not a period: write a month as 2019-07 or a quarter as 2019-Q3."
    )
    assert str(exc.value) == exc.value.message
    assert isinstance(exc.value, ValueError)
    copy = pickle.loads(pickle.dumps(exc.value))
    assert (copy.code, copy.message, copy.params) == (
        "period_unparseable",
        exc.value.message,
        {"value": "Foo 2019"},
    )
    with pytest.raises(ParseError, match="outside the years the tracker covers"):
        parse_period("1999-07")


ZH_DIGITS = "一二三四"


@given(st.integers(2000, 2040), st.integers(1, 12), st.integers(1, 28))
def test_every_month_round_trips(year, month, day):
    expected = f"{year}-{month:02d}"
    spellings = [
        expected,
        f"{year}-{month}",
        f"{year}/{month:02d}",
        f"{month:02d}/{year}",
        f"{month}/{year}",
        f"{year}{month:02d}",
        f"{year}年{month}月",
        f"{year}年{month:02d}月",
        f"{calendar.month_abbr[month]} {year}",
        f"{calendar.month_name[month]} {year}",
        f"{year}-{month:02d}-{day:02d}",
        f"{year}-{month:02d}-{day:02d} 00:00:00",
        dt.date(year, month, day),
        dt.datetime(year, month, day, 12, 30),
    ]
    for spelling in spellings:
        assert parse_period(spelling) == expected, spelling


@given(st.integers(2000, 2040), st.integers(1, 4))
def test_every_quarter_round_trips(year, quarter):
    expected = f"{year}-Q{quarter}"
    spellings = [
        expected,
        f"{year}Q{quarter}",
        f"{year} q{quarter}",
        f"Q{quarter} {year}",
        f"Q{quarter}-{year}",
        f"{quarter}Q {year}",
        f"{year}年第{quarter}季度",
        f"{year}年第{ZH_DIGITS[quarter - 1]}季度",
        f"{year}年Q{quarter}",
    ]
    for spelling in spellings:
        assert parse_period(spelling) == expected, spelling


@given(st.integers(1000, 9999).filter(lambda y: not 2000 <= y <= 2040), st.integers(1, 12))
def test_years_outside_2000_to_2040_are_refused(year, month):
    for spelling in (f"{year}-{month:02d}", f"{year}-Q{(month + 2) // 3}", f"{year}年{month}月"):
        assert code_of(parse_period, spelling) == "period_unparseable"


# --- Counts ---------------------------------------------------------------------------------

COUNTS = [
    (None, None),
    ("", None),
    ("   ", None),
    (0, 0),
    (12, 12),
    (12.0, 12),
    (-0.0, 0),
    (2.9999999999999996, 3),  # floating-point noise in a formula's result
    ("12", 12),
    ("1,234", 1234),
    ("1,234,567", 1234567),
    ("1 234", 1234),
    ("1\u00a0234", 1234),  # no-break space
    ("1\u202f234", 1234),  # narrow no-break space
    ("1'234", 1234),
    ("1’234", 1234),
    ("12,34,567", 1234567),  # Indian grouping
    ("１２３４", 1234),  # full-width
    ("１，２３４", 1234),
    ("12.0", 12),
    ("12.00", 12),
    ("1,234.00", 1234),
    ("+5", 5),
    ("  42 ", 42),
    (10**12, 10**12),
]


@pytest.mark.parametrize(("value", "expected"), COUNTS, ids=repr)
def test_count_spellings(value, expected):
    assert parse_count(value) == expected


COUNT_ERRORS = [
    ("-3", "count_negative"),
    (-3, "count_negative"),
    (-3.0, "count_negative"),
    ("−3", "count_negative"),  # a minus sign
    ("-3.5", "count_negative"),
    (12.5, "count_not_whole"),
    ("12.5", "count_not_whole"),
    ("12,5", "count_not_whole"),  # a decimal comma
    ("1.234", "count_not_whole"),  # 1.234, or 1234 with a thousands dot: not guessed
    ("1.234.567", "count_not_whole"),
    ("n/a", "count_not_number"),
    ("NA", "count_not_number"),
    ("-", "count_not_number"),
    ("about 50", "count_not_number"),
    ("~50", "count_not_number"),
    ("50+", "count_not_number"),
    ("12 34", "count_not_number"),  # two numbers?
    ("1,2345", "count_not_number"),
    ("=SUM(A1:A3)", "count_not_number"),
    ("1.2E+05", "count_not_number"),
    (math.nan, "count_not_number"),
    (math.inf, "count_not_number"),
    (-math.inf, "count_not_number"),
    ("nan", "count_not_number"),
    (True, "count_not_number"),
    (dt.date(2019, 1, 2), "count_not_number"),
    (dt.time(1, 2), "count_not_number"),
    (10**12 + 1, "count_too_large"),
    ("1,000,000,000,001", "count_too_large"),
    (1e15, "count_too_large"),
]


@pytest.mark.parametrize(("value", "code"), COUNT_ERRORS, ids=repr)
def test_count_errors(value, code):
    assert code_of(parse_count, value) == code


def test_count_messages_say_how_to_fix_the_cell():
    def message(value):
        with pytest.raises(ParseError) as exc:
            parse_count(value)
        return exc.value.message

    assert "cannot be negative" in message("-3")
    assert "write 1234 (without the dot) or 1,234" in message("1.234")
    assert "type the number itself" in message("=SUM(A1:A3)")
    assert "leave the cell blank if it was not reported" in message("n/a")
    assert message("n/a").startswith("'n/a' is not a number")


SEPARATORS = [",", " ", "\u00a0", "\u202f", "'"]


@given(st.integers(0, 10**12), st.sampled_from(SEPARATORS))
def test_any_count_parses_back_to_itself(n, separator):
    grouped = f"{n:,}".replace(",", separator)
    for spelling in (n, str(n), grouped, float(n), str(float(n)), f"{n}.0", f"+{n}"):
        assert parse_count(spelling) == n, spelling


@given(st.integers(max_value=-1))
def test_negative_counts_are_refused(n):
    for spelling in (n, str(n), f"{n:,}", float(n)):
        assert code_of(parse_count, spelling) == "count_negative", spelling


# --- Free text ------------------------------------------------------------------------------


def test_clean_text():
    assert clean_text("  Manis javanica ") == "Manis javanica"
    assert clean_text(None) is None
    assert clean_text("   ") is None
    assert clean_text(12.0) == "12"
    assert clean_text("x" * 500) == "x" * 500
    with pytest.raises(ParseError) as exc:
        clean_text("x" * 501)
    assert exc.value.code == "text_too_long"
    assert "501 characters" in exc.value.message and "500" in exc.value.message
    assert code_of(clean_text, "abcdef", 5) == "text_too_long"


# --- Species groups -------------------------------------------------------------------------

SPECIES = [
    ("elephants", "elephants"),
    ("Elephants", "elephants"),
    ("Elephants (ivory)", "elephants"),
    ("elephants ivory", "elephants"),
    ("大象（象牙）", "elephants"),
    ("大象(象牙)", "elephants"),
    ("ivory", "elephants"),
    ("象牙", "elephants"),
    ("  IVORY  ", "elephants"),
    ("ｉｖｏｒｙ", "elephants"),
    ("rhino horn", "rhinoceroses"),
    ("犀牛角", "rhinoceroses"),
    ("rhinos", "rhinoceroses"),
    ("pangolin scales", "pangolins"),
    ("穿山甲", "pangolins"),
    ("tiger", "big_cats"),
    ("老虎", "big_cats"),
    ("big_cats", "big_cats"),
    ("big cats", "big_cats"),
    ("Big-Cats", "big_cats"),
    ("hawksbill", "marine_turtles"),
    ("玳瑁", "marine_turtles"),
    ("Sharks  and   rays", "sharks_rays"),
    ("Manis javanica", "pangolins"),
    ("manis javanica", "pangolins"),
    ("MANIS", "pangolins"),
    ("Manis javanica scales", "pangolins"),  # the longest listed prefix
    ("Manis culionensis", "pangolins"),  # a binomial of a listed genus
    ("Panthera tigris altaica", "big_cats"),
    ("Ursus maritimus", "bears"),  # the genus of listed Ursus thibetanus
    ("Loxodonta africana", "elephants"),
    ("tiger bone wine", "big_cats"),
    ("象牙制品", "elephants"),  # ivory products
    ("犀牛角粉", "rhinoceroses"),
    ("other", "other"),
    ("其他", "other"),
    ("helmeted_hornbill", "helmeted_hornbill"),
    ("鹤顶红", "helmeted_hornbill"),
]


@pytest.mark.parametrize(("value", "expected"), SPECIES, ids=repr)
def test_species_spellings(species, value, expected):
    assert species.resolve(value) == expected


SPECIES_ERRORS = [
    (None, "species_missing"),
    ("", "species_missing"),
    ("  ", "species_missing"),
    ("xyz", "species_unknown"),
    ("elephnts", "species_unknown"),
    ("熊猫", "species_unknown"),  # not 熊 (bears) plus a character: one character is too little
    ("other birds", "species_unknown"),  # "other" as a prefix does not file it under other
    (12, "species_unknown"),
    (True, "species_unknown"),
]


@pytest.mark.parametrize(("value", "code"), SPECIES_ERRORS, ids=repr)
def test_species_errors(species, value, code):
    assert code_of(species.resolve, value) == code


def test_unknown_species_suggest_close_groups(species):
    with pytest.raises(ParseError) as exc:
        species.resolve("elephnts")
    assert exc.value.suggestions[0] == "elephants (Elephants (ivory))"
    assert exc.value.message == (
        "'elephnts' is not a species group: use one from the list, e.g. "
        "elephants (Elephants (ivory))."
    )
    with pytest.raises(ParseError) as exc:
        species.resolve("xyz")
    assert exc.value.suggestions == ()
    assert "use one from the list, e.g. elephants" in exc.value.message


def test_every_synonym_resolves_to_its_group(reference, species):
    for synonym, group, _ in reference["synonym_rows"]:
        assert species.resolve(synonym) == group, synonym
        assert species.resolve(synonym.upper()) == group, synonym
    for slug, name_en, name_zh in reference["groups"]:
        assert species.resolve(slug) == species.resolve(name_en) == slug
        assert species.resolve(name_zh) == slug


LATIN = re.compile(r"[a-z ]{5,}")


@given(st.data())
def test_a_one_letter_typo_suggests_the_right_group(reference, species, data):
    names = sorted(
        {s for s, _, _ in reference["synonym_rows"] if LATIN.fullmatch(s)}
        | {n.casefold() for _, n, _ in reference["groups"] if LATIN.fullmatch(n.casefold())}
    )
    name = data.draw(st.sampled_from(names))
    group = species.resolve(name)
    at = data.draw(st.integers(0, len(name) - 1))
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    replaced, dropped = name[:at] + letter + name[at + 1 :], name[:at] + name[at + 1 :]
    typo = data.draw(st.sampled_from([replaced, dropped]))
    assume(typo.strip() and typo != name)
    try:
        species.resolve(typo)
    except ParseError as exc:
        assert species.label(group) in exc.suggestions, (name, typo)
    else:
        assume(False)  # the typo is itself a spelling of some group


# --- Countries ------------------------------------------------------------------------------

COUNTRIES = [
    ("VNM", "VNM"),
    ("vnm", "VNM"),
    ("VN", "VNM"),
    ("Viet Nam", "VNM"),
    ("Vietnam", "VNM"),
    ("VIETNAM", "VNM"),
    ("越南", "VNM"),
    ("704", "VNM"),  # UN M49
    (704, "VNM"),
    ("004", "AFG"),
    (" 4 ", "AFG"),
    (4, "AFG"),
    ("China, Hong Kong Special Administrative Region", "HKG"),
    ("Hong Kong SAR", "HKG"),
    ("Hong Kong", "HKG"),
    ("Hongkong", "HKG"),
    ("HK", "HKG"),
    ("香港", "HKG"),
    ("中国香港", "HKG"),
    ("香港特别行政区", "HKG"),
    ("Macau", "MAC"),
    ("Macao", "MAC"),
    ("澳门", "MAC"),
    ("Taiwan", "TWN"),
    ("台湾", "TWN"),
    ("中国", "CHN"),
    ("China", "CHN"),
    ("PRC", "CHN"),
    ("USA", "USA"),
    ("US", "USA"),
    ("U.S.A.", "USA"),
    ("u.s.", "USA"),
    ("United States", "USA"),
    ("United States of America", "USA"),
    ("美国", "USA"),
    ("UK", "GBR"),
    ("Great Britain", "GBR"),
    ("United Kingdom", "GBR"),
    ("英国", "GBR"),
    ("South Korea", "KOR"),
    ("Korea", "KOR"),
    ("Republic of Korea", "KOR"),
    ("韩国", "KOR"),
    ("North Korea", "PRK"),
    ("Russia", "RUS"),
    ("Russian Federation", "RUS"),
    ("Laos", "LAO"),
    ("Lao PDR", "LAO"),
    ("Turkey", "TUR"),
    ("Türkiye", "TUR"),
    ("Turkiye", "TUR"),
    ("Ivory Coast", "CIV"),
    ("Côte d'Ivoire", "CIV"),
    ("Cote d’Ivoire", "CIV"),
    ("COTE D IVOIRE", "CIV"),
    ("DR Congo", "COD"),
    ("DRC", "COD"),
    ("Democratic Republic of the Congo", "COD"),
    ("Congo-Brazzaville", "COG"),
    ("Congo", "COG"),
    ("Tanzania", "TZA"),
    ("Iran", "IRN"),
    ("Syria", "SYR"),
    ("Bolivia", "BOL"),
    ("Venezuela", "VEN"),
    ("Czech Republic", "CZE"),
    ("Czechia", "CZE"),
    ("Burma", "MMR"),
    ("Myanmar", "MMR"),
    ("Swaziland", "SWZ"),
    ("Eswatini", "SWZ"),
    ("Macedonia", "MKD"),
    ("Palestine", "PSE"),
    ("Micronesia", "FSM"),
    ("St. Lucia", "LCA"),
    ("the Netherlands", "NLD"),
    ("The Gambia", "GMB"),
    ("日本", "JPN"),
    ("泰国", "THA"),
    ("马来西亚", "MYS"),
    ("印度尼西亚", "IDN"),
    ("尼日利亚", "NGA"),
    ("南非", "ZAF"),
    ("  viet   nam ", "VNM"),
    ("ＶＮＭ", "VNM"),
    ("NA", "NAM"),  # Namibia's code; "n/a" is global
]


@pytest.mark.parametrize(("value", "expected"), COUNTRIES, ids=repr)
def test_country_spellings(countries, value, expected):
    assert countries.resolve(value) == expected


GLOBAL = [
    None,
    "",
    "  ",
    "global",
    "Global",
    "worldwide",
    "all",
    "unspecified",
    "n/a",
    "N/A",
    "-",
    "全球",
    "全部",
    "未指明",
]


@pytest.mark.parametrize("value", GLOBAL, ids=repr)
def test_blank_and_global_words_mean_no_country(countries, value):
    assert countries.resolve(value) is None


COUNTRY_ERRORS = ["Narnia", "Vietnm", "Europe", "XX", "N / A", "999", 999, True, 3.5]


@pytest.mark.parametrize("value", COUNTRY_ERRORS, ids=repr)
def test_unknown_countries(countries, value):
    assert code_of(countries.resolve, value) == "country_unknown"


def test_unknown_country_message_and_suggestions(countries):
    with pytest.raises(ParseError) as exc:
        countries.resolve("Narnia")
    assert exc.value.message == (
        "'Narnia' is not a country or territory: use an ISO code (VNM) or a name (Viet Nam); "
        "leave it blank for global."
    )
    assert len(exc.value.suggestions) <= 3
    assert all(re.fullmatch(r"[A-Z]{3} \(.+\)", s) for s in exc.value.suggestions)
    with pytest.raises(ParseError) as exc:
        countries.resolve("Germny")
    assert exc.value.suggestions[0] == "DEU (Germany)"
    with pytest.raises(ParseError) as exc:
        countries.resolve("Vietnm")
    assert "VNM (Vietnam)" in exc.value.suggestions


def test_every_country_resolves_from_its_codes_and_names(reference, countries):
    for iso3, iso2, name_en, name_zh in reference["country_rows"]:
        for spelling in (iso3, iso2, iso3.lower(), iso2.lower(), name_en, name_zh):
            assert countries.resolve(spelling) == iso3, spelling
        assert countries.resolve(name_en.upper()) == iso3, name_en


def test_every_alias_resolves_to_its_country(countries):
    """No alias is shadowed by an official name or code of another country."""
    with COUNTRY_ALIASES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "data/country_aliases.csv is empty"
    for row in rows:
        assert countries.resolve(row["alias"]) == (row["iso3"] or None), row


# --- Any input at all -----------------------------------------------------------------------

CELLS = st.one_of(
    st.text(),
    st.text(alphabet="0123456789,. '-+年月季度第Qq/:\u00a0").map(str.strip),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.timedeltas(),
)


@given(CELLS)
def test_nothing_but_a_parse_error_escapes(reference, value):
    parsers = (
        parse_period,
        parse_count,
        clean_text,
        reference["species"].resolve,
        reference["countries"].resolve,
    )
    for parse in parsers:
        try:
            parse(value)
        except ParseError as exc:
            assert exc.code and exc.message
        # any other exception fails the test


# --- Speed ----------------------------------------------------------------------------------


def test_the_common_case_is_fast(species, countries):
    """The validator calls these for every cell of 200,000 rows; 50,000 calls of each stay far
    below a second (they take a few hundredths on a laptop)."""
    started = time.perf_counter()
    for i in range(50_000):
        parse_count(i)
        parse_count(f"{i:,}")
        parse_period("2019-Q3")
        parse_period(dt.datetime(2019, 1 + i % 12, 1))
        species.resolve("ivory")
        countries.resolve("VNM")
    assert time.perf_counter() - started < 5
