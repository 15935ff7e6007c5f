"""The pre-aggregated tables (coalition/rollup.py, metrics/rollups.py).

Every indicator must give the same figures on the rollups as on ``facts``, for every breakdown,
filter and viewer — a property over random databases with blank counts, corrections, pending
submissions and consent — and the rollups must be used only while they describe the data:
updated after every write (only the platforms that changed), ignored when stale.
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
from coalition import rollup, store
from coalition.db import Database
from metrics import OBSERVER, SECRETARIAT, Filters, Viewer, rollups


def _tests_conftest():
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_rollup_fixture_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _tests_conftest()
JOINED = dt.date(2018, 1, 1)


@pytest.fixture(autouse=True)
def rollups_for_any_size(monkeypatch):
    """Keep rollups whatever the number of records (the test databases are small), with
    rollup_cells a table as at scale (its view, kept for small databases, is tested apart)."""
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "0")
    monkeypatch.setenv(rollup.CELLS_MIN_RECORDS_ENV, "0")


# one breakdown for each rollup table (and one that joins another table: platform kinds)
BREAKDOWNS = (None, "platform_kind", "species_group", "subregion", "country", "species_region")


def every_figure(cur: duckdb.DuckDBPyConnection, flt: Filters) -> dict[str, pd.DataFrame]:
    """Each indicator, for a breakdown of each table, as the pages and the command line ask."""
    out: dict[str, pd.DataFrame] = {}
    for by in BREAKDOWNS:
        out[f"actions {by}"] = metrics.actions(cur, flt, by=by)
        out[f"actions total {by}"] = metrics.actions(cur, flt, by=by, grain=None)
        out[f"detection {by}"] = metrics.detection_rate(cur, flt, by=by, grain=None)
        out[f"proactive {by}"] = metrics.proactive_share(cur, flt, by=by)
        out[f"proactive total {by}"] = metrics.proactive_share(cur, flt, by=by, grain=None)
        out[f"reduction {by}"] = metrics.reduction_series(cur, flt, by=by)
    for by in (None, "platform", "partner", "sector"):
        out[f"coverage {by}"] = metrics.reporting_coverage(cur, flt, by=by)
    out["progress"] = metrics.progress(cur, flt)
    out["progress platform"] = metrics.progress(cur, flt, by="platform")
    out["projection"] = metrics.projection(cur, flt)
    return out


def on_facts(cur: duckdb.DuckDBPyConnection, flt: Filters) -> dict[str, pd.DataFrame]:
    """The same figures with the rollups out of the way (their stamp cleared, then put back)."""
    cur.begin()
    try:
        cur.execute("DELETE FROM meta WHERE key = ?", [rollups.STAMP_KEY])
        assert not rollups.fresh(cur)
        return every_figure(cur, flt)
    finally:
        cur.rollback()


def assert_same(fast: dict[str, pd.DataFrame], slow: dict[str, pd.DataFrame]) -> None:
    assert fast.keys() == slow.keys()
    for name in fast:
        pd.testing.assert_frame_equal(
            fast[name].reset_index(drop=True),
            slow[name].reset_index(drop=True),
            check_dtype=False,
            rtol=1e-12,
            obj=name,
        )


def test_fixture_databases_give_the_same_figures(build_db):
    for partners, submissions, baselines in (
        (fixtures.ACTIVITY_PARTNERS, fixtures.ACTIVITY_SUBMISSIONS, []),
        (fixtures.PANEL_PARTNERS, fixtures.PANEL_SUBMISSIONS, []),
        (
            fixtures.PANEL_PARTNERS,
            fixtures.PANEL_SUBMISSIONS,
            [("AlphaMart", "2019-Q1", "2019-Q2")],
        ),
    ):
        db = build_db(partners, submissions, baselines)
        with db.read() as cur:
            assert rollups.fresh(cur)
            for flt in (
                Filters(include_submitted=True),
                Filters(viewer=OBSERVER, regions=("Asia",), period_to="2019-Q4"),
                Filters(species_groups=("elephants",), countries=("CHN", "USA")),
                Filters(period_from="2019-Q2"),  # a start only: not the all-time tables
            ):
                assert_same(every_figure(cur, flt), on_facts(cur, flt))
            # the filter bar's period range
            months = store.data_months(cur)
            assert months is not None
            cur.begin()
            cur.execute("DELETE FROM meta WHERE key = ?", [rollups.STAMP_KEY])
            assert store.data_months(cur) == months
            cur.rollback()


def test_blank_counts_are_kept_apart(build_db):
    """Rows of one platform and month that leave different counts blank are summed apart, so
    that "detections of the rows that report effort" stays exact on every table."""
    db = build_db(
        [("solo", "e-commerce", JOINED, ["SoloShop"])],
        [
            dict(
                partner="solo",
                uploaded_at=dt.datetime(2019, 3, 1),
                rows=[
                    ("SoloShop", "2019-01", "elephants", "CHN", 1, None, 5, 10),
                    ("SoloShop", "2019-01", "pangolins", "KEN", 2, None, 7, None),
                    ("SoloShop", "2019-01", "elephants", "KEN", 3, 4, None, 20),
                ],
            )
        ],
    )
    with db.read() as cur:
        assert rollups.fresh(cur)
        for by in BREAKDOWNS:
            rate = metrics.detection_rate(cur, Filters(), by=by, grain=None)
            assert rate["listings_detected"].sum() == 5
            assert rate["search_effort"].sum() == 10
            assert rate["detected_without_effort"].sum() == 7
            share = metrics.proactive_share(cur, Filters(), by=by, grain=None)
            assert share["rows_used"].sum() == 1
            assert share["listings_blocked"].sum() == 4
            assert share["listings_removed"].sum() == 3
        assert_same(every_figure(cur, Filters()), on_facts(cur, Filters()))


SPECIES = ("elephants", "pangolins")
COUNTRIES = ("CHN", "KEN", "BRA", "")
MONTHS = ("2019-01", "2019-02", "2019-04", "2019-07", "2019-10", "2020-01", "2020-04")
count_st = st.one_of(st.none(), st.integers(0, 60))
row_st = st.tuples(
    st.integers(0, 5),  # partner
    st.integers(0, 1),  # platform of that partner
    st.sampled_from(MONTHS + ("2019-Q1", "2019-Q3", "2020-Q2")),
    st.sampled_from(SPECIES),
    st.sampled_from(COUNTRIES),
    count_st,
    count_st,
    count_st,
    count_st,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    partners=st.lists(st.tuples(st.booleans(), st.integers(1, 2)), min_size=1, max_size=6),
    batches=st.lists(
        st.tuples(st.sampled_from(("accepted", "submitted")), st.lists(row_st, max_size=12)),
        min_size=1,
        max_size=5,
    ),
    viewer_index=st.integers(-2, 5),
)
def test_rollups_give_the_figures_of_facts(
    empty_db_file, tmp_path_factory, partners, batches, viewer_index
):
    """Random data with blank counts, later corrections (superseding), submissions awaiting
    review (replacing accepted rows for "include submitted"), consent or not."""
    path = tmp_path_factory.mktemp("rollups") / "c.duckdb"
    shutil.copyfile(empty_db_file, path)
    db = Database(path)
    slugs = [f"p{i}" for i in range(len(partners))]
    with db.write() as cur:
        for slug, (consents, n) in zip(slugs, partners, strict=True):
            store.add_partner(
                cur, slug, slug.upper(), "e-commerce", JOINED, consent_to_name=consents,
                platforms=tuple((f"{slug}-site{j}", "marketplace") for j in range(n)),
            )  # fmt: skip
    for day, (status, rows) in enumerate(batches):
        per_partner: dict[str, dict[tuple, tuple]] = {}
        for p, j, period, species, country, removed, blocked, detected, effort in rows:
            slug, n = slugs[p % len(slugs)], partners[p % len(slugs)][1]
            if all(c is None for c in (removed, blocked, detected, effort)):
                removed = 0
            key = (f"{slug}-site{j % n}", period, species, country)
            per_partner.setdefault(slug, {})[key] = (*key, removed, blocked, detected, effort)
        for slug, keyed in per_partner.items():
            with db.write() as cur:
                store.add_submission(
                    cur,
                    partner=slug,
                    records=fixtures.records_frame(list(keyed.values())),
                    uploaded_by="test",
                    uploaded_at=dt.datetime(2020, 6, 1 + day),
                    status=status,
                )
    viewer = (
        SECRETARIAT
        if viewer_index == -2
        else OBSERVER
        if viewer_index == -1
        else Viewer("partner", slugs[viewer_index % len(slugs)])
    )
    with db.read() as cur:
        assert rollups.fresh(cur)
        for flt in (
            Filters(viewer=viewer, include_submitted=True),
            Filters(viewer=viewer, species_groups=("pangolins",), period_to="2019-Q4"),
        ):
            assert_same(every_figure(cur, flt), on_facts(cur, flt))


# --- keeping them up to date -----------------------------------------------------------------


def _activity(build_db) -> Database:
    return build_db(fixtures.ACTIVITY_PARTNERS, fixtures.ACTIVITY_SUBMISSIONS)


def add_social_quarter(cur: duckdb.DuckDBPyConnection) -> None:
    """SocialNet's 2020-Q1, accepted: 10 more actions (5 removed + 5 blocked)."""
    store.add_submission(
        cur,
        partner="socialco",
        records=fixtures.records_frame([("SocialNet", "2020-Q1", "elephants", "KEN", 5, 5, 1, 10)]),
        uploaded_by="test",
        status="accepted",
    )


def _stored_fingerprints(db: Database) -> dict[int, int]:
    with db.read() as cur:
        return dict(cur.execute("SELECT platform_id, fingerprint FROM rollup_state").fetchall())


def test_a_write_updates_only_the_platforms_it_touched(build_db, monkeypatch):
    db = _activity(build_db)
    before = _stored_fingerprints(db)
    refreshed: list[list[int]] = []
    real = rollup.refresh
    monkeypatch.setattr(
        rollup,
        "refresh",
        lambda cur, ids=None, **kw: (refreshed.append(ids), real(cur, ids, **kw))[1],
    )
    with db.write() as cur:
        add_social_quarter(cur)
        social = cur.execute("SELECT id FROM platforms WHERE name = 'SocialNet'").fetchone()[0]
    assert refreshed == [[social]]
    after = _stored_fingerprints(db)
    assert {p for p in after if after[p] != before.get(p)} == {social}
    with db.read() as cur:
        assert rollups.fresh(cur)
        total = metrics.actions(cur, Filters(), grain=None)["actions"].iloc[0]
        assert_same(every_figure(cur, Filters()), on_facts(cur, Filters()))
    with _activity(build_db).read() as cur:
        assert total == metrics.actions(cur, Filters(), grain=None)["actions"].iloc[0] + 10


def test_review_and_a_sector_change_are_seen(build_db):
    db = _activity(build_db)
    with db.write() as cur:
        pending = store.add_submission(
            cur,
            partner="shopco",
            records=fixtures.records_frame(
                [("ShopMarket", "2019-Q2", "pangolins", "VNM", 1, 2, 3, 4)]
            ),
            uploaded_by="test",
        )
    with db.write() as cur:
        store.review_submission(cur, pending, "accepted", reviewed_by="secretariat")
    with db.write() as cur:
        cur.execute("UPDATE partners SET sector = 'other' WHERE slug = 'searchco'")
    with db.read() as cur:
        assert rollups.fresh(cur)
        by_sector = metrics.actions(cur, Filters(), by="sector", grain=None)
        assert "other" in set(by_sector["group"])
        assert_same(every_figure(cur, Filters()), on_facts(cur, Filters()))


def test_stale_rollups_are_not_read(build_db, monkeypatch):
    """A write whose rollup update fails is stored; the figures then come from facts."""
    db = _activity(build_db)
    with db.read() as cur:
        before = metrics.actions(cur, Filters(), grain=None)["actions"].iloc[0]

    def broken(cur):
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(rollup, "update", broken)
    with db.write() as cur:
        add_social_quarter(cur)
    with db.read() as cur:
        assert not rollups.fresh(cur)
        assert metrics.actions(cur, Filters(), grain=None)["actions"].iloc[0] == before + 10
    monkeypatch.undo()
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "0")
    with db.write() as cur:  # the next write catches up
        cur.execute("UPDATE meta SET value = value WHERE key = 'synthetic'")
    with db.read() as cur:
        assert rollups.fresh(cur)
        assert metrics.actions(cur, Filters(), grain=None)["actions"].iloc[0] == before + 10


def test_older_rollups_and_small_databases(build_db, monkeypatch):
    db = _activity(build_db)
    with db.write(changes_figures=False) as cur:  # as if built by an older release
        cur.execute("UPDATE meta SET value = '0:' || value WHERE key = ?", [rollups.STAMP_KEY])
        assert not rollups.fresh(cur)
        assert rollup.update(cur) == "full"
        assert rollups.fresh(cur)
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "1000000")
    with db.write() as cur:
        cur.execute("UPDATE partners SET consent_to_name = NOT consent_to_name")
    with db.read() as cur:
        assert not rollups.fresh(cur)
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert not tables & {*rollup.TABLES, "rollup_state"}


def _kind(cur: duckdb.DuckDBPyConnection, name: str) -> str | None:
    tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    views = {
        r[0]
        for r in cur.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    return "table" if name in tables else "view" if name in views else None


def test_rollup_cells_is_a_view_in_a_small_database(build_db, monkeypatch):
    """Below the size where rollup_cells pays for its writing it is a view over facts: the
    figures are the same, a write does not touch it, and crossing the size either way rebuilds
    it as what the size asks."""
    monkeypatch.setenv(rollup.CELLS_MIN_RECORDS_ENV, "1000000")
    db = _activity(build_db)
    flt = Filters(species_groups=("elephants",), countries=("CHN", "KEN"), include_submitted=True)
    with db.read() as cur:
        assert rollups.fresh(cur)
        assert _kind(cur, "rollup_cells") == "view"
        assert {_kind(cur, name) for name in rollup.TABLES if name != "rollup_cells"} == {"table"}
        assert rollups.table_for(flt.params("species_region")) == "rollup_cells"
        assert_same(every_figure(cur, flt), on_facts(cur, flt))
    refreshed: list = []
    real = rollup.refresh
    monkeypatch.setattr(
        rollup,
        "refresh",
        lambda cur, ids=None, **kw: (refreshed.append(ids), real(cur, ids, **kw))[1],
    )
    with db.write() as cur:
        add_social_quarter(cur)
    with db.read() as cur:
        assert refreshed and refreshed[-1] is not None  # only the platform that changed
        assert rollups.fresh(cur)
        assert _kind(cur, "rollup_cells") == "view"
        assert_same(every_figure(cur, flt), on_facts(cur, flt))
        records = cur.execute("SELECT count(*) FROM records").fetchone()[0]
    # the database grows past the size: the next write makes it a table, then back again
    for limit, kind in ((records, "table"), (records + 1, "view")):
        monkeypatch.setenv(rollup.CELLS_MIN_RECORDS_ENV, str(limit))
        with db.write() as cur:
            cur.execute("UPDATE meta SET value = value WHERE key = 'synthetic'")
        assert refreshed[-1] is None  # a full rebuild
        with db.read() as cur:
            assert rollups.fresh(cur)
            assert _kind(cur, "rollup_cells") == kind
            assert_same(every_figure(cur, flt), on_facts(cur, flt))
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, str(records + 1))
    with db.write() as cur:  # too small for any rollup: the view goes too
        cur.execute("UPDATE meta SET value = value WHERE key = 'synthetic'")
    with db.read() as cur:
        assert not rollups.fresh(cur)
        assert {_kind(cur, name) for name in rollup.TABLES} == {None}


def test_table_for_picks_the_smallest_table_that_keeps_what_is_asked():
    def table(by=None, **kw):
        return rollups.table_for(Filters(**kw).params(by))

    assert table() == table("platform") == table("sector", partners=("a",)) == "rollup_platform"
    assert table("species_group") == table(species_groups=("elephants",)) == "rollup_species"
    assert table("region") == table("subregion", regions=("Asia",)) == "rollup_subregion"
    assert table("country") == table("region", countries=("CHN",)) == "rollup_country"
    assert table("species_region") == "rollup_cells"
    assert table("country", species_groups=("elephants",)) == "rollup_cells"


def test_one_figure_over_the_whole_range_reads_the_all_time_tables():
    def table(query, by=None, grain=None, **kw):
        return rollups.table_for(Filters(**kw).params(by, grain), query)

    for query in ("actions", "detection_rate", "proactive_share"):
        assert table(query) == "rollup_platform_total"
        assert table(query, "country") == "rollup_country_total"
        assert table(query, "country", species_groups=("elephants",)) == "rollup_cells_total"
        # a period in the figure, or a range with an end, needs the periods
        assert table(query, grain="quarter") == "rollup_platform"
        assert table(query, period_from="2019-Q2") == "rollup_platform"
        assert table(query, "country", period_to="2020-Q1") == "rollup_country"
    # the others count periods (months reported, baselines): never the all-time tables
    assert table("reduction", grain="quarter") == table("coverage") == "rollup_platform"
