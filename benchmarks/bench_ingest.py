"""Time the submission pipeline on a 200,000-row workbook against reading it alone.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 200000] [--repeat 3] [--cache DIR]

Writes (once, then reuses from the cache folder) an .xlsx in the template's layout — a title,
a hint, the "key / label" header in row 3, then realistic rows: two platforms, 27 months,
15 species groups under their slugs, names and synonyms in English and Chinese, countries as
ISO codes, English and Chinese names or blank, counts mostly numbers with some blanks and some
typed as text with thousands separators. Then measures, each in a fresh child process so that
its peak memory is its own:

  (a) ``pandas.read_excel(path, engine="openpyxl")`` alone,
  (b) a bare python-calamine read of the data sheet,
  (c) the whole pipeline: ``ingest`` (validation, then the file, the submission and every row
      loaded in one transaction, accepted at once) into a fresh database with the partner
      registered.

and prints the times (best of ``--repeat``; (a) runs once unless ``--repeat-openpyxl``), the
ratios against the targets (openpyxl / pipeline ≥ 3, pipeline / calamine ≤ 2), rows per second
and the peak RSS of each child, then the stages of the fastest pipeline run (validation and its
parts, storing, the pre-aggregated tables, and the rest: the archived file, committing and
closing the database). (b) and (c) take turns, one round each per repeat, so that on a
machine whose load comes and goes both see the same conditions; the ratio is also given as the
median of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARTNER = "bench"
PLATFORMS = ("Bench Market", "Bench Resale")
JOINED = dt.date(2018, 1, 1)
TODAY = dt.date(2020, 6, 15)
FORMAT_VERSION = 3  # bump when the generated file changes, so that the cache is rebuilt
SEED = 2018
PHASES = ("openpyxl", "calamine", "pipeline")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the workbook --------------------------------------------------------------------------


def _months() -> list[str]:
    return [f"{2018 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(3, 30)]  # 27 months


def _period_cell(period: str, rng: random.Random) -> object:
    year, month = int(period[:4]), int(period[5:])
    roll = rng.random()
    if roll < 0.80:
        return period
    if roll < 0.90:
        return f"{year}年{month}月"
    return dt.datetime(year, month, 1)  # an Excel date cell


def _spellings(cur) -> tuple[list[list[str]], list[list[str]]]:
    """Per species group and per country, the spellings a partner might type."""
    species = []
    for slug, name_en, name_zh in cur.execute(
        "SELECT slug, name_en, name_zh FROM species_groups ORDER BY sort_order"
    ).fetchall():
        synonyms = [
            r[0]
            for r in cur.execute(
                "SELECT synonym FROM species_synonyms WHERE species_group = ? AND kind = "
                "'synonym' ORDER BY synonym LIMIT 3",
                [slug],
            ).fetchall()
        ]
        species.append([slug, name_en, name_zh, *synonyms])
    countries = [
        [iso3, iso2, name_en, name_zh]
        for iso3, iso2, name_en, name_zh in cur.execute(
            "SELECT iso3, iso2, name_en, name_zh FROM countries ORDER BY iso3"
        ).fetchall()
    ]
    return species, countries


def build_workbook(path: Path, rows: int) -> None:
    """The template's layout with ``rows`` distinct, realistic rows (openpyxl, write-only)."""
    from openpyxl import Workbook

    from coalition import columns as cols
    from coalition import store
    from coalition.db import Database

    scratch = Database(Path(tempfile.mkdtemp()) / "reference.duckdb")
    store.init(scratch)
    with scratch.read() as cur:
        species, countries = _spellings(cur)
    rng = random.Random(SEED)
    keys = [c.key for c in cols.columns()]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(["Coalition submission — Bench Trade"])
    ws.append(["One row per platform, period, species group and country."])
    ws.append([f"{c.key} / {c.label_en}" for c in cols.columns()])
    # each (platform, species, country) has its own level, which drifts from month to month
    # (a real series does not jump tenfold at random, so the file raises few jump warnings)
    grid = [
        (platform, spellings, place)
        for platform in PLATFORMS
        for spellings in species
        for place in [None, *countries]
    ]
    levels = [rng.lognormvariate(3.5, 1.2) for _ in grid]
    written = 0
    for period in _months():  # months only, so that no two rows overlap
        for index, (platform, spellings, place) in enumerate(grid):
            if written >= rows:
                break
            levels[index] *= rng.uniform(0.8, 1.2)
            base = round(levels[index])
            values = {
                "period": _period_cell(period, rng),
                "platform": platform,
                "species_group": rng.choice(spellings),
                "country": None if place is None else rng.choice(place),
                "listings_removed": base,
                "listings_blocked": base * 3 + rng.randint(0, 5),
                "accounts_actioned": rng.choice([None, base // 10]),
                "reports_received": rng.choice([None, None, base // 4]),
                "listings_detected": round(base / 10),
                "search_effort": 200,
            }
            if values["listings_blocked"] >= 1000 and rng.random() < 0.3:
                values["listings_blocked"] = f"{values['listings_blocked']:,}"  # "1,234"
            if rng.random() < 0.02:
                values["notes"] = "figures from the monthly sweep"
            ws.append([values.get(k) for k in keys])
            written += 1
    if written < rows:  # 27 months × 2 platforms × 15 species × 250 places = 202,500
        raise SystemExit(f"the generator makes at most {written:,} distinct rows")
    wb.save(path)


def cached_workbook(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_ingest_{rows}_v{FORMAT_VERSION}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial.xlsx")
        build_workbook(partial, rows)
        partial.rename(path)
        print(
            f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.0f} s"
        )
    return path


# --- the measurements, each run in a child process -----------------------------------------


def run_openpyxl(path: Path) -> int:
    """What a plain pandas reader costs (header in row 3, as the template has it)."""
    import pandas as pd

    frame = pd.read_excel(path, engine="openpyxl", header=2)
    return len(frame)


def run_calamine(path: Path) -> int:
    """The floor: python-calamine reading the data sheet into Python lists, nothing more."""
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data").to_python())


def fresh_database(folder: Path):
    from coalition import store
    from coalition.db import Database

    db = Database(folder / f"bench_{time.monotonic_ns()}.duckdb")
    store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            PARTNER,
            "Bench Trade",
            "e-commerce",
            JOINED,
            platforms=tuple((name, "marketplace") for name in PLATFORMS),
        )
    return db


# The stages of the pipeline that the child times, as (module, function, label); a label
# that starts with spaces is part of the stage above it. Each is timed around its function,
# wall clock and CPU time (CPU time counts every thread of the process, DuckDB's too).
STAGES = (
    ("coalition.validation", "validate", "validation"),
    ("coalition.reader", "_read_xlsx", "  reading the .xlsx"),
    ("coalition.reader", "_inspect_zip", "    zip, XML and row-limit scan"),
    ("coalition.validation._RowChecker", "run", "  row checks"),
    ("coalition.validation", "_duplicates", "  duplicate rows"),
    ("coalition.validation", "_warn_supersede", "  supersede warnings"),
    ("coalition.validation", "_warn_jumps", "  jump warnings"),
    ("coalition.store", "add_submission", "storing the rows"),
    ("coalition.rollup", "after_write", "pre-aggregated tables (rollups)"),
)


def _time_stages(stages: dict[str, list[float]]) -> None:
    """Wrap the functions of STAGES so that each call adds its wall and CPU seconds to
    ``stages``."""
    import functools
    import importlib

    for module, name, label in STAGES:
        path = module.split(".")
        try:
            owner = importlib.import_module(module)
        except ModuleNotFoundError:  # a class in a module
            owner = getattr(importlib.import_module(".".join(path[:-1])), path[-1])
        function = getattr(owner, name)

        def timed(*args, _function=function, _label=label, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return _function(*args, **kwargs)
            finally:
                spent = stages.setdefault(_label, [0.0, 0.0])
                spent[0] += time.perf_counter() - started
                spent[1] += time.process_time() - cpu

        setattr(owner, name, functools.wraps(function)(timed))
    # ingest calls its own imported names
    import coalition.ingest

    coalition.ingest.validate = sys.modules["coalition.validation"].validate


def run_pipeline(path: Path) -> tuple[float, float, int, int, dict[str, list[float]]]:
    """validate + load into a fresh database; returns wall and CPU seconds, rows, warnings
    and the seconds (wall, CPU) of each stage."""
    from coalition.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        db = fresh_database(Path(folder))  # not timed: the partner is registered beforehand
        stages: dict[str, list[float]] = {}
        _time_stages(stages)
        started, cpu = time.perf_counter(), time.process_time()
        result = ingest(
            db,
            PARTNER,
            path.read_bytes(),
            path.name,
            uploaded_by="bench",
            acknowledge_warnings=True,
            accept=True,
            today=TODAY,
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not result.stored:
        problems = result.report.errors[:5]
        raise SystemExit(f"the pipeline stored nothing ({result.reason}): {problems}")
    return elapsed, cpu, result.report.rows, len(result.report.warnings), stages


def child(phase: str, path: Path, profile: bool) -> None:
    """Run one measurement and print its outcome as JSON on the last line."""
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)  # CPU time: the machine may be busy
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    extra = {}
    if phase == "openpyxl":
        rows = run_openpyxl(path)
    elif phase == "calamine":
        rows = run_calamine(path)
    else:
        elapsed, cpu, rows, warnings, stages = run_pipeline(path)
        extra = {"warnings": warnings, "stages": stages}
    if phase != "pipeline":
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
    print(
        json.dumps({"seconds": elapsed, "cpu": cpu, "rows": rows, "rss_mb": peak_rss_mb(), **extra})
    )


def run_child(phase: str, path: Path, profile: bool) -> dict:
    command = [sys.executable, __file__, "--child", phase, "--path", str(path)]
    command += ["--profile"] if profile and phase == "pipeline" else []
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode or (profile and phase == "pipeline"):
        sys.stderr.write(out.stderr)
    if out.returncode:
        raise SystemExit(f"{phase} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(phase: str, path: Path, repeat: int, profile: bool) -> dict:
    return summarise([run_child(phase, path, profile) for _ in range(repeat)])


def measure_in_turn(phases: list[str], path: Path, repeat: int, profile: bool) -> dict:
    """Each phase once per round, ``repeat`` rounds: on a machine whose load comes and goes,
    the phases then see the same conditions and their ratio is fair."""
    runs: dict[str, list[dict]] = {phase: [] for phase in phases}
    for _ in range(repeat):
        for phase in phases:
            runs[phase].append(run_child(phase, path, profile))
    return {phase: summarise(found) for phase, found in runs.items()}


def summarise(runs: list[dict]) -> dict:
    best = min(runs, key=lambda r: r["seconds"])
    best["cpu"] = min(r["cpu"] for r in runs)
    best["rss_mb"] = max(r["rss_mb"] for r in runs)
    best["all"] = [round(r["seconds"], 2) for r in runs]
    best["rounds"] = [(r["seconds"], r["cpu"]) for r in runs]
    return best


def print_stages(pipe: dict) -> None:
    """The stages of the fastest pipeline run, and what lies between them (opening the
    database, the archived file, committing, closing)."""
    stages = pipe["stages"]
    print(f"\npipeline stages (fastest run)      {'wall s':>7} {'cpu s':>7}")
    for _, _, label in STAGES:
        wall, cpu = stages.get(label, (0.0, 0.0))
        print(f"{label:34} {wall:7.2f} {cpu:7.2f}")
        if label.strip() == "reading the .xlsx":
            scan = stages.get("    zip, XML and row-limit scan", (0.0, 0.0))
            print(f"{'    python-calamine':34} {wall - scan[0]:7.2f} {cpu - scan[1]:7.2f}")
    top = [label for _, _, label in STAGES if not label.startswith(" ")]
    rest_wall = pipe["seconds"] - sum(stages.get(label, (0, 0))[0] for label in top)
    print(f"{'the rest (file, commit, closing)':34} {rest_wall:7.2f}")


def _verdict(ratio: float, ok: bool) -> str:
    return f"{ratio:5.2f} {'ok' if ok else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-openpyxl", type=int, default=1, help="openpyxl is slow")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "coalition-bench"))
    parser.add_argument("--only", choices=PHASES, action="append")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline child")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = Path(args.cache)
    if args.child:
        child(args.child, Path(args.path), args.profile)
        return

    path = cached_workbook(folder, args.rows)
    print(f"{path.name}: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    print("times: best wall-clock of the runs, and the least CPU time (user + system)\n")
    print(f"{'':9} {'wall s':>7} {'cpu s':>7} {'rows/s':>9} {'peak RSS':>9}  runs (wall s)")
    results = {}
    phases = args.only or PHASES
    if "openpyxl" in phases:
        results["openpyxl"] = measure("openpyxl", path, args.repeat_openpyxl, args.profile)
    # calamine and the pipeline take turns, so that their ratio compares like with like
    results.update(
        measure_in_turn([p for p in phases if p != "openpyxl"], path, args.repeat, args.profile)
    )
    for phase in [p for p in PHASES if p in results]:
        r = results[phase]
        note = f"  {r['warnings']} warnings" if "warnings" in r else ""
        print(
            f"{phase:9} {r['seconds']:7.2f} {r['cpu']:7.2f} {r['rows'] / r['seconds']:9,.0f} "
            f"{r['rss_mb']:6,.0f} MB  {r['all']}{note}"
        )
    if "pipeline" not in results:
        return
    pipe = results["pipeline"]
    print_stages(pipe)
    print(f"\n{'ratio':34} {'wall':>11} {'cpu':>11}")
    if "openpyxl" in results:
        wall = results["openpyxl"]["seconds"] / pipe["seconds"]
        cpu = results["openpyxl"]["cpu"] / pipe["cpu"]
        print(
            f"{'openpyxl / pipeline (target ≥ 3)':34} {_verdict(wall, wall >= 3):>11} "
            f"{_verdict(cpu, cpu >= 3):>11}"
        )
    if "calamine" in results:
        wall = pipe["seconds"] / results["calamine"]["seconds"]
        cpu = pipe["cpu"] / results["calamine"]["cpu"]
        print(
            f"{'pipeline / calamine (target ≤ 2)':34} {_verdict(wall, wall <= 2):>11} "
            f"{_verdict(cpu, cpu <= 2):>11}"
        )
        # the same ratio round by round (each round ran both, one after the other)
        pairs = list(zip(pipe["rounds"], results["calamine"]["rounds"], strict=True))
        wall = statistics.median(p[0] / c[0] for p, c in pairs)
        cpu = statistics.median(p[1] / c[1] for p, c in pairs)
        print(f"{'  median of the rounds':34} {wall:5.2f}{'':6} {cpu:5.2f}")


if __name__ == "__main__":
    main()
