"""Reference data: species groups, countries and regions, periods, targets.

Everything here is read from the files in ``data/`` (and, for country names, from pycountry and
its Simplified Chinese catalogue) and loaded into the database, which is then the one source of
truth for the rest of the tracker.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import duckdb
import pandas as pd
import pycountry

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FIRST_YEAR, LAST_YEAR = 2000, 2040
GLOBAL = "Global / unspecified"


def fold(text: str) -> str:
    """Lower case, single spaces: the form in which synonyms are stored and looked up."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def _read_csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / name, dtype=str, keep_default_na=False, **kwargs)


def species_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The species groups and every spelling that names one (slug, names, synonyms, taxa)."""
    groups = _read_csv("species_groups.csv")
    groups["sort_order"] = groups["sort_order"].astype(int)
    rows: dict[str, tuple[str, str]] = {}
    for g in groups.itertuples():
        for text, kind in ((g.slug, "slug"), (g.name_en, "name"), (g.name_zh, "name")):
            rows.setdefault(fold(text), (g.slug, kind))
    for s in _read_csv("species_synonyms.csv").itertuples():
        key = fold(s.synonym)
        if key in rows and rows[key][0] != s.species_group:
            raise ValueError(f"synonym {s.synonym!r} names two species groups")
        rows.setdefault(key, (s.species_group, s.kind))
    synonyms = pd.DataFrame(
        [(k, g, kind) for k, (g, kind) in rows.items()],
        columns=["synonym", "species_group", "kind"],
    )
    return groups, synonyms


def countries_table() -> pd.DataFrame:
    """Every ISO 3166 country with its English and Chinese name and its UN M49 region."""
    m49 = _read_csv("unsd_m49.csv", sep=";")
    by_iso3 = {r["ISO-alpha3 Code"]: r for r in m49.to_dict("records")}
    extra = {r["iso3"]: r for r in _read_csv("m49_supplement.csv").to_dict("records")}
    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    zh_fixes = dict(_read_csv("country_names_zh.csv")[["iso3", "name_zh"]].itertuples(index=False))
    rows = []
    for c in pycountry.countries:
        if c.alpha_3 in by_iso3:
            r = by_iso3[c.alpha_3]
            region = r["Region Name"] or "Antarctica"
            subregion = r["Sub-region Name"] or region
            intermediate = r["Intermediate Region Name"] or None
            code = r["M49 Code"]
        elif c.alpha_3 in extra:
            r = extra[c.alpha_3]
            region, subregion = r["region"], r["subregion"]
            intermediate = r["intermediate_region"] or None
            code = None
        else:
            raise ValueError(
                f"{c.alpha_3} ({c.name}) has no UN M49 region: add it to data/m49_supplement.csv"
            )
        name_en = getattr(c, "common_name", None) or c.name
        rows.append(
            (
                c.alpha_3,
                c.alpha_2,
                code,
                name_en,
                zh_fixes.get(c.alpha_3) or zh.gettext(c.name),
                region,
                subregion,
                intermediate,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "iso3",
            "iso2",
            "m49",
            "name_en",
            "name_zh",
            "region",
            "subregion",
            "intermediate_region",
        ],
    )


def periods_table() -> pd.DataFrame:
    """Every month and quarter from 2000 to 2040 with its dates."""
    rows = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            start = pd.Timestamp(year=year, month=month, day=1)
            q = f"{year}-Q{(month - 1) // 3 + 1}"
            label = f"{year}-{month:02d}"
            rows.append((label, "month", start, start + pd.offsets.MonthEnd(0), label, q, year, 1))
        for quarter in range(1, 5):
            start = pd.Timestamp(year=year, month=3 * quarter - 2, day=1)
            end = start + pd.offsets.MonthEnd(3)
            label = f"{year}-Q{quarter}"
            rows.append((label, "quarter", start, end, f"{year}-{3 * quarter:02d}", label, year, 3))
    df = pd.DataFrame(
        rows,
        columns=[
            "period",
            "kind",
            "start_date",
            "end_date",
            "end_month",
            "quarter",
            "year",
            "months",
        ],
    )
    df["start_date"] = df["start_date"].dt.date
    df["end_date"] = df["end_date"].dt.date
    return df


def load(cur: duckdb.DuckDBPyConnection) -> None:
    """Fill the reference tables (inside the caller's transaction). Safe to run again."""
    groups, synonyms = species_tables()
    countries = countries_table()
    periods = periods_table()
    targets = _read_csv("targets.csv")
    targets["reduction"] = targets["reduction"].astype(float)
    targets["is_default"] = targets["is_default"].str.lower().eq("true")
    cur.register("groups_df", groups)
    cur.register("synonyms_df", synonyms)
    cur.register("countries_df", countries)
    cur.register("periods_df", periods)
    cur.register("targets_df", targets)
    cur.execute(
        "INSERT OR IGNORE INTO species_groups "
        "SELECT slug, name_en, name_zh, cites_appendix, sort_order FROM groups_df"
    )
    cur.execute("INSERT OR IGNORE INTO species_synonyms SELECT * FROM synonyms_df")
    cur.execute("INSERT OR IGNORE INTO countries SELECT * FROM countries_df")
    cur.execute("INSERT OR IGNORE INTO periods SELECT * FROM periods_df")
    if cur.execute("SELECT count(*) FROM targets").fetchone()[0] == 0:
        cur.execute(
            "INSERT INTO targets (name, reduction, deadline, is_default) "
            "SELECT name, reduction, CAST(deadline AS DATE), is_default FROM targets_df"
        )
    for name in ("groups_df", "synonyms_df", "countries_df", "periods_df", "targets_df"):
        cur.unregister(name)
