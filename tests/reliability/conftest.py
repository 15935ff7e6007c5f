"""Fixtures for the reliability tests: a database with ten partners, copied for each test,
and the upload builder."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from coalition.db import Database

from .reliability_helpers import add_partners, upload_csv


@pytest.fixture(scope="session")
def partners_db_file(tmp_path_factory: pytest.TempPathFactory, empty_db_file: Path) -> Path:
    """An initialised database with ten partners, each with two platforms."""
    path = tmp_path_factory.mktemp("reliability") / "partners.duckdb"
    shutil.copyfile(empty_db_file, path)
    add_partners(Database(path))
    return path


@pytest.fixture
def partners_db(partners_db_file: Path, tmp_path: Path) -> Database:
    path = tmp_path / "coalition.duckdb"
    shutil.copyfile(partners_db_file, path)
    return Database(path, retry_seconds=30)


@pytest.fixture(scope="session")
def make_csv(partners_db_file: Path) -> Callable[..., bytes]:
    def make(i: int, rows: int, **kwargs) -> bytes:
        with Database(partners_db_file).read() as cur:
            return upload_csv(cur, i, rows, **kwargs)

    return make
