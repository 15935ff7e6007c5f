"""Shared fixtures: small tracker databases built in code, so that every expected figure in the
tests can be worked out by hand from the rows listed next to it.

A database is described in plain data — partners with their platforms, submissions with their
rows — and ``build_db`` turns that description into a fresh, initialised DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pytest

# pytest puts tests/ first on sys.path (tests/ has no __init__.py), where the folder
# tests/metrics would be found as a namespace package called "metrics" before the editable
# install's finder is asked. The repository root goes first, and the real package is imported
# here, before any test module asks for it.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import metrics  # noqa: E402, F401  (the package, not tests/metrics)
from coalition import store  # noqa: E402
from coalition.db import Database  # noqa: E402

# The columns of a row tuple, unless a submission names others. None means "not reported".
ROW_COLUMNS = (
    "platform",
    "period",
    "species_group",
    "country",
    "listings_removed",
    "listings_blocked",
    "listings_detected",
    "search_effort",
)


def records_frame(rows: Sequence[tuple], columns: Sequence[str] = ROW_COLUMNS) -> pd.DataFrame:
    """Rows as ``add_submission`` takes them; blanks (None) stay blank, not 0."""
    frame = pd.DataFrame([list(r) for r in rows], columns=list(columns), dtype=object)
    if "country" in frame:
        frame["country"] = frame["country"].map(lambda c: "" if c is None else c)
    return frame


def load(
    db: Database,
    partners: Iterable[tuple[str, str, dt.date, Sequence[str]]] = (),
    submissions: Iterable[dict] = (),
    baselines: Iterable[tuple[str, str, str]] = (),
) -> Database:
    """Add ``partners`` as (slug, sector, joined, platform names), then each submission, a dict
    with ``partner``, ``uploaded_at``, ``rows`` (tuples in ``ROW_COLUMNS`` order unless it gives
    ``columns``) and optionally ``status`` (default accepted), then baselines as
    (platform, first quarter, last quarter); all in one transaction."""
    with db.write() as cur:
        for slug, sector, joined, platforms in partners:
            store.add_partner(
                cur,
                slug,
                slug.title(),
                sector,
                joined,
                platforms=tuple((name, "other") for name in platforms),
            )
        for sub in submissions:
            store.add_submission(
                cur,
                partner=sub["partner"],
                records=records_frame(sub["rows"], sub.get("columns", ROW_COLUMNS)),
                uploaded_by=sub.get("uploaded_by", "tester@example.org"),
                uploaded_at=sub["uploaded_at"],
                status=sub.get("status", "accepted"),
            )
        for platform, first, last in baselines:
            cur.execute(
                "INSERT INTO baselines SELECT id, ?, ? FROM platforms WHERE name = ?",
                [first, last, platform],
            )
    return db


@pytest.fixture(scope="session")
def empty_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised database (schema and reference data), copied for every test database."""
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    store.init(Database(path))
    return path


@pytest.fixture(scope="session")
def build_db(
    tmp_path_factory: pytest.TempPathFactory, empty_db_file: Path
) -> Callable[..., Database]:
    """``build_db(partners, submissions, baselines)``: a fresh database file holding exactly
    those (see :func:`load`); ``build_db()`` gives an initialised database without data."""

    def build(*args, **kwargs) -> Database:
        path = tmp_path_factory.mktemp("db") / "coalition.duckdb"
        shutil.copyfile(empty_db_file, path)
        return load(Database(path, retry_seconds=5), *args, **kwargs)

    return build


# --- The activity database: actions, proactive share, detection rate, coverage -------------
#
# Partners: shopco (e-commerce, joined 2018-01-01; ShopMarket, ShopResale), socialco
# (social-media, joined 2018-06-15; SocialNet), searchco (search, joined 2019-02-01; SearchFind).
# Country: CHN, VNM Asia (Eastern / South-eastern Asia); USA Americas (Northern America); BRA
# Americas (Latin America and the Caribbean); KEN Africa (Sub-Saharan Africa); None global.
#
#       platform    period   species       country removed blocked detected effort
ACTIVITY_SUBMISSIONS = [
    dict(
        partner="shopco",
        uploaded_at=dt.datetime(2019, 1, 20, 10),
        rows=[
            ("ShopMarket", "2018-Q4", "elephants", "CHN", 10, 30, 6, 100),  # r1
        ],
    ),
    dict(
        partner="shopco",
        uploaded_at=dt.datetime(2019, 4, 10, 10),
        rows=[
            ("ShopMarket", "2019-Q1", "elephants", "CHN", 20, 60, 4, 100),  # r2
            ("ShopMarket", "2019-Q1", "pangolins", "VNM", 5, 5, 2, 50),  # r3
            ("ShopResale", "2019-Q1", "birds", "USA", None, 4, 3, None),  # r4: removed blank
        ],
    ),
    dict(
        partner="shopco",
        uploaded_at=dt.datetime(2019, 7, 15, 10),
        rows=[
            ("ShopMarket", "2019-Q2", "elephants", None, 10, 10, 1, 100),  # r5: global
            ("ShopResale", "2019-Q2", "birds", "USA", 0, 0, None, None),  # r6: zeros
        ],
    ),
    dict(
        partner="socialco",
        uploaded_at=dt.datetime(2019, 4, 5, 10),
        rows=[
            ("SocialNet", "2019-01", "elephants", "VNM", 1, 0, None, None),  # r7 (monthly)
            ("SocialNet", "2019-02", "elephants", "VNM", 2, 0, None, None),  # r8 (monthly)
        ],
    ),
    dict(
        partner="socialco",
        uploaded_at=dt.datetime(2019, 4, 6, 10),
        status="submitted",
        rows=[
            ("SocialNet", "2019-03", "elephants", "VNM", 100, 100, None, None),  # r9: pending
        ],
    ),
    dict(
        partner="socialco",
        uploaded_at=dt.datetime(2019, 1, 25, 10),
        status="returned",
        rows=[
            ("SocialNet", "2018-Q4", "big_cats", "KEN", 1000, 1000, None, None),  # r10: returned
        ],
    ),
    dict(
        partner="socialco",
        uploaded_at=dt.datetime(2019, 8, 1, 10),
        rows=[
            ("SocialNet", "2019-Q2", "big_cats", "KEN", 8, 2, 5, 20),  # r11
        ],
    ),
    dict(
        partner="searchco",
        uploaded_at=dt.datetime(2019, 9, 1, 10),
        rows=[
            ("SearchFind", "2019-Q2", "rhinoceroses", "BRA", 3, 7, None, None),  # r12
        ],
    ),
]
ACTIVITY_PARTNERS = [
    ("shopco", "e-commerce", dt.date(2018, 1, 1), ["ShopMarket", "ShopResale"]),
    ("socialco", "social-media", dt.date(2018, 6, 15), ["SocialNet"]),
    ("searchco", "search", dt.date(2019, 2, 1), ["SearchFind"]),
]


@pytest.fixture(scope="session")
def activity(build_db) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read cursor on the activity database, held for the session."""
    with build_db(ACTIVITY_PARTNERS, ACTIVITY_SUBMISSIONS).read() as cur:
        yield cur


# --- The panel database: reduction vs baseline, progress, status ----------------------------
#
# Every row is elephants in CHN. AlphaMart and BetaSocial report from 2018-Q1, so their default
# baseline is 2018-Q1..Q4; GammaSearch (gamma joins 2019-01-01) reports from 2019-Q1 at a far
# higher rate, so its baseline is 2019-Q1..Q4 and it enters the panel in 2020-Q1; EpsilonShop has
# three quarters only and ZetaApp no detection figures at all: neither has a baseline.
#
#   quarter   AlphaMart      BetaSocial     GammaSearch    EpsilonShop
#             det / effort   det / effort   det / effort   det / effort
#   2018-Qn   100 / 1000     25 / 125       -              -             (each of Q1..Q4)
#   2019-Q1    80 / 1000     15 / 125       125 / 250      -
#   2019-Q2    60 / 1000     -              125 / 250      -
#   2019-Q3    30 / 500      30 / 125       125 / 250      10 / 100
#   2019-Q4    50 / 1000     10 / 125       125 / 250      10 / 100
#   2020-Q1    40 / 1000      5 / 125        60 / 240      10 / 100
#
# ZetaApp: 2019-Q1 removed 7, blocked 3; 2020-Q1 removed 5, blocked 5.
PANEL_PARTNERS = [
    ("alpha", "e-commerce", dt.date(2018, 1, 1), ["AlphaMart"]),
    ("beta", "social-media", dt.date(2018, 1, 1), ["BetaSocial"]),
    ("gamma", "search", dt.date(2019, 1, 1), ["GammaSearch"]),
    ("epsilon", "e-commerce", dt.date(2019, 7, 1), ["EpsilonShop"]),
    ("zeta", "other", dt.date(2018, 1, 1), ["ZetaApp"]),
]


def _detections(platform: str, table: dict[str, tuple[int, int]]) -> list[tuple]:
    return [
        (platform, q, "elephants", "CHN", None, None, det, eff) for q, (det, eff) in table.items()
    ]


PANEL_SUBMISSIONS = [
    dict(
        partner="alpha",
        uploaded_at=dt.datetime(2020, 4, 1),
        rows=_detections(
            "AlphaMart",
            {
                "2018-Q1": (100, 1000),
                "2018-Q2": (100, 1000),
                "2018-Q3": (100, 1000),
                "2018-Q4": (100, 1000),
                "2019-Q1": (80, 1000),
                "2019-Q2": (60, 1000),
                "2019-Q3": (30, 500),
                "2019-Q4": (50, 1000),
                "2020-Q1": (40, 1000),
            },
        ),
    ),
    dict(
        partner="beta",
        uploaded_at=dt.datetime(2020, 4, 1),
        rows=_detections(
            "BetaSocial",
            {
                "2018-Q1": (25, 125),
                "2018-Q2": (25, 125),
                "2018-Q3": (25, 125),
                "2018-Q4": (25, 125),
                "2019-Q1": (15, 125),
                "2019-Q3": (30, 125),
                "2019-Q4": (10, 125),
                "2020-Q1": (5, 125),
            },
        ),
    ),
    dict(
        partner="gamma",
        uploaded_at=dt.datetime(2020, 4, 1),
        rows=_detections(
            "GammaSearch",
            {
                "2019-Q1": (125, 250),
                "2019-Q2": (125, 250),
                "2019-Q3": (125, 250),
                "2019-Q4": (125, 250),
                "2020-Q1": (60, 240),
            },
        ),
    ),
    dict(
        partner="epsilon",
        uploaded_at=dt.datetime(2020, 4, 1),
        rows=_detections(
            "EpsilonShop", {"2019-Q3": (10, 100), "2019-Q4": (10, 100), "2020-Q1": (10, 100)}
        ),
    ),
    dict(
        partner="zeta",
        uploaded_at=dt.datetime(2020, 4, 1),
        rows=[
            ("ZetaApp", "2019-Q1", "elephants", "CHN", 7, 3, None, None),
            ("ZetaApp", "2020-Q1", "elephants", "CHN", 5, 5, None, None),
        ],
    ),
]


@pytest.fixture(scope="session")
def panel(build_db) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read cursor on the panel database (default baselines), held for the session."""
    with build_db(PANEL_PARTNERS, PANEL_SUBMISSIONS).read() as cur:
        yield cur


@pytest.fixture(scope="session")
def panel_configured(build_db) -> Iterator[duckdb.DuckDBPyConnection]:
    """The panel database with a configured baseline for AlphaMart: 2019-Q1..2019-Q2."""
    db = build_db(PANEL_PARTNERS, PANEL_SUBMISSIONS, [("AlphaMart", "2019-Q1", "2019-Q2")])
    with db.read() as cur:
        yield cur
