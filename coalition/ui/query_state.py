"""The filter bar's choices as one value, and how they travel in the page address.

Pure: no Streamlit here, so that reading a link (any text a user may paste) is tested on its
own. The parameter names and what they accept are listed in :mod:`coalition.ui.filter_bar`.

:func:`from_query` reads the choices from query parameters and never raises: a value the data
does not offer (an unknown slug, a quarter outside the data, a range that ends before it
starts, garbage) is left out and returned in the list of ignored items, so the page can say so.
:func:`to_query` writes them back, leaving out whatever is the default (all quarters, nothing
chosen, the default target), so an unfiltered view has a clean address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from coalition.normalise import ParseError, parse_period

# field of FilterState → its query parameter
PARAMS = {
    "period_from": "from",
    "period_to": "to",
    "sectors": "sector",
    "partners": "partner",
    "platforms": "platform",
    "species": "species",
    "regions": "region",
    "target": "target",
}
LISTS = ("sectors", "partners", "platforms", "species", "regions")


@dataclass(frozen=True)
class Choices:
    """What the filter bar offers, each in its canonical spelling; ``targets`` by name, the
    default first."""

    quarters: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    species: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilterState:
    """The filter bar's choices. ``None`` at an end of the period range means "open" (the data's
    first or last quarter); an empty tuple means "all"; ``target`` None means the default
    target (the first of :attr:`Choices.targets`)."""

    period_from: str | None = None
    period_to: str | None = None
    sectors: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    species: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    target: str | None = None

    def within(self, choices: Choices) -> FilterState:
        """The same choices less what ``choices`` does not offer (the data changed since)."""
        return _checked(self, choices, ignored=[])


def from_query(
    params: Mapping[str, Sequence[str]], choices: Choices
) -> tuple[FilterState, list[str]]:
    """The choices a link names, and the ``name=value`` items that were left out.

    ``params`` maps a parameter name to all its values (repeated keys), as
    ``st.query_params.get_all`` gives them; names that are not the filter bar's are not read.
    """
    ignored: list[str] = []
    raw: dict[str, object] = {}
    for field, name in PARAMS.items():
        values = [v for v in params.get(name, ()) if isinstance(v, str) and v.strip()]
        if field in LISTS:
            raw[field] = tuple(_split(name, values, getattr(choices, field), ignored))
        elif values:
            # the last value the data offers counts, as a browser would let it override
            found = [_one(field, value, choices) for value in values]
            used = max((i for i, f in enumerate(found) if f is not None), default=None)
            ignored.extend(f"{name}={v}" for i, v in enumerate(values) if i != used)
            raw[field] = found[used] if used is not None else None
    state = FilterState(**raw)  # type: ignore[arg-type]
    return _checked(state, choices, ignored), ignored


def to_query(state: FilterState, choices: Choices) -> dict[str, list[str]]:
    """The filter bar's parameters for ``state``: every one of them, empty where it is the
    default (so that the caller removes it from the address)."""
    state = state.within(choices)
    query: dict[str, list[str]] = {}
    for field, name in PARAMS.items():
        value = getattr(state, field)
        query[name] = list(value) if field in LISTS else [value] if value else []
    return query


def _split(name: str, values: Iterable[str], options: Sequence[str], ignored: list[str]):
    """Each value that names an option; a value that does not may be a comma-separated list."""
    by_fold = {option.casefold(): option for option in options}
    for value in values:
        if (found := by_fold.get(value.strip().casefold())) is not None:
            yield found
            continue
        for part in value.split(","):
            if not part.strip():
                continue
            if (found := by_fold.get(part.strip().casefold())) is not None:
                yield found
            else:
                ignored.append(f"{name}={part.strip()}")


def _one(field: str, value: str, choices: Choices) -> str | None:
    """The quarter or target that ``value`` names, in its canonical spelling, or None."""
    if field == "target":
        options, text = choices.targets, value.strip()
    else:
        options, text = choices.quarters, _quarter(value)
    if text is None:
        return None
    return next((o for o in options if o.casefold() == text.casefold()), None)


def _quarter(value: str) -> str | None:
    """'2019-Q1', also as the templates accept it ('2019Q1', 'Q1 2019'); a month is not a
    quarter (to=2019-07 would silently mean the end of September)."""
    try:
        period = parse_period(value)
    except ParseError:
        return None
    return period if "Q" in period else None


def _checked(state: FilterState, choices: Choices, ignored: list[str]) -> FilterState:
    """``state`` less what ``choices`` does not offer, its lists deduplicated and sorted (equal
    choices, equal filters: one cache entry), and its period ends at the data's ends opened."""
    values: dict[str, object] = {}
    for field in LISTS:
        offered = set(getattr(choices, field))
        values[field] = tuple(sorted({v for v in getattr(state, field) if v in offered}))
    quarters = choices.quarters
    start, end = state.period_from, state.period_to
    start = start if start in quarters else None
    end = end if end in quarters else None
    if start and end and quarters.index(start) > quarters.index(end):
        ignored.extend([f"{PARAMS['period_from']}={start}", f"{PARAMS['period_to']}={end}"])
        start = end = None
    # the data's own ends are no restriction at all, as on the command line without --from/--to
    values["period_from"] = None if len(quarters) < 2 or start == quarters[0] else start
    values["period_to"] = None if len(quarters) < 2 or end == quarters[-1] else end
    values["target"] = state.target if state.target in choices.targets[1:] else None
    return FilterState(**values)  # type: ignore[arg-type]
