"""Opening the tracker's DuckDB database: the one way in, for the app and the CLI alike.

DuckDB lets one process at a time hold a database file, even for reading. The app (one process,
many threads) and the command line (a second process, e.g. a secretariat loading back data while
the app is open) must therefore take turns. So the file is held only for a unit of work:

* Within a process, threads that work at the same time share one open instance and each get
  their own cursor; when the last of them finishes, the file is released.
* Writes within a process take turns: DuckDB would let two threads' transactions run at once
  and then fail the second at commit ("Conflict on update", both bump ``meta.data_version``),
  so a write waits for the one before it instead — nothing is lost, it is only later.
* A process that finds the file held by another says once that it is waiting (a warning on
  the ``coalition.db`` logger, which the command line shows on standard error), then retries
  with growing, jittered pauses up to ``retry_seconds`` (default ``$COALITION_DB_WAIT``, else
  60 s) and raises :class:`DatabaseBusy` with a message that says what to do.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DEFAULT_PATH = Path("data") / "coalition.duckdb"
DEFAULT_RETRY_SECONDS = 60.0
WAIT_ENV = "COALITION_DB_WAIT"
# DuckDB's own limit for the memory of an open database (its buffers and the hash tables of
# queries; it spills to disk beyond it). Its default is 80% of the machine's memory.
MEMORY_ENV = "COALITION_DB_MEMORY"
DEFAULT_MEMORY_LIMIT = "1GB"
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)

logger = logging.getLogger(__name__)


class DatabaseBusy(RuntimeError):
    """Another process held the database file for longer than we were willing to wait."""


class DatabaseNotInitialised(RuntimeError):
    """The database file does not exist or has no schema yet."""


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The database path: the one given, else ``$COALITION_DB``, else ``data/coalition.duckdb``."""
    if path:
        return Path(path)
    env = os.environ.get("COALITION_DB")
    return Path(env) if env else DEFAULT_PATH


def default_retry_seconds() -> float:
    """How long to wait for a database held by another process: ``$COALITION_DB_WAIT``
    seconds if set (and a number), else 60."""
    try:
        return max(0.0, float(os.environ[WAIT_ENV]))
    except (KeyError, ValueError):
        return DEFAULT_RETRY_SECONDS


def memory_limit() -> str:
    """How much memory an open database may use: ``$COALITION_DB_MEMORY`` (e.g. ``2GB``) if
    it is a size, else 1 GB."""
    value = os.environ.get(MEMORY_ENV, "").strip()
    return value if _MEMORY.match(value) else DEFAULT_MEMORY_LIMIT


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


class _Shared:
    """One open DuckDB instance shared by the threads of this process, counted by users."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # one write transaction at a time in this process (re-entrant: a write inside a write
        # fails in DuckDB as before instead of waiting for itself)
        self.write_lock = threading.RLock()
        self.connection: duckdb.DuckDBPyConnection | None = None
        self.users = 0
        # bumped whenever the instance is taken or closed: a lingering close that finds it
        # changed was overtaken by a new user and does nothing
        self.generation = 0
        self.timer: threading.Timer | None = None

    def close_if_idle(self, generation: int) -> None:
        with self.lock:
            if self.users == 0 and self.generation == generation and self.connection:
                self.connection.close()
                self.connection = None
                self.generation += 1


_shared: dict[str, _Shared] = {}
_shared_lock = threading.Lock()


@atexit.register
def close_all() -> None:
    """Close every database this process keeps open, now rather than by a lingering timer:
    at exit, a timer thread caught inside DuckDB while the interpreter shuts down aborts the
    process ("FATAL: exception not rethrown")."""
    with _shared_lock:
        every = list(_shared.values())
    for shared in every:
        with shared.lock:
            if shared.timer is not None:
                shared.timer.cancel()
            if shared.users == 0 and shared.connection is not None:
                shared.connection.close()
                shared.connection = None
                shared.generation += 1


class Database:
    """The tracker database at ``path``; every read and write goes through :meth:`read` or
    :meth:`write`, which open it briefly and release it afterwards."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        retry_seconds: float | None = None,
        on_wait: Callable[[str], None] | None = None,
        linger_seconds: float = 0.0,
    ) -> None:
        """``retry_seconds``: how long to wait for another process (default: see
        :func:`default_retry_seconds`). ``linger_seconds``: how long the file stays open after
        its last user (the app keeps it open across the queries of a page instead of opening
        it for each; another process then waits that much longer at most). ``on_wait``: told
        once, in words, when this has to
        wait (default: a warning on the ``coalition.db`` logger)."""
        self.path = resolve_path(path)
        self.retry_seconds = default_retry_seconds() if retry_seconds is None else retry_seconds
        self.on_wait = on_wait
        self.linger_seconds = linger_seconds
        self._told = False  # the waiting message is given once per Database, not per retry
        self._key = str(self.path.resolve()) if str(self.path) != ":memory:" else ":memory:"

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def _busy(self, seconds: float, held_by: str) -> DatabaseBusy:
        return DatabaseBusy(
            f"The database {self.path} is in use by {held_by} and stayed busy for "
            f"{seconds:.0f} s. Wait for that load to finish and try again (or wait longer: "
            f"set {WAIT_ENV} to a number of seconds); if nothing else is running, check for a "
            "stuck 'coalition' or 'streamlit' process."
        )

    def _waiting(self) -> None:
        if self._told:
            return
        self._told = True
        message = (
            f"Waiting for the database {self.path}: another process (the app or a "
            f"command-line load) is using it. Retrying for up to {self.retry_seconds:.0f} s…"
        )
        if self.on_wait is not None:
            self.on_wait(message)
        else:
            logger.warning(message)

    def _open(self) -> duckdb.DuckDBPyConnection:
        delay = 0.05
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                connection = duckdb.connect(str(self.path))
                # a fixed, checked string: SET takes no parameters
                connection.execute(f"SET memory_limit = '{memory_limit()}'")
                # no progress bar drawn into the server's log or a command's output
                connection.execute("SET enable_progress_bar = false")
                return connection
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._busy(
                        self.retry_seconds, "another process (the app or a command-line load)"
                    ) from exc
                self._waiting()
                # jittered, so that processes waiting for the same file do not retry in step
                time.sleep(min(left, delay * random.uniform(0.5, 1.0)))
                delay = min(delay * 2, 1.0)

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with _shared_lock:
            shared = _shared.setdefault(self._key, _Shared())
        with shared.lock:
            if shared.connection is None:
                shared.connection = self._open()
            shared.users += 1
            shared.generation += 1
            cursor = shared.connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            with shared.lock:
                shared.users -= 1
                if shared.users == 0 and shared.connection is not None:
                    if self.linger_seconds > 0:
                        timer = threading.Timer(
                            self.linger_seconds, shared.close_if_idle, (shared.generation,)
                        )
                        timer.daemon = True
                        if shared.timer is not None:
                            shared.timer.cancel()
                        shared.timer = timer
                        timer.start()
                    else:
                        shared.connection.close()
                        shared.connection = None
                        shared.generation += 1

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for reading. Raises :class:`DatabaseNotInitialised` if there is no schema."""
        if str(self.path) != ":memory:" and not self.path.exists():
            raise DatabaseNotInitialised(
                f"There is no database at {self.path}. Create it with 'coalition init' "
                "(or 'coalition demo' for the synthetic demo data)."
            )
        with self._cursor() as cursor:
            yield cursor

    @contextmanager
    def write(self, *, changes_figures: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: everything in the block is stored, or nothing is.

        Each successful write also bumps ``meta.data_version`` so that cached figures are
        recomputed, and then brings the pre-aggregated tables up to date in a second
        transaction (:func:`coalition.rollup.after_write`) — unless ``changes_figures`` is
        False, for writes that no figure depends on (a sign-in attempt, a language
        preference), which would otherwise empty every cache.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _shared_lock:
            shared = _shared.setdefault(self._key, _Shared())
        if not shared.write_lock.acquire(timeout=max(self.retry_seconds, 0.001)):
            raise self._busy(self.retry_seconds, "another write of this process")
        try:
            with self._cursor() as cursor:
                cursor.begin()
                try:
                    yield cursor
                    if changes_figures:
                        cursor.execute(BUMP_DATA_VERSION)
                    cursor.commit()
                except BaseException:
                    cursor.rollback()
                    raise
                if changes_figures:
                    # the pre-aggregated tables follow, in a transaction of their own: a
                    # failure there leaves them marked stale, never the write undone
                    from coalition import rollup

                    rollup.after_write(cursor)
        finally:
            shared.write_lock.release()

    def checkpoint(self) -> None:
        """Write what the write-ahead log holds into the database file itself, so that the file
        alone is the whole database (before it is copied or replaced)."""
        with self._cursor() as cursor:
            cursor.execute("CHECKPOINT")

    def data_version(self) -> int:
        """A number that changes whenever data is written (0 for a database without data)."""
        with self.read() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0


BUMP_DATA_VERSION = """
INSERT INTO meta (key, value) VALUES ('data_version', '1')
ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)
"""


def get_meta(cur: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    row = cur.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cur.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
