"""``--lang`` on the command line: the words in the chosen language, machine-readable output
(``--json`` keys, status codes) the same in every language."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from coalition import i18n, store
from coalition.cli import cli
from coalition.db import Database


@pytest.fixture
def small_db(tmp_path) -> Database:
    """One platform with a full baseline year and a year after it."""
    db = Database(tmp_path / "lang.duckdb")
    store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            "acme",
            "Acme Trade",
            "e-commerce",
            dt.date(2018, 1, 1),
            platforms=(("Acme Market", "marketplace"),),
        )
        rows = [
            {
                "platform": "Acme Market",
                "period": f"{2018 + i // 4}-Q{i % 4 + 1}",
                "species_group": "pangolins",
                "country": "VNM",
                "listings_removed": 10,
                "listings_blocked": 10 * i,
                "listings_detected": 100 - 10 * i,
                "search_effort": 1000,
            }
            for i in range(6)
        ]
        store.add_submission(
            cur, partner="acme", records=pd.DataFrame(rows), uploaded_by="test", status="accepted"
        )
    return db


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_progress_in_chinese(small_db):
    english = run("progress", "--db", str(small_db.path))
    chinese = run("progress", "--lang", "zh", "--db", str(small_db.path))
    assert "reduction" in english and "联盟" not in english
    assert "联盟" in chinese and "基线" in chinese  # the coalition; baseline
    assert "reduction" not in chinese and "vs baseline" not in chinese
    assert "2019年6月30日" in chinese  # the date as a Chinese reader writes it


def test_progress_by_species_names_groups_in_chinese(small_db):
    out = run("progress", "--by", "species", "--lang", "zh", "--db", str(small_db.path))
    assert out.startswith("穿山甲：") or out.startswith("穿山甲:")


def test_json_keys_and_codes_stay_english(small_db):
    english = json.loads(run("progress", "--json", "--db", str(small_db.path)))
    chinese = json.loads(run("progress", "--json", "--lang", "zh", "--db", str(small_db.path)))
    assert chinese == english
    assert {"reduction", "status", "coverage", "target"} <= set(chinese)
    assert chinese["status"] in {"achieved", "on_track", "acceleration_needed",
                                 "limited_progress", "deterioration", "missed",
                                 "insufficient_data"}  # fmt: skip


def test_language_from_the_environment_and_spellings(small_db):
    by_env = run("progress", "--db", str(small_db.path), env={"COALITION_LANG": "zh_CN"})
    by_option = run("progress", "--lang", "zh-Hans", "--db", str(small_db.path))
    assert by_env == by_option and "联盟" in by_env
    # --lang wins over the environment
    assert "reduction" in run(
        "progress", "--lang", "en", "--db", str(small_db.path), env={"COALITION_LANG": "zh"}
    )


def test_unknown_language_is_refused(small_db):
    result = CliRunner().invoke(cli, ["progress", "--lang", "xx", "--db", str(small_db.path)])
    assert result.exit_code == 2
    assert "en, zh, fr, es" in result.output


def test_errors_are_in_the_chosen_language(small_db):
    result = CliRunner().invoke(
        cli, ["template", "--partner", "nobody", "--out", "x.xlsx", "--lang", "zh",
              "--db", str(small_db.path)]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "nobody" in result.output and "没有" in result.output


def test_every_command_that_writes_words_takes_lang():
    def commands(group, prefix=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, (*prefix, name))
            else:
                yield (*prefix, name), command

    for path, command in commands(cli):
        assert "--lang" in {o for p in command.params for o in p.opts}, path


def test_a_run_leaves_the_language_as_it_was(small_db):
    run("progress", "--lang", "zh", "--db", str(small_db.path))
    assert i18n.get_language() == "en"
    CliRunner().invoke(cli, ["progress", "--lang", "zh", "--to", "bad", "--db", "x"])
    assert i18n.get_language() == "en"


def test_template_and_deck_keep_their_lang(tmp_path, small_db):
    out = tmp_path / "t.xlsx"
    text = run("template", "--partner", "acme", "--out", str(out), "--lang", "zh",
               "--db", str(small_db.path))  # fmt: skip
    assert out.stat().st_size > 0 and "acme" in text
    from openpyxl import load_workbook

    assert "数据" in load_workbook(out).sheetnames
