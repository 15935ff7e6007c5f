"""Accounts, passwords and sign-in (being built; see issue #5).

:class:`User` is the signed-in account that the app keeps in the session; its :attr:`viewer`
is what every read of counts is made for.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics.access import Role, Viewer


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    partner: str | None = None

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.role, self.partner if self.role == "partner" else None)
