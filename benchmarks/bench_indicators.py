"""Time every indicator on the demo database (or --db) and print the figures.

    .venv/bin/python benchmarks/bench_indicators.py [--db PATH] [--repeat 5]

Builds the synthetic demo in a temporary file when no --db is given. Prints the median and
the best wall-clock time of each indicator call, coalition-wide and broken down.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import metrics
from coalition.db import Database
from coalition.demo import load_demo

CALLS = {
    "actions (quarter)": lambda cur: metrics.actions(cur),
    "actions by species (month)": lambda cur: metrics.actions(
        cur, by="species_group", grain="month"
    ),
    "proactive share by sector": lambda cur: metrics.proactive_share(cur, by="sector"),
    "detection rate by region": lambda cur: metrics.detection_rate(cur, by="region"),
    "reduction series": lambda cur: metrics.reduction_series(cur),
    "reduction by platform": lambda cur: metrics.reduction(cur, by="platform"),
    "progress (headline)": lambda cur: metrics.progress(cur),
    "progress by platform": lambda cur: metrics.progress(cur, by="platform"),
    "projection": lambda cur: metrics.projection(cur),
    "reporting coverage": lambda cur: metrics.reporting_coverage(cur),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database to measure (default: a fresh demo database)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.db:
        db = Database(args.db)
    else:
        db = Database(Path(tempfile.mkdtemp()) / "demo.duckdb")
        started = time.perf_counter()
        summary = load_demo(db)
        print(f"demo load: {time.perf_counter() - started:.2f} s, {summary['records']:,} records")
    with db.read() as cur:
        rows = cur.execute("SELECT count(*) FROM records").fetchone()[0]
        print(f"{rows:,} records in {db.path}\n")
        print(f"{'indicator':32} {'median s':>9} {'best s':>8}")
        for name, call in CALLS.items():
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                call(cur)
                times.append(time.perf_counter() - started)
            print(f"{name:32} {statistics.median(times):9.3f} {min(times):8.3f}")


if __name__ == "__main__":
    main()
