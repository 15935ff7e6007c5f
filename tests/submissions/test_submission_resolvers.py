"""The species and country resolvers are built once per content of the reference tables and
kept between validations; a change to those tables gives new ones at the next validation."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from coalition.validation import resolvers, validate

TODAY = dt.date(2020, 6, 15)
HEADER = b"period,platform,species_group,country,listings_removed\r\n"


def _codes(db, data: bytes) -> list[tuple]:
    with db.read() as cur:
        report = validate(cur, "acme", data, "f.csv", today=TODAY).report
    return [(p.row, p.column, p.code) for p in report.errors]


def test_the_resolvers_are_kept_while_the_reference_tables_stay_the_same(db):
    with db.read() as cur:
        first = resolvers(cur)
    with db.write() as cur:  # a write that leaves the reference tables alone
        cur.execute("UPDATE partners SET consent_to_name = TRUE WHERE slug = 'acme'")
    with db.read() as cur:
        again = resolvers(cur)
    assert again[0] is first[0] and again[1] is first[1]


def test_a_new_synonym_is_read_at_the_next_validation(db):
    data = HEADER + b"2019-Q3,Acme Market,sea cows,VNM,4\r\n"
    assert _codes(db, data) == [(2, "species_group", "species_unknown")]
    with db.read() as cur:
        before = resolvers(cur)
    with db.write() as cur:
        cur.execute("INSERT INTO species_synonyms VALUES ('sea cows', 'other', 'synonym')")
    assert _codes(db, data) == []
    with db.read() as cur:
        assert resolvers(cur)[0] is not before[0]


def test_a_renamed_country_is_read_at_the_next_validation(db):
    data = HEADER + b"2019-Q3,Acme Market,ivory,Republic of Zubrowka,4\r\n"
    assert _codes(db, data) == [(2, "country", "country_unknown")]
    with db.read() as cur:
        name = cur.execute("SELECT name_en FROM countries WHERE iso3 = 'VNM'").fetchone()[0]
    rename = "UPDATE countries SET name_en = ? WHERE iso3 = 'VNM'"
    with db.write() as cur:
        cur.execute(rename, ["Republic of Zubrowka"])
    assert _codes(db, data) == []
    with db.write() as cur:  # and back: the first content again, so the first answer again
        cur.execute(rename, [name])
    assert _codes(db, data) == [(2, "country", "country_unknown")]


def test_a_write_rolled_back_leaves_the_resolvers_of_what_is_stored(db):
    data = HEADER + b"2019-Q3,Acme Market,sea cows,VNM,4\r\n"
    with pytest.raises(duckdb.Error, match="roll back"), db.write() as cur:
        cur.execute("INSERT INTO species_synonyms VALUES ('sea cows', 'other', 'synonym')")
        # inside the transaction the new synonym counts…
        assert validate(cur, "acme", data, "f.csv", today=TODAY).report.valid
        cur.execute("SELECT error('roll back')")  # …and then the write fails
    # (the transaction was rolled back: the stored tables never had it)
    assert _codes(db, data) == [(2, "species_group", "species_unknown")]
