"""Python's collector is kept off the objects that live as long as the server
(``coalition.ui.heap``): a full collection no longer walks the modules' objects."""

from __future__ import annotations

import gc
import sys

import pytest

from coalition.ui import heap


def _tracked(obj: object) -> bool:
    """Whether ``obj`` is among the objects that the collector still walks."""
    return any(o is obj for o in gc.get_objects())


def test_the_app_freezes_the_modules_the_pages_use(app, sample, monkeypatch) -> None:
    # as in a new server process (an earlier test of this process may have frozen already)
    monkeypatch.setattr(heap, "_frozen", False)
    at = app(sample).run()
    assert not at.exception
    assert heap._frozen
    for name in ("coalition.charts_species", "coalition.ui.review", "plotly.graph_objs._figure"):
        assert not _tracked(sys.modules[name].__dict__), name
    # what a page makes afterwards is collected as before
    made_later: dict[str, object] = {}
    made_later["self"] = made_later
    assert _tracked(made_later)


def test_freezes_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(heap, "_frozen", False)
    monkeypatch.setattr(heap.gc, "freeze", lambda: frozen.append(len(frozen)))
    heap.freeze_long_lived()
    heap.freeze_long_lived()
    assert frozen == [0]
    assert all(name in sys.modules for name in heap.PAGE_MODULES)
