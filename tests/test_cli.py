"""The command line: thin adapters over the store and metrics layers."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import metrics
from coalition import store
from coalition.cli import cli
from coalition.db import Database

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        yield path, command


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=" ".join)
def test_every_command_has_help_and_is_documented(path):
    command = dict(_commands(cli))[path]
    assert command.help and len(command.help) > 15
    assert f"coalition {' '.join(path)}" in README


@pytest.fixture
def small_db(tmp_path) -> Database:
    """Two quarters of baseline-free data and one platform with a full baseline."""
    db = Database(tmp_path / "cli.duckdb")
    store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            "acme",
            "Acme Trade",
            "e-commerce",
            dt.date(2018, 1, 1),
            platforms=(("Acme Market", "marketplace"), ("=cmd|' /C calc'!A0", "other")),
        )
        rows = [
            {
                "platform": "Acme Market",
                "period": f"{2018 + i // 4}-Q{i % 4 + 1}",
                "species_group": "elephants",
                "country": "VNM",
                "listings_removed": 10,
                "listings_blocked": 10 * i,
                "listings_detected": 100 - 10 * i,
                "search_effort": 1000,
            }
            for i in range(6)
        ]
        rows.append(
            {
                "platform": "=cmd|' /C calc'!A0",
                "period": "2019-06",
                "species_group": "pangolins",
                "country": None,
                "listings_removed": 3,
            }
        )
        store.add_submission(
            cur, partner="acme", records=pd.DataFrame(rows), uploaded_by="test", status="accepted"
        )
    return db


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_progress_json_equals_the_metric(small_db):
    out = json.loads(run("progress", "--json", "--db", str(small_db.path)))
    with small_db.read() as cur:
        expected = metrics.progress(cur, metrics.Filters()).iloc[0]
    # baseline 2018-Q1..Q4 = 340 detections at 4,000 searches; 2019-Q2: 50 per 1,000
    # → index 50 × 4 / 340 = 0.588235, reduction 0.411765
    assert out["reduction"] == pytest.approx(1 - 200 / 340)
    assert out["reduction"] == pytest.approx(expected["reduction"])
    assert out["target"] == 0.8
    assert out["progress"] == pytest.approx((1 - 200 / 340) / 0.8)
    assert out["status"] == expected["status"]
    assert out["cumulative_actions"] == 60 + 150 + 3
    assert out["coverage"] == 1.0
    assert out["current_period"] == "2019-Q2"
    assert set(out) >= {
        "reduction",
        "target",
        "progress",
        "status",
        "coverage",
        "projected_reduction_at_deadline",
        "cumulative_actions",
    }


def test_progress_by_gives_one_object_per_group(small_db):
    out = json.loads(run("progress", "--json", "--by", "platform", "--db", str(small_db.path)))
    assert [o["group"] for o in out] == ["=cmd|' /C calc'!A0", "Acme Market"]
    assert out[0]["status"] == "insufficient_data"
    assert out[1]["reduction"] == pytest.approx(1 - 200 / 340)


def test_progress_as_of_an_earlier_quarter(small_db):
    out = json.loads(run("progress", "--json", "--to", "2019-Q1", "--db", str(small_db.path)))
    assert out["current_period"] == "2019-Q1"
    assert out["as_of"] == "2019-03-31"
    assert out["reduction"] == pytest.approx(1 - 240 / 340)


def test_progress_text_mentions_coverage(small_db):
    out = run("progress", "--db", str(small_db.path))
    assert re.search(r"reduction 41\.2% vs baseline", out)
    assert "coverage 100.0% of baseline volume" in out


def test_export_csv_has_the_canonical_columns_and_neutralises_formulas(small_db):
    out = run("export", "--db", str(small_db.path))
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        "partner",
        "platform",
        "period",
        "species_group",
        "country",
        "listings_removed",
        "listings_blocked",
        "accounts_actioned",
        "reports_received",
        "listings_detected",
        "search_effort",
        "status",
    ]
    assert len(frame) == 7
    odd = frame[frame["species_group"] == "pangolins"].iloc[0]
    assert odd["platform"] == "'=cmd|' /C calc'!A0"
    assert odd["country"] == "" and odd["listings_blocked"] == ""
    assert odd["period"] == "2019-06" and odd["status"] == "accepted"


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_export_files_round_trip(small_db, tmp_path, fmt):
    out = tmp_path / f"records.{fmt}"
    run("export", "--format", fmt, "--out", str(out), "--db", str(small_db.path))
    frame = pd.read_excel(out, engine="openpyxl") if fmt == "xlsx" else pd.read_parquet(out)
    assert len(frame) == 7
    assert frame["listings_detected"].dropna().astype(int).tolist() == [100, 90, 80, 70, 60, 50]


def test_partner_add_and_its_errors(tmp_path):
    db = str(tmp_path / "p.duckdb")
    out = run(
        "partner",
        "add",
        "kestrel",
        "--name",
        "Kestrel Bazaar",
        "--sector",
        "e-commerce",
        "--joined",
        "2019-08",
        "--platform",
        "Kestrel Bazaar",
        "--db",
        db,
    )
    assert "Added partner kestrel" in out
    with Database(db).read() as cur:
        assert cur.execute("SELECT joined FROM partners").fetchone()[0] == dt.date(2019, 8, 1)
        assert cur.execute("SELECT name FROM platforms").fetchone()[0] == "Kestrel Bazaar"
    again = CliRunner().invoke(
        cli, ["partner", "add", "kestrel", "--name", "Other", "--sector", "search", "--db", db]
    )
    assert again.exit_code == 1 and "exists already" in again.output
    bad = CliRunner().invoke(
        cli,
        [
            "partner",
            "add",
            "x",
            "--name",
            "X",
            "--sector",
            "search",
            "--joined",
            "2019-13",
            "--db",
            db,
        ],
    )
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_missing_database_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["progress", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert "coalition init" in result.output


def test_db_from_environment(small_db, monkeypatch):
    monkeypatch.setenv("COALITION_DB", str(small_db.path))
    assert json.loads(run("progress", "--json"))["cumulative_actions"] == 213


def test_demo_refuses_to_overwrite_data_unless_forced(small_db):
    refused = CliRunner().invoke(cli, ["demo", "--db", str(small_db.path)])
    assert refused.exit_code == 1 and "--force" in refused.output
    with small_db.read() as cur:
        assert cur.execute("SELECT count(*) FROM partners").fetchone()[0] == 1
    out = run("demo", "--force", "--db", str(small_db.path))
    assert "47 partners" in out
    with small_db.read() as cur:
        assert store.is_synthetic(cur)
        assert cur.execute("SELECT count(*) FROM partners WHERE slug = 'acme'").fetchone()[0] == 0
