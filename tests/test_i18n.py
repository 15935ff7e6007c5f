"""coalition.i18n: one translation function on GNU gettext, English as the message ids."""

from __future__ import annotations

import array
import ast
import math
import struct
import threading
from pathlib import Path

import pytest

from coalition import i18n
from coalition.i18n import format_count, format_date, format_percent, set_language, t

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = [
    ROOT / "app.py",
    *sorted((ROOT / "views").glob("*.py")),
    *sorted((ROOT / "coalition").glob("charts*.py")),
    ROOT / "coalition" / "annotate.py",
    ROOT / "coalition" / "theme.py",
    *sorted((ROOT / "coalition" / "ui").glob("*.py")),
]


def write_mo(path: Path, messages: dict[str, str], plural_forms: str) -> None:
    """A GNU .mo catalogue (the format msgfmt writes); a plural entry's key and value hold
    their forms separated by NUL."""
    header = f"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: {plural_forms}\n"
    entries = sorted({"": header, **messages}.items())
    ids = strs = b""
    offsets = []
    for key, value in entries:
        k, v = key.encode(), value.encode()
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    key_start = 7 * 4 + 16 * len(entries)
    value_start = key_start + len(ids)
    table = [x for o1, l1, _, _ in offsets for x in (l1, o1 + key_start)]
    table += [x for _, _, o2, l2 in offsets for x in (l2, o2 + value_start)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        struct.pack("Iiiiiii", 0x950412DE, 0, len(entries), 28, 28 + 8 * len(entries), 0, 0)
        + array.array("i", table).tobytes()
        + ids
        + strs
    )


@pytest.fixture
def chinese(tmp_path, monkeypatch):
    write_mo(
        tmp_path / "zh_CN" / "LC_MESSAGES" / "messages.mo",
        {
            "Overview": "概览",
            "Partners reporting in {period}": "{period} 报送的伙伴",
            "{n} platform\0{n} platforms": "{n} 个平台",
            "On track": "按计划推进",
        },
        "nplurals=1; plural=0;",
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n._catalogue.cache_clear()
    yield
    set_language("en")
    i18n._catalogue.cache_clear()


def test_english_is_the_message_id_formatted():
    assert t("Overview") == "Overview"
    assert t("Partners reporting in {period}", period="2020-Q4") == "Partners reporting in 2020-Q4"


def test_plural_forms_in_english():
    assert t("{n} platform", plural="{n} platforms", n=1) == "1 platform"
    assert t("{n} platform", plural="{n} platforms", n=3) == "3 platforms"
    with pytest.raises(TypeError):
        t("{n} platform", plural="{n} platforms")


def test_a_catalogue_translates_and_formats(chinese):
    set_language("zh_CN")
    assert t("Overview") == "概览"
    assert t("Partners reporting in {period}", period="2020-Q4") == "2020-Q4 报送的伙伴"
    assert t("{n} platform", plural="{n} platforms", n=3) == "3 个平台"
    assert t("Not in the catalogue") == "Not in the catalogue"  # falls back to English


def test_status_labels_are_translated(chinese):
    from coalition import theme

    set_language("zh_CN")
    assert theme.status_label("on_track") == "▲ 按计划推进"


def test_unknown_language_falls_back_to_english():
    set_language("xx")
    try:
        assert t("Overview") == "Overview"
    finally:
        set_language("en")


def test_the_language_belongs_to_the_thread(chinese):
    # a Streamlit session runs its script in its own thread: one user's choice is not another's
    set_language("zh_CN")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(t("Overview")))
    thread.start()
    thread.join()
    assert seen == ["Overview"]
    assert t("Overview") == "概览"


def test_numbers_and_dates_for_readers():
    import datetime as dt

    assert format_percent(0.39649) == "39.6%"
    assert format_percent(0.7307, 0) == "73%"
    assert format_count(1234567.0) == "1,234,567"
    assert format_date(dt.date(2020, 12, 31)) == "2020-12-31"
    for missing in (None, math.nan):
        assert format_percent(missing) == format_count(missing) == format_date(missing) == "—"


def _translation_calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "N_"):
            yield node


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_id_is_a_literal_so_it_can_be_extracted(path):
    """A message id is a string literal, either in t() or in N_() where it is defined (then t()
    takes the variable); never an f-string, a concatenation or an already formatted text."""
    for call in _translation_calls(path):
        where = f"{path.name}:{call.lineno}"
        (msgid, *_) = call.args
        if call.func.id == "N_":
            assert isinstance(msgid, ast.Constant) and isinstance(msgid.value, str), where
        else:
            assert isinstance(msgid, ast.Constant | ast.Name | ast.Attribute), where
        for keyword in call.keywords:
            if keyword.arg == "plural":
                assert isinstance(keyword.value, ast.Constant), where
