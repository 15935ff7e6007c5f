"""coalition.i18n: one translation function on GNU gettext, English as the message ids."""

from __future__ import annotations

import array
import ast
import csv
import datetime as dt
import importlib.util
import io
import math
import struct
import threading
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract as babel_extract
from babel.messages.frontend import parse_keywords
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition import i18n
from coalition.i18n import (
    country_name,
    format_count,
    format_date,
    format_number,
    format_percent,
    region_name,
    set_language,
    species_name,
    t,
)

ROOT = Path(__file__).resolve().parents[1]


def _load_messages_script():
    spec = importlib.util.spec_from_file_location("messages_script", ROOT / "scripts/messages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


messages = _load_messages_script()
LANGUAGES_WITH_CATALOGUES = messages.catalogue_languages()
UPDATE = "run `.venv/bin/python scripts/messages.py update`, translate, and run it again"
# Every file that babel.cfg extracts messages from.
UI_FILES = [
    ROOT / "app.py",
    *sorted((ROOT / "views").rglob("*.py")),
    *sorted((ROOT / "coalition").rglob("*.py")),
    *sorted((ROOT / "metrics").rglob("*.py")),
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
    assert format_percent(0.39649) == "39.6%"
    assert format_percent(0.7307, 0) == "73%"
    assert format_count(1234567.0) == "1,234,567"
    assert format_date(dt.date(2020, 12, 31)) == "2020-12-31"
    for missing in (None, math.nan):
        assert format_percent(missing) == format_count(missing) == format_date(missing) == "—"


def _translation_calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "N_", "_error"):
            yield node


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_id_is_a_literal_so_it_can_be_extracted(path):
    """A message id is a string literal, either in t() or in N_() where it is defined (then t()
    takes the variable or looks it up); never an f-string, a concatenation or an already
    formatted text."""
    for call in _translation_calls(path):
        where = f"{path.name}:{call.lineno}"
        if call.func.id == "_error":  # _error(code, msgid, ...): normalise.py
            (_, msgid, *_) = call.args
            assert isinstance(msgid, ast.Constant) and isinstance(msgid.value, str), where
            continue
        (msgid, *_) = call.args
        if call.func.id == "N_":
            assert isinstance(msgid, ast.Constant) and isinstance(msgid.value, str), where
        else:
            # t(LABELS[key]) and t(LABELS.get(key, key)) translate texts marked with N_()
            looked_up = isinstance(msgid, ast.Subscript) or (
                isinstance(msgid, ast.Call) and getattr(msgid.func, "attr", None) == "get"
            )
            assert looked_up or isinstance(msgid, ast.Constant | ast.Name | ast.Attribute), where
        for keyword in call.keywords:
            if keyword.arg == "plural":
                assert isinstance(keyword.value, ast.Constant), where


# --- The catalogues ------------------------------------------------------------------------


def test_the_template_holds_exactly_the_messages_in_the_code():
    """A t("…") added (or changed) in the code without updating locales/messages.pot fails
    here: the committed template is compared with a fresh extraction, message by message
    (not line numbers or dates, which change with every edit)."""
    problems = messages.stale_template()
    assert not problems, f"{UPDATE}:\n" + "\n".join(problems)


def test_every_offered_language_has_a_catalogue():
    offered = set(i18n.LANGUAGES) - {i18n.DEFAULT_LANGUAGE}
    assert offered <= set(LANGUAGES_WITH_CATALOGUES)
    assert "zh_Hans" in messages.complete_languages()
    assert {"fr", "es"} <= i18n.PARTIAL_LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES_WITH_CATALOGUES)
def test_every_message_has_an_entry_in_every_catalogue(language):
    problems = messages.missing_entries(language)
    assert not problems, f"{UPDATE}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", messages.complete_languages())
def test_every_message_is_translated_in_a_complete_language(language):
    problems = messages.untranslated(language)
    assert not problems, f"{UPDATE}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES_WITH_CATALOGUES)
def test_translations_keep_the_placeholders_of_the_english(language):
    problems = messages.placeholder_mismatches(language)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES_WITH_CATALOGUES)
def test_the_compiled_catalogue_is_up_to_date_with_its_po(language):
    problems = messages.stale_compiled(language)
    assert not problems, f"{UPDATE}:\n" + "\n".join(problems)


def test_placeholders_are_the_format_fields():
    assert i18n.placeholders("{a} {{b}} {c:,} {d!r} }}") == ["a", "c:,", "d!r"]
    assert i18n.placeholders("no fields") == []


def test_extraction_reads_the_tracker_call_shapes():
    source = b"""
t("Plain {x}", x=f(1, "not a message"))
t("{n} platform", plural="{n} platforms", n=3)
N_("Marked")
_error("code", "An error {v}", ("a", "b"), v=1)
# Translators: a note for the translator
t("With a note")
t(variable)
obj.t("Through an attribute")
print("not a message")
"""
    found = babel_extract(
        i18n.extract_messages,
        io.BytesIO(source),
        keywords=parse_keywords(i18n.KEYWORDS),
        comment_tags=i18n.COMMENT_TAGS,
        strip_comment_tags=True,
    )
    by_id = {message: comments for _, message, comments, _ in found}
    assert set(by_id) == {
        "Plain {x}",
        ("{n} platform", "{n} platforms"),
        "Marked",
        "An error {v}",
        "With a note",
        "Through an attribute",
    }
    assert by_id["With a note"] == ["a note for the translator"]


# --- The real catalogues at run time ---------------------------------------------------------


@pytest.fixture
def language():
    yield set_language
    set_language("en")


def _translated_entries(lang: str):
    catalog = messages.read(messages.po_path(lang), lang)
    return [m for m in catalog if m.id and not m.fuzzy and all(messages._strings(m))]


@pytest.mark.parametrize("code", ["zh_Hans", "zh", "zh-CN", "zh_CN", "zh-Hans"])
def test_chinese_texts_come_from_the_committed_catalogue(language, code):
    entries = _translated_entries("zh_Hans")
    single = next(m for m in entries if isinstance(m.id, str) and not i18n.placeholders(m.id))
    plural = next(m for m in entries if isinstance(m.id, tuple))
    language(code)
    assert t(single.id) == single.string
    fields = {name.split(":")[0].split("!")[0]: 7 for name in i18n.placeholders(plural.id[1])}
    expected = plural.string[0].format(**fields)
    assert t(plural.id[0], plural=plural.id[1], **fields) == expected


def test_every_chinese_translation_formats_with_the_english_fields(language):
    """Each zh_Hans text formats with the arguments its English text takes (a typo in a
    placeholder would raise at run time, on a page)."""
    language("zh_Hans")
    for message in _translated_entries("zh_Hans"):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        fields = {name.split(":")[0].split("!")[0]: 1234 for name in i18n.placeholders(ids[-1])}
        for string in messages._strings(message):
            string.format(**fields)


def test_a_partial_catalogue_falls_back_to_english(language):
    language("fr")
    assert t("Overview") == "Vue d'ensemble"
    assert t("Not in the catalogue {x}", x=1) == "Not in the catalogue 1"
    language("es")
    assert t("Overview") == "Resumen"


# --- Numbers, dates and names per language --------------------------------------------------


def test_numbers_and_dates_in_chinese(language):
    language("zh_Hans")
    assert format_percent(0.39649) == "39.6%"
    assert format_count(1234567.0) == "1,234,567"
    assert format_date(dt.date(2020, 12, 31)) == "2020年12月31日"
    assert format_date(pd.Timestamp("2030-12-31")) == "2030年12月31日"


def test_numbers_and_dates_in_french_and_spanish(language):
    language("fr")
    assert format_percent(0.39649) == "39,6\u00a0%"
    assert format_count(1234567) == "1\u202f234\u202f567"
    assert format_number(1234.567) == "1\u202f234,6"
    assert format_date(dt.date(2020, 12, 31)) == "31 déc. 2020"
    language("es")
    assert format_count(1234567) == "1.234.567"
    assert format_date(dt.date(2020, 12, 31)) == "31 dic 2020"


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.integers(min_value=0, max_value=10**15 - 1),
        st.floats(min_value=0, max_value=1e15, exclude_max=True),
        st.integers(min_value=0, max_value=10**6).map(lambda n: n + 0.5),  # ties: half to even
    ),
    code=st.sampled_from(["en", "zh_Hans", "fr", "es"]),
)
def test_counts_are_formatted_as_babel_formats_them(value, code):
    # format_count skips babel for plain numbers: it must give babel's text, to the character
    set_language(code)
    try:
        assert format_count(value) == i18n._decimal_pattern(0).apply(value, i18n._locale(code))
    finally:
        set_language("en")


def test_english_numbers_and_missing_values_everywhere(language):
    assert format_number(1234.567) == "1,234.6"
    assert format_number(2.0, 0) == "2"
    assert format_percent(-0.05, 0) == "-5%"
    for code in ("en", "zh_Hans", "fr", "es", "xx"):
        language(code)
        for missing in (None, math.nan, pd.NaT):
            assert format_percent(missing) == format_count(missing) == "—"
            assert format_number(missing) == format_date(missing) == "—"


def test_region_names(language):
    assert region_name("Eastern Asia", "zh_Hans") == "东亚"
    assert region_name("South-eastern Asia", "zh") == "东南亚"
    assert region_name("Latin America and the Caribbean", "zh_Hans") == "拉丁美洲和加勒比"
    assert region_name("Africa", "fr") == "Afrique"
    assert region_name("Africa", "en") == "Africa"
    assert region_name("Atlantis", "zh_Hans") == "Atlantis"
    assert region_name("Global / unspecified", "zh_Hans") == "全球/未指明"
    language("zh_Hans")
    assert region_name("Europe") == "欧洲"


def test_every_region_of_the_country_table_has_names_in_every_language():
    from coalition.reference import countries_table

    with (ROOT / "data" / "region_names.csv").open(encoding="utf-8") as file:
        rows = {r["name_en"]: r for r in csv.DictReader(file)}
    table = countries_table()
    levels = table[["region", "subregion", "intermediate_region"]]
    used = {name for name in levels.to_numpy().ravel() if isinstance(name, str) and name}
    for name in sorted(used):
        assert name in rows, name
        assert all(rows[name][c] for c in ("m49", "name_zh", "name_fr", "name_es")), name


def test_species_names(language):
    assert species_name("pangolins", "zh_Hans") == "穿山甲"
    assert species_name("pangolins", "en") == "Pangolins"
    assert species_name("pangolins", "fr") == "Pangolins"  # no French names yet
    row = {"slug": "x", "name_en": "Example", "name_zh": "示例"}
    assert species_name(row, "zh") == "示例"
    assert species_name(pd.Series(row), "en") == "Example"
    assert species_name("unknown-slug", "zh_Hans") == "unknown-slug"
    language("zh_Hans")
    assert species_name("pangolins") == "穿山甲"


def test_country_names(language):
    assert country_name("CHN", "zh_Hans") == "中国"
    assert country_name("KHM", "zh_Hans") == "柬埔寨"  # the tracker's fix of pycountry's typo
    assert country_name("DEU", "fr") == "Allemagne"
    assert country_name("DEU", "es") == "Alemania"
    assert country_name("DEU", "en") == "Germany"
    assert country_name("XXX", "zh_Hans") == "XXX"
    language("zh_Hans")
    assert country_name("VNM") == "越南"
