"""Administrative writes (coalition.admin): each one's effect, its audit entry with the values
before and after, the message for bad input, and that a transaction keeps all or nothing.

The database is the activity database of conftest.py: shopco (ShopMarket, ShopResale),
socialco (SocialNet) and searchco (SearchFind), all with records; no baseline; the reference
target "80% by end of 2020" (data/targets.csv), marked default.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

import metrics
from coalition import admin, audit
from coalition.admin import AdminError
from coalition.db import Database
from coalition.store import StoreError


def _fixture_data():
    # tests/conftest.py by path: with tests/app/conftest.py collected in the same run, the name
    # "conftest" may stand for that one instead
    spec = importlib.util.spec_from_file_location(
        "_admin_fixture_data", Path(__file__).with_name("conftest.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURES = _fixture_data()
ACTIVITY_PARTNERS = FIXTURES.ACTIVITY_PARTNERS
ACTIVITY_SUBMISSIONS = FIXTURES.ACTIVITY_SUBMISSIONS
ANA = "ana"
REFERENCE = "80% by end of 2020"


@pytest.fixture(scope="module")
def activity_file(build_db) -> Path:
    return build_db(ACTIVITY_PARTNERS, ACTIVITY_SUBMISSIONS).path


@pytest.fixture
def db(activity_file: Path, tmp_path: Path) -> Database:
    """A fresh copy of the activity database for one test to change."""
    path = tmp_path / "coalition.duckdb"
    shutil.copyfile(activity_file, path)
    return Database(path)


def log(db: Database) -> list[dict]:
    """The audit entries, oldest first, with before and after as dicts."""
    with db.read() as cur:
        rows = audit.entries(cur).iloc[::-1]
    return [
        {
            "actor": r.actor,
            "action": r.action,
            "entity": r.entity,
            "key": r.entity_key,
            "before": json.loads(r.before) if isinstance(r.before, str) else None,
            "after": json.loads(r.after) if isinstance(r.after, str) else None,
        }
        for r in rows.itertuples()
    ]


def write(db: Database, change, *args, **kwargs):
    with db.write() as cur:
        return change(cur, ANA, *args, **kwargs)


def platform_id(db: Database, name: str) -> int:
    with db.read() as cur:
        return cur.execute("SELECT id FROM platforms WHERE name = ?", [name]).fetchone()[0]


def fails(db: Database, match: str, change, *args, **kwargs) -> None:
    """``change`` raises an AdminError (a StoreError) saying ``match``, and stores nothing."""
    version = db.data_version()
    with pytest.raises(AdminError, match=match):
        write(db, change, *args, **kwargs)
    assert db.data_version() == version
    assert issubclass(AdminError, StoreError)


# --- Partners ---------------------------------------------------------------------------------


def test_add_partner_stores_it_and_logs_the_row(db):
    write(db, admin.add_partner, "newco", "NewCo", "search", dt.date(2020, 3, 1),
          consent_to_name=True)  # fmt: skip
    with db.read() as cur:
        assert admin.partner(cur, "newco") == {
            "slug": "newco",
            "name": "NewCo",
            "sector": "search",
            "joined": dt.date(2020, 3, 1),
            "consent_to_name": True,
        }
    assert log(db) == [
        {
            "actor": ANA,
            "action": "add",
            "entity": "partner",
            "key": "newco",
            "before": None,
            "after": {
                "slug": "newco",
                "name": "NewCo",
                "sector": "search",
                "joined": "2020-03-01",
                "consent_to_name": True,
            },
        }
    ]


@pytest.mark.parametrize(
    ("slug", "name", "sector", "joined", "match"),
    [
        ("New Co", "NewCo", "search", dt.date(2020, 1, 1), "slug 'New Co' is not valid"),
        ("-newco", "NewCo", "search", dt.date(2020, 1, 1), "lower-case letters"),
        ("newco", "  ", "search", dt.date(2020, 1, 1), "partner name is empty"),
        ("newco", "NewCo", "banking", dt.date(2020, 1, 1), "Unknown sector 'banking'"),
        ("newco", "NewCo", "search", "1 March", "joined date must be a date"),
        ("shopco", "Another", "search", dt.date(2020, 1, 1), "slug 'shopco' exists already"),
        ("newco", "SHOPCO", "search", dt.date(2020, 1, 1), "named 'SHOPCO' exists already"),
    ],
)
def test_add_partner_refuses_bad_input(db, slug, name, sector, joined, match):
    fails(db, match, admin.add_partner, slug, name, sector, joined)
    assert log(db) == []


def test_a_change_needs_an_actor(db):
    with pytest.raises(AdminError, match="actor's name is empty"), db.write() as cur:
        admin.update_partner(cur, "  ", "shopco", consent_to_name=True)


def test_update_partner_logs_only_what_changed(db):
    assert write(db, admin.update_partner, "shopco", consent_to_name=True)
    assert write(db, admin.update_partner, "socialco", sector="other", joined="2018-07-01")
    with db.read() as cur:
        assert admin.partner(cur, "shopco")["consent_to_name"] is True
        assert admin.partner(cur, "socialco")["sector"] == "other"
        assert admin.partner(cur, "socialco")["joined"] == dt.date(2018, 7, 1)
    first, second = log(db)
    assert first == {
        "actor": ANA,
        "action": "update",
        "entity": "partner",
        "key": "shopco",
        "before": {"consent_to_name": False},
        "after": {"consent_to_name": True},
    }
    assert second["before"] == {"sector": "social-media", "joined": "2018-06-15"}
    assert second["after"] == {"sector": "other", "joined": "2018-07-01"}


def test_update_partner_that_changes_nothing_writes_nothing(db):
    assert not write(db, admin.update_partner, "shopco", name="Shopco", sector="e-commerce")
    assert log(db) == []


def test_a_partner_without_platforms_can_be_renamed(db):
    write(db, admin.add_partner, "newco", "NewCo", "search", dt.date(2020, 3, 1))
    assert write(db, admin.update_partner, "newco", name="  New   Company ")
    with db.read() as cur:
        assert admin.partner(cur, "newco")["name"] == "New Company"
    assert log(db)[-1]["after"] == {"name": "New Company"}


def test_a_partner_with_platforms_keeps_its_name_and_says_why(db):
    fails(db, "cannot be changed: it already has platforms, submissions",
          admin.update_partner, "shopco", name="Shop Company", consent_to_name=True)  # fmt: skip
    with db.read() as cur:  # the consent in the same call was not stored either
        assert admin.partner(cur, "shopco")["consent_to_name"] is False
    assert log(db) == []


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"name": "Socialco"}, "named 'Socialco' exists already"),
        ({"sector": "banks"}, "Unknown sector"),
        ({"joined": "soon"}, "must be a date"),
        ({"name": ""}, "name is empty"),
    ],
)
def test_update_partner_refuses_bad_input(db, fields, match):
    fails(db, match, admin.update_partner, "searchco", **fields)


def test_update_of_an_unknown_partner(db):
    fails(db, "no partner 'nobody'", admin.update_partner, "nobody", consent_to_name=True)


# --- Platforms --------------------------------------------------------------------------------


def test_add_platform_stores_it_and_logs_the_row(db):
    new_id = write(db, admin.add_platform, "searchco", "SearchImages", "search")
    with db.read() as cur:
        assert admin.platform(cur, new_id) == {
            "id": new_id, "name": "SearchImages", "partner": "searchco", "kind": "search",
        }  # fmt: skip
    assert log(db) == [
        {
            "actor": ANA,
            "action": "add",
            "entity": "platform",
            "key": str(new_id),
            "before": None,
            "after": {
                "id": new_id,
                "name": "SearchImages",
                "partner": "searchco",
                "kind": "search",
            },
        }
    ]


@pytest.mark.parametrize(
    ("partner", "name", "kind", "match"),
    [
        ("nobody", "X", "other", "no partner 'nobody'"),
        ("searchco", "shopmarket", "other", "named 'shopmarket' exists already"),
        ("searchco", "", "other", "platform name is empty"),
        ("searchco", "X", "forum", "Unknown platform kind 'forum'"),
    ],
)
def test_add_platform_refuses_bad_input(db, partner, name, kind, match):
    fails(db, match, admin.add_platform, partner, name, kind)


def test_change_a_platforms_kind(db):
    shop = platform_id(db, "ShopMarket")
    assert write(db, admin.update_platform, shop, kind="marketplace")
    assert not write(db, admin.update_platform, shop, kind="marketplace")
    with db.read() as cur:
        assert admin.platform(cur, shop)["kind"] == "marketplace"
    (entry,) = log(db)
    assert entry["action"] == "update" and entry["key"] == str(shop)
    assert entry["before"] == {"platform": "ShopMarket", "kind": "other"}
    assert entry["after"] == {"platform": "ShopMarket", "kind": "marketplace"}


def test_a_platform_can_be_renamed_unless_a_baseline_points_at_it(db):
    new_id = write(db, admin.add_platform, "searchco", "SearchImgs")
    assert write(db, admin.update_platform, new_id, name="SearchImages")
    with db.read() as cur:
        assert admin.platform(cur, new_id)["name"] == "SearchImages"
    assert log(db)[-1]["after"] == {"platform": "SearchImgs", "name": "SearchImages"}
    # records point at a platform by id (and are checked by the loaders, not by foreign keys
    # since migration 4): a platform with records can be renamed, and its figures follow
    shop = platform_id(db, "ShopMarket")
    with db.read() as cur:
        rows = cur.execute("SELECT count(*) FROM facts WHERE platform_id = ?", [shop]).fetchone()
    assert rows[0] > 0
    assert write(db, admin.update_platform, shop, name="Shop Market")
    with db.read() as cur:
        names = {
            r[0]
            for r in cur.execute(
                "SELECT platform FROM facts WHERE platform_id = ?", [shop]
            ).fetchall()
        }
    assert names == {"Shop Market"}
    assert write(db, admin.set_baseline, new_id, "2018-Q4", "2019-Q1")
    fails(db, "'SearchImages' cannot be renamed: it already has baselines",
          admin.update_platform, new_id, name="Search Images")  # fmt: skip
    fails(db, "named 'SocialNet' exists already", admin.update_platform, new_id, name="SocialNet")
    fails(db, "no platform with id 999", admin.update_platform, 999, kind="other")


# --- Baselines --------------------------------------------------------------------------------


def test_set_change_and_clear_a_baseline(db):
    shop = platform_id(db, "ShopMarket")
    assert write(db, admin.set_baseline, shop, "2018-Q4", "2019-Q1")
    with db.read() as cur:
        assert admin.baseline(cur, shop) == ("2018-Q4", "2019-Q1")
    assert write(db, admin.set_baseline, shop, "2019-q1", " 2019-Q2")  # tolerant spelling
    assert not write(db, admin.set_baseline, shop, "2019-Q1", "2019-Q2")
    with db.read() as cur:
        assert admin.baseline(cur, shop) == ("2019-Q1", "2019-Q2")
    assert write(db, admin.clear_baseline, shop)
    assert not write(db, admin.clear_baseline, shop)
    with db.read() as cur:
        assert admin.baseline(cur, shop) is None
    key = str(shop)
    default = {"platform": "ShopMarket", "rule": "default"}
    first = {"platform": "ShopMarket", "first_quarter": "2018-Q4", "last_quarter": "2019-Q1"}
    second = {"platform": "ShopMarket", "first_quarter": "2019-Q1", "last_quarter": "2019-Q2"}
    assert [(e["action"], e["entity"], e["key"], e["before"], e["after"]) for e in log(db)] == [
        ("set", "baseline", key, default, first),
        ("set", "baseline", key, first, second),
        ("clear", "baseline", key, second, default),
    ]


def test_a_fixed_baseline_is_what_the_reduction_uses(build_db):
    # AlphaMart of the panel database has a default baseline of 2018-Q1..Q4; fixing it to
    # 2019-Q1..Q2 (as the panel_configured fixture does by hand) gives the same figures
    panel = (FIXTURES.PANEL_PARTNERS, FIXTURES.PANEL_SUBMISSIONS)
    fixed = build_db(*panel, [("AlphaMart", "2019-Q1", "2019-Q2")])
    db = build_db(*panel)
    with db.read() as cur:
        before = metrics.reduction_series(cur, metrics.Filters(), by="platform")
    write(db, admin.set_baseline, platform_id(db, "AlphaMart"), "2019-Q1", "2019-Q2")
    with db.read() as cur:
        after = metrics.reduction_series(cur, metrics.Filters(), by="platform")
    with fixed.read() as cur:
        expected = metrics.reduction_series(cur, metrics.Filters(), by="platform")
    assert not after.equals(before)
    assert after.equals(expected)


@pytest.mark.parametrize(
    ("first", "last", "match"),
    [
        ("2018Q1", "2018-Q4", "first quarter '2018Q1' is not a quarter"),
        ("2018-Q1", "2018-Q5", "last quarter '2018-Q5' is not a quarter"),
        ("2018-01", "2018-Q4", "write it as 2018-Q1"),
        ("2019-Q1", "2018-Q4", "runs backwards: 2019-Q1 comes after 2018-Q4"),
        ("1990-Q1", "2018-Q4", "outside the calendar"),
        (None, "2018-Q4", "is not a quarter"),
    ],
)
def test_set_baseline_refuses_bad_quarters(db, first, last, match):
    fails(db, match, admin.set_baseline, platform_id(db, "ShopMarket"), first, last)


def test_baseline_of_an_unknown_platform(db):
    fails(db, "no platform with id 999", admin.set_baseline, 999, "2018-Q1", "2018-Q4")
    fails(db, "no platform with id 999", admin.clear_baseline, 999)


# --- Targets ----------------------------------------------------------------------------------


def reference_target(db: Database) -> int:
    """The target every database starts with (data/targets.csv): 80% by end of 2020, default."""
    with db.read() as cur:
        return cur.execute("SELECT id FROM targets WHERE name = ?", [REFERENCE]).fetchone()[0]


def test_targets_added_changed_made_default_and_removed(db):
    first = reference_target(db)
    later = write(db, admin.add_target, "90% by 2025", 0.9, dt.date(2025, 12, 31))
    with db.read() as cur:
        assert admin.default_target_id(cur) == first
        assert metrics.default_target(cur).name == REFERENCE
    assert write(db, admin.set_default_target, later)
    assert not write(db, admin.set_default_target, later)
    with db.read() as cur:
        assert admin.default_target_id(cur) == later
        assert metrics.default_target(cur) == metrics.Target(
            "90% by 2025", 0.9, dt.date(2025, 12, 31)
        )
        assert admin.targets(cur)["name"].tolist() == ["90% by 2025", REFERENCE]
    assert write(db, admin.update_target, later, reduction=0.95, deadline="2026-06-30")
    assert not write(db, admin.update_target, later, reduction=0.95)
    with db.read() as cur:
        assert metrics.default_target(cur) == metrics.Target(
            "90% by 2025", 0.95, dt.date(2026, 6, 30)
        )
    write(db, admin.remove_target, later)
    with db.read() as cur:
        assert admin.target(cur, later) is None
        # no default left: the earliest deadline is shown first, as metrics picks it
        assert admin.default_target_id(cur) == first
        assert metrics.default_target(cur).name == REFERENCE
    entries = [(e["action"], e["key"], e["before"], e["after"]) for e in log(db)]
    assert entries[0] == (
        "add", str(later), None,
        {"id": later, "name": "90% by 2025", "reduction": 0.9, "deadline": "2025-12-31",
         "is_default": False},
    )  # fmt: skip
    assert entries[1] == ("set_default", str(later), {"default": REFERENCE},
                          {"default": "90% by 2025"})  # fmt: skip
    assert entries[2] == (
        "update", str(later),
        {"reduction": 0.9, "deadline": "2025-12-31"}, {"reduction": 0.95, "deadline": "2026-06-30"},
    )  # fmt: skip
    assert entries[3][0] == "remove" and entries[3][2]["name"] == "90% by 2025"
    assert entries[3][2]["is_default"] is True and entries[3][3] is None
    assert len(entries) == 4


def test_a_target_added_as_default_replaces_the_default(db):
    old = reference_target(db)
    new = write(db, admin.add_target, "New", 0.5, dt.date(2030, 12, 31), default=True)
    with db.read() as cur:
        table = admin.targets(cur)
    assert dict(zip(table["id"], table["is_default"], strict=True)) == {new: True, old: False}
    assert [(e["action"], e["before"], e["after"].get("default")) for e in log(db)] == [
        ("add", None, None), ("set_default", {"default": REFERENCE}, "New"),
    ]  # fmt: skip


def test_a_target_can_be_renamed(db):
    assert write(db, admin.update_target, reference_target(db), name="Eighty by 2020")
    assert log(db)[-1]["after"] == {"name": "Eighty by 2020"}


@pytest.mark.parametrize(
    ("name", "reduction", "deadline", "match"),
    [
        ("T", 0, dt.date(2020, 12, 31), "reduction 0 is not a share between 0 and 1"),
        ("T", 80, dt.date(2020, 12, 31), "write 0.8 for 80%"),
        ("T", -0.1, dt.date(2020, 12, 31), "not a share"),
        ("T", "lots", dt.date(2020, 12, 31), "not a share"),
        ("T", True, dt.date(2020, 12, 31), "not a share"),
        ("T", float("nan"), dt.date(2020, 12, 31), "not a share"),
        ("T", 0.8, "end of 2020", "deadline must be a date"),
        ("", 0.8, dt.date(2020, 12, 31), "target name is empty"),
        ("existing", 0.8, dt.date(2020, 12, 31), "named 'existing' exists already"),
    ],
)
def test_add_target_refuses_bad_input(db, name, reduction, deadline, match):
    write(db, admin.add_target, "Existing", 0.5, dt.date(2030, 1, 1))
    fails(db, match, admin.add_target, name, reduction, deadline)


def test_update_target_refuses_bad_input(db):
    write(db, admin.add_target, "A", 0.5, dt.date(2030, 1, 1))
    b = write(db, admin.add_target, "B", 0.5, dt.date(2031, 1, 1))
    fails(db, "named 'a' exists already", admin.update_target, b, name="a")
    fails(db, "not a share", admin.update_target, b, reduction=1.2)
    fails(db, "no target with id 999", admin.update_target, 999, reduction=0.5)
    fails(db, "no target with id 999", admin.set_default_target, 999)
    fails(db, "no target with id 999", admin.remove_target, 999)
    assert write(db, admin.update_target, b, name="B later")


# --- Transactions -----------------------------------------------------------------------------


def test_a_failure_later_in_the_transaction_keeps_nothing(db):
    with pytest.raises(AdminError), db.write() as cur:
        admin.update_partner(cur, ANA, "shopco", consent_to_name=True)
        admin.add_target(cur, ANA, "Fine", 0.8, dt.date(2020, 12, 31))
        admin.add_target(cur, ANA, "Bad", 8, dt.date(2020, 12, 31))
    with db.read() as cur:
        assert admin.partner(cur, "shopco")["consent_to_name"] is False
        assert admin.targets(cur)["name"].tolist() == [REFERENCE]
    assert log(db) == []


def test_a_change_whose_audit_entry_fails_is_not_stored(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError, match="audit log unavailable"), db.write() as cur:
        admin.update_partner(cur, ANA, "shopco", consent_to_name=True)
    with db.read() as cur:
        assert admin.partner(cur, "shopco")["consent_to_name"] is False


# --- Reading ----------------------------------------------------------------------------------


def test_reading_helpers(db):
    shop = platform_id(db, "ShopMarket")
    write(db, admin.set_baseline, shop, "2018-Q4", "2019-Q1")
    with db.read() as cur:
        partners = admin.partners(cur).set_index("slug")
        table = admin.platforms(cur).set_index("name")
        quarters = admin.quarters(cur, 2019, 2020)
    assert partners.loc["shopco", ["platforms", "submissions"]].tolist() == [2, 3]
    shop = table.loc["ShopMarket"]
    assert shop[["partner_name", "baseline_first", "baseline_last"]].tolist() == [
        "Shopco", "2018-Q4", "2019-Q1",
    ]  # fmt: skip
    assert shop[["first_reported", "last_reported"]].tolist() == [
        "2018-Q4", "2019-Q2",
    ]  # fmt: skip
    assert table["baseline_first"].isna().sum() == 3  # the others follow the default rule
    assert quarters == [f"{y}-Q{q}" for y in (2019, 2020) for q in (1, 2, 3, 4)]


def test_audit_entries_filter_by_entity_and_actor(db):
    with db.write() as cur:
        admin.update_partner(cur, "ana", "shopco", consent_to_name=True)
        target = admin.add_target(cur, "ben", "T", 0.8, dt.date(2020, 12, 31))
        admin.update_partner(cur, "ben", "socialco", consent_to_name=True)
    with db.read() as cur:
        assert admin.audit_choices(cur) == (["partner", "target"], ["ana", "ben"])
        everything = admin.audit_entries(cur)
        partners = admin.audit_entries(cur, entity="partner")
        bens = admin.audit_entries(cur, actor="ben")
        both = admin.audit_entries(cur, entity="partner", actor="ben")
        latest = admin.audit_entries(cur, limit=1)
    assert everything["entity_key"].tolist() == ["socialco", str(target), "shopco"]  # latest 1st
    assert partners["entity_key"].tolist() == ["socialco", "shopco"]
    assert bens["entity_key"].tolist() == ["socialco", str(target)]
    assert both["entity_key"].tolist() == ["socialco"]
    assert latest["entity_key"].tolist() == ["socialco"]
    assert json.loads(both["after"].iloc[0]) == {"consent_to_name": True}


def test_describe_change():
    assert admin.describe_change('{"consent_to_name": false}', '{"consent_to_name": true}') == (
        "consent_to_name: no → yes"
    )
    assert (
        admin.describe_change(
            '{"platform": "A", "kind": "other"}', '{"platform": "A", "kind": "social"}'
        )
        == "platform: A; kind: other → social"
    )
    assert admin.describe_change(None, '{"name": "T", "deadline": "2020-12-31"}') == (
        "name: T, deadline: 2020-12-31"
    )
    assert admin.describe_change('{"default": null}', '{"default": "T"}') == "default: — → T"
    assert admin.describe_change(None, None) == ""
