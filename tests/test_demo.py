"""The synthetic demo dataset: calibration to the published totals, shape, reproducibility."""

from __future__ import annotations

import re

import pytest

import metrics
from coalition import store
from coalition.db import Database, get_meta
from coalition.demo import load_demo
from metrics import Filters

PUBLISHED = {"2020-03": 3_335_381, "2021-10": 11_631_819}
REAL_COMPANIES = (
    "alibaba",
    "taobao",
    "tmall",
    "aliexpress",
    "tencent",
    "wechat",
    "qq",
    "ebay",
    "etsy",
    "facebook",
    "instagram",
    "meta",
    "google",
    "youtube",
    "baidu",
    "microsoft",
    "bing",
    "amazon",
    "tiktok",
    "douyin",
    "bytedance",
    "twitter",
    "pinterest",
    "yahoo",
    "naver",
    "kakao",
    "mercado",
    "rakuten",
    "jd",
    "pinduoduo",
    "shopee",
    "lazada",
    "tokopedia",
    "weibo",
    "craigslist",
    "gumtree",
    "olx",
    "xianyu",
    "zhuanzhuan",
    "kuaishou",
    "bukalapak",
)
RELOAD_IF_FASTER_THAN = 15.0

ACTIONS_UP_TO = """
SELECT sum(coalesce(r.listings_removed, 0) + coalesce(r.listings_blocked, 0))
FROM records AS r JOIN periods AS p ON p.period = r.period
WHERE p.end_month <= ?
"""

# A fingerprint of everything the loader generates (ids aside, which are the database's).
FINGERPRINT = """
SELECT
    (SELECT count(*) FROM records),
    (SELECT sum(hash(pl.name, r.period, r.species_group, coalesce(r.country, ''),
                     r.listings_removed, r.listings_blocked, r.accounts_actioned,
                     r.reports_received, r.listings_detected, r.search_effort))
     FROM records AS r JOIN platforms AS pl ON pl.id = r.platform_id),
    (SELECT sum(hash(slug, name, sector, joined, consent_to_name)) FROM partners),
    (SELECT sum(hash(partner, name, kind)) FROM platforms),
    (SELECT sum(hash(partner, file_name, file_sha256, uploaded_at)) FROM submissions)
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    summary = load_demo(db)
    return db, summary


@pytest.fixture
def cur(demo):
    db, _ = demo
    with db.read() as cursor:
        yield cursor


def fingerprint(db: Database) -> tuple:
    with db.read() as cursor:
        return cursor.execute(FINGERPRINT).fetchone()


@pytest.mark.parametrize("month", sorted(PUBLISHED))
def test_cumulative_actions_match_the_published_totals(demo, cur, month):
    _, summary = demo
    frame = metrics.actions(cur, Filters(period_to=month), grain="month")
    from_metrics = int(frame["cumulative_actions"].iloc[-1])
    direct = int(cur.execute(ACTIONS_UP_TO, [month]).fetchone()[0])
    assert frame["period"].iloc[-1] == month
    assert from_metrics == direct == summary[f"actions_to_{month.replace('-', '_')}"]
    assert abs(direct / PUBLISHED[month] - 1) < 0.01


def test_partners_join_in_the_published_cohorts(cur):
    def joined_by(day: str) -> int:
        return cur.execute("SELECT count(*) FROM partners WHERE joined <= ?", [day]).fetchone()[0]

    assert (
        cur.execute("SELECT count(*) FROM partners WHERE joined = DATE '2018-03-01'").fetchone()[0]
        == 21
    )
    assert joined_by("2018-03-31") == 21
    assert joined_by("2019-08-31") == 34
    assert joined_by("2021-10-31") == 47
    assert cur.execute("SELECT count(*) FROM partners").fetchone()[0] == 47
    assert cur.execute("SELECT min(joined) FROM partners").fetchone()[0].isoformat() == (
        "2018-03-01"
    )


def test_partners_are_fictional_and_well_formed(cur):
    partners = store.partners(cur)
    for name in partners["name"]:
        words = re.findall(r"[a-z]+", name.lower())
        assert not set(words) & set(REAL_COMPANIES), name
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in partners["slug"])
    assert 0.3 <= partners["consent_to_name"].mean() <= 0.5
    sectors = partners["sector"].value_counts()
    assert set(sectors.index) <= set(store.SECTORS)
    assert sectors["e-commerce"] + sectors["social-media"] >= 0.6 * len(partners)


def test_every_partner_runs_one_to_four_platforms(cur):
    platforms = store.platforms(cur)
    per_partner = platforms.groupby("partner").size()
    assert len(per_partner) == 47
    assert per_partner.between(1, 4).all()
    assert per_partner.max() > 1
    assert 80 <= len(platforms) <= 125
    assert set(platforms["kind"]) <= set(store.PLATFORM_KINDS)
    # each company's flagship carries its name and the kind of its sector
    main = platforms.merge(
        store.partners(cur),
        left_on=["partner", "name"],
        right_on=["slug", "name"],
        suffixes=("", "_partner"),
    )
    assert len(main) == 47
    expected = {
        "e-commerce": {"marketplace"},
        "social-media": {"social"},
        "search": {"search"},
        "other": {"marketplace", "other"},
    }
    assert all(
        kind in expected[sector] for kind, sector in zip(main["kind"], main["sector"], strict=True)
    )


def test_all_species_groups_appear_with_plausible_shares(cur):
    shares = cur.execute(
        "SELECT species_group, sum(coalesce(listings_removed, 0) + coalesce(listings_blocked, 0))"
        " AS actions FROM records GROUP BY 1 ORDER BY actions DESC"
    ).df()
    assert set(shares["species_group"]) == set(store.species_groups(cur)["slug"])
    assert len(shares) == 15
    assert set(shares["species_group"][:2]) == {"elephants", "lizards_snakes"}
    assert {"saiga", "helmeted_hornbill", "rhinoceroses"} <= set(shares["species_group"][-4:])


def test_every_region_has_many_countries_and_some_rows_are_global(cur):
    per_region = dict(
        cur.execute(
            "SELECT c.region, count(DISTINCT r.country) FROM records AS r "
            "JOIN countries AS c ON c.iso3 = r.country GROUP BY 1"
        ).fetchall()
    )
    for region in ("Africa", "Americas", "Asia", "Europe", "Oceania"):
        assert per_region.get(region, 0) >= 5, region
    assert cur.execute("SELECT count(*) FROM records WHERE country IS NULL").fetchone()[0] > 0
    top = [
        r[0]
        for r in cur.execute(
            "SELECT country FROM records WHERE country IS NOT NULL GROUP BY 1 "
            "ORDER BY sum(listings_removed + listings_blocked) DESC LIMIT 10"
        ).fetchall()
    ]
    assert {"CHN", "USA"} <= set(top)


def test_size_and_time_span(demo, cur):
    _, summary = demo
    records = cur.execute("SELECT count(*) FROM records").fetchone()[0]
    assert 100_000 <= records <= 250_000
    assert summary["records"] == records
    assert summary["partners"] == 47
    assert store.data_months(cur) == ("2018-03", "2024-09")
    months = {
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT period FROM records WHERE period NOT LIKE '%Q%'"
        ).fetchall()
    }
    assert len(months) == 79


def test_platforms_report_from_joining_to_the_end(cur):
    # every platform reports every month (or quarter) from its partner's joining to 2024-09
    gaps = cur.execute("""
        SELECT pl.name, pa.joined, min(pe.start_date) AS first, max(pe.end_month) AS last,
               count(DISTINCT r.period) AS periods, any_value(pe.kind) AS kind
        FROM records AS r
        JOIN platforms AS pl ON pl.id = r.platform_id
        JOIN partners AS pa ON pa.slug = pl.partner
        JOIN periods AS pe ON pe.period = r.period
        GROUP BY pl.name, pa.joined
    """).df()
    assert (gaps["first"] == gaps["joined"]).all()
    assert (gaps["last"] == "2024-09").all()
    span = (2024 * 12 + 9) - (gaps["joined"].dt.year * 12 + gaps["joined"].dt.month) + 1
    expected = span.where(gaps["kind"] == "month", span // 3)
    assert (gaps["periods"] == expected).all()


def test_a_few_partners_report_by_quarter(cur):
    kinds = cur.execute(
        "SELECT partner, list(DISTINCT period_kind) FROM facts GROUP BY partner"
    ).fetchall()
    quarterly = [partner for partner, found in kinds if found == ["quarter"]]
    assert 2 <= len(quarterly) <= 3
    assert all(found in (["month"], ["quarter"]) for _, found in kinds)


def test_one_accepted_submission_per_partner_and_quarter(cur):
    submissions = cur.execute("SELECT * FROM submissions").df()
    assert (submissions["status"] == "accepted").all()
    assert (submissions["source"] == "demo").all()
    assert (submissions["uploaded_by"] == "demo-loader").all()
    assert submissions["file_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert submissions["file_name"].str.fullmatch(r"[a-z0-9-]+-\d{4}-Q[1-4]\.xlsx").all()
    assert not submissions.duplicated(["partner", "file_name"]).any()
    # each record belongs to its partner's submission for the record's quarter
    mismatched = cur.execute("""
        SELECT count(*) FROM records AS r
        JOIN submissions AS s ON s.id = r.submission_id
        JOIN platforms AS pl ON pl.id = r.platform_id
        JOIN periods AS pe ON pe.period = r.period
        WHERE s.partner <> pl.partner OR s.file_name <> pl.partner || '-' || pe.quarter || '.xlsx'
    """).fetchone()[0]
    assert mismatched == 0
    quarters = cur.execute("""
        SELECT count(DISTINCT (pl.partner, pe.quarter)) FROM records AS r
        JOIN platforms AS pl ON pl.id = r.platform_id JOIN periods AS pe ON pe.period = r.period
    """).fetchone()[0]
    assert quarters == len(submissions)
    assert (
        cur.execute("SELECT count(*) FROM records WHERE superseded_by IS NOT NULL").fetchone()[0]
        == 0
    )


def test_uploads_come_5_to_75_days_after_the_quarter_some_late(cur):
    delays = cur.execute("""
        SELECT date_diff('day', pe.end_date, CAST(s.uploaded_at AS DATE)) AS days
        FROM submissions AS s
        JOIN periods AS pe ON pe.period = regexp_extract(s.file_name, '(\\d{4}-Q\\d)', 1)
    """).df()["days"]
    assert delays.between(5, 75).all()
    late = (delays > store.DEFAULT_DUE_DAYS).mean()
    assert 0.05 <= late <= 0.5


def test_monitoring_coverage_is_uneven(cur):
    per_platform = cur.execute("""
        SELECT platform_id, count(listings_detected) AS detected, count(search_effort) AS effort
        FROM records GROUP BY platform_id
    """).df()
    never = (per_platform["detected"] == 0).mean()
    assert 0.03 <= never <= 0.2
    without_effort = per_platform[(per_platform["detected"] > 0) & (per_platform["effort"] == 0)]
    assert 1 <= len(without_effort) <= 8
    effort = cur.execute(
        "SELECT median(search_effort), quantile_cont(search_effort, 0.9) FROM records "
        "WHERE period NOT LIKE '%Q%'"
    ).fetchone()
    assert 10 <= effort[0] <= 300 and effort[1] <= 1000


def test_some_partners_leave_reports_and_accounts_blank(cur):
    reported = cur.execute("""
        SELECT pl.partner, count(r.reports_received) > 0 AS reports,
               count(r.accounts_actioned) > 0 AS accounts
        FROM records AS r JOIN platforms AS pl ON pl.id = r.platform_id GROUP BY 1
    """).df()
    assert 0 < reported["reports"].sum() < len(reported)
    assert 0 < reported["accounts"].sum() < len(reported)


def test_proactive_share_rises(cur):
    share = metrics.proactive_share(cur, grain="year").set_index("period")["proactive_share"]
    assert list(share.index) == [str(y) for y in range(2018, 2025)]
    assert share.is_monotonic_increasing
    assert share["2024"] - share["2018"] > 0.2


def test_progress_by_platform_shows_a_mix_of_statuses(cur):
    # a quarter before the deadline: statuses by pace
    status = metrics.progress(cur, Filters(period_to="2020-09"), by="platform")["status"]
    found = set(status)
    assert found & {"achieved", "on_track"}
    assert found & {"acceleration_needed", "limited_progress", "deterioration"}
    assert "insufficient_data" in found
    assert "missed" not in found
    # at the deadline itself each platform has met the target or missed it
    at_deadline = metrics.progress(cur, Filters(period_to="2020-12"), by="platform")["status"]
    assert set(at_deadline) == {"achieved", "missed", "insufficient_data"}


def test_the_database_is_marked_synthetic(cur):
    assert store.is_synthetic(cur)
    assert get_meta(cur, "synthetic") == "1"
    assert get_meta(cur, "demo_seed") == "2018"


def test_loading_twice_is_refused_and_changes_nothing(demo):
    db, _ = demo
    before = fingerprint(db)
    with pytest.raises(store.StoreError, match="already has partners"):
        load_demo(db)
    assert fingerprint(db) == before


def test_the_same_seed_gives_the_same_data(demo, tmp_path):
    db, summary = demo
    if summary["seconds"] >= RELOAD_IF_FASTER_THAN:
        pytest.skip(f"the demo took {summary['seconds']} s to load; not loading it again")
    again = Database(tmp_path / "again.duckdb")
    load_demo(again, seed=2018)
    assert fingerprint(again) == fingerprint(db)
    other = Database(tmp_path / "other.duckdb")
    load_demo(other, seed=7)
    assert fingerprint(other) != fingerprint(db)


def test_the_demo_has_one_account_per_role_that_signs_in(demo):
    from coalition import auth
    from coalition.demo import DEMO_ACCOUNTS
    from metrics import Viewer

    db, _ = demo
    roles = set()
    for name, role, partner, password in DEMO_ACCOUNTS:
        assert auth.authenticate(db, name, password).viewer == Viewer(role, partner)
        roles.add(role)
    assert roles == {"secretariat", "partner", "observer"}
