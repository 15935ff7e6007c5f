"""The viewer rule (metrics.access): what a partner and an observer may see.

Exact cases on a small database, and a property over random databases: no figure shown to an
observer or a partner is built from one or two partners who are protected from that viewer
(not consenting to be named, not the viewer's own company).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics
from coalition.db import Database
from metrics import OBSERVER, SECRETARIAT, Filters, Viewer
from metrics.access import OTHER


def _tests_conftest():
    # tests/conftest.py by path: with tests/app/conftest.py collected in the same run, the name
    # "conftest" may stand for that one instead
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_access_fixture_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load = _tests_conftest().load
JOINED = dt.date(2018, 1, 1)
# partner, sector, consents, platform
PARTNERS = [
    ("ali", "e-commerce", False, "AliShop"),
    ("bo", "e-commerce", False, "BoMarket"),
    ("cy", "e-commerce", False, "CyMall"),
    ("dee", "search", True, "DeeFind"),
    ("eve", "social-media", False, "EveNet"),
]


def _row(platform, period, removed, species="elephants", country="CHN"):
    return (platform, period, species, country, removed, 0, None, None)


@pytest.fixture(scope="module")
def five(build_db) -> duckdb.DuckDBPyConnection:
    db = build_db(
        [(slug, sector, JOINED, [platform]) for slug, sector, _, platform in PARTNERS],
        [
            dict(
                partner=slug,
                uploaded_at=dt.datetime(2019, 4, 1),
                rows=[_row(platform, "2019-Q1", 10 * (i + 1))]
                + ([_row(platform, "2019-Q2", 5)] if slug in ("ali", "eve") else []),
            )
            for i, (slug, _, _, platform) in enumerate(PARTNERS)
        ],
    )
    with db.write() as cur:
        cur.execute("UPDATE partners SET consent_to_name = TRUE WHERE slug = 'dee'")
    with db.read() as cur:
        yield cur


def by_sector(con, viewer, grain="quarter"):
    frame = metrics.actions(con, Filters(viewer=viewer), by="sector", grain=grain)
    return {(r.group, r.period): (r.actions, r.withheld) for r in frame.itertuples()}


def test_secretariat_sees_every_group(five):
    assert by_sector(five, SECRETARIAT) == {
        ("e-commerce", "2019-Q1"): (60, False),
        ("e-commerce", "2019-Q2"): (5, False),
        ("search", "2019-Q1"): (40, False),
        ("social-media", "2019-Q1"): (50, False),
        ("social-media", "2019-Q2"): (5, False),
    }


def test_observer_sees_groups_of_three_or_consenting_and_the_rest_merged_or_withheld(five):
    shown = by_sector(five, OBSERVER)
    # e-commerce: 3 protected partners in Q1; in Q2 only ali reported, so that figure is withheld
    assert shown[("e-commerce", "2019-Q1")] == (60, False)
    assert shown[("e-commerce", "2019-Q2")][1] is True
    assert pd.isna(shown[("e-commerce", "2019-Q2")][0])
    # search: one partner, but it consented to be named
    assert shown[("search", "2019-Q1")] == (40, False)
    # social-media: one protected partner → merged into Other, which is still one: withheld
    assert ("social-media", "2019-Q1") not in shown
    assert shown[(OTHER, "2019-Q1")][1] is True
    assert pd.isna(shown[(OTHER, "2019-Q1")][0])


def test_partner_sees_its_own_group_and_not_others(five):
    shown = by_sector(five, Viewer("partner", "eve"))
    assert shown[("social-media", "2019-Q1")] == (50, False)  # its own
    assert shown[("e-commerce", "2019-Q1")] == (60, False)
    assert shown[("e-commerce", "2019-Q2")][1] is True


def test_partner_cannot_subtract_itself_from_a_pair(five):
    # ali's view of e-commerce + ... : bo and cy alone are two protected partners
    frame = metrics.actions(
        five, Filters(partners=("ali", "bo"), viewer=Viewer("partner", "ali")), grain=None
    )
    assert frame["withheld"].tolist() == [True]
    frame = metrics.actions(five, Filters(partners=("ali",), viewer=Viewer("partner", "ali")))
    assert frame["withheld"].tolist() == [False, False]


def test_observer_by_platform_names_only_consenting_platforms(five):
    frame = metrics.actions(five, Filters(viewer=OBSERVER), by="platform", grain=None)
    assert sorted(frame["group"]) == ["DeeFind", OTHER]
    assert frame.set_index("group").loc[OTHER, "actions"] == 10 + 20 + 30 + 50 + 5 + 5


def test_coalition_headline_is_the_same_for_everyone(five):
    totals = {
        str(v): metrics.actions(five, Filters(viewer=v), grain=None)["actions"].iloc[0]
        for v in (SECRETARIAT, OBSERVER, Viewer("partner", "bo"))
    }
    assert set(totals.values()) == {160}


def test_viewer_parse_and_errors():
    assert Viewer.parse("partner:acme") == Viewer("partner", "acme")
    assert Viewer.parse("observer") == OBSERVER
    assert str(Viewer("partner", "acme")) == "partner:acme"
    for bad in ("partner", "partner:", "observer:x", "boss"):
        with pytest.raises(ValueError):
            Viewer.parse(bad)


# --- The property ----------------------------------------------------------------------------

SECTORS = ("e-commerce", "social-media", "search", "other")
SPECIES = ("elephants", "pangolins")
COUNTRIES = ("CHN", "KEN", "BRA")
QUARTERS = ("2019-Q1", "2019-Q2", "2019-Q3")

partner_st = st.tuples(st.sampled_from(SECTORS), st.booleans(), st.integers(1, 2))
row_st = st.tuples(
    st.integers(0, 7),  # partner index (modulo the number of partners)
    st.integers(0, 1),  # platform index (modulo its platforms)
    st.sampled_from(QUARTERS),
    st.sampled_from(SPECIES),
    st.sampled_from(COUNTRIES),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(1, 20),
    st.integers(10, 100),
)


def group_of(frame: pd.DataFrame, by: str | None) -> pd.Series:
    column = {
        None: None,
        "platform": "platform",
        "platform_kind": "platform_kind",
        "species_region": "species_region",
        "species_group": "species_group",
        "region": "region",
        "subregion": "subregion",
        "country": "country",
        "partner": "partner",
        "sector": "sector",
    }[by]
    return pd.Series("All", index=frame.index) if column is None else frame[column]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    partners=st.lists(partner_st, min_size=2, max_size=8),
    rows=st.lists(row_st, min_size=1, max_size=40),
    viewer_index=st.integers(-1, 7),
)
def test_no_figure_shown_rests_on_one_or_two_protected_partners(
    empty_db_file, tmp_path_factory, partners, rows, viewer_index
):
    path = tmp_path_factory.mktemp("access") / "c.duckdb"
    shutil.copyfile(empty_db_file, path)
    slugs = [f"p{i}" for i in range(len(partners))]
    spec = [
        (slug, sector, JOINED, [f"{slug}-site{j}" for j in range(n)])
        for slug, (sector, _, n) in zip(slugs, partners, strict=True)
    ]
    keyed = {}
    for p, j, quarter, species, country, removed, blocked, detected, effort in rows:
        slug, (_, _, n) = slugs[p % len(slugs)], partners[p % len(slugs)]
        key = (f"{slug}-site{j % n}", quarter, species, country)
        keyed[key] = (slug, (*key, removed, blocked, detected, effort))
    submissions = {}
    for slug, row in keyed.values():
        submissions.setdefault(slug, []).append(row)
    db = load(
        Database(path),
        spec,
        [
            dict(partner=slug, uploaded_at=dt.datetime(2019, 11, 1), rows=r)
            for slug, r in submissions.items()
        ],
    )
    with db.write() as cur:
        for slug, (_, consents, _) in zip(slugs, partners, strict=True):
            cur.execute("UPDATE partners SET consent_to_name = ? WHERE slug = ?", [consents, slug])
    viewer = OBSERVER if viewer_index < 0 else Viewer("partner", slugs[viewer_index % len(slugs)])
    consenting = {s for s, (_, c, _) in zip(slugs, partners, strict=True) if c}

    with db.read() as cur:
        facts = cur.execute(
            "SELECT f.*, p.kind AS platform_kind, f.species_group || '|' || f.region "
            "AS species_region FROM facts AS f JOIN platforms AS p ON p.id = f.platform_id"
        ).df()
        facts["country"] = facts["country"].fillna("Global / unspecified")
        protected = ~facts["partner"].isin(consenting) & (facts["partner"] != viewer.partner)
        for by in (None, *metrics.BREAKDOWNS):
            named = group_of(facts, by)
            for name, func in (
                ("actions", metrics.actions),
                ("detection_rate", metrics.detection_rate),
                ("proactive_share", metrics.proactive_share),
            ):
                out = func(cur, Filters(viewer=viewer), by=by, grain="quarter")
                shown_groups = set(out["group"]) - {OTHER}
                for row in out[~out["withheld"]].itertuples():
                    if row.group == OTHER:
                        in_group = ~named.isin(shown_groups)
                    else:
                        in_group = named == row.group
                    cell = facts[in_group & (facts["quarter"] == row.period) & protected]
                    n = cell["partner"].nunique()
                    assert n == 0 or n >= 3, (name, by, row)
            # the reduction: a group shown must not rest on one or two protected partners
            out = metrics.reduction_series(cur, Filters(viewer=viewer), by=by)
            shown_groups = set(out["group"]) - {OTHER}
            for group in set(out.loc[~out["withheld"], "group"]):
                in_group = ~named.isin(shown_groups) if group == OTHER else named == group
                n = facts.loc[in_group & protected, "partner"].nunique()
                assert n == 0 or n >= 3, ("reduction", by, group)


def test_only_the_secretariat_can_include_submitted_data(activity):
    def total(viewer):
        frame = metrics.actions(
            activity, Filters(include_submitted=True, viewer=viewer, partners=("socialco",)),
            grain=None,
        )  # fmt: skip
        return frame["actions"].iloc[0]

    # socialco's pending 2019-03 row (200 actions) counts only for the secretariat
    assert total(SECRETARIAT) - total(Viewer("partner", "socialco")) == 200
