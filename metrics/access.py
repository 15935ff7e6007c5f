"""Who is looking: the viewer that every read of counts is made for.

* **secretariat** sees everything.
* **partner** (a partner company's account) sees its own rows in full, and figures about other
  partners only as aggregates that satisfy the rule below.
* **observer** (the public, the press, CITES meetings) sees aggregates only, under the rule.

The rule: a figure that includes partners who have not consented to be named (other than the
viewer's own company) must be built from at least ``MIN_PARTNERS`` (3) such partners. A
breakdown group that would break it is merged into "Other"; a figure that still breaks it is
withheld, and the pages say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

ROLES = ("secretariat", "partner", "observer")
MIN_PARTNERS = 3
OTHER = "Others (merged)"

Role = Literal["secretariat", "partner", "observer"]


@dataclass(frozen=True)
class Viewer:
    """A role, and for a partner account the partner's slug."""

    role: Role = "secretariat"
    partner: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}: use one of {', '.join(ROLES)}.")
        if (self.role == "partner") != (self.partner is not None):
            raise ValueError("A partner viewer needs a partner slug, and only a partner viewer.")

    @classmethod
    def parse(cls, text: str) -> Viewer:
        """'secretariat', 'observer' or 'partner:SLUG' (as the CLI's ``--viewer`` takes)."""
        role, _, partner = text.strip().partition(":")
        if role == "partner":
            if not partner:
                raise ValueError("Write a partner viewer as partner:SLUG, e.g. partner:acme.")
            return cls("partner", partner)
        if partner:
            raise ValueError(f"Only a partner viewer takes a slug; got {text!r}.")
        return cls(role)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"partner:{self.partner}" if self.role == "partner" else self.role

    @property
    def sees_everything(self) -> bool:
        return self.role == "secretariat"


SECRETARIAT = Viewer("secretariat")
OBSERVER = Viewer("observer")


KEY_COLUMNS = ("group", "period")


def withhold(frame: pd.DataFrame) -> pd.DataFrame:
    """Blank the figures of every row built from 1 or 2 protected partners.

    The indicator SQL counts, per row, the distinct partners protected from the viewer whose
    data the row's figures use (``protected_partners``). A row with none of them, or with
    ``MIN_PARTNERS`` or more, is shown; any other row keeps its group and period but loses its
    figures, and ``withheld`` says so. The count itself is dropped.
    """
    if "protected_partners" not in frame.columns:
        return frame
    counts = frame.pop("protected_partners").fillna(0)
    withheld = (counts > 0) & (counts < MIN_PARTNERS)
    if withheld.any():
        for column in frame.columns:
            if column not in KEY_COLUMNS:
                frame[column] = frame[column].mask(withheld)
    frame["withheld"] = withheld.to_numpy(dtype=bool)
    return frame
