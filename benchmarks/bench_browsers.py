"""Open the Overview in N browser sessions at once and time each until its charts are drawn.

    .venv/bin/python benchmarks/bench_browsers.py [--records 2000000] [--sessions 10]
        [--out /tmp/coalition-bench] [--rounds 2] [--tabs] [--bare [CHARTS]]
        [--chromium /usr/bin/chromium-headless-shell] [--url http://host:8501]

Starts ``streamlit run app.py`` on ``OUT/records-N.duckdb`` (see ``generate.py``) on the
loopback interface, after giving the benchmark's secretariat account a fresh random password.
Then N browser contexts of one Chromium (N Streamlit sessions) open the app at the same moment,
sign in through the form when the app asks, and wait until the Overview's three Plotly charts
are drawn; each is timed from ``goto`` (and from pressing "Sign in"). With ``--tabs`` the
sessions are tabs of one context instead, sharing its caches of Streamlit's scripts. The CPU
time that the server and the browser used in each round is printed beside it: on a machine
whose cores the browsers share with the server, their sum over the cores bounds the time.
Round 1 starts with Streamlit's caches empty (the first session to ask computes, the others
wait or compute the same); later rounds find them warm. Prints the max and median of each
round; the target is every session within 5 s.

``--bare`` serves, instead of the tracker, a Streamlit page with nothing but a title and three
Plotly line charts of twelve points (no database, no sign-in, no filters): what Streamlit and
Plotly alone cost the browser and the server, the floor under any page of the app. ``--bare 0``
draws the title alone (timed until it shows): the floor under any Streamlit page at all.

``--chromium`` picks the browser binary: Debian's ``chromium-headless-shell`` is the lighter
headless build. ``--url`` times a tracker already running elsewhere (the benchmark starts no
server and signs in as ``$COALITION_BENCH_USER`` with ``$COALITION_BENCH_PASSWORD``): run it
on other machines than the server to see what the server gives ten browsers when they do not
share its cores. The server's CPU time is then not known here.

Only localhost (and with ``--url`` that host) is reachable from the pages: Chromium's host
resolver maps every other name to nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from urllib.parse import urlsplit  # noqa: E402

from benchmarks.generate import BENCH_USER, DEFAULT_OUT, db_path  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def host_rules(url: str) -> str:
    """Loopback (and ``url``'s host) only, enforced by the browser itself: a Python route
    handler per request is too slow with ten pages loading Streamlit's scripts at once."""
    hosts = ["localhost", "127.0.0.1", urlsplit(url).hostname or "localhost"]
    return "--host-resolver-rules=MAP * ~NOTFOUND, " + ", ".join(
        f"EXCLUDE {host}" for host in dict.fromkeys(hosts)
    )


def drawn(charts: int) -> str:
    """A script that is true once the page shows ``charts`` Plotly charts (or, for none, its
    title)."""
    if charts == 0:
        return "document.querySelector('h1') !== null"
    return f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}"


CHARTS = 3  # the Overview's


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --bare: the floor under any page (a few small charts, nothing else)
BARE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("Small charts")
for n in range({charts}):
    figure = go.Figure(go.Scatter(x=list(range(12)), y=[(i * (n + 2)) % 7 for i in range(12)]))
    st.plotly_chart(figure, key=f"chart{{n}}")
"""


def start_streamlit(db: Path, log: Path, app: str = "app.py") -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "COALITION_DB": str(db)}
    command = [
        sys.executable, "-m", "streamlit", "run", app,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()}") from None
            time.sleep(0.3)


def ensure_account(db: Path) -> str:
    """Give the benchmark's secretariat account a fresh random password (creating the account
    if the file has none) and return it; run before the app opens the file."""
    import duckdb

    from coalition import auth

    password = secrets.token_urlsafe(18)
    con = duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM users WHERE name = ?", [BENCH_USER])
        con.execute(
            "INSERT INTO users (name, role, partner, password_hash, created_at) "
            "VALUES (?, 'secretariat', NULL, ?, now())",
            [BENCH_USER, auth.hash_password(password)],
        )
    finally:
        con.close()
    return password


def cpu_seconds(pid: int | None = None, name: str | None = None) -> float:
    """CPU time (user + system) used so far by process ``pid``, or by every process whose
    command is ``name`` (as the kernel keeps it: its first 15 characters), from /proc
    (Linux)."""
    total = 0.0
    for entry in [str(pid)] if pid else [e for e in os.listdir("/proc") if e.isdigit()]:
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        if name and fields[fields.find("(") + 1 : fields.rfind(")")] != name[:15]:
            continue
        rest = fields[fields.rfind(")") + 2 :].split()
        total += (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


VIEWPORT = {"width": 1400, "height": 2200}


async def one_session(
    context, url: str, user: str, password: str, start, ready: str = drawn(CHARTS)
) -> dict:
    """One tab of ``context`` (its own Streamlit session: sessions belong to the page's
    connection, not to cookies) opening the app, signing in if asked, until ``ready`` holds
    (by default: the Overview's charts are drawn)."""
    try:
        page = await context.new_page()
        await start.wait()
        started = time.perf_counter()
        await page.goto(url, wait_until="commit", timeout=300_000)
        signed_in = started
        name = page.locator("input[autocomplete=username]")
        await page.wait_for_function(
            ready + " || document.querySelector('input[type=password]') !== null",
            timeout=300_000,
        )
        if await name.count():
            await name.fill(user)
            await page.locator("input[type=password]").first.fill(password)
            signed_in = time.perf_counter()
            await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_function(ready, timeout=300_000)
        done = time.perf_counter()
        return {"total": done - started, "after_sign_in": done - signed_in}
    except Exception as exc:  # a session that fails is reported, not fatal
        return {"error": repr(exc)[:300]}


async def run_round(
    url: str,
    sessions: int,
    user: str,
    password: str,
    tabs: bool = False,
    chromium: str = CHROMIUM,
    charts: int = CHARTS,
) -> tuple[list[dict], float]:
    from playwright.async_api import async_playwright

    # the browser's processes, by the name of the binary that the wrapper script starts
    process_name = Path(chromium).name
    async with async_playwright() as p:
        chromium_before = cpu_seconds(name=process_name)
        browser = await p.chromium.launch(
            executable_path=chromium, args=[*CHROMIUM_ARGS, host_rules(url)]
        )
        try:
            start = asyncio.Event()
            # one context per session (nothing shared but the browser process), or with
            # ``tabs`` one for all (their HTTP and compiled-script caches shared)
            contexts = [
                await browser.new_context(viewport=VIEWPORT) for _ in range(1 if tabs else sessions)
            ]
            tasks = [
                asyncio.create_task(
                    one_session(
                        contexts[i % len(contexts)], url, user, password, start, drawn(charts)
                    )
                )
                for i in range(sessions)
            ]
            await asyncio.sleep(1.0)  # every context open and waiting
            start.set()
            found = await asyncio.gather(*tasks)
            # every process of this browser is still alive: the contexts close with it
            return found, cpu_seconds(name=process_name) - chromium_before
        finally:
            await browser.close()


def _summary(values: list[float]) -> str:
    if not values:
        return "—"
    return f"max {max(values):.2f} s, median {statistics.median(values):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--tabs",
        action="store_true",
        help="the sessions as tabs of one browser context (shared caches) instead of one "
        "context each",
    )
    parser.add_argument(
        "--bare",
        type=int,
        nargs="?",
        const=3,
        metavar="CHARTS",
        help="a bare Streamlit page with a title and CHARTS small charts (3 if not given; 0: "
        "the title alone) instead of the tracker",
    )
    parser.add_argument(
        "--chromium",
        default=CHROMIUM,
        help="the browser binary (e.g. /usr/bin/chromium-headless-shell, the lighter build)",
    )
    parser.add_argument(
        "--url",
        help="time this running tracker instead of starting one (sign in as "
        "$COALITION_BENCH_USER with $COALITION_BENCH_PASSWORD)",
    )
    args = parser.parse_args()
    process = None
    user = BENCH_USER
    if args.url:
        url, label = args.url.rstrip("/"), args.url
        user = os.environ.get("COALITION_BENCH_USER", BENCH_USER)
        password = os.environ.get("COALITION_BENCH_PASSWORD", "")
        if not password:
            parser.error("--url needs the account's password in $COALITION_BENCH_PASSWORD")
    else:
        db = db_path(args.out, args.records)
        if args.bare is not None:
            folder = Path(tempfile.mkdtemp(prefix="bench-bare-"))
            app = str(folder / "bare_app.py")
            Path(app).write_text(BARE_APP.format(charts=args.bare), encoding="utf-8")
            password, label = "", f"bare page, {args.bare} charts"
        else:
            password, app, label = ensure_account(db), "app.py", f"{args.records:,} records"
        log = args.out / f"streamlit-{'bare' if args.bare is not None else args.records}.log"
        process, url = start_streamlit(db, log, app)
    try:
        for n in range(1, args.rounds + 1):
            load = os.getloadavg()[0]
            server_before = cpu_seconds(process.pid) if process else 0.0
            started = time.perf_counter()
            found, browser = asyncio.run(
                run_round(
                    url,
                    args.sessions,
                    user,
                    password,
                    args.tabs,
                    args.chromium,
                    CHARTS if args.bare is None else args.bare,
                )
            )
            wall = time.perf_counter() - started
            server = f"{cpu_seconds(process.pid) - server_before:.1f} s" if process else "—"
            total = [r["total"] for r in found if "total" in r]
            after = [r["after_sign_in"] for r in found if "total" in r]
            print(
                f"round {n} ({'cold' if n == 1 else 'warm'} caches), {label}, "
                f"{args.sessions} sessions, {Path(args.chromium).name} [load {load:.1f}]: "
                f"open to charts {_summary(total)}; sign-in to charts {_summary(after)}; "
                f"within 5 s: {sum(t <= 5 for t in total)}/{len(found)}; CPU: server {server}, "
                f"browsers {browser:.1f} s in {wall:.1f} s on {os.cpu_count()} cores",
                flush=True,
            )
            for r in found:
                if "error" in r:
                    print(f"  failed: {r['error']}")
    finally:
        if process:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
