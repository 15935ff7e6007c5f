"""Fixtures for the app tests: the sample database (see ``sample_db.py``) and an ``AppTest`` of
``app.py`` pointed at a database through ``COALITION_DB``, with Streamlit's caches cleared."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import metrics
from coalition import auth, store
from coalition.auth import User
from coalition.db import Database, set_meta
from coalition.ui import data
from coalition.ui.session import sign_in_as

APP = Path(__file__).resolve().parents[2] / "app.py"


def _load_sample_db():
    # by path: tests/ is not a package, and the browser test loads the same file the same way
    spec = importlib.util.spec_from_file_location(
        "sample_db", Path(__file__).with_name("sample_db.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


sample_db = _load_sample_db()


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    sample_db.build(path)
    return path


@pytest.fixture
def sample(sample_file: Path, tmp_path: Path) -> Database:
    """A fresh copy of the sample database, for a test to read or change."""
    path = tmp_path / "coalition.duckdb"
    shutil.copyfile(sample_file, path)
    return Database(path)


@pytest.fixture
def synthetic(sample: Database) -> Database:
    """The sample database marked as synthetic demo data."""
    with sample.write() as cur:
        set_meta(cur, "synthetic", "1")
    return sample


@pytest.fixture
def empty(tmp_path: Path) -> Database:
    """An initialised database without any partner or record (one secretariat account)."""
    db = Database(tmp_path / "empty.duckdb")
    store.init(db)
    with db.write() as cur:
        auth.add_user(cur, "secretariat", "secretariat", sample_db.PASSWORD, actor="test")
    return db


# The sample database's accounts (sample_db.ACCOUNTS) by name.
USERS = {name: User(name, role, partner) for name, role, partner in sample_db.ACCOUNTS}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """``app(db, user="secretariat")``: a fresh, not yet run ``AppTest`` of app.py reading
    ``db``, signed in as one of the sample accounts (``user=None``: not signed in)."""

    def make(db: Database | Path, user: str | None = "secretariat") -> AppTest:
        monkeypatch.setenv("COALITION_DB", str(db.path if isinstance(db, Database) else db))
        at = AppTest.from_file(APP, default_timeout=60)
        if user is not None:
            sign_in_as(at.session_state, USERS[user])
        return at

    data.clear_caches()  # (after what an earlier test asked for ahead has landed)
    yield make
    data.clear_caches()


@pytest.fixture
def worked_out(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every indicator query run and every progress worked out, as they happen: ``(query, by,
    grain, platforms, species, regions)`` and ``("progress", by, platforms, species,
    regions)``. A page that asks for figures ahead (``data.ask_ahead``) must find them when it
    asks again: nothing in this list may appear twice for one run of a page."""
    seen: list[tuple] = []

    def chosen(values) -> tuple:
        return tuple(values or ())

    for name in ("metrics.actions", "metrics.detection", "metrics.reduction"):
        module = importlib.import_module(name)  # (metrics.actions is also a function's name)

        def run(con, query, params, real=module.run):
            seen.append(
                (query, params["by"], params["grain"], chosen(params["platforms"]),
                 chosen(params["species"]), chosen(params["regions"]))
            )  # fmt: skip
            return real(con, query, params)

        monkeypatch.setattr(module, "run", run)
    real_progress = metrics.progress

    def progress(con, filters, **kwargs):
        seen.append(
            ("progress", kwargs.get("by"), filters.platforms, filters.species_groups,
             filters.regions)
        )  # fmt: skip
        return real_progress(con, filters, **kwargs)

    monkeypatch.setattr(metrics, "progress", progress)
    return seen


@pytest.fixture
def asking_ahead(
    app: Callable[..., AppTest], worked_out: list[tuple], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AppTest]:
    """``asking_ahead(db, page, **state)`` opens ``page`` (after the Overview, as a reader
    comes) with empty caches and ``state`` in the session, once as it is and once with
    ``data.ask_ahead`` doing nothing, and returns the first. Asking ahead must change when a
    page's figures are worked out, never which: the same queries and progress computations
    in both runs, each once."""

    def page_run(db: Database, page: str, state: dict) -> tuple[AppTest, Counter]:
        data.clear_caches()
        at = app(db)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        worked_out.clear()
        at.switch_page(page).run()
        data.settle()
        assert not at.exception
        return at, Counter(worked_out)

    def check(db: Database, page: str, **state) -> AppTest:
        at, asked = page_run(db, page, state)
        with monkeypatch.context() as m:
            m.setattr(data, "ask_ahead", lambda *args, **kwargs: None)
            _, plain = page_run(db, page, state)
        assert asked == plain
        assert plain and max(plain.values()) == 1
        return at

    return check
