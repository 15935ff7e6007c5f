"""Time every page of the app, and each indicator query, on the benchmark databases.

    .venv/bin/python benchmarks/bench_pages.py [--records 200000 2000000]
        [--out /tmp/coalition-bench] [--pages overview platforms ...] [--no-naive]
        [--no-metrics] [--rollup] [--ingest] [--concurrent 10] [--repeat 3]

For each database ``OUT/records-N.duckdb`` (see ``generate.py``) and each page in ``PAGES``,
a fresh child process (so that its peak memory is its own):

* runs the page once through Streamlit's ``AppTest`` as a signed-in secretariat user, to pay
  for the imports and the file's first read (``first``);
* clears ``st.cache_data`` and ``st.cache_resource``, closes the database file and runs it in
  a new ``AppTest`` (``new session``: also pays for AppTest setting up a session, about 0.3 s
  of scanning installed packages for components, which a running server does once);
* runs it in one session again after emptying the caches and closing the file (``cold``:
  every query runs and every figure is built, as after new data arrives), then once more
  (``warm``: cached results and figures are used, as on any rerun after a click); both
  ``--repeat`` times (3), one pair after the other, printing the median and the range;
* reports the peak resident memory of the process (``resource.getrusage(RUSAGE_SELF)
  .ru_maxrss``: everything, DuckDB's buffers included);
* then, in the same process (so that both meet the same load), does the page's work "the
  naive way": the whole ``facts`` view read into pandas, filtered and grouped there for the
  page's main indicators (``NAIVE``; Data quality's rules and Review's matrix over every
  status, ``NAIVE_EVERY_STATUS``), and prints the ratio naive / cold; the process's peak
  memory after that is the naive figure.

``--concurrent N``: N new sessions opening the Overview at the same moment in one process
(the server's share of ``bench_browsers.py``, without N browsers on the same cores).
``--ingest``: the throughput of ``coalition ingest`` at that size (a partner's correction of a
quarter, into a scratch copy), and how much of it is the rollups' update.

Then (unless ``--no-metrics``) the time of each indicator query on a freshly opened file and
the best of three on an open one. ``--rollup`` measures the pre-aggregated tables of
``coalition.rollup`` against ``facts``.

The load average is printed beside every timing: the machine is shared, and the ratios, taken
in the same run, are the figures to compare. ``calib`` is the time of a fixed piece of
pure-Python work in the same process: absolute times scale with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.generate import BENCH_USER, DEFAULT_OUT, DEFAULT_SIZES, db_path  # noqa: E402

APP = ROOT / "app.py"
# The pages to time: name → script. Add a page here (and, if it has main indicators of its
# own, a naive counterpart in NAIVE or NAIVE_EVERY_STATUS) to have it measured.
PAGES = {
    "overview": "views/overview.py",
    "platforms": "views/platforms.py",
    "species": "views/species.py",
    "regions": "views/regions.py",
    "present": "views/present.py",
    "quality": "views/quality.py",
    "review": "views/review.py",
    "submit": "views/submit.py",
    "admin": "views/admin.py",
}
TARGETS = {"cold_2m": 1.0, "warm_2m": 0.3, "cold_20m": 3.0, "memory_mib": 1536, "naive_ratio": 5}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> float:
    return os.getloadavg()[0]


# --- pages through AppTest -----------------------------------------------------------------


def sign_in(at) -> None:
    """Put the benchmark's secretariat account into the session, when the app has sign-in."""
    try:
        from coalition import auth
        from coalition.ui import session
    except ImportError:
        return
    if hasattr(session, "sign_in_as"):
        session.sign_in_as(at.session_state, auth.User(BENCH_USER, "secretariat"))
    else:
        at.session_state["coalition_user"] = {"name": BENCH_USER, "role": "secretariat"}


def _clear_caches() -> None:
    import streamlit as st

    from coalition.ui import data

    data.clear_caches()  # as new data would, and after what was asked for ahead has landed
    st.cache_resource.clear()


def _run_page(page: str, direct: bool = False) -> tuple[object, float]:
    """Run ``page`` in a new AppTest: through app.py (as the browser does: the database check,
    the signed-in user, the navigation), or with ``direct`` the page script alone, with the
    database source that app.py would have put into the session."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / page if direct else APP), default_timeout=600)
    sign_in(at)
    started = time.perf_counter()
    if direct:
        from coalition.ui import data

        at.session_state["_coalition_source"] = data.source()
        at.run()
    else:
        at.run()
        if page != PAGES["overview"]:
            at.switch_page(page).run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
    return at, elapsed


def _close_database() -> None:
    """Close the database file that the app keeps open between queries (``coalition.db``)."""
    from coalition import db

    for shared in list(db._shared.values()):
        shared.close_if_idle(shared.generation)


def calibrate() -> float:
    """Seconds for a fixed piece of pure-Python work: how slow the shared machine is now."""
    started = time.perf_counter()
    sum(i * i for i in range(2_000_000))
    return time.perf_counter() - started


class DataTimer:
    """Adds up the time spent getting numbers — the indicator calls the pages make through
    ``coalition.ui.data`` and the opening of the database file — as opposed to drawing."""

    CALLS = (
        "progress",
        "projection",
        "reduction_series",
        "actions",
        "reporting_coverage",
        "proactive_share",
        "detection_rate",
    )

    def __init__(self) -> None:
        import metrics
        from coalition.db import Database

        self.seconds = 0.0
        self.opens = 0
        for name in self.CALLS:
            setattr(metrics, name, self._timed(getattr(metrics, name)))
        Database._open = self._timed(Database._open, count=True)

    def _timed(self, func, count: bool = False):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.opens += count

        return timed

    def take(self) -> tuple[float, int]:
        seconds, opens = self.seconds, self.opens
        self.seconds, self.opens = 0.0, 0
        return seconds, opens


def child_page(
    db: Path, page: str, direct: bool = False, naive: bool = True, repeat: int = 1
) -> dict:
    """Time ``page`` first, cold and warm (``repeat`` times each, one after the other: the
    median is reported, every run is kept), then (in the same process, right after, so that
    both meet the same load) its naive counterpart."""
    os.environ["COALITION_DB"] = str(db)
    os.chdir(ROOT)
    load_before = load()
    calib = calibrate()
    mode = "direct" if direct else "app"
    try:
        _, first = _run_page(page, direct)
    except RuntimeError:
        if direct:
            raise
        # app.py may be mid-change (another page missing): time the page on its own
        mode, direct = "direct (app.py failed)", True
        _, first = _run_page(page, direct)
    # a new session on empty caches: also pays for AppTest's own set-up of a session
    _clear_caches()
    _close_database()
    _, new_session = _run_page(page, direct)
    # cold: the same session (as after new data arrives) with every cache emptied and the
    # database file closed, so that every query and every figure is computed again
    _clear_caches()
    _close_database()
    timer = DataTimer()
    at, _ = _run_page(page, direct)  # warm-up of this session, not timed
    _clear_caches()
    _close_database()
    runs = []
    for i in range(repeat):
        if i:
            _clear_caches()
            _close_database()
        timer.take()
        started = time.perf_counter()
        at.run()
        cold = time.perf_counter() - started
        cold_data, cold_opens = timer.take()
        started = time.perf_counter()
        at.run()
        warm = time.perf_counter() - started
        warm_data, warm_opens = timer.take()
        if at.exception:
            raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
        runs.append((cold, cold_data, cold_opens, warm, warm_data, warm_opens))
    by_cold = sorted(runs)[len(runs) // 2]  # the median run (the upper one of an even number)
    by_warm = sorted(runs, key=lambda run: run[3])[len(runs) // 2]
    cold, cold_data, cold_opens = by_cold[:3]
    warm, warm_data, warm_opens = by_warm[3:]
    out = {
        "first": first,
        "new_session": new_session,
        "cold": cold,
        "cold_data": cold_data,
        "cold_opens": cold_opens,
        "warm": warm,
        "warm_data": warm_data,
        "warm_opens": warm_opens,
        "cold_runs": [run[0] for run in runs],
        "warm_runs": [run[3] for run in runs],
        "rss_mib": peak_rss_mib(),
        "mode": mode,
    }
    name = next((k for k, v in PAGES.items() if v == page), None)
    if naive and (name in NAIVE or name in NAIVE_EVERY_STATUS):
        out.update(run_naive(db, name))
        out["ratio"] = out["naive"] / out["cold"]
        out["ratio_data"] = out["naive"] / max(out["cold_data"], 1e-9)
    out["load"] = (load_before + load()) / 2
    out["calib_s"] = (calib + calibrate()) / 2
    return out


# Overview runs first whenever a page is switched to after the first run; so the cold time of
# another page includes an Overview run with warm caches (a few hundredths of a second).


# --- the naive way: the whole table in pandas ----------------------------------------------

NAIVE_COLUMNS = """
    status, replaced_by_pending, platform_id, platform, partner, sector, period, period_kind,
    start_date, end_date, quarter, species_group, country, region, subregion,
    listings_removed, listings_blocked, listings_detected, search_effort
"""


def naive_actions(df: pd.DataFrame, by: str | None, grain: str | None = "quarter") -> pd.DataFrame:
    grp = df[by] if by else pd.Series("All", index=df.index)
    keys = [grp] + ([df[grain]] if grain else [])
    out = df.groupby(keys)[["listings_removed", "listings_blocked"]].sum(min_count=1)
    out["actions"] = out.fillna(0).sum(axis=1)
    out["cumulative_actions"] = out.groupby(level=0)["actions"].cumsum()
    out["partners"] = df.groupby(keys)["partner"].nunique()
    return out.reset_index()


def naive_proactive(df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    both = df.dropna(subset=["listings_removed", "listings_blocked"])
    grp = both[by] if by else pd.Series("All", index=both.index)
    out = both.groupby(grp)[["listings_removed", "listings_blocked"]].sum()
    out["proactive_share"] = out["listings_blocked"] / out.sum(axis=1)
    return out.reset_index()


def naive_detection(df: pd.DataFrame, by: str) -> pd.DataFrame:
    rows = df.dropna(subset=["listings_detected", "search_effort"])
    out = rows.groupby([by, "quarter"])[["listings_detected", "search_effort"]].sum()
    out["detection_rate"] = out["listings_detected"] / out["search_effort"]
    return out.reset_index()


def naive_coverage(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby("quarter").agg(
        partners_reporting=("partner", "nunique"), platforms_reporting=("platform_id", "nunique")
    )


def naive_reduction(df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """The matched-panel reduction of ``metrics.reduction_series`` (default baselines) in
    pandas: each platform's first four rated quarters, units = platform × group."""
    det = df[df["listings_detected"].notna()].copy()
    det["grp"] = det[by] if by else "All"
    pq = det.groupby(["platform_id", "quarter"])["search_effort"].sum(min_count=1).reset_index()
    reports = pq.groupby("platform_id")["search_effort"].apply(lambda s: s.notna().any())
    pq = pq.join(reports.rename("reports_effort"), on="platform_id")
    rated = pq[~pq["reports_effort"] | (pq["search_effort"] > 0)].sort_values("quarter")
    rated = rated.groupby("platform_id").head(4)
    window = rated.groupby("platform_id")["quarter"].agg(["min", "max", "count"])
    window = window[window["count"] == 4]
    det["with_effort"] = det["listings_detected"].where(det["search_effort"].notna())
    det["month_period"] = det["period"].where(det["period_kind"] == "month")
    det["quarter_period"] = det["period"].where(det["period_kind"] == "quarter")
    units = (
        det.groupby(["platform_id", "grp", "quarter"])
        .agg(
            detected_all=("listings_detected", "sum"),
            detected_with_effort=("with_effort", "sum"),
            effort=("search_effort", "sum"),
            m=("month_period", "nunique"),
            q=("quarter_period", "nunique"),
        )
        .reset_index()
        .join(reports.rename("reports_effort"), on="platform_id")
    )
    units["detected"] = units["detected_with_effort"].where(
        units["reports_effort"], units["detected_all"]
    )
    months = (units["m"] + 3 * units["q"]).clip(upper=3)
    units["exposure"] = units["effort"].where(units["reports_effort"], months)
    units = units.join(window[["min", "max"]], on="platform_id", how="inner")
    in_base = units[
        (units["quarter"] >= units["min"])
        & (units["quarter"] <= units["max"])
        & (units["exposure"] > 0)
    ]
    base = in_base.groupby(["platform_id", "grp", "max"])[["detected", "exposure"]].sum()
    base = base[base["detected"] > 0].reset_index()
    base.columns = ["platform_id", "grp", "last_quarter", "base_detected", "base_exposure"]
    quarters = pd.DataFrame({"quarter": sorted(units["quarter"].unique())})
    eligible = quarters.merge(base, how="cross")
    eligible = eligible[eligible["last_quarter"] < eligible["quarter"]]
    current = units[units["exposure"] > 0][["platform_id", "grp", "quarter", "detected"]].copy()
    current["rate"] = current["detected"] / units.loc[current.index, "exposure"]
    panel = eligible.merge(current, on=["platform_id", "grp", "quarter"], how="left")
    panel["in_panel"] = panel["rate"].notna()
    panel["weighted"] = panel["rate"] * panel["base_exposure"]
    panel["base_in_panel"] = panel["base_detected"].where(panel["in_panel"])
    out = panel.groupby(["grp", "quarter"])[["weighted", "base_in_panel", "base_detected"]].sum()
    out["rate_index"] = out["weighted"] / out["base_in_panel"]
    out["coverage_share"] = out["base_in_panel"] / out["base_detected"]
    return out.reset_index()


def _accepted(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["status"] == "accepted"]


def _current(df: pd.DataFrame) -> pd.DataFrame:
    """Accepted figures, with a submission awaiting review standing in for the ones it would
    replace (what Data quality checks)."""
    accepted = (df["status"] == "accepted") & df["replaced_by_pending"].isna()
    return df[accepted | (df["status"] == "submitted")]


def _moved(now: pd.Series, before: pd.Series, factor: float) -> pd.Series:
    return (now > factor * before) | (now < before / factor)


def naive_quality(df: pd.DataFrame) -> pd.DataFrame:
    """Data quality's four rules over the figures (``coalition.quality``: ``jump``,
    ``detection_without_effort``, ``effort_change``, ``share_jump``) in pandas, each period
    against the one before it (month to month, quarter to quarter); ``silent`` and ``late``
    read the submissions, not the records, and are left out."""
    from coalition.quality import EFFORT_FACTOR, SHARE_FACTOR, SHARE_MINIMUM, SHARE_POINTS
    from coalition.validation import JUMP_FACTOR, JUMP_MINIMUM

    cur = _current(df)
    periods = cur[["period", "period_kind"]].drop_duplicates().sort_values("period")
    periods["previous"] = periods.groupby("period_kind")["period"].shift(1)
    previous = periods.set_index("period")["previous"]
    quarters = pd.Series(sorted(cur["quarter"].unique()))
    previous_quarter = pd.Series(quarters.shift(1).to_numpy(), index=quarters)
    found = []

    measures = ["listings_removed", "listings_blocked", "listings_detected", "search_effort"]
    keys = ["platform_id", "species_group", "country"]
    cells = cur[[*keys, "period", "submission_id", *measures]].astype(
        {m: "float64" for m in measures}  # blank: NaN, never a jump
    )
    pairs = cells.assign(previous=cells["period"].map(previous)).merge(
        cells.drop(columns="submission_id"),
        left_on=[*keys, "previous"],
        right_on=[*keys, "period"],
        suffixes=("", "_before"),
    )
    for m in measures:
        now, before = pairs[m], pairs[f"{m}_before"]
        jump = (np.fmax(now, before) >= JUMP_MINIMUM) & _moved(now, before, JUMP_FACTOR)
        found.append(pairs.loc[jump, ["platform_id", "period"]].assign(kind="jump"))

    detected = cur["listings_detected"]
    no_effort = detected.notna() & (
        cur["search_effort"].isna() | ((cur["search_effort"] == 0) & (detected > 0))
    )
    per_period = cur[no_effort].groupby(["platform_id", "period"]).size().reset_index()
    found.append(per_period[["platform_id", "period"]].assign(kind="detection_without_effort"))

    effort = cur.dropna(subset=["search_effort"]).groupby(["platform_id", "period"])
    effort = effort["search_effort"].sum().astype("float64").reset_index()
    effort["previous"] = effort["period"].map(previous)
    pairs = effort.merge(
        effort, left_on=["platform_id", "previous"], right_on=["platform_id", "period"]
    )
    pairs = pairs[(pairs["search_effort_x"] > 0) & (pairs["search_effort_y"] > 0)]
    changed = _moved(pairs["search_effort_x"], pairs["search_effort_y"], EFFORT_FACTOR)
    found.append(pairs.loc[changed, ["platform_id", "period_x"]].assign(kind="effort_change"))

    actions = cur["listings_removed"].fillna(0) + cur["listings_blocked"].fillna(0)
    per = actions.groupby([cur["platform_id"], cur["quarter"]]).sum().rename("actions")
    per = per.reset_index()
    per["share"] = per["actions"] / per.groupby("quarter")["actions"].transform("sum")
    per["previous"] = per["quarter"].map(previous_quarter)
    pairs = per.merge(per, left_on=["platform_id", "previous"], right_on=["platform_id", "quarter"])
    now, before = pairs["share_x"], pairs["share_y"]
    moved = ((now - before).abs() > SHARE_POINTS) | (
        (np.fmax(now, before) >= SHARE_MINIMUM) & _moved(now, before, SHARE_FACTOR)
    )
    found.append(pairs.loc[moved, ["platform_id", "quarter_x"]].assign(kind="share_jump"))
    return pd.concat(found, ignore_index=True)


def naive_review(df: pd.DataFrame) -> pd.DataFrame:
    """The Review page's matrix in pandas: each partner's submissions per quarter (rows and
    status), and the latest one of each cell."""
    cells = (
        df.groupby(["partner", "quarter", "submission_id", "status"])
        .agg(rows=("platform_id", "size"), platforms=("platform_id", "nunique"))
        .reset_index()
        .sort_values("submission_id")
    )
    return cells.groupby(["partner", "quarter"]).tail(1)


# name → the page's main indicators computed from the whole table
NAIVE: dict[str, Callable[[pd.DataFrame], object]] = {
    "overview": lambda df: (
        naive_actions(df, None),
        naive_reduction(df, None),
        naive_coverage(df),
    ),
    "platforms": lambda df: (
        naive_reduction(df, "platform"),
        naive_proactive(df, "platform"),
        naive_actions(df, "platform", None),
    ),
    "species": lambda df: (
        naive_reduction(df, "species_group"),
        naive_actions(df, "species_group"),
        naive_detection(df, "species_group"),
    ),
    "regions": lambda df: (
        naive_reduction(df, "region"),
        naive_actions(df, "country", None),
        naive_detection(df, "region"),
    ),
    # the headline slide: the reduction and the actions to date
    "present": lambda df: (naive_reduction(df, None), naive_actions(df, None)),
}
# pages whose naive way reads every status (the others read the accepted figures only), and
# needs the submission each row comes from
NAIVE_EVERY_STATUS: dict[str, Callable[[pd.DataFrame], object]] = {
    "quality": naive_quality,
    "review": naive_review,
}


def run_naive(db: Path, page: str) -> dict:
    import duckdb

    started = time.perf_counter()
    # the same configuration as the app's connection, which may still be open (it lingers)
    con = duckdb.connect(str(db))
    every_status = page in NAIVE_EVERY_STATUS
    columns = NAIVE_COLUMNS + (", submission_id" if every_status else "")
    df = con.execute(f"SELECT {columns} FROM facts").df()
    con.close()
    read = time.perf_counter() - started
    if every_status:
        NAIVE_EVERY_STATUS[page](df)
    else:
        NAIVE[page](_accepted(df))
    return {
        "naive": time.perf_counter() - started,
        "naive_read": read,
        "naive_rss_mib": peak_rss_mib(),
    }


# --- each indicator query -----------------------------------------------------------------


def metric_calls() -> dict[str, Callable]:
    import metrics

    return {
        "progress()": lambda c: metrics.progress(c),
        "progress(by=platform)": lambda c: metrics.progress(c, by="platform"),
        "progress(by=species_group)": lambda c: metrics.progress(c, by="species_group"),
        "progress(by=region)": lambda c: metrics.progress(c, by="region"),
        "reduction_series()": lambda c: metrics.reduction_series(c),
        "reduction_series(by=platform)": lambda c: metrics.reduction_series(c, by="platform"),
        "reduction_series(by=species_group)": lambda c: metrics.reduction_series(
            c, by="species_group"
        ),
        "reduction_series(by=country)": lambda c: metrics.reduction_series(c, by="country"),
        "projection()": lambda c: metrics.projection(c),
        "actions(quarter)": lambda c: metrics.actions(c),
        "actions(total)": lambda c: metrics.actions(c, grain=None),
        "actions(by=species_group, quarter)": lambda c: metrics.actions(c, by="species_group"),
        "actions(by=country, total)": lambda c: metrics.actions(c, by="country", grain=None),
        "proactive_share(by=platform)": lambda c: metrics.proactive_share(
            c, by="platform", grain=None
        ),
        "detection_rate(by=species_group)": lambda c: metrics.detection_rate(c, by="species_group"),
        "reporting_coverage()": lambda c: metrics.reporting_coverage(c),
    }


def child_metrics(db: Path) -> dict:
    import duckdb

    out = {}
    started = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    out["connect"] = {"first": time.perf_counter() - started, "best": 0.0}
    started = time.perf_counter()
    con.execute("SELECT count(*), sum(listings_detected) FROM facts").fetchall()
    out["scan facts"] = {"first": time.perf_counter() - started}
    started = time.perf_counter()
    con.execute("SELECT count(*), sum(listings_detected) FROM records").fetchall()
    out["scan records"] = {"first": time.perf_counter() - started}
    con.close()
    for name, call in metric_calls().items():
        con = duckdb.connect(str(db), read_only=True)
        started = time.perf_counter()
        call(con)
        first = time.perf_counter() - started
        times = []
        for _ in range(3):
            started = time.perf_counter()
            call(con)
            times.append(time.perf_counter() - started)
        con.close()
        out[name] = {"first": first, "best": min(times), "load": load()}
    return {"metrics": out, "rss_mib": peak_rss_mib()}


def child_rollup(db: Path) -> dict:
    from coalition import rollup

    work = db.with_name(db.stem + "-rollup.duckdb")
    shutil.copyfile(db, work)
    try:
        # one timing per query on the largest files: a query on facts there takes tens of seconds
        return rollup.measure(work, repeat=1 if db.stat().st_size > 200 * 2**20 else 3)
    finally:
        work.unlink(missing_ok=True)
        Path(f"{work}.wal").unlink(missing_ok=True)


def child_parquet(db: Path) -> dict:
    """Export ``facts`` as Parquet partitioned by year and run indicators on it through a
    ``facts`` view over ``read_parquet`` (the other tables read from the database attached
    read-only), against the same indicators on the database itself."""
    import duckdb

    import metrics

    folder = db.with_name(db.stem + "-parquet")
    shutil.rmtree(folder, ignore_errors=True)
    out: dict = {}
    con = duckdb.connect(str(db), read_only=True)
    started = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM facts) TO '{folder}' (FORMAT parquet, PARTITION_BY (year))")
    out["export s"] = round(time.perf_counter() - started, 2)
    out["parquet MiB"] = round(sum(f.stat().st_size for f in folder.rglob("*")) / 2**20, 1)
    calls = {
        "reduction_series()": lambda c: metrics.reduction_series(c),
        "reduction_series(by=species_group)": lambda c: metrics.reduction_series(
            c, by="species_group"
        ),
        "actions(quarter)": lambda c: metrics.actions(c),
        "actions(2019 only)": lambda c: metrics.actions(
            c, metrics.Filters(period_from="2019-01", period_to="2019-12")
        ),
    }
    lake = duckdb.connect()
    lake.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
    for (name,) in lake.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
    ).fetchall():
        lake.execute(f"CREATE VIEW {name} AS SELECT * FROM src.{name}")
    lake.execute(
        f"CREATE VIEW facts AS SELECT * FROM read_parquet('{folder}/*/*.parquet', "
        "hive_partitioning = true)"
    )
    for label, call in calls.items():
        row = {}
        for where, c in (("duckdb file", con), ("parquet", lake)):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                call(c)
                best = min(best, time.perf_counter() - started)
            row[where] = round(best, 3)
        out[label] = row
    con.close()
    lake.close()
    shutil.rmtree(folder, ignore_errors=True)
    return out


# --- sessions at once, without browsers ----------------------------------------------------


def child_concurrent(db: Path, sessions: int) -> dict:
    """``sessions`` new sessions (AppTests) opening the Overview at the same moment in one
    process, as a server's threads would, with the caches empty; each timed from the common
    start to the end of its run. This is the server's part of bench_browsers.py, without ten
    browsers competing for the same cores."""
    import threading

    os.environ["COALITION_DB"] = str(db)
    os.chdir(ROOT)
    _run_page(PAGES["overview"])  # imports and the first read of the file
    _clear_caches()
    _close_database()
    barrier = threading.Barrier(sessions)
    times: list[float] = []
    errors: list[str] = []

    def one() -> None:
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(APP), default_timeout=600)
        sign_in(at)
        barrier.wait()
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            errors.append(str([e.message for e in at.exception])[:200])

    threads = [threading.Thread(target=one) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "sessions": sessions,
        "max": max(times),
        "median": sorted(times)[len(times) // 2],
        "errors": errors,
        "rss_mib": peak_rss_mib(),
        "load": load(),
    }


# --- coalition ingest into a database of this size -----------------------------------------


def child_ingest(db: Path) -> dict:
    """A correction, as a partner sends one: the largest partner's rows of its last quarter
    sent again (+1 on every count) as a CSV in the template's columns, through
    ``coalition.ingest.ingest`` (validation, then one transaction storing the file, the
    submission and its rows, superseding the old ones) into a scratch copy of the database;
    then the rollups' update, which runs after the write. Both timed."""
    import datetime as dt
    import tempfile

    import duckdb

    from coalition import rollup
    from coalition.db import Database
    from coalition.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        copy = Path(folder) / "copy.duckdb"
        shutil.copyfile(db, copy)
        con = duckdb.connect(str(copy))
        partner, quarter = con.execute(
            "SELECT partner, max(quarter) FROM facts WHERE status = 'accepted' "
            "GROUP BY partner ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        rows = con.execute(
            """
            -- one row per template key (the 20M database has two taxa per cell: summed)
            SELECT period, platform, species_group, country,
                   sum(listings_removed) + 1 AS listings_removed,
                   sum(listings_blocked) + 1 AS listings_blocked,
                   sum(accounts_actioned) AS accounts_actioned,
                   sum(reports_received) AS reports_received,
                   sum(listings_detected) + 1 AS listings_detected,
                   sum(search_effort) AS search_effort
            FROM facts
            WHERE partner = ? AND quarter = ? AND status = 'accepted'
            GROUP BY period, platform, species_group, country
            """,
            [partner, quarter],
        ).df()
        con.close()
        data = rows.to_csv(index=False).encode("utf-8")
        timings = {}
        real_update = rollup.update

        def timed_update(cur):
            started = time.perf_counter()
            try:
                return real_update(cur)
            finally:
                timings["rollups"] = time.perf_counter() - started

        rollup.update = timed_update
        started = time.perf_counter()
        result = ingest(
            Database(copy),
            partner,
            data,
            "correction.csv",
            uploaded_by="bench",
            accept=True,
            today=dt.date.today(),
        )
        elapsed = time.perf_counter() - started
        rollup.update = real_update
    if not result.stored:
        return {"error": f"not stored ({result.reason}): {result.report.errors[:3]}"}
    rollups = timings.get("rollups", 0.0)
    return {
        "rows": len(rows),
        "partner": partner,
        "quarter": quarter,
        "seconds": elapsed,
        "rollup_seconds": rollups,
        "rows_per_second": len(rows) / max(elapsed, 1e-9),
        "rss_mib": peak_rss_mib(),
        "load": load(),
    }


# --- the parent ---------------------------------------------------------------------------


def in_child(*args: str, timeout: float = 3600) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _spread(runs: list[float] | None) -> str:
    """' (0.71–0.93)': the range of several runs, or nothing for one."""
    if not runs or len(runs) < 2:
        return ""
    return f" ({min(runs):.2f}–{max(runs):.2f})"


def bench_size(
    path: Path, pages: list[str], naive: bool, direct: bool, repeat: int = 1
) -> list[dict]:
    rows = []
    for name in pages:
        extra = (["--direct"] if direct else []) + ([] if naive else ["--no-naive"])
        extra += ["--repeat", str(repeat)]
        row = {"page": name, **in_child("page", str(path), PAGES[name], *extra)}
        rows.append(row)
        print(
            f"  {name:10} first {_fmt(row.get('first'))} s  new session "
            f"{_fmt(row.get('new_session'))} s  cold {_fmt(row.get('cold'))} s"
            f"{_spread(row.get('cold_runs'))} "
            f"(data {_fmt(row.get('cold_data'))} s, {row.get('cold_opens')} opens)  "
            f"warm {_fmt(row.get('warm'), 3)} s{_spread(row.get('warm_runs'))}  "
            f"rss {_fmt(row.get('rss_mib'), 0)} MiB  | naive "
            f"{_fmt(row.get('naive'))} s (read {_fmt(row.get('naive_read'))} s, rss "
            f"{_fmt(row.get('naive_rss_mib'), 0)} MiB)  naive/cold {_fmt(row.get('ratio'), 1)}x, "
            f"naive/data {_fmt(row.get('ratio_data'), 1)}x"
            f"  [load {_fmt(row.get('load'), 1)}, calib {_fmt(row.get('calib_s'))} s; "
            f"{row.get('mode', '')}] {row.get('error', '')}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument(
        "--naive-max", type=int, default=5_000_000, help="skip the naive way above this size"
    )
    parser.add_argument("--no-metrics", action="store_true")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--direct", action="store_true", help="run page scripts without app.py")
    parser.add_argument("--rollup", action="store_true")
    parser.add_argument("--parquet", action="store_true", help="also time facts as Parquet")
    parser.add_argument("--ingest", action="store_true", help="time coalition ingest too")
    parser.add_argument(
        "--concurrent", type=int, metavar="N", help="N sessions opening the Overview at once"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="N",
        help="cold and warm runs of each page (the median is shown, with the range)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.child:
        mode, db, *rest = args.child
        handlers = {
            "page": lambda: child_page(
                Path(db), rest[0], args.direct, not args.no_naive, args.repeat
            ),
            "metrics": lambda: child_metrics(Path(db)),
            "rollup": lambda: child_rollup(Path(db)),
            "parquet": lambda: child_parquet(Path(db)),
            "ingest": lambda: child_ingest(Path(db)),
            "concurrent": lambda: child_concurrent(Path(db), int(rest[0])),
        }
        print(json.dumps(handlers[mode](), default=str))
        return
    results = {}
    for n in args.records:
        path = db_path(args.out, n)
        if not path.exists():
            print(f"{path} is missing: run benchmarks/generate.py --records {n}")
            continue
        size = {"bytes": path.stat().st_size}
        print(f"\n== {n:,} records ({path.stat().st_size / 2**20:,.0f} MiB), load {load():.1f}")
        if not args.no_pages:
            size["pages"] = bench_size(
                path,
                args.pages,
                not args.no_naive and n <= args.naive_max,
                args.direct,
                args.repeat,
            )
        if not args.no_metrics:
            found = in_child("metrics", str(path))
            size["metrics"] = found
            print("  indicator queries (s; first on a fresh file, best of 3 after)")
            for name, t in found.get("metrics", {}).items():
                print(
                    f"    {name:38} first {_fmt(t.get('first'), 3):>7}  best "
                    f"{_fmt(t.get('best'), 3):>7}  [load {_fmt(t.get('load'), 1)}]"
                )
            print(f"    peak rss {_fmt(found.get('rss_mib'), 0)} MiB {found.get('error', '')}")
        if args.ingest:
            found = in_child("ingest", str(path))
            size["ingest"] = found
            print(
                f"  ingest: {found.get('rows', 0):,} rows (a correction of "
                f"{found.get('partner')} {found.get('quarter')}) in {_fmt(found.get('seconds'))} s"
                f" = {_fmt(found.get('rows_per_second'), 0)} rows/s, of which rollups "
                f"{_fmt(found.get('rollup_seconds'))} s; rss {_fmt(found.get('rss_mib'), 0)} MiB "
                f"[load {_fmt(found.get('load'), 1)}] {found.get('error', '')}"
            )
        if args.concurrent:
            found = in_child("concurrent", str(path), str(args.concurrent))
            size["concurrent"] = found
            print(
                f"  {args.concurrent} sessions opening the Overview at once (AppTest, caches "
                f"empty): max {_fmt(found.get('max'))} s, median {_fmt(found.get('median'))} s, "
                f"rss {_fmt(found.get('rss_mib'), 0)} MiB [load {_fmt(found.get('load'), 1)}] "
                f"{found.get('errors') or ''}{found.get('error', '')}"
            )
        if args.rollup:
            found = in_child("rollup", str(path))
            size["rollup"] = found
            print("  rollup")
            for name, value in found.items():
                print(f"    {name:50} {value}")
        if args.parquet:
            found = in_child("parquet", str(path))
            size["parquet"] = found
            print("  facts as Parquet partitioned by year (best of 3, s)")
            for name, value in found.items():
                print(f"    {name:50} {value}")
        results[n] = size
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
