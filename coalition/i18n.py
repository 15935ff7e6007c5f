"""Every text a user reads goes through :func:`t`.

Translations are GNU gettext catalogues, domain ``messages``, in ``locales/<code>/LC_MESSAGES/``.
The English text is the message id itself, so English needs no catalogue and a missing
translation falls back to English. A message id is a :meth:`str.format` template:
``t("Partners reporting in {period}", period="2020-Q4")``.

The language is per thread (a Streamlit session runs its script in its own thread), so the app
calls :func:`set_language` at the start of every run; the command line keeps the default.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext
from functools import cache
from pathlib import Path

import pandas as pd

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LANGUAGE = "en"

_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "language", default=DEFAULT_LANGUAGE
)


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[language], fallback=True)


def set_language(code: str) -> None:
    """Use ``code`` (``"en"``, ``"zh_CN"``, …) for the texts of this thread from now on."""
    _language.set(code or DEFAULT_LANGUAGE)


def get_language() -> str:
    return _language.get()


def t(msgid: str, /, *, plural: str | None = None, n: int | None = None, **kwargs: object) -> str:
    """The text ``msgid`` in the current language, formatted with ``kwargs`` (and ``n``).

    With ``plural``, the singular or the plural form for the number ``n``:
    ``t("{n} platform", plural="{n} platforms", n=3)``.
    """
    catalogue = _catalogue(get_language())
    if n is not None:
        kwargs["n"] = n
    if plural is not None:
        if n is None:
            raise TypeError("t(..., plural=...) needs the number n")
        return catalogue.ngettext(msgid, plural, n).format(**kwargs)
    return catalogue.gettext(msgid).format(**kwargs)


def N_(msgid: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    """Mark a text for translation where it is defined; :func:`t` translates it where shown."""
    return msgid


# --- Numbers and dates as a reader sees them ------------------------------------------------

MISSING = "—"


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def format_percent(value: float | None, digits: int = 1) -> str:
    """0.3965 → '39.6%'; missing → '—'."""
    return MISSING if _missing(value) else f"{value:.{digits}%}"


def format_count(value: float | None) -> str:
    """1234567 → '1,234,567'; missing → '—'."""
    return MISSING if _missing(value) else f"{value:,.0f}"


def format_date(value: dt.date | None) -> str:
    """An ISO date (2020-12-31): the same in every language of the coalition."""
    return MISSING if _missing(value) else value.isoformat()[:10]
