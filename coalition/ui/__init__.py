"""The Streamlit side of the tracker: cached data access, the filter bar, drawing helpers.

Only pages and ``app.py`` import from here; nothing below (``metrics``, ``coalition.store``,
``coalition.charts``) imports Streamlit.
"""
