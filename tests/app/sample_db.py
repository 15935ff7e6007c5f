"""A small, deterministic tracker database for the app tests and the browser test.

Three partners, four platforms, twelve quarters (2018-Q1 to 2020-Q4), two species groups and
three places (Viet Nam in Asia, the USA in the Americas, and global rows). Every count follows a
formula, so a figure can be worked out by hand:

* ``search_effort`` is 1,000 per row. ``listings_detected`` starts at the row's base (by place,
  times a platform scale) and, after the platform's four baseline quarters, falls by a fixed
  share a quarter: 12% for elephants, 4% for pangolins, and 3% more in Viet Nam — so the
  species and region filters change the reduction.
* Removed and blocked listings grow linearly with the quarters since the platform joined.
* SearchCo joins in 2019-Q2, so it has no baseline until 2020-Q2.
* SocialCo reports 60 days after each quarter (late; the due time is 45 days) and sends nothing
  for 2020-Q4, so 2 of 3 partners report in the latest quarter.

Run it as a script to write one for looking at the app: ``python tests/app/sample_db.py PATH``.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coalition import auth, store
from coalition.db import Database, set_meta
from metrics.filters import month_bounds

QUARTERS = [f"{year}-Q{q}" for year in (2018, 2019, 2020) for q in (1, 2, 3, 4)]


@dataclass(frozen=True)
class Partner:
    slug: str
    name: str
    sector: str
    joined: dt.date
    platforms: dict[str, float]  # platform name → scale of its detections
    delay_days: int  # how long after each quarter its submission comes
    last: str  # the last quarter it reports
    consent: bool = False


PARTNERS = (
    Partner("marketco", "MarketCo", "e-commerce", dt.date(2018, 1, 1),
            {"MarketCo Shop": 1.0, "MarketCo Resale": 0.4}, 20, "2020-Q4", consent=True),
    Partner("socialco", "SocialCo", "social-media", dt.date(2018, 1, 1),
            {"SocialCo Feed": 0.7}, 60, "2020-Q3"),
    Partner("searchco", "SearchCo", "search", dt.date(2019, 4, 1),
            {"SearchCo Web": 0.5}, 30, "2020-Q4"),
)  # fmt: skip
# One account per role (and a second partner); all share the password below.
ACCOUNTS = (
    ("secretariat", "secretariat", None),
    ("observer", "observer", None),
    ("marketco-user", "partner", "marketco"),
    ("socialco-user", "partner", "socialco"),
)
PASSWORD = "sample-password-1"
SPECIES_DECAY = {"elephants": 0.88, "pangolins": 0.96}
# base detections per 1,000 searches, and the extra fall a quarter, by country ('' = global)
PLACES = {"VNM": (300, 0.97), "USA": (100, 1.0), "": (50, 1.0)}


def rows_for(platform: str, scale: float, first: str, quarter: str) -> list[dict]:
    k = QUARTERS.index(quarter) - QUARTERS.index(first)
    rows = []
    for species, decay in SPECIES_DECAY.items():
        for country, (base, extra) in PLACES.items():
            rows.append(
                {
                    "platform": platform,
                    "period": quarter,
                    "species_group": species,
                    "country": country,
                    "listings_removed": 40 + 10 * k,
                    "listings_blocked": 20 + 25 * k,
                    "listings_detected": round(base * scale * (decay * extra) ** max(0, k - 3)),
                    "search_effort": 1000,
                }
            )
    return rows


def build(path: str | Path, *, synthetic: bool = False) -> Database:
    """Create the sample database at ``path`` (which must not exist yet)."""
    db = Database(path)
    store.init(db)
    with db.write() as cur:
        for p in PARTNERS:
            kinds = {"e-commerce": "marketplace", "social-media": "social", "search": "search"}
            store.add_partner(
                cur, p.slug, p.name, p.sector, p.joined, consent_to_name=p.consent,
                platforms=tuple((name, kinds[p.sector]) for name in p.platforms),
            )  # fmt: skip
            first = f"{p.joined.year}-Q{(p.joined.month - 1) // 3 + 1}"
            for quarter in QUARTERS[QUARTERS.index(first) : QUARTERS.index(p.last) + 1]:
                records = [
                    row
                    for platform, scale in p.platforms.items()
                    for row in rows_for(platform, scale, first, quarter)
                ]
                uploaded = month_bounds(quarter)[1] + dt.timedelta(days=p.delay_days)
                store.add_submission(
                    cur,
                    partner=p.slug,
                    records=pd.DataFrame(records),
                    uploaded_by="sample",
                    uploaded_at=dt.datetime.combine(uploaded, dt.time(9)),
                    status="accepted",
                )
        for name, role, partner in ACCOUNTS:
            auth.add_user(cur, name, role, PASSWORD, partner=partner, actor="sample")
        if synthetic:
            set_meta(cur, "synthetic", "1")
    return db


if __name__ == "__main__":
    build(sys.argv[1], synthetic="--synthetic" in sys.argv)
