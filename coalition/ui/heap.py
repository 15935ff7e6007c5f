"""Keep Python's garbage collector off what lives as long as the server.

The server process holds about 200,000 Python objects from its imports (Streamlit, pandas,
Plotly, DuckDB and the tracker's own modules) that live as long as it does. Python's cyclic
collector still walks all of them in every full collection, which it starts on its own as a
page's run makes objects: 0.12–0.17 s each at 2M records, in the middle of somebody's page.
:func:`freeze_long_lived` moves them, once, out of the collector's sight (``gc.freeze``);
what the pages make afterwards is collected as before.
"""

from __future__ import annotations

import gc
import importlib
import threading

# The modules that the pages import as they are first opened, beyond those app.py imports:
# imported before the freeze so that their objects are kept out of collections too.
PAGE_MODULES = (
    "coalition.charts",
    "coalition.charts_platforms",
    "coalition.charts_regions",
    "coalition.charts_species",
    "coalition.present",
    "coalition.quality",
    "coalition.review",
    "coalition.ui.accounts",
    "coalition.ui.admin",
    "coalition.ui.components",
    "coalition.ui.filter_bar",
    "coalition.ui.platforms",
    "coalition.ui.present",
    "coalition.ui.quality",
    "coalition.ui.review",
    "coalition.ui.submit",
    # Plotly loads each class on first use; these are the ones every chart page uses
    "plotly.graph_objs._figure",
    "plotly.graph_objs._layout",
    "plotly.graph_objs._bar",
    "plotly.graph_objs._scatter",
    "plotly.graph_objs._heatmap",
    "plotly.graph_objs._choropleth",
)

_lock = threading.Lock()
_frozen = False


def freeze_long_lived() -> None:
    """Import the pages' modules, collect what is garbage already, then freeze every object
    alive: once per process, the first time it is called."""
    global _frozen
    with _lock:
        if _frozen:
            return
        for name in PAGE_MODULES:
            importlib.import_module(name)
        gc.collect()
        gc.freeze()
        _frozen = True
