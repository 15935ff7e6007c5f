"""The presentation for CITES meetings and the press, as data: one :class:`Slide` per message.

Each slide has a title, one sentence to show in large type (with its headline number written
out as text), a Plotly figure from the chart builders the pages use, and a footnote that says
what the figure counts, for which period, from how many partners, and what it leaves out. The
Presentation page draws these slides, :mod:`coalition.deck` writes them into a PowerPoint deck.

What every slide needs (the coalition headline, the as-of date, how many partners reported) is
read once, as a :class:`Context`; each slide is then built from it on its own
(:func:`slide`), so that a page showing one slide reads only that slide's figures.
:func:`build` makes them all.

Every number is read under the observer view (``metrics.OBSERVER``): aggregates only, partners
that have not consented to be named are never named, a group built from too few of them is
merged into "Other", and a figure that still breaks the rule is withheld — drawn as missing and
named in the footnote. Pure: no Streamlit here; the language is the caller's
(:func:`coalition.i18n.set_language`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import duckdb
import pandas as pd
import plotly.graph_objects as go

import metrics
from coalition import charts, store, theme
from coalition import charts_regions as cr
from coalition import charts_species as cs
from coalition.i18n import N_, format_count, format_date, format_percent, species_name, t
from metrics import OBSERVER, Filters, Target, access
from metrics.filters import month_bounds, quarter_of, quarter_range
from metrics.reduction import in_range

SLIDE_KEYS = ("headline", "trend", "sectors", "platform_kinds", "species", "map", "coverage")

# Chart size on a slide, in CSS pixels (PNG exports are rendered at twice this): the picture
# box of a 16:9 slide in coalition.deck has the same proportions.
CHART_WIDTH = 1200
CHART_HEIGHT = 440
# Type on the slide charts: read from the back of a meeting room, not from a laptop.
CHART_FONT_SIZE = 18

SECTOR_LABELS = {
    "e-commerce": N_("E-commerce"),
    "social-media": N_("Social media"),
    "search": N_("Search"),
    "other": N_("Other sectors"),
}
KIND_LABELS = {
    "marketplace": N_("Marketplaces"),
    "second-hand": N_("Second-hand apps"),
    "social": N_("Social networks"),
    "messaging": N_("Messaging apps"),
    "search": N_("Search engines"),
    "other": N_("Other platforms"),
}


@dataclass(frozen=True)
class Slide:
    """One slide: ``message`` is the sentence in large type and contains ``number``, the
    headline figure as text ('46.9%'), or '—' when there is none."""

    key: str
    title: str
    message: str
    number: str
    figure: go.Figure
    footnote: str
    alt: str


@dataclass(frozen=True)
class Presentation:
    """The slides, as of the end of ``period_to`` (None: the latest data)."""

    period_to: str | None
    as_of: dt.date | None
    current_period: str | None
    reduction: float | None
    status: str
    target: Target
    synthetic: bool
    slides: list[Slide]


@dataclass(frozen=True)
class Context:
    """What every slide needs, read once per period: the observer filters and the target, the
    as-of date and quarters, how many partners reported, whether the data are the synthetic
    demo, and the coalition headline — its row of ``metrics.progress`` (``head``; blanked when
    ``head_withheld``) and its whole-history reduction series (``series``), from which the
    headline and the trend slides are drawn."""

    period_to: str | None
    filters: Filters
    target: Target
    as_of: dt.date | None
    first_quarter: str | None
    last_quarter: str | None
    partners: int
    synthetic: bool
    head: pd.Series
    head_withheld: bool
    series: pd.DataFrame


# --- Helpers ---------------------------------------------------------------------------------


def observer_filters(period_to: str | None = None) -> Filters:
    """The filter of every figure in the presentation: the observer view, up to ``period_to``."""
    return Filters(period_to=period_to, viewer=OBSERVER)


def period_choices(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The quarters with data, oldest first: the choices of the period chooser."""
    months = store.data_months(cur)
    if not months:
        return []
    first, last = (quarter_of(month_bounds(m)[0]) for m in months)
    return quarter_range(first, last)


def withheld_mask(frame: pd.DataFrame) -> pd.Series:
    """Which rows of a metrics frame are withheld under the observer rule (all False for a
    frame from before the rule, which has no ``withheld`` column)."""
    column = frame.get("withheld")
    if column is None:
        return pd.Series(False, index=frame.index)
    return column.fillna(False).astype(bool)


def _number(value: object) -> float | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return float(value)


def _group_label(group: str, labels: Mapping[str, str]) -> str:
    if group == access.OTHER and group not in labels:
        return t("Other (partners not named)")
    return labels.get(group, group)


def _labels(frame: pd.DataFrame, labels: Mapping[str, str]) -> dict[str, str]:
    """A label per group of ``frame``; a withheld group says so on the axis."""
    withheld = dict(zip(frame["group"], withheld_mask(frame), strict=True))
    out = {}
    for group in frame["group"]:
        label = _group_label(group, labels)
        out[group] = t("{label} (withheld)", label=label) if withheld[group] else label
    return out


def _withheld_names(frame: pd.DataFrame, labels: Mapping[str, str]) -> list[str]:
    return [_group_label(g, labels) for g in frame.loc[withheld_mask(frame), "group"]]


def slide_style(fig: go.Figure, height: int = CHART_HEIGHT + 80) -> go.Figure:
    """A page figure made for a projector: larger type, a fixed height."""
    fig.update_layout(
        font={"size": CHART_FONT_SIZE},
        legend={"font": {"size": CHART_FONT_SIZE - 2}},
        height=height,
    )
    return fig


# --- Footnotes -------------------------------------------------------------------------------


def _as_of_text(ctx: Context) -> str:
    if ctx.as_of is None:
        return t("No data up to the chosen period.")
    return t(
        "As of {date} ({quarter}); {n} partner reported data up to then.",
        plural="As of {date} ({quarter}); {n} partners reported data up to then.",
        n=ctx.partners,
        date=format_date(ctx.as_of),
        quarter=ctx.last_quarter or "—",
    )


def footnote(ctx: Context, counts: str, withheld: list[str] = (), extra: str = "") -> str:
    """What a figure counts, for which period, from how many partners, and what it leaves
    out: data not yet accepted, figures withheld, partners not named."""
    parts = [counts, extra, _as_of_text(ctx)]
    parts.append(
        t(
            "Accepted data only: submissions not yet accepted are excluded. Partners that have "
            "not consented are not named; groups of fewer than 3 of them are merged into "
            '"Other".'
        )
    )
    if withheld:
        parts.append(
            t(
                "Withheld, too few partners (shown as missing): {names}.",
                names=", ".join(withheld),
            )
        )
    if ctx.synthetic:
        parts.append(t("Synthetic demo data — not real coalition figures."))
    return " ".join(p.strip() for p in parts if p and p.strip())


# --- Figures ---------------------------------------------------------------------------------


def headline_figure(head: pd.Series, target: Target) -> go.Figure:
    """The headline as bars: the reduction of the detection rate as of the end of the range (in
    the colour of its status) and the trend's projection at the deadline with its 95% band,
    against the target as a dotted line."""
    reduction = _number(head.get("reduction"))
    projected = _number(head.get("projected_reduction_at_deadline"))
    if reduction is None and projected is None:
        return charts._empty(t("Not enough data to measure a reduction"))
    style = theme.status_style(head.get("status") or "insufficient_data")
    rows = [
        (
            t("Reduction as of {date}", date=format_date(head.get("as_of"))),
            reduction,
            style.colour,
            None,
        ),
    ]
    if projected is not None:
        low = _number(head.get("projected_reduction_low"))
        high = _number(head.get("projected_reduction_high"))
        band = (projected - low, high - projected) if low is not None and high else None
        rows.append(
            (
                t("Projected at the deadline ({date})", date=format_date(target.deadline)),
                projected,
                theme.TREND,
                band,
            )
        )
    fig = go.Figure()
    for label, value, colour, band in rows:
        fig.add_trace(
            go.Bar(
                x=[value or 0.0],
                y=[label],
                orientation="h",
                name=label,
                showlegend=False,
                marker={"color": colour, "line": {"color": theme.TEXT, "width": 0.5}},
                text=[format_percent(value)],
                # inside the bar at its base, so that the band's whisker at its end never covers it
                textposition="inside",
                insidetextanchor="start",
                textfont={"size": CHART_FONT_SIZE + 8, "color": theme.BLACK},
                error_x=(
                    {
                        "type": "data",
                        "symmetric": False,
                        "array": [band[1]],
                        "arrayminus": [band[0]],
                        "color": theme.TEXT,
                        "thickness": 2,
                        "width": 8,
                    }
                    if band
                    else None
                ),  # fmt: skip
                hovertemplate=f"{label}: {format_percent(value)}<extra></extra>",
            )
        )
    fig.add_vline(
        x=target.reduction,
        line={"color": theme.TARGET, "dash": "dot", "width": 3},
        annotation={
            "text": t("Target: {value}", value=format_percent(target.reduction, 0)),
            "yanchor": "bottom",
        },
        annotation_position="top",
    )
    labels = [row[0] for row in rows]
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=labels[::-1], title={"text": ""}
    )
    fig.update_xaxes(
        title={"text": t("Reduction of the detection rate vs baseline")},
        tickformat=".0%",
        range=[min(0.0, reduction or 0.0) - 0.02, 1.05],
    )
    fig.update_layout(bargap=0.45, margin={"t": 50})
    return slide_style(theme.apply(fig))


# --- The slides ------------------------------------------------------------------------------


def _headline(cur, ctx: Context) -> Slide:
    head = ctx.head
    reduction = _number(head.get("reduction"))
    status = head.get("status") or "insufficient_data"
    if reduction is None:
        number = format_percent(None)
        message = t(
            "Not enough matched data to measure a reduction as of {date}.",
            date=format_date(ctx.as_of),
        )
    else:
        number = format_percent(reduction)
        message = t(
            "Illegal wildlife listings found online are down {value} against the baseline: "
            "{progress} of the way to the {target} target.",
            value=number,
            progress=format_percent(_number(head.get("progress")), 0),
            target=format_percent(ctx.target.reduction, 0),
        )
    withheld = [t("the coalition headline")] if ctx.head_withheld else []
    return Slide(
        key="headline",
        title=t("Progress to the target: {status}", status=theme.status_label(status)),
        message=message,
        number=number,
        figure=headline_figure(head, ctx.target),
        footnote=footnote(
            ctx,
            t(
                "Reduction of the detection rate (listings found per monitoring search) against "
                "each platform's baseline, over the platforms with data in both. {panel}. Target: "
                "{target} by {deadline} ({name}).",
                panel=charts.panel_text(head.get("platforms_in_panel"), head.get("coverage_share")),
                target=format_percent(ctx.target.reduction, 0),
                deadline=format_date(ctx.target.deadline),
                name=ctx.target.name,
            ),
            withheld,
        ),
        alt=t("Reduction against the target, now and projected at the deadline"),
    )


def _trend(cur, ctx: Context) -> Slide:
    head = ctx.head
    # the headline's series: the reduction is not read again
    series = in_range(ctx.series, ctx.filters)
    path = metrics.projection(cur, ctx.filters, target=ctx.target, series=ctx.series)
    series = series[series["group"] == metrics.filters.ALL]
    path = path[path["group"] == metrics.filters.ALL]
    withheld = withheld_mask(series)
    table = charts.index_table(series, path, ctx.target)
    figure = slide_style(charts.detection_index_figure(table, ctx.target))
    projected = _number(head.get("projected_reduction_at_deadline"))
    rate_index = _number(head.get("rate_index"))
    if projected is not None:
        number = format_percent(projected)
        message = t(
            "On its trend, the detection rate is {value} below the baseline at the deadline "
            "({deadline}), against a target of {target}.",
            value=number,
            deadline=format_date(ctx.target.deadline),
            target=format_percent(ctx.target.reduction, 0),
        )
    elif rate_index is not None:
        number = f"{100 * rate_index:,.0f}"
        message = t(
            "The detection rate stands at {value} (baseline = 100); too few quarters for a trend.",
            value=number,
        )
    else:
        number = format_percent(None)
        message = t("No detection figures to draw a trend from.")
    return Slide(
        key="trend",
        title=t("Detection rate against the baseline"),
        message=message,
        number=number,
        figure=figure,
        footnote=footnote(
            ctx,
            t(
                "Index of the detection rate (listings found per monitoring search), baseline "
                "= 100, over the matched panel, by quarter; log-linear trend with its 95% band. "
                "Open circles: quarters whose panel covers less than half of the baseline "
                "volume, not used for the trend."
            ),
            list(series.loc[withheld, "period"].astype(str)),
        ),
        alt=t("Detection-rate index by quarter with the fitted trend, projection and target line"),
    )


def _ranking(
    ctx: Context,
    progress: pd.DataFrame,
    labels: Mapping[str, str],
    *,
    key: str,
    title: str,
    category: str,
    counts: str,
    message: str,
    alt: str,
    count_reached: bool = False,
) -> Slide:
    """A slide of reductions per group (sectors, platform kinds, species groups). ``message``
    is a msgid with ``{number}`` (the headline: the largest reduction, or with
    ``count_reached`` how many groups reached the target), ``{label}``, ``{value}`` (the group
    with the largest reduction and its reduction) and ``{target}``."""
    names = _labels(progress, labels)
    table = cs.reduction_table(progress, names)
    figure = slide_style(cs.reduction_figure(table, ctx.target, category_title=category))
    # every group named: smaller type on the axis when there are many of them
    rows = max(len(table), 1)
    figure.update_yaxes(
        tickfont={"size": min(CHART_FONT_SIZE, max(10, int(0.7 * (CHART_HEIGHT - 120) / rows)))}
    )
    measured = table.dropna(subset=["reduction"])
    withheld = _withheld_names(progress, labels)
    if measured.empty:
        number = format_percent(None)
        text = t("No group has a measurable reduction as of {date}.", date=format_date(ctx.as_of))
    else:
        best = measured.iloc[0]
        reached = int((measured["reduction"] >= ctx.target.reduction).sum())
        value = format_percent(best.reduction)
        number = t("{n} of {m}", n=reached, m=len(measured)) if count_reached else value
        text = t(
            message,
            number=number,
            label=best.label,
            value=value,
            target=format_percent(ctx.target.reduction, 0),
        )
    return Slide(
        key=key,
        title=title,
        message=text,
        number=number,
        figure=figure,
        footnote=footnote(ctx, counts, withheld),
        alt=alt,
    )


REDUCTION_COUNTS = N_(
    "Reduction of the detection rate against the baseline as of the end of the period, over "
    "the matched panel of each {what}; dotted line: the target."
)


def _sectors(cur, ctx: Context) -> Slide:
    progress = metrics.progress(cur, ctx.filters, by="sector", target=ctx.target)
    return _ranking(
        ctx,
        progress,
        {k: t(v) for k, v in SECTOR_LABELS.items()},
        key="sectors",
        title=t("Progress by sector"),
        category=t("Sector"),
        counts=t(REDUCTION_COUNTS, what=t("sector")),
        message=N_("The largest reduction is in {label}: {number} below the baseline."),
        alt=t("Reduction of the detection rate by sector, with the target"),
    )


def progress_by_kind(cur, filters: Filters, target: Target) -> pd.DataFrame:
    """``metrics.progress`` per platform kind (marketplaces, social networks, …), one row per
    kind with data, ``group`` the kind. Each figure is read under ``filters.viewer``."""
    if "platform_kind" in metrics.BREAKDOWNS:  # when metrics offers the breakdown itself
        return metrics.progress(cur, filters, by="platform_kind", target=target)
    platforms = store.platforms(cur)
    frames = []
    for kind, part in platforms.groupby("kind", sort=True):
        scoped = replace(filters, platforms=tuple(sorted(part["name"])))
        row = metrics.progress(cur, scoped, target=target)
        has_data = row["reduction"].notna().any() or row["cumulative_actions"].fillna(0).any()
        if row.empty or not (has_data or withheld_mask(row).any()):
            continue
        frames.append(row.assign(group=kind))
    if not frames:
        return metrics.progress(cur, filters, by="sector", target=target).iloc[0:0]
    return pd.concat(frames, ignore_index=True)


def _platform_kinds(cur, ctx: Context) -> Slide:
    progress = progress_by_kind(cur, ctx.filters, ctx.target)
    return _ranking(
        ctx,
        progress,
        {k: t(v) for k, v in KIND_LABELS.items()},
        key="platform_kinds",
        title=t("Progress by type of platform"),
        category=t("Type of platform"),
        counts=t(REDUCTION_COUNTS, what=t("type of platform")),
        message=N_("{label} show the largest reduction: {number} below the baseline."),
        alt=t("Reduction of the detection rate by type of platform, with the target"),
    )


def _species(cur, ctx: Context) -> Slide:
    progress = metrics.progress(cur, ctx.filters, by="species_group", target=ctx.target)
    groups = store.species_groups(cur)
    named = groups.assign(name=[species_name(row) for row in groups.to_dict("records")])
    reference = cs.species_reference(named, "name")
    return _ranking(
        ctx,
        progress,
        dict(zip(reference["group"], reference["label"], strict=True)),
        key="species",
        title=t("Progress by species group"),
        category=t("Species group"),
        counts=t(REDUCTION_COUNTS, what=t("species group")),
        message=N_(
            "{number} species groups have reached the {target} target; the largest reduction "
            "is for {label}: {value}."
        ),
        alt=t("Reduction of the detection rate by species group, with the target"),
        count_reached=True,
    )


def _world_map(cur, ctx: Context) -> Slide:
    actions = metrics.actions(cur, ctx.filters, by="country", grain=None)
    detection = metrics.detection_rate(cur, ctx.filters, by="country", grain=None)
    countries = store.countries(cur)
    withheld_rows = actions[withheld_mask(actions)]
    table = cr.breakdown_table("country", actions, detection, countries=countries)
    figure = cr.world_map_figure(table, "actions", countries)
    slide_style(figure)
    names = cr.country_names(countries)
    withheld = [names.get(g, g) for g in withheld_rows["group"]]
    places = table[(table["iso3"] != "") & table["actions"].gt(0)]
    if places.empty:
        number = "0"
        message = t("No actions with a country as of {date}.", date=format_date(ctx.as_of))
    else:
        top = places.iloc[0]
        number = format_count(len(places))
        message = t(
            "Partners acted on listings offered in {n} countries and territories; the most in "
            "{country} ({share} of all actions).",
            n=number,
            country=top.country,
            share=format_percent(top.actions_share),
        )
    return Slide(
        key="map",
        title=t("Where listings were removed or blocked"),
        message=message,
        number=number,
        figure=figure,
        footnote=footnote(
            ctx,
            t(
                "Actions (listings removed + blocked) by the country where the listing was "
                "offered, from the first record to the end of the period; log colour scale; "
                "grey: no figures."
            ),
            withheld,
            extra=cr.off_map_text(table, "actions"),
        ),
        alt=t("World map of actions by country"),
    )


def _coverage(cur, ctx: Context) -> Slide:
    coverage = metrics.reporting_coverage(cur, ctx.filters)
    figure = slide_style(charts.coverage_figure(coverage))
    withheld = list(coverage.loc[withheld_mask(coverage), "period"].astype(str))
    shown = coverage[~withheld_mask(coverage)]
    if shown.empty:
        number = format_percent(None)
        message = t("No reporting up to the chosen period.")
    else:
        latest = shown.iloc[-1]
        reporting = format_count(latest.partners_reporting)
        expected = latest.partners_expected
        number = (
            reporting
            if pd.isna(expected)
            else t(
                "{reporting} of {expected}", reporting=reporting, expected=format_count(expected)
            )
        )
        message = t(
            "{number} member partners reported figures for {period}; {late} of them late.",
            number=number,
            period=latest.period,
            late=format_count(latest.partners_late),
        )
    return Slide(
        key="coverage",
        title=t("Who reported"),
        message=message,
        number=number,
        figure=figure,
        footnote=footnote(
            ctx,
            t(
                "Partners that reported for each quarter on time or late (more than the due "
                "time after the quarter's end), and members that did not report."
            ),
            withheld,
        ),
        alt=t("Partners reporting on time, late and missing per quarter"),
    )


SLIDES: dict[str, Callable[[duckdb.DuckDBPyConnection, Context], Slide]] = {
    "headline": _headline,
    "trend": _trend,
    "sectors": _sectors,
    "platform_kinds": _platform_kinds,
    "species": _species,
    "map": _world_map,
    "coverage": _coverage,
}


def context(
    cur: duckdb.DuckDBPyConnection,
    period_to: str | None = None,
    *,
    target: Target | None = None,
) -> Context:
    """What every slide as of the end of ``period_to`` ('2020-Q4' or '2020-12'; None: the
    latest data) needs, in the observer view; ``target``: the default target unless given."""
    filters = observer_filters(period_to)
    target = target or metrics.default_target(cur)
    # read once, shared by the headline (progress) and the trend slide
    series = metrics.reduction_series(cur, filters, whole_history=True)
    totals = metrics.actions(cur, filters, grain=None)
    head_frame = metrics.progress(cur, filters, target=target, series=series, totals=totals)
    head = head_frame.iloc[0]
    choices = period_choices(cur)
    as_of = head.get("as_of")
    if as_of is None or pd.isna(as_of):
        as_of = filters.to_date or (month_bounds(choices[-1])[1] if choices else None)
    partners = int(totals["partners_reporting"].fillna(0).max()) if not totals.empty else 0
    return Context(
        period_to=period_to,
        filters=filters,
        target=target,
        as_of=as_of,
        first_quarter=choices[0] if choices else None,
        last_quarter=quarter_of(as_of) if as_of else None,
        partners=partners,
        synthetic=store.is_synthetic(cur),
        head=head,
        head_withheld=bool(withheld_mask(head_frame).iloc[0]),
        series=series,
    )


def slide(cur: duckdb.DuckDBPyConnection, ctx: Context, key: str) -> Slide:
    """The slide ``key`` (one of :data:`SLIDE_KEYS`) of the presentation ``ctx`` describes;
    reads only the figures that slide shows. Raises ValueError for an unknown key."""
    builder = SLIDES.get(key)
    if builder is None:
        raise ValueError(f"Unknown slide {key!r}: use one of {', '.join(SLIDE_KEYS)}.")
    return builder(cur, ctx)


def build(
    cur: duckdb.DuckDBPyConnection,
    period_to: str | None = None,
    *,
    target: Target | None = None,
) -> Presentation:
    """Every slide as of the end of ``period_to`` ('2020-Q4' or '2020-12'; None: the latest
    data), every figure in the observer view."""
    ctx = context(cur, period_to, target=target)
    head = ctx.head
    return Presentation(
        period_to=period_to,
        as_of=ctx.as_of,
        current_period=head.get("current_period"),
        reduction=_number(head.get("reduction")),
        status=head.get("status") or "insufficient_data",
        target=ctx.target,
        synthetic=ctx.synthetic,
        slides=[slide(cur, ctx, key) for key in SLIDE_KEYS],
    )
