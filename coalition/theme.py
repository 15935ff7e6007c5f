"""The look of every chart and status badge: one Plotly template, one palette, one status key.

Colours are the Okabe–Ito palette, which stays distinguishable with the common forms of colour
blindness. A status is never told by colour alone: each has a symbol and a label as well, used
together wherever a status is shown (badges, markers, legends).
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

from coalition.i18n import N_, t

TEMPLATE_NAME = "coalition"

# Okabe & Ito (2008), "Color Universal Design".
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"
PALETTE = (BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, SKY_BLUE, VERMILLION, YELLOW, BLACK)

TEXT = "#262730"
GRID = "#E6E6E6"
FONT = "Source Sans Pro, Noto Sans, Noto Sans CJK SC, Arial, sans-serif"

# What each series of the Overview charts means, by colour: the observed index in blue, its
# fitted trend and projection in orange (dashed where projected), the target in black.
OBSERVED = BLUE
TREND = ORANGE
BAND = "rgba(230, 159, 0, 0.2)"
TARGET = BLACK
REMOVED = ORANGE
BLOCKED = BLUISH_GREEN
CUMULATIVE = BLACK
EXPECTED = GREY
ON_TIME = BLUE
LATE = VERMILLION


@dataclass(frozen=True)
class StatusStyle:
    """How one status looks: ``symbol`` and ``colour`` for badges, ``marker`` for charts."""

    label: str
    symbol: str
    colour: str
    marker: str


# Keyed by the status values of metrics.progress; labels are translated where shown.
STATUS_STYLES: dict[str, StatusStyle] = {
    "achieved": StatusStyle(N_("Target achieved"), "✔", BLUISH_GREEN, "star"),
    "on_track": StatusStyle(N_("On track"), "▲", SKY_BLUE, "triangle-up"),
    "acceleration_needed": StatusStyle(N_("Acceleration needed"), "►", YELLOW, "triangle-right"),
    "limited_progress": StatusStyle(N_("Limited progress"), "▼", ORANGE, "triangle-down"),
    "deterioration": StatusStyle(N_("Deterioration"), "✖", VERMILLION, "x"),
    "missed": StatusStyle(N_("Target missed"), "✖", REDDISH_PURPLE, "x-open"),
    "insufficient_data": StatusStyle(N_("Insufficient data"), "○", GREY, "circle-open"),
}


def status_style(status: str) -> StatusStyle:
    """The style of a status; an unknown one is shown as insufficient data."""
    return STATUS_STYLES.get(status, STATUS_STYLES["insufficient_data"])


def status_label(status: str) -> str:
    """Symbol and translated label, e.g. '▲ On track'."""
    style = status_style(status)
    return f"{style.symbol} {t(style.label)}"


def _template() -> go.layout.Template:
    axis = {
        "gridcolor": GRID,
        "linecolor": "#BFBFBF",
        "zerolinecolor": "#BFBFBF",
        "ticks": "outside",
        "tickcolor": "#BFBFBF",
        "automargin": True,
        "title": {"standoff": 8},
    }
    return go.layout.Template(
        layout={
            "colorway": list(PALETTE),
            "font": {"family": FONT, "size": 14, "color": TEXT},
            "title": {"font": {"size": 16}, "x": 0, "xanchor": "left"},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "separators": ".,",
            "xaxis": axis,
            "yaxis": {**axis, "tickformat": ",~f"},
            "legend": {
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.02,
                "xanchor": "left",
                "x": 0,
                "title": {"text": ""},
                "traceorder": "normal",
            },
            "hovermode": "closest",
            "hoverlabel": {"font": {"family": FONT, "size": 13}, "namelength": -1},
            "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
            "height": 420,
        },
        data={
            "bar": [go.Bar(marker={"line": {"width": 0}})],
            "scatter": [go.Scatter(marker={"size": 8}, line={"width": 2.5})],
        },
    )


pio.templates[TEMPLATE_NAME] = _template()
_TEMPLATE_JSON = pio.templates[TEMPLATE_NAME].to_plotly_json()


def make_default() -> None:
    """Have new figures start from the coalition template: a figure copies the default
    template when it is made, and :func:`apply` then has nothing to replace (setting a
    template checks and copies it, a few milliseconds per figure). Streamlit puts its own
    default in place when it first draws a chart, so the app calls this again before building
    its figures; every figure gets :func:`apply` all the same."""
    if pio.templates.default != TEMPLATE_NAME:
        pio.templates.default = TEMPLATE_NAME


make_default()


def apply(fig: go.Figure) -> go.Figure:
    """Give a figure the coalition template (unless it has exactly that template already)."""
    if fig.layout.template.to_plotly_json() != _TEMPLATE_JSON:
        fig.layout.template = pio.templates[TEMPLATE_NAME]
    return fig


# For categories (species groups, platforms, regions): Okabe–Ito first, then Paul Tol's "muted"
# scheme, both designed to stay distinguishable with colour-vision deficiencies.
CATEGORY_PALETTE = (
    BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, SKY_BLUE, VERMILLION, YELLOW,
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
    "#AA4499", "#6E6E6E",
)  # fmt: skip


def category_colors(keys: list[str] | tuple[str, ...]) -> dict[str, str]:
    """A colour for each key, by its position in ``keys``.

    Pass the full canonical list (all species groups in their sort order, all platform names
    sorted, all regions), not only the ones on screen, so that a category keeps its colour on
    every page and under every filter.
    """
    return {key: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, key in enumerate(keys)}
