"""The caches of built figures and put-together tables (``coalition.ui.components``): each is
worked out once per input and language, equal inputs made apart hit the same entry, and a
table read from the cache can be changed without changing the cache."""

from __future__ import annotations

import functools

import pandas as pd
import plotly.graph_objects as go
import pytest
import streamlit as st

from coalition.i18n import get_language, set_language, t
from coalition.ui import components

CALLS: list[str] = []


def labelled(frame: pd.DataFrame, suffix: str = "") -> pd.DataFrame:
    """A table put together from ``frame`` (module level: its inputs are all visible)."""
    CALLS.append("labelled")
    return frame.assign(label=[t("Platform") + suffix for _ in range(len(frame))])


def bars(frame: pd.DataFrame, title: str = "") -> go.Figure:
    CALLS.append("bars")
    return go.Figure(go.Bar(x=list(frame["group"]), y=list(frame["n"])), {"title": title})


class Unpicklable(str):
    def __reduce_ex__(self, protocol):
        raise TypeError("not picklable")


def frame(n: int = 3) -> pd.DataFrame:
    # made anew each time: equal to the last one, never the same object
    return pd.DataFrame({"group": [f"g{i}" for i in range(n)], "n": [float(i) for i in range(n)]})


@pytest.fixture(autouse=True)
def fresh():
    st.cache_data.clear()
    components._built_figure.clear()
    CALLS.clear()
    language = get_language()
    yield
    set_language(language)


def test_a_table_is_put_together_once_per_input_and_language():
    first = components.derived(labelled, frame(), suffix="!")
    again = components.derived(labelled, frame(), suffix="!")
    assert CALLS == ["labelled"]
    pd.testing.assert_frame_equal(again, first)
    components.derived(labelled, frame(4), suffix="!")  # another input
    components.derived(labelled, frame(), suffix="?")  # another argument
    assert CALLS == ["labelled"] * 3
    set_language("zh_Hans")
    chinese = components.derived(labelled, frame(), suffix="!")
    assert CALLS == ["labelled"] * 4
    assert chinese["label"].iloc[0] == t("Platform") + "!" != first["label"].iloc[0]


def test_a_partial_is_keyed_on_its_bound_arguments():
    components.derived(functools.partial(labelled, suffix="!"), frame())
    components.derived(labelled, frame(), suffix="!")  # the same call, written out
    components.derived(functools.partial(labelled, suffix="?"), frame())
    assert CALLS == ["labelled", "labelled"]


def test_a_table_from_the_cache_may_be_changed_by_its_reader():
    components.derived(labelled, frame())
    table = components.derived(labelled, frame())
    table["n"] = -1.0
    assert components.derived(labelled, frame())["n"].tolist() == [0.0, 1.0, 2.0]
    assert CALLS == ["labelled"]


def test_what_cannot_be_seen_or_fingerprinted_is_worked_out_every_time():
    suffix = "!"
    components.derived(lambda f: labelled(f, suffix), frame())
    components.derived(lambda f: labelled(f, suffix), frame())
    assert CALLS == ["labelled", "labelled"]
    CALLS.clear()
    suffix = Unpicklable("!")
    assert components._digest(suffix) is None
    components.derived(labelled, frame(), suffix=suffix)
    table = components.derived(labelled, frame(), suffix=suffix)
    assert CALLS == ["labelled", "labelled"]
    assert table["label"].iloc[0] == "Platform!"


def test_equal_inputs_share_a_fingerprint_and_a_changed_value_does_not():
    assert components._digest(frame()) == components._digest(frame())
    changed = frame()
    changed.loc[1, "n"] = 1.5
    assert components._digest(changed) != components._digest(frame())
    renamed = frame().rename(columns={"n": "m"})
    assert components._digest(renamed) != components._digest(frame())


def test_a_figure_is_built_once_per_input_and_language():
    first = components.figure_for(frame(), functools.partial(bars, title="A"))
    assert components.figure_for(frame(), functools.partial(bars, title="A")) is first
    components.figure_for(frame(), functools.partial(bars, title="B"))
    components.figure_for(frame(4), functools.partial(bars, title="A"))
    assert CALLS == ["bars"] * 3
    set_language("zh_Hans")
    components.figure_for(frame(), functools.partial(bars, title="A"))
    assert CALLS == ["bars"] * 4
