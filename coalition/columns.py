"""The submission template's columns (``data/template_columns.csv``): keys, labels in English
and Chinese, and how a header cell is matched to a key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from coalition.reference import DATA_DIR


@dataclass(frozen=True)
class Column:
    key: str
    label_en: str
    label_zh: str
    required: bool
    kind: str  # period | platform | species | country | count | text
    help_en: str
    help_zh: str

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang.startswith("zh") else self.label_en

    def help(self, lang: str = "en") -> str:
        return self.help_zh if lang.startswith("zh") else self.help_en


@cache
def columns() -> tuple[Column, ...]:
    frame = pd.read_csv(DATA_DIR / "template_columns.csv", dtype=str, keep_default_na=False)
    return tuple(
        Column(r.key, r.label_en, r.label_zh, r.required == "yes", r.kind, r.help_en, r.help_zh)
        for r in frame.itertuples()
    )


def by_key() -> dict[str, Column]:
    return {c.key: c for c in columns()}


REQUIRED = ("period", "platform", "species_group")
COUNT_KEYS = tuple(c.key for c in columns() if c.kind == "count")


def header_key(text: str) -> str:
    """The form in which header cells are compared: case, spaces and underscores ignored."""
    return re.sub(r"[\s_\u3000]+", "", str(text)).casefold()


@cache
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for c in columns():
        for name in (c.key, c.label_en, c.label_zh):
            table[header_key(name)] = c.key
    return table


def match_header(cell: object) -> str | None:
    """The column key a header cell names, or None.

    Matches the canonical key or its label in either language, ignoring case, spaces and
    underscores; a ``key / label`` combination (as the template writes, e.g. "period / 期间")
    matches when either side does.
    """
    if cell is None:
        return None
    text = str(cell).strip()
    if not text:
        return None
    lookup = _lookup()
    if (found := lookup.get(header_key(text))) is not None:
        return found
    for part in re.split(r"\s*[/|]\s*|\n", text):
        if part and (found := lookup.get(header_key(part))) is not None:
            return found
    return None


# The column that coalition.annotate adds to a returned file; the reader skips it, so that a
# corrected file goes back in without an "unknown column" warning.
PROBLEMS_HEADER = "Problems / 问题"

# A row whose notes cell starts with one of these is the template's example and is skipped.
EXAMPLE_MARKERS = ("EXAMPLE", "示例")
# A trailing row whose first text cell says one of these is a totals row: checked, not stored.
TOTAL_WORDS = ("total", "totals", "sum", "grand total", "合计", "总计", "小计", "总和")


def is_example(notes: object) -> bool:
    """True when a notes cell marks the template's example row."""
    if not isinstance(notes, str):
        return False
    text = notes.strip().casefold()
    return any(text.startswith(marker.casefold()) for marker in EXAMPLE_MARKERS)
