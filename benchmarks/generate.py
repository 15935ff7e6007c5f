"""Write tracker databases of N count records with the demo's shape, for the benchmarks.

    .venv/bin/python benchmarks/generate.py [--records 200000 2000000 20000000]
        [--out /tmp/coalition-bench] [--seed 2018] [--force]

Writes ``OUT/records-N.duckdb`` for each N (default: 200,000 and 2,000,000) and prints the
generation time and file size of each.

The partners and platforms are the demo's (``coalition.demo``: 47 fictional partners joining
in three cohorts, about 100 platforms, some reporting by quarter, each with its own monitoring
sweep and detection-rate trend), with the same 78 months from March 2018 to September 2024.
What grows with N is the detail of each platform's report: the demo spreads a platform's
figures over a few countries per species group; here each platform reports, for each of its
species groups, the K countries (weighted by trade volume and the partner's market) that a
seeded draw picks, and above about 14 million records also T taxa per species group and
country (the ``taxon`` column). K and T are solved for so that the file has N records (to a
few hundredths of a percent).

Every count is made in DuckDB SQL from hashes of the row's key and a seed (no Python loop over
rows, no ``random()`` whose order depends on threads), so the same seed gives the same file.
Rows reference real submissions (one accepted submission per partner and quarter), platforms,
periods, species groups and countries, as the schema's foreign keys demand.
"""

from __future__ import annotations

import argparse
import math
import secrets
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coalition import auth, demo, rollup, store  # noqa: E402
from coalition.db import Database, set_meta  # noqa: E402

DEFAULT_OUT = Path("/tmp/coalition-bench")
DEFAULT_SIZES = (200_000, 2_000_000)
KEEP = 0.96  # as in the demo, a cell with nothing to report is sometimes left out
BENCH_USER = "bench-secretariat"
# rows inserted per statement: bounds the memory of the primary-key and foreign-key checks
CHUNK_PLATFORMS = 10


def db_path(out: Path, records: int) -> Path:
    return out / f"records-{records}.duckdb"


def password_path(db: Path) -> Path:
    """Where the password of the benchmark account of database ``db`` is kept."""
    return db.with_suffix(".password")


# --- the parameters, made once with numpy from the demo's seeded model ---------------------


def _parameters(seed: int, countries: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Partners, platforms, species and countries with the model's drivers (small frames)."""
    rng = np.random.default_rng(seed)
    partners = demo._partners(rng)
    platforms = demo._platforms(rng, partners)
    n = len(platforms)
    biggest = int(platforms["size"].idxmax())
    platforms["idx"] = np.arange(n)
    platforms["n_species"] = np.clip(np.rint(rng.normal(8, 3, n)), 3, 15).astype(int)
    platforms.loc[biggest, "n_species"] = len(demo.SPECIES_WEIGHT)
    platforms["global_cells"] = rng.random(n) < 0.4
    join = partners["join_month"].to_numpy()[platforms["partner_idx"]]
    platforms["join_month"] = join
    platforms["months"] = np.where(partners["quarterly"].to_numpy()[platforms["partner_idx"]], 3, 1)
    platforms["market"] = partners["market"].to_numpy()[platforms["partner_idx"]]
    for col in ("blocked_from", "reports_accounts", "reports_reports", "account_ratio"):
        platforms[col] = partners[col].to_numpy()[platforms["partner_idx"]]
    platforms["report_ratio"] = partners["report_ratio"].to_numpy()[platforms["partner_idx"]]
    platforms["rising"] = platforms["trend"] == "rise"
    species = pd.DataFrame(
        {
            "species": list(demo.SPECIES_WEIGHT),
            "sw": list(demo.SPECIES_WEIGHT.values()),
            "drift": rng.normal(*demo.SPECIES_DRIFT, len(demo.SPECIES_WEIGHT)),
        }
    )
    countries = countries.copy()
    countries["cw"] = countries["iso3"].map(demo.COUNTRY_WEIGHT).fillna(1.0).astype(float)
    regions = sorted(countries["region"].unique())
    drift = dict(zip(regions, rng.normal(*demo.REGION_DRIFT, len(regions)), strict=True))
    countries["drift"] = countries["region"].map(drift)
    # the "global / unspecified" cell of a platform: no country, a large share of the volume
    countries = pd.concat(
        [
            countries,
            pd.DataFrame(
                {
                    "iso3": [None],
                    "region": ["global"],
                    "cw": [countries["cw"].mean() * 3],
                    "drift": [0.0],
                }
            ),
        ],
        ignore_index=True,
    )
    cols = [
        "idx", "partner", "size", "monitored", "rising", "decay", "floor", "trend_delay",
        "base_rate", "sweep", "monitor_lag", "reports_effort", "block_start", "block_slope",
        "n_species", "global_cells", "join_month", "months", "market", "blocked_from",
        "reports_accounts", "reports_reports", "account_ratio", "report_ratio",
    ]  # fmt: skip
    return {
        "partners": partners,
        "platforms": platforms,
        "b_platforms": platforms[cols],
        "b_species": species,
        "b_countries": countries[["iso3", "region", "cw", "drift"]],
    }


# --- SQL -----------------------------------------------------------------------------------

# u(key..., salt): a uniform number in [0, 1) from a hash; z: a standard normal (Box–Muller).
MACROS = """
CREATE OR REPLACE TEMP MACRO u(a, b, c, d, salt) AS
    CAST(hash(a, b, c, d, salt, getvariable('seed')) >> 11 AS DOUBLE) / 9007199254740992.0;
CREATE OR REPLACE TEMP MACRO z(a, b, c, d, salt) AS
    sqrt(-2 * ln(greatest(u(a, b, c, d, salt), 1e-12)))
    * cos(2 * pi() * u(a, b, c, d, salt + 1000));
"""

# Every platform × species × country with a Gumbel key: taking the top K by key per platform
# and species is a weighted draw without replacement (weights: trade volume, market tilt).
GRID = f"""
CREATE OR REPLACE TEMP TABLE grid AS
WITH species_pick AS (
    SELECT p.idx, s.species, s.sw, s.drift AS s_drift
    FROM b_platforms AS p CROSS JOIN b_species AS s
    QUALIFY row_number() OVER (
        PARTITION BY p.idx ORDER BY ln(greatest(u(p.idx, s.species, 0, 0, 1), 1e-12))
                                    / pow(s.sw, 0.6) DESC) <= p.n_species
)
SELECT
    sp.idx, sp.species, sp.sw, sp.s_drift, c.iso3, c.drift AS c_drift,
    c.cw * CASE WHEN p.market <> 'global' AND c.region = p.market THEN {demo.MARKET_TILT}
           ELSE 1 END AS w,
    -- the rank of this country in the platform's draw for the species; the global cell first
    CASE WHEN c.iso3 IS NULL THEN 0 ELSE row_number() OVER (
        PARTITION BY sp.idx, sp.species, c.iso3 IS NULL
        ORDER BY ln(greatest(u(sp.idx, sp.species, c.iso3, 0, 2), 1e-12))
                 / (c.cw * CASE WHEN p.market <> 'global' AND c.region = p.market
                                THEN {demo.MARKET_TILT} ELSE 1 END) DESC) END AS rank,
    -- how much wider or narrower than K this platform and species spread
    exp(0.4 * z(sp.idx, sp.species, 0, 0, 3)) AS spread
FROM species_pick AS sp
JOIN b_platforms AS p ON p.idx = sp.idx
CROSS JOIN b_countries AS c
WHERE c.iso3 IS NOT NULL OR p.global_cells
"""

PERIODS = """
CREATE OR REPLACE TEMP TABLE platform_periods AS
SELECT p.idx, m.range AS end_month, p.months,
       m.range - (p.months - 1) / 2 AS mid_month
FROM b_platforms AS p
CROSS JOIN range(0, getvariable('last_month') + 1) AS m
WHERE m.range >= p.join_month + p.months - 1
  AND (m.range - (p.join_month + p.months - 1)) % p.months = 0
"""

CANDIDATES = """
SELECT sum(c.n * pp.n)
FROM (SELECT idx, count(*) AS n FROM grid
      WHERE rank <= greatest(1, round(? * spread)) GROUP BY idx) AS c
JOIN (SELECT idx, count(*) AS n FROM platform_periods GROUP BY idx) AS pp USING (idx)
"""

CELLS = """
CREATE OR REPLACE TEMP TABLE cells AS
SELECT g.idx, g.species, g.sw, g.s_drift, g.iso3, g.c_drift, t.range AS taxon_slot,
       g.w / sum(g.w) OVER (PARTITION BY g.idx) / getvariable('taxa') AS share,
       exp(0.35 * z(g.idx, g.species, g.iso3, t.range, 4)) AS rate_factor,
       pow(g.sw / 20, 0.3) * exp(0.3 * z(g.idx, g.species, g.iso3, t.range, 5)) AS sweep_factor
FROM grid AS g CROSS JOIN range(getvariable('taxa')) AS t
WHERE g.rank <= greatest(1, round(getvariable('k') * g.spread))
"""

SUBMISSIONS = """
INSERT INTO submissions (partner, uploaded_by, uploaded_at, file_name, file_sha256, source,
                         status, reviewed_by, reviewed_at)
WITH quarters AS (
    SELECT DISTINCT p.partner,
           year(DATE '2018-03-01' + to_months(CAST(pp.end_month AS INTEGER))) AS y,
           quarter(DATE '2018-03-01' + to_months(CAST(pp.end_month AS INTEGER))) AS q
    FROM platform_periods AS pp JOIN b_platforms AS p USING (idx)
)
SELECT partner, 'bench-loader',
       last_day(make_date(y, 3 * q, 1))
           + to_days(CAST(5 + floor(u(partner, y, q, 0, 6) * 70) AS INTEGER))
           + to_seconds(CAST(8 * 3600 + floor(u(partner, y, q, 0, 7) * 39600) AS BIGINT)),
       partner || '-' || y || '-Q' || q || '.xlsx', NULL, 'cli', 'accepted', 'bench-loader',
       last_day(make_date(y, 3 * q, 1)) + INTERVAL 80 DAY
FROM quarters
ORDER BY partner, y, q
"""

# The counts of one row, following coalition.demo's model (smooth uptake of enforcement,
# logistic rise of blocking, detection rates falling by platform trend, species and region).
RECORDS = """
INSERT INTO records (submission_id, platform_id, period, species_group, country, taxon,
                     listings_removed, listings_blocked, accounts_actioned, reports_received,
                     listings_detected, search_effort)
WITH base AS (
    SELECT
        p.*, c.species, c.iso3, c.taxon_slot, c.share, c.rate_factor, c.sweep_factor,
        c.s_drift + c.c_drift AS drift, pp.end_month, pp.mid_month,
        DATE '2018-03-01' + to_months(CAST(pp.end_month AS INTEGER)) AS month_start,
        pp.mid_month / 12 AS t
    FROM b_platforms AS p
    JOIN cells AS c ON c.idx = p.idx
    JOIN platform_periods AS pp ON pp.idx = p.idx
    WHERE p.idx BETWEEN $first AND $last
      AND u(p.idx, c.species, c.iso3, c.taxon_slot * 1000 + pp.end_month, 8) < $keep
),
drawn AS (
    SELECT
        *,
        round(size * 40000 * share * months
              * (1 - 0.5 * exp(-greatest(mid_month - join_month, 0) / 6))
              / (1 + exp(-(t - 1.2) / 0.5)) * exp(-0.25 * greatest(t - 3.6, 0))
              * exp(0.25 * z(idx, species, iso3, taxon_slot * 1000 + end_month, 9)))
            AS actions,
        1 / (1 + exp(-(block_start + block_slope * t
                       + 0.2 * z(idx, species, iso3, taxon_slot * 1000 + end_month, 10))))
            AS blocked_share,
        monitored AND end_month >= join_month + monitor_lag
            AND u(idx, (end_month + 2) // 3, 0, 0, 11) >= 0.05 AS monitoring,
        greatest(mid_month / 12 - join_month / 12 - trend_delay, 0) AS years
    FROM base
),
rated AS (
    SELECT
        *,
        greatest(round(sweep * sweep_factor * months
                       * exp(0.08 * z(idx, species, iso3, taxon_slot * 1000 + end_month, 12))), 1)
            AS effort,
        least(base_rate * rate_factor
              * exp(0.12 * z(idx, end_month, 0, 0, 13))
              * CASE WHEN rising THEN least(exp(-decay * years), 1.6)
                     ELSE floor + (1 - floor) * exp(-decay * years) END
              * exp(-drift * t), 0.9) AS rate
    FROM drawn
)
SELECT
    s.id,
    r.idx + $first_platform_id,
    CASE WHEN r.months = 3 THEN strftime(r.month_start, '%Y') || '-Q' || quarter(r.month_start)
         ELSE strftime(r.month_start, '%Y-%m') END,
    r.species,
    r.iso3,
    CASE WHEN getvariable('taxa') > 1 THEN r.species || '-taxon-' || r.taxon_slot END,
    CAST(CASE WHEN r.mid_month >= r.blocked_from THEN r.actions - round(r.actions * r.blocked_share)
         ELSE r.actions END AS BIGINT),
    CAST(CASE WHEN r.mid_month >= r.blocked_from THEN round(r.actions * r.blocked_share) END
         AS BIGINT),
    CAST(CASE WHEN r.reports_accounts THEN round(r.actions * r.account_ratio) END AS BIGINT),
    CAST(CASE WHEN r.reports_reports THEN round(r.actions * r.report_ratio
         * exp(0.2 * z(r.idx, r.species, r.iso3, r.taxon_slot * 1000 + r.end_month, 14))) END
         AS BIGINT),
    CAST(CASE WHEN r.monitoring THEN least(r.effort, round(r.effort * r.rate
         * exp(0.1 * z(r.idx, r.species, r.iso3, r.taxon_slot * 1000 + r.end_month, 15)))) END
         AS BIGINT),
    CAST(CASE WHEN r.monitoring AND r.reports_effort THEN r.effort END AS BIGINT)
FROM rated AS r
JOIN submissions AS s
  ON s.partner = r.partner
 AND s.file_name = r.partner || '-' || year(r.month_start) || '-Q' || quarter(r.month_start)
                   || '.xlsx'
"""


# --- building ------------------------------------------------------------------------------


def _solve_k(con: duckdb.DuckDBPyConnection, want: float) -> tuple[float, int]:
    """The spread K and the taxa T that give about ``want`` candidate rows."""
    widest = con.execute(CANDIDATES, [10_000]).fetchone()[0]
    taxa = max(1, math.ceil(want / (0.85 * widest)))
    per_taxon = want / taxa
    low, high = 0.1, 2_000.0
    for _ in range(40):
        mid = (low + high) / 2
        if con.execute(CANDIDATES, [mid]).fetchone()[0] < per_taxon:
            low = mid
        else:
            high = mid
    return high, taxa


def generate(path: Path, records: int, seed: int = demo.DEFAULT_SEED) -> dict:
    """Write a database of about ``records`` count records at ``path`` (which must not exist).
    Returns a summary: records, partners, platforms, submissions, K, T, seconds, bytes."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    store.init(db)
    con = duckdb.connect(str(path))
    try:
        countries = con.execute(
            "SELECT iso3, region FROM countries WHERE region <> 'Antarctica' ORDER BY iso3"
        ).df()
        frames = _parameters(seed, countries)
        platforms = frames["platforms"]
        con.begin()
        for p in frames["partners"].itertuples():
            store.add_partner(
                con,
                p.slug,
                p.name,
                p.sector,
                demo._month_date(p.join_month),
                consent_to_name=bool(p.consent),
            )
        ids = [store.add_platform(con, p.partner, p.name, p.kind) for p in platforms.itertuples()]
        # the platforms were added in order, so platform id = idx + the first id
        assert ids == list(range(ids[0], ids[0] + len(ids)))
        con.commit()
        for name in ("b_platforms", "b_species", "b_countries"):
            con.register(f"{name}_df", frames[name])
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")
            con.unregister(f"{name}_df")
        con.execute("SET VARIABLE seed = ?", [seed])
        con.execute("SET VARIABLE last_month = ?", [demo.LAST_MONTH])
        con.execute(MACROS)
        con.execute(GRID)
        con.execute(PERIODS)
        k, taxa = _solve_k(con, records / KEEP)
        con.execute("SET VARIABLE k = ?", [k])
        con.execute("SET VARIABLE taxa = ?", [taxa])
        con.execute(CELLS)
        candidates = con.execute(
            "SELECT count(*) FROM cells JOIN platform_periods USING (idx)"
        ).fetchone()[0]
        keep = min(1.0, records / candidates)
        con.begin()
        con.execute(SUBMISSIONS)
        con.commit()
        n_platforms = len(platforms)
        for first in range(0, n_platforms, CHUNK_PLATFORMS):
            con.begin()
            con.execute(
                RECORDS,
                {
                    "first": first,
                    "last": first + CHUNK_PLATFORMS - 1,
                    "keep": keep,
                    "first_platform_id": ids[0],
                },
            )
            con.commit()
        con.begin()
        set_meta(con, "synthetic", "1")
        set_meta(con, "bench_seed", str(seed))
        # a secretariat account for the benchmarks; its password (random, for this throwaway
        # file only) is written beside the database for bench_browsers.py to sign in with
        password = secrets.token_urlsafe(18)
        con.execute(
            "INSERT INTO users (name, role, partner, password_hash, created_at) "
            "VALUES (?, 'secretariat', NULL, ?, now())",
            [BENCH_USER, auth.hash_password(password)],
        )
        password_path(path).write_text(password + "\n", encoding="utf-8")
        con.execute(
            "INSERT INTO meta (key, value) VALUES ('data_version', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
        )
        con.commit()
        # the pre-aggregated tables, as the app's writes keep them (coalition/rollup.py)
        rollup_started = time.perf_counter()
        con.begin()
        rollup.update(con)
        con.commit()
        rollup_seconds = time.perf_counter() - rollup_started
        con.execute("CHECKPOINT")
        summary = {
            "rollup_seconds": round(rollup_seconds, 1),
            "records": con.execute("SELECT count(*) FROM records").fetchone()[0],
            "partners": len(frames["partners"]),
            "platforms": n_platforms,
            "submissions": con.execute("SELECT count(*) FROM submissions").fetchone()[0],
            "countries_per_species": round(k, 1),
            "taxa": taxa,
        }
    finally:
        con.close()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["bytes"] = path.stat().st_size
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="replace existing files")
    args = parser.parse_args()
    if ROOT in args.out.resolve().parents or args.out.resolve() == ROOT:
        parser.error("write the benchmark databases outside the repository")
    for n in args.records:
        path = db_path(args.out, n)
        if path.exists():
            if not args.force:
                print(f"{path} exists (use --force to replace it)")
                continue
            path.unlink()
            Path(f"{path}.wal").unlink(missing_ok=True)
        s = generate(path, n, args.seed)
        print(
            f"{path}: {s['records']:,} records, {s['partners']} partners, "
            f"{s['platforms']} platforms, {s['submissions']:,} submissions, "
            f"K={s['countries_per_species']} countries per species, T={s['taxa']} taxa; "
            f"{s['seconds']:.1f} s (of which rollups {s['rollup_seconds']:.1f} s), "
            f"{s['bytes'] / 2**20:,.0f} MiB",
            flush=True,
        )


if __name__ == "__main__":
    main()
