"""The filter every indicator takes, and the SQL plumbing they share.

Indicator SQL is static text in ``metrics/sql``; a filter becomes named parameters, never text
pasted into a query. A filter left empty (``()`` or ``None``) means "everything".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from metrics import rollups
from metrics.access import MIN_PARTNERS, SECRETARIAT, Viewer, withhold

SQL_DIR = Path(__file__).resolve().parent / "sql"
BREAKDOWNS = (
    "platform",
    "platform_kind",
    "species_group",
    "region",
    "subregion",
    "country",
    "partner",
    "sector",
    # species group × region as one group, "elephants|Asia": a cross table under the viewer
    # rule in one query (a cell resting on one or two protected partners is merged or withheld)
    "species_region",
)
# how species_region joins its two parts
GROUP_SEPARATOR = "|"
GRAINS = ("month", "quarter", "year")
ALL = "All"

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def month_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First and last day of a month ('2019-07') or quarter ('2019-Q3')."""
    if m := _MONTH.match(label):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{label!r} is not a month: use YYYY-MM, e.g. 2019-07.")
        first = dt.date(year, month, 1)
        last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
        return first, last
    if q := _QUARTER.match(label):
        year, quarter = int(q[1]), int(q[2])
        first = dt.date(year, 3 * quarter - 2, 1)
        last = (pd.Timestamp(first) + pd.offsets.MonthEnd(3)).date()
        return first, last
    raise ValueError(f"{label!r} is not a period: use YYYY-MM (2019-07) or YYYY-Qn (2019-Q3).")


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def next_quarter(quarter: str) -> str:
    """'2019-Q4' → '2020-Q1'."""
    year, q = int(quarter[:4]), int(quarter[-1])
    return f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"


def quarter_range(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last`` inclusive: '2019-Q3', '2019-Q4', '2020-Q1', …"""
    out = []
    while first <= last:
        out.append(first)
        first = next_quarter(first)
    return out


@dataclass(frozen=True)
class Filters:
    """Which records an indicator looks at.

    ``period_from`` and ``period_to`` are months ('2019-07') or quarters ('2019-Q3'); every
    figure is computed as of the end of ``period_to``, and ``period_from`` only limits which
    periods are listed (baselines and cumulative totals still use earlier data).
    """

    period_from: str | None = None
    period_to: str | None = None
    partners: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    species_groups: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    include_submitted: bool = False
    viewer: Viewer = SECRETARIAT

    @property
    def from_date(self) -> dt.date | None:
        return month_bounds(self.period_from)[0] if self.period_from else None

    @property
    def to_date(self) -> dt.date | None:
        return month_bounds(self.period_to)[1] if self.period_to else None

    def params(self, by: str | None = None, grain: str | None = "quarter") -> dict[str, Any]:
        """The named parameters that the SQL in ``metrics/sql`` expects."""
        if by is not None and by not in BREAKDOWNS:
            raise ValueError(f"Cannot break down by {by!r}: use one of {', '.join(BREAKDOWNS)}.")
        if grain is not None and grain not in GRAINS:
            raise ValueError(f"Unknown grain {grain!r}: use one of {', '.join(GRAINS)}.")
        from_date, to_date = self.from_date, self.to_date

        def listed(values: tuple[str, ...]) -> list[str] | None:
            return list(values) if values else None

        return {
            "by": by or "",
            "grain": grain or "total",
            # only accepted data feed what a partner or an observer sees
            "include_submitted": self.include_submitted and self.viewer.sees_everything,
            "viewer_role": self.viewer.role,
            "viewer_partner": self.viewer.partner,
            "min_partners": MIN_PARTNERS,
            "partners": listed(self.partners),
            "platforms": listed(self.platforms),
            "species": listed(self.species_groups),
            "regions": listed(self.regions),
            "countries": listed(self.countries),
            "sectors": listed(self.sectors),
            "from_date": from_date,
            "to_date": to_date,
            "from_bucket": _bucket(from_date, grain) if from_date else None,
            "to_quarter": quarter_of(to_date) if to_date else None,
        }


def _bucket(day: dt.date, grain: str | None) -> str | None:
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if grain == "quarter":
        return quarter_of(day)
    if grain == "year":
        return str(day.year)
    return None


@cache
def sql(name: str) -> str:
    """The text of ``metrics/sql/NAME.sql``, with the line ``--@scope`` replaced by the shared
    CTE that applies a :class:`Filters` (``scope.sql``)."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    scope = (SQL_DIR / "scope.sql").read_text(encoding="utf-8")
    return text.replace("--@scope", scope)


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run a named indicator query; only the parameters that it uses are passed.

    When the database's pre-aggregated tables are up to date (``metrics.rollups``), the query
    reads the smallest one that keeps what it needs instead of ``facts``: same figures, less
    to read.
    """
    text = sql(name)
    used = {k: v for k, v in params.items() if f"${k}" in text}
    if rollups.fresh(con):
        text = rollups.rewrite(text, rollups.table_for(params, name))
    return withhold(con.execute(text, used).df())
