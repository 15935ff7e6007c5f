"""The synthetic demo dataset: fictional partners with seeded, reproducible figures.

The demo lets the pages be shown without real submissions. It follows the coalition's public
story — 21 partners at launch in March 2018, 34 by August 2019, 47 by October 2021 — and its
published cumulative totals of listings blocked or removed (3,335,381 by March 2020 and
11,631,819 by October 2021, about 24.1 million listings and suspected sellers by September
2024). Everything else is invented: the companies, their platforms, and how each one's
monitoring figures move.

How the figures are made:

* **Actions.** Each platform has a size; its expected monthly actions are that size times a
  ramp-up after joining (enforcement takes a few months to build), spread over the platform's
  species × country cells. A smooth coalition-wide curve in time (see :func:`_calibrate`: a
  logistic uptake, then a gentle decline after October 2021) is fitted so that the *expected*
  cumulative totals hit the published figures; the counts are then drawn from a Poisson
  distribution, whose noise on millions of listings is a few hundredths of a percent.
* **Proactive share.** Blocked listings are a binomial share of the actions, rising over time
  on a logistic curve that differs by platform.
* **Monitoring.** A platform that monitors runs a fixed sweep (searches per species × country,
  with mild noise); detections are binomial draws from a rate that falls fast, falls slowly or
  rises, by platform, so that progress toward the target varies. Some platforms never monitor
  and a few report detections without the size of their sweep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from coalition import auth, store
from coalition.db import Database, set_meta

DEFAULT_SEED = 2018

# Demo accounts, one per role: (name, role, partner, password). The passwords are public,
# fake and for the demo database only; a real deployment creates its own accounts.
DEMO_PARTNER = "kestrel-bazaar"
DEMO_ACCOUNTS = (
    ("secretariat", "secretariat", None, "demo-secretariat"),
    ("partner", "partner", DEMO_PARTNER, "demo-partner"),
    ("observer", "observer", None, "demo-observer"),
)
LAST_MONTH = 78  # months are counted from 2018-03 (0); 78 is 2024-09

# The coalition's published cumulative actions (listings removed + blocked): end month index
# and figure. The last is "listings and suspected sellers", i.e. actions + accounts actioned.
PUBLISHED_ACTIONS = ((24, 3_335_381), (43, 11_631_819))
PUBLISHED_ACTIONS_AND_ACCOUNTS = (78, 24_100_000)
UPTAKE_WIDTH = 0.5  # years: how quickly the coalition's enforcement took hold

# Fictional companies (name, sector, cohort): cohort 1 joined at launch in March 2018, cohort 2
# by August 2019, cohort 3 by October 2021.
PARTNERS = (
    ("Kestrel Bazaar", "e-commerce", 1),
    ("Tamarind Row", "e-commerce", 1),
    ("Quillmart", "e-commerce", 1),
    ("Orvella Market", "e-commerce", 1),
    ("Brindle & Vane", "e-commerce", 1),
    ("Sundew Souk", "e-commerce", 1),
    ("Lanternfly Trading", "e-commerce", 1),
    ("Mosswick", "e-commerce", 1),
    ("Carrowmere Goods", "e-commerce", 1),
    ("Pellucid Supply", "e-commerce", 1),
    ("Murmurly", "social-media", 1),
    ("Pebblecast", "social-media", 1),
    ("Lumiquo", "social-media", 1),
    ("Tandaloo", "social-media", 1),
    ("Thistledown Social", "social-media", 1),
    ("Frondle", "social-media", 1),
    ("Kaleidra Circle", "social-media", 1),
    ("Findlark", "search", 1),
    ("Seekhollow", "search", 1),
    ("Corvid Classifieds", "other", 1),
    ("Gallivant Ads", "other", 1),
    ("Vintrel", "e-commerce", 2),
    ("Halcyra Shop", "e-commerce", 2),
    ("Ferngate Exchange", "e-commerce", 2),
    ("Driftwick", "e-commerce", 2),
    ("Zabelle Mall", "e-commerce", 2),
    ("Ombrelune", "e-commerce", 2),
    ("Hummingway", "social-media", 2),
    ("Ripplenest", "social-media", 2),
    ("Vellichor", "social-media", 2),
    ("Quokkalink", "social-media", 2),
    ("Orrery Search", "search", 2),
    ("Quarrystone", "search", 2),
    ("Parcelwing", "other", 2),
    ("Tesselin Trade", "e-commerce", 3),
    ("Yarrowby", "e-commerce", 3),
    ("Copperlace", "e-commerce", 3),
    ("Nimbrook", "e-commerce", 3),
    ("Glimmerdale", "e-commerce", 3),
    ("Westerhaze Outlet", "e-commerce", 3),
    ("Mistletalk", "social-media", 3),
    ("Gossamer Feed", "social-media", 3),
    ("Larkspur Lounge", "social-media", 3),
    ("Cobblechat", "social-media", 3),
    ("Glintquest", "search", 3),
    ("Marrowgate Pay", "other", 3),
    ("Fennimore Auctions", "other", 3),
)
# Months (index from 2018-03) in which each cohort may join, inclusive; the last partner of
# cohorts 2 and 3 joins in the cohort's last month (August 2019, October 2021).
COHORT_MONTHS = {1: (0, 0), 2: (1, 17), 3: (18, 43)}
QUARTERLY_REPORTERS = {2: 2, 3: 1}  # partners per cohort who report by quarter
CONSENT_SHARE = 0.4
SECTOR_SIZE = {"e-commerce": 1.0, "social-media": 0.55, "search": 0.2, "other": 0.3}

# The main platform carries the partner's name; the others add a suffix.
MAIN_KIND = {
    "e-commerce": "marketplace",
    "social-media": "social",
    "search": "search",
    "other": "marketplace",
}
EXTRA_PLATFORMS = {
    "e-commerce": (
        ("Secondhand", "second-hand"),
        ("Wholesale", "marketplace"),
        ("Live", "social"),
        ("Chat", "messaging"),
        ("Global", "marketplace"),
    ),
    "social-media": (
        ("Marketplace", "marketplace"),
        ("Messenger", "messaging"),
        ("Groups", "social"),
        ("Clips", "social"),
    ),
    "search": (("Shopping", "marketplace"), ("Images", "search"), ("Answers", "other")),
    "other": (("Pay", "other"), ("Swap", "second-hand"), ("Listings", "marketplace")),
}
PLATFORM_COUNT_P = (0.3, 0.35, 0.22, 0.13)  # 1, 2, 3 or 4 platforms

# Relative volume of each species group online: ivory and reptiles dominate; saiga horn,
# hornbill casque and rhino horn are rare.
SPECIES_WEIGHT = {
    "elephants": 20.0,
    "lizards_snakes": 18.0,
    "birds": 10.0,
    "tortoises_freshwater_turtles": 9.0,
    "pangolins": 7.0,
    "big_cats": 7.0,
    "corals": 5.0,
    "marine_turtles": 5.0,
    "other": 5.0,
    "primates": 4.0,
    "sharks_rays": 4.0,
    "bears": 3.0,
    "rhinoceroses": 1.5,
    "helmeted_hornbill": 1.0,
    "saiga": 1.0,
}
# Trade hubs carry more of the volume; every other country weighs 1.
COUNTRY_WEIGHT = {
    "CHN": 30,
    "USA": 20,
    "VNM": 18,
    "THA": 14,
    "HKG": 14,
    "IDN": 14,
    "MYS": 10,
    "NGA": 10,
    "ZAF": 10,
    "GBR": 10,
    "DEU": 8,
    "BRA": 8,
    "MEX": 8,
    "AUS": 8,
    "IND": 8,
    "PHL": 6,
    "LAO": 6,
    "MMR": 6,
    "SGP": 6,
    "JPN": 6,
    "ARE": 6,
    "KEN": 6,
    "FRA": 6,
    "KHM": 5,
    "TWN": 5,
    "TZA": 5,
    "CAN": 5,
    "RUS": 5,
    "KOR": 4,
    "MOZ": 4,
    "CMR": 4,
    "COD": 4,
    "UGA": 4,
    "COL": 4,
    "PER": 4,
    "ESP": 4,
    "ITA": 4,
    "NLD": 4,
    "PNG": 4,
    "NZL": 4,
    "AGO": 3,
    "ETH": 3,
    "ECU": 3,
    "ARG": 3,
    "BEL": 3,
    "CZE": 3,
    "POL": 3,
    "FJI": 3,
    "SLB": 2,
    "GAB": 2,
    "ZWE": 2,
}
# Partners lean toward a market; "global" has no lean.
MARKETS = ("Asia", "Asia", "global", "global", "Africa", "Americas", "Europe", "Oceania")
MARKET_TILT = 4.0

# Detection-rate trends (share of monitoring platforms, annual decay range, floor range).
TRENDS = {
    "fast": (0.32, (0.9, 1.6), (0.02, 0.08)),
    "steady": (0.23, (0.45, 0.8), (0.05, 0.15)),
    "slow": (0.30, (0.05, 0.35), (0.2, 0.4)),
    "rise": (0.15, (-0.35, -0.12), (1.0, 1.0)),
}
NO_MONITORING_SHARE = 0.1
SWEEP_SKIPPED = 0.05  # chance that a monitoring platform skips the sweep in a quarter
RISE_CAP = 1.6  # a rising detection rate levels off at this multiple of its start
# Besides the platform's own trend, each species group and region drifts by a seeded annual
# rate drawn from N(mean, sd), so that progress differs across species and regions.
SPECIES_DRIFT, REGION_DRIFT = (0.05, 0.15), (0.0, 0.1)
DETECTED_WITHOUT_EFFORT = 4  # platforms that report detections but not the size of the sweep

RECORD_INSERT = """
INSERT INTO records (submission_id, platform_id, period, species_group, country,
                     listings_removed, listings_blocked, accounts_actioned, reports_received,
                     listings_detected, search_effort)
SELECT submission_id, platform_id, period, species_group, country,
       listings_removed, listings_blocked, accounts_actioned, reports_received,
       listings_detected, search_effort
FROM demo_records
"""

SUBMISSION_INSERT = """
INSERT INTO submissions (id, partner, uploaded_by, uploaded_at, file_name, file_sha256, source,
                         status, reviewed_by, reviewed_at)
SELECT id, partner, 'demo-loader', uploaded_at, file_name, file_sha256, 'demo', 'accepted',
       'demo-loader', reviewed_at
FROM demo_submissions
"""

ACTIONS_UP_TO = """
SELECT coalesce(sum(r.listings_removed), 0) + coalesce(sum(r.listings_blocked), 0)
FROM records AS r JOIN periods AS p ON p.period = r.period
WHERE r.superseded_by IS NULL AND p.end_month <= ?
"""
ACTIONS_AND_ACCOUNTS_UP_TO = """
SELECT coalesce(sum(r.listings_removed), 0) + coalesce(sum(r.listings_blocked), 0)
       + coalesce(sum(r.accounts_actioned), 0)
FROM records AS r JOIN periods AS p ON p.period = r.period
WHERE r.superseded_by IS NULL AND p.end_month <= ?
"""


def load_demo(db: Database, seed: int = DEFAULT_SEED) -> dict:
    """Load the synthetic demo dataset into ``db`` (initialising it if needed), all in one
    transaction, and mark the database as synthetic.

    Raises :class:`store.StoreError` if the database already has partners: the demo is meant
    for an empty database. Returns a summary: counts of what was loaded, the seconds it took
    and the cumulative actions it reached at the calibration points.
    """
    started = time.perf_counter()
    if not store.is_initialised(db):
        store.init(db)
    rng = np.random.default_rng(seed)
    with db.write() as cur:
        if cur.execute("SELECT count(*) FROM partners").fetchone()[0]:
            raise store.StoreError(
                f"{db.path} already has partners; the demo data can only be loaded into an "
                "empty database. Use a new --db file (or 'coalition demo --force')."
            )
        species = [
            r[0]
            for r in cur.execute("SELECT slug FROM species_groups ORDER BY sort_order").fetchall()
        ]
        missing = set(SPECIES_WEIGHT) - set(species)
        if missing:
            raise store.StoreError(f"Species groups missing from the database: {missing}.")
        countries = cur.execute(
            "SELECT iso3, region FROM countries WHERE region <> 'Antarctica' ORDER BY iso3"
        ).df()

        partners = _partners(rng)
        platforms = _platforms(rng, partners)
        for p in partners.itertuples():
            store.add_partner(
                cur,
                p.slug,
                p.name,
                p.sector,
                _month_date(p.join_month),
                consent_to_name=bool(p.consent),
            )
        platforms["id"] = [
            store.add_platform(cur, p.partner, p.name, p.kind) for p in platforms.itertuples()
        ]

        records = _records(rng, partners, platforms, countries)
        records["platform_id"] = platforms["id"].to_numpy()[records["platform_idx"]]
        _draw_counts(rng, records, partners, platforms)
        submissions = _submissions(rng, partners, records)
        ids = sorted(
            r[0]
            for r in cur.execute(
                "SELECT nextval('submission_id_seq') FROM range(?)", [len(submissions)]
            ).fetchall()
        )
        submissions["id"] = ids
        key = submissions.set_index(["partner", "quarter"])["id"]
        records["submission_id"] = key.reindex(
            pd.MultiIndex.from_arrays([records["partner"], records["quarter"]])
        ).to_numpy()

        cur.register("demo_submissions", submissions)
        cur.register("demo_records", _record_frame(records))
        try:
            cur.execute(SUBMISSION_INSERT)
            # records carry no foreign keys (migration 4): the loaders check references
            store.check_record_references(cur, "demo_records")
            cur.execute(RECORD_INSERT)
        finally:
            cur.unregister("demo_submissions")
            cur.unregister("demo_records")
        set_meta(cur, "synthetic", "1")
        set_meta(cur, "demo_seed", str(seed))
        for name, role, partner, password in DEMO_ACCOUNTS:
            auth.add_user(cur, name, role, password, partner, actor="demo-loader")
        achieved = {
            f"{name}_to_{_month_label(m).replace('-', '_')}": int(
                cur.execute(query, [_month_label(m)]).fetchone()[0]
            )
            for name, query, m in (
                ("actions", ACTIONS_UP_TO, PUBLISHED_ACTIONS[0][0]),
                ("actions", ACTIONS_UP_TO, PUBLISHED_ACTIONS[1][0]),
                (
                    "actions_and_accounts",
                    ACTIONS_AND_ACCOUNTS_UP_TO,
                    PUBLISHED_ACTIONS_AND_ACCOUNTS[0],
                ),
            )
        }
    return {
        "partners": len(partners),
        "platforms": len(platforms),
        "submissions": len(submissions),
        "records": len(records),
        "accounts": len(DEMO_ACCOUNTS),
        "seconds": round(time.perf_counter() - started, 2),
        **achieved,
    }


# --- Calendar ------------------------------------------------------------------------------


def _month_label(m: int) -> str:
    return f"{2018 + (m + 2) // 12}-{(m + 2) % 12 + 1:02d}"


def _month_date(m: int) -> dt.date:
    return dt.date(2018 + (m + 2) // 12, (m + 2) % 12 + 1, 1)


def _quarter_label(m: int) -> str:
    return f"{2018 + (m + 2) // 12}-Q{(m + 2) % 12 // 3 + 1}"


MONTH_LABELS = np.array([_month_label(m) for m in range(LAST_MONTH + 1)], dtype=object)
QUARTER_LABELS = np.array([_quarter_label(m) for m in range(LAST_MONTH + 1)], dtype=object)
SPECIES = np.array(list(SPECIES_WEIGHT), dtype=object)
SPECIES_WEIGHTS = np.array(list(SPECIES_WEIGHT.values()))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


# --- Partners and platforms ----------------------------------------------------------------


def _partners(rng: np.random.Generator) -> pd.DataFrame:
    frame = pd.DataFrame(PARTNERS, columns=["name", "sector", "cohort"])
    frame["slug"] = frame["name"].map(_slug)
    frame["quarterly"] = False
    join = np.zeros(len(frame), dtype=int)
    for cohort, (first, last) in COHORT_MONTHS.items():
        idx = np.flatnonzero(frame["cohort"].to_numpy() == cohort)
        join[idx] = rng.integers(first, last + 1, size=len(idx))
        if cohort > 1:
            join[idx[-1]] = last
            quarterly = rng.choice(idx[:-1], size=QUARTERLY_REPORTERS[cohort], replace=False)
            frame.loc[quarterly, "quarterly"] = True
            # a quarterly reporter joins at the start of a quarter, so its first quarter is whole
            months = np.arange(first, last + 1)
            starts = months[(months + 2) % 3 == 0]
            join[quarterly] = rng.choice(starts, size=len(quarterly))
    frame["join_month"] = join
    consent = np.zeros(len(frame), dtype=bool)
    consent[rng.choice(len(frame), size=round(CONSENT_SHARE * len(frame)), replace=False)] = True
    frame["consent"] = consent
    frame["size"] = (
        rng.lognormal(0.0, 0.9, len(frame))
        * frame["sector"].map(SECTOR_SIZE).to_numpy()
        * np.where(frame["cohort"] == 1, 1.6, 1.0)
    )
    frame["market"] = rng.choice(MARKETS, size=len(frame))
    frame["delay_mean"] = rng.uniform(12, 50, len(frame))  # days to upload after quarter end
    frame["reports_accounts"] = rng.random(len(frame)) < 0.75
    frame["reports_reports"] = rng.random(len(frame)) < 0.65
    frame["account_ratio"] = rng.uniform(0.03, 0.15, len(frame))
    frame["report_ratio"] = rng.uniform(0.1, 0.6, len(frame))
    # a couple of partners only counted takedowns until their upload filters were in place
    frame["blocked_from"] = 0
    no_filter = rng.choice(np.flatnonzero(frame["cohort"].to_numpy() == 1), 2, replace=False)
    frame.loc[no_filter, "blocked_from"] = rng.integers(9, 22, size=2)
    return frame


def _platforms(rng: np.random.Generator, partners: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for p in partners.itertuples():
        n = 1 + rng.choice(len(PLATFORM_COUNT_P), p=PLATFORM_COUNT_P)
        extras = EXTRA_PLATFORMS[p.sector]
        chosen = rng.choice(len(extras), size=min(n - 1, len(extras)), replace=False)
        shares = rng.dirichlet(np.ones(len(chosen) + 1) * 1.5)
        shares = np.sort(shares)[::-1]  # the main platform is the largest
        names = [(p.name, MAIN_KIND[p.sector])] + [
            (f"{p.name} {extras[i][0]}", extras[i][1]) for i in sorted(chosen)
        ]
        for (name, kind), share in zip(names, shares, strict=True):
            rows.append((p.Index, p.slug, name, kind, p.size * share))
    frame = pd.DataFrame(rows, columns=["partner_idx", "partner", "name", "kind", "size"])
    n = len(frame)
    # the monitoring sweep and how its detection rate moves
    frame["monitored"] = rng.random(n) >= NO_MONITORING_SHARE
    names = list(TRENDS)
    trend = rng.choice(len(names), size=n, p=[TRENDS[t][0] for t in names])
    frame["trend"] = [names[t] for t in trend]
    frame["decay"] = [rng.uniform(*TRENDS[names[t]][1]) for t in trend]
    frame["floor"] = [rng.uniform(*TRENDS[names[t]][2]) for t in trend]
    frame["trend_delay"] = rng.uniform(0.0, 0.6, n)  # years before the decline starts
    frame["base_rate"] = rng.uniform(0.04, 0.3, n)  # listings found per search at first
    frame["sweep"] = rng.uniform(30, 160, n)  # searches per species × country cell
    frame["monitor_lag"] = np.where(rng.random(n) < 0.15, rng.integers(3, 13, n), 0)
    monitored = np.flatnonzero(frame["monitored"].to_numpy())
    no_effort = rng.choice(monitored, size=DETECTED_WITHOUT_EFFORT, replace=False)
    frame["reports_effort"] = True
    frame.loc[no_effort, "reports_effort"] = False
    # the proactive share rises on a logistic curve: logit = start + slope × years
    frame["block_start"] = rng.normal(-1.4, 0.5, n)
    frame["block_slope"] = rng.uniform(0.25, 0.8, n)
    return frame


# --- Records -------------------------------------------------------------------------------


def _cells(
    rng: np.random.Generator, sweep: float, country_weight: np.ndarray, biggest: bool
) -> dict[str, np.ndarray]:
    """The species × country cells a platform reports on (indexes into ``SPECIES`` and the
    countries, −1 for global), with their share of its volume and their monitoring sweep."""
    weight = SPECIES_WEIGHTS
    n_species = len(weight) if biggest else int(np.clip(round(rng.normal(8, 3)), 3, 15))
    chosen = rng.choice(
        len(weight), size=n_species, replace=False, p=weight**0.6 / (weight**0.6).sum()
    )
    cp = country_weight / country_weight.sum()
    global_cells = rng.random() < 0.4
    species, country, volume = [], [], []
    for sp in chosen:
        found = rng.choice(len(cp), size=1 + rng.poisson(1.6), replace=False, p=cp)
        species += [sp] * len(found)
        country += list(found)
        volume += list(weight[sp] * country_weight[found])
        if global_cells:
            species.append(sp)
            country.append(-1)
            volume.append(weight[sp] * country_weight.mean() * 3)
    species, n = np.array(species), len(species)
    volume = np.array(volume) * rng.lognormal(0, 0.4, n)
    return {
        "species": species,
        "country": np.array(country),
        "weight": volume / volume.sum(),
        "sweep": sweep * (weight[species] / 20) ** 0.3 * rng.lognormal(0, 0.3, n),
        "rate_factor": rng.lognormal(0, 0.35, n),
    }


def _records(
    rng: np.random.Generator,
    partners: pd.DataFrame,
    platforms: pd.DataFrame,
    countries: pd.DataFrame,
) -> pd.DataFrame:
    """One row per platform × period × cell, with the model's drivers but no counts yet."""
    base_weight = countries["iso3"].map(COUNTRY_WEIGHT).fillna(1.0).to_numpy(dtype=float)
    region = countries["region"].to_numpy()
    biggest = int(platforms["size"].idxmax())
    parts: dict[str, list[np.ndarray]] = {}
    for pl in platforms.itertuples():
        partner = partners.loc[pl.partner_idx]
        tilt = (
            1.0
            if partner.market == "global"
            else np.where(region == partner.market, MARKET_TILT, 1.0)
        )
        cells = _cells(rng, pl.sweep, base_weight * tilt, pl.Index == biggest)
        start = int(partner.join_month)
        months = 3 if partner.quarterly else 1
        ends = np.arange(start + months - 1, LAST_MONTH + 1, months)
        n_periods, n_cells = len(ends), len(cells["species"])
        # a platform-wide wiggle per period makes the detection trend uneven
        wiggle = rng.lognormal(0, 0.12, n_periods)
        # now and then a platform skips its monitoring sweep for a whole quarter
        quarters = (ends + 2) // 3
        skipped = (rng.random(quarters.max() + 1) < SWEEP_SKIPPED)[quarters]
        columns = {
            "platform_idx": np.full(n_periods * n_cells, pl.Index),
            "end_month": np.repeat(ends, n_cells),
            "months": np.full(n_periods * n_cells, months),
            "wiggle": np.repeat(wiggle, n_cells),
            "sweep_skipped": np.repeat(skipped, n_cells),
            **{name: np.tile(values, n_periods) for name, values in cells.items()},
        }
        for name, values in columns.items():
            parts.setdefault(name, []).append(values)
    records = pd.DataFrame({name: np.concatenate(values) for name, values in parts.items()})
    # a cell with nothing to report in a month is sometimes left out
    records = records[rng.random(len(records)) >= 0.04].reset_index(drop=True)
    end = records["end_month"].to_numpy()
    quarterly = records["months"].to_numpy() == 3
    records["mid_month"] = end - (records["months"].to_numpy() - 1) / 2
    records["period"] = np.where(quarterly, QUARTER_LABELS[end], MONTH_LABELS[end])
    records["quarter"] = QUARTER_LABELS[end]
    records["species_group"] = SPECIES[records["species"].to_numpy()]
    country = records["country"].to_numpy()
    records["country"] = np.where(country >= 0, countries["iso3"].to_numpy()[country], None)
    records["region"] = np.where(country >= 0, region[country], "global")
    records["partner_idx"] = platforms["partner_idx"].to_numpy()[records["platform_idx"]]
    records["partner"] = partners["slug"].to_numpy()[records["partner_idx"]]
    return records


def _expected_actions(
    rng: np.random.Generator,
    records: pd.DataFrame,
    partners: pd.DataFrame,
    platforms: pd.DataFrame,
) -> np.ndarray:
    """Expected actions per row before calibration: size × ramp-up × cell share, with noise."""
    pl = records["platform_idx"].to_numpy()
    join = partners["join_month"].to_numpy()[records["partner_idx"].to_numpy()]
    mid = records["mid_month"].to_numpy()
    since = np.maximum(mid - join, 0)
    ramp = 1 - 0.5 * np.exp(-since / 6)
    return (
        platforms["size"].to_numpy()[pl]
        * ramp
        * records["weight"].to_numpy()
        * records["months"].to_numpy()
        * rng.lognormal(0, 0.25, len(records))
    )


def _calibrate(expected: np.ndarray, accounts: np.ndarray, end_month: np.ndarray) -> np.ndarray:
    """Scale expected actions by a smooth correction in time so that their cumulative sums hit
    the published figures.

    The correction is exp(a) · σ((t − b) / w) · exp(−d·s): t is years since March 2018, σ the
    logistic curve of the coalition's enforcement taking hold (midpoint b, width ``w``), and s
    the years after October 2021, when less and less turns up to act on. b makes the ratio of
    the two published totals of actions right, a their level, and d the 2024 total of listings
    and suspected sellers (actions + accounts actioned).
    """
    (m1, target1), (m2, target2) = PUBLISHED_ACTIONS
    m3, target3 = PUBLISHED_ACTIONS_AND_ACCOUNTS
    t = end_month / 12
    s = np.maximum(end_month - m2, 0) / 12
    first, second, third = end_month <= m1, end_month <= m2, end_month <= m3

    def uptake(b: float) -> np.ndarray:
        return expected / (1 + np.exp(-(t - b) / UPTAKE_WIDTH))

    def ratio(b: float) -> float:
        w = uptake(b)
        return w[second].sum() / w[first].sum() - target2 / target1

    scaled = uptake(brentq(ratio, -3.0, 6.0))
    scaled *= target1 / scaled[first].sum()

    def total(d: float) -> float:
        return (scaled * (1 + accounts) * np.exp(-d * s))[third].sum() - target3

    return scaled * np.exp(-brentq(total, -3.0, 5.0) * s)


def _draw_counts(
    rng: np.random.Generator,
    records: pd.DataFrame,
    partners: pd.DataFrame,
    platforms: pd.DataFrame,
) -> None:
    """Fill in the six counts."""
    n = len(records)
    pa = records["partner_idx"].to_numpy()
    pl = records["platform_idx"].to_numpy()
    end = records["end_month"].to_numpy()
    mid = records["mid_month"].to_numpy()
    reports_accounts = partners["reports_accounts"].to_numpy()[pa]
    account_ratio = partners["account_ratio"].to_numpy()[pa] * reports_accounts
    expected = _calibrate(_expected_actions(rng, records, partners, platforms), account_ratio, end)
    actions = rng.poisson(expected)

    logit = (
        platforms["block_start"].to_numpy()[pl] + platforms["block_slope"].to_numpy()[pl] * mid / 12
    )
    blocked = rng.binomial(actions, 1 / (1 + np.exp(-logit)))
    filters = mid >= partners["blocked_from"].to_numpy()[pa]
    records["listings_blocked"] = _nullable(blocked, filters)
    records["listings_removed"] = _nullable(np.where(filters, actions - blocked, actions))
    records["accounts_actioned"] = _nullable(rng.poisson(actions * account_ratio), reports_accounts)
    records["reports_received"] = _nullable(
        rng.poisson(expected * partners["report_ratio"].to_numpy()[pa]),
        partners["reports_reports"].to_numpy()[pa],
    )

    # the monitoring sweep: a fixed number of searches per cell, a rate that moves by platform
    join = partners["join_month"].to_numpy()[pa]
    start = join + platforms["monitor_lag"].to_numpy()[pl]
    monitoring = (
        platforms["monitored"].to_numpy()[pl]
        & (end >= start)
        & ~records["sweep_skipped"].to_numpy()
    )
    years = np.maximum((mid - join) / 12 - platforms["trend_delay"].to_numpy()[pl], 0)
    decay = platforms["decay"].to_numpy()[pl]
    floor = platforms["floor"].to_numpy()[pl]
    rising = platforms["trend"].to_numpy()[pl] == "rise"
    level = np.where(
        rising,
        np.minimum(np.exp(-decay * years), RISE_CAP),
        floor + (1 - floor) * np.exp(-decay * years),
    )
    # drift that differs by species group and region, on top of the platform's own trend
    species = records["species_group"].to_numpy()
    region = records["region"].to_numpy()
    species_drift = dict(
        zip(SPECIES_WEIGHT, rng.normal(*SPECIES_DRIFT, len(SPECIES_WEIGHT)), strict=True)
    )
    regions = sorted(set(region))
    region_drift = dict(zip(regions, rng.normal(*REGION_DRIFT, len(regions)), strict=True))
    drift = (
        pd.Series(species).map(species_drift).to_numpy()
        + pd.Series(region).map(region_drift).to_numpy()
    )
    rate = (
        platforms["base_rate"].to_numpy()[pl]
        * records["rate_factor"].to_numpy()
        * records["wiggle"].to_numpy()
        * level
        * np.exp(-drift * mid / 12)
    )
    effort = np.maximum(
        np.rint(
            records["sweep"].to_numpy() * records["months"].to_numpy() * rng.lognormal(0, 0.08, n)
        ),
        1,
    ).astype(np.int64)
    detected = rng.binomial(effort, np.clip(rate, 0, 0.9))
    records["listings_detected"] = _nullable(detected, monitoring)
    records["search_effort"] = _nullable(
        effort, monitoring & platforms["reports_effort"].to_numpy()[pl]
    )


def _nullable(values: np.ndarray, reported: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    mask = np.zeros(len(values), dtype=bool) if reported is None else ~reported
    return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), mask)


def _record_frame(records: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": records["submission_id"].astype(np.int64),
            "platform_id": records["platform_id"].astype(np.int64),
            "period": records["period"],
            "species_group": records["species_group"],
            "country": records["country"],
            **{col: records[col] for col in store.COUNT_COLUMNS},
        }
    )


# --- Submissions ---------------------------------------------------------------------------


def _submissions(
    rng: np.random.Generator, partners: pd.DataFrame, records: pd.DataFrame
) -> pd.DataFrame:
    """One accepted submission per partner and quarter, uploaded 5–75 days after the quarter
    ended (later than the 45-day due time now and then)."""
    keys = (
        records[["partner_idx", "partner", "quarter"]]
        .drop_duplicates()
        .sort_values(["partner_idx", "quarter"])
        .reset_index(drop=True)
    )
    mean = partners["delay_mean"].to_numpy()[keys["partner_idx"].to_numpy()]
    days = np.clip(np.rint(rng.normal(mean, 10)), 5, 75).astype(int)
    seconds = rng.integers(8 * 3600, 19 * 3600, len(keys))
    quarter_end = [
        pd.Timestamp(year=int(q[:4]), month=3 * int(q[-1]), day=1) + pd.offsets.MonthEnd(0)
        for q in keys["quarter"]
    ]
    keys["uploaded_at"] = (
        pd.DatetimeIndex(quarter_end)
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(seconds, unit="s")
    )
    keys["reviewed_at"] = keys["uploaded_at"] + pd.to_timedelta(
        rng.integers(1, 11, len(keys)), unit="D"
    )
    keys["file_name"] = keys["partner"] + "-" + keys["quarter"] + ".xlsx"
    keys["file_sha256"] = [
        hashlib.sha256(f"demo/{name}".encode()).hexdigest() for name in keys["file_name"]
    ]
    return keys[["partner", "quarter", "uploaded_at", "reviewed_at", "file_name", "file_sha256"]]
