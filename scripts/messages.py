"""Keep the translation catalogues in step with the code.

    .venv/bin/python scripts/messages.py update          # extract + merge + compile (the usual)
    .venv/bin/python scripts/messages.py extract         # code → locales/messages.pot
    .venv/bin/python scripts/messages.py merge           # messages.pot → every messages.po
    (update and merge take --guess: prefill new texts from similar old ones, flagged fuzzy)
    .venv/bin/python scripts/messages.py compile         # every messages.po → messages.mo
    .venv/bin/python scripts/messages.py check           # what tests/test_i18n.py checks
    .venv/bin/python scripts/messages.py init LANG       # start a catalogue for a new language

After ``update``, translate the new entries (empty ``msgstr``; with ``--guess``, also those
flagged ``#, fuzzy``: check the guess, then delete the flag) in
``locales/<lang>/LC_MESSAGES/messages.po`` and run ``update`` (or ``compile``) again: the
compiled ``.mo`` files are committed, so a clean clone needs no build step. Every command
rewrites a file only when its content changes.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # babel.cfg names the extractor in coalition.i18n

from coalition import i18n  # noqa: E402

LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
MAPPING = ROOT / "babel.cfg"
PROJECT = "Coalition Progress Tracker"
VERSION = "1"
WIDTH = 100
POT_HEADER = """\
# Translation template for the Coalition Progress Tracker: every text of the interface,
# extracted from the code. Do not edit by hand: .venv/bin/python scripts/messages.py update"""


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def catalogue_languages() -> list[str]:
    """Every language with a ``messages.po``, sorted."""
    return sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po"))


def complete_languages() -> list[str]:
    """The languages whose catalogue must translate every message (not English, not partial)."""
    return [
        code
        for code in i18n.LANGUAGES
        if code != i18n.DEFAULT_LANGUAGE and code not in i18n.PARTIAL_LANGUAGES
    ]


# --- Reading and writing ---------------------------------------------------------------------


def extract() -> Catalog:
    """The messages in the code now, as a template catalogue."""
    with MAPPING.open(encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file)
    catalog = Catalog(
        project=PROJECT,
        version=VERSION,
        header_comment=POT_HEADER,
        msgid_bugs_address="the secretariat",
        charset="utf-8",
        fuzzy=False,
    )
    found = extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=parse_keywords(i18n.KEYWORDS),
        comment_tags=i18n.COMMENT_TAGS,
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        path = Path(filename).as_posix()
        catalog.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return catalog


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def render_po(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(
        out, catalog, width=WIDTH, sort_output=True, include_lineno=False, ignore_obsolete=False
    )
    return out.getvalue()


def render_mo(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.is_file() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    print(f"wrote {path.relative_to(ROOT)}")
    return True


def signature(catalog: Catalog) -> set[tuple[object, ...]]:
    """What a catalogue says about its messages, without dates and line numbers."""
    return {(m.id, m.context, tuple(sorted({f for f, _ in m.locations}))) for m in catalog if m.id}


def message_ids(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


# --- Commands --------------------------------------------------------------------------------


def cmd_extract() -> Catalog:
    """Write ``messages.pot`` from the code (only when the messages or their files changed)."""
    template = extract()
    if POT.is_file():
        old = read(POT)
        if signature(old) == signature(template):
            return old
    _write_if_changed(POT, render_po(template))
    return template


def cmd_merge(template: Catalog | None = None, *, guess: bool = False) -> None:
    """Bring every ``messages.po`` in step with ``messages.pot``: new messages are added
    untranslated, removed ones kept as obsolete (``#~``). With ``guess``, a new message similar
    to an old one gets the old translation flagged fuzzy (off by default: for short texts
    Babel's guesses are mostly wrong)."""
    template = template or read(POT)
    for language in catalogue_languages():
        catalog = read(po_path(language), locale=language)
        catalog.update(
            template,
            no_fuzzy_matching=not guess,
            update_header_comment=False,
            update_creation_date=False,
        )
        _write_if_changed(po_path(language), render_po(catalog))


def cmd_compile() -> None:
    """Compile every ``messages.po`` into its ``messages.mo`` (fuzzy entries left out)."""
    for language in catalogue_languages():
        _write_if_changed(mo_path(language), render_mo(read(po_path(language), language)))


def cmd_init(language: str) -> None:
    """Start ``locales/<language>/LC_MESSAGES/messages.po`` from the template."""
    path = po_path(language)
    if path.exists():
        raise SystemExit(f"{path.relative_to(ROOT)} exists already: use `update`.")
    template = read(POT)
    catalog = Catalog(locale=language, project=PROJECT, charset="utf-8", fuzzy=False)
    catalog.update(template)
    _write_if_changed(path, render_po(catalog))
    cmd_compile()


# --- Checks (tests/test_i18n.py runs these one by one) ---------------------------------------


def stale_template() -> list[str]:
    """Messages in the code but not in ``messages.pot``, and the other way round."""
    fresh, committed = message_ids(extract()), message_ids(read(POT))
    added = [f"in the code, not in messages.pot: {m!r}" for m in sorted(fresh - committed, key=str)]
    gone = [f"in messages.pot, not in the code: {m!r}" for m in sorted(committed - fresh, key=str)]
    return added + gone


def missing_entries(language: str) -> list[str]:
    """Messages of the template that the language's catalogue lacks."""
    catalog, template = read(po_path(language), language), read(POT)
    have = {m.id for m in catalog if m.id}
    return [f"{language}: no entry for {m.id!r}" for m in template if m.id and m.id not in have]


def untranslated(language: str) -> list[str]:
    """Template messages the language's catalogue leaves untranslated or fuzzy."""
    catalog, template = read(po_path(language), language), read(POT)
    problems = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id if isinstance(message.id, str) else message.id[0])
        strings = [] if entry is None else _strings(entry)
        if entry is None or not strings or not all(strings):
            problems.append(f"{language}: not translated: {message.id!r}")
        elif entry.fuzzy:
            problems.append(f"{language}: fuzzy (check it, then remove the flag): {message.id!r}")
    return problems


def placeholder_mismatches(language: str) -> list[str]:
    """Translations whose ``{fields}`` differ from their English text's."""
    catalog = read(po_path(language), language)
    problems = []
    for message in catalog:
        if not message.id or message.fuzzy:  # a fuzzy guess is not used, and flagged anyway
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        for index, string in enumerate(_strings(message)):
            if not string:
                continue
            # a language with one form (Chinese) uses the plural text's fields for it
            source = ids[0] if index == 0 and catalog.num_plurals > 1 else ids[-1]
            if i18n.placeholders(string) != i18n.placeholders(source):
                problems.append(
                    f"{language}: {string!r} has fields {i18n.placeholders(string)}, "
                    f"the English {source!r} has {i18n.placeholders(source)}"
                )
    return problems


def stale_compiled(language: str) -> list[str]:
    """The language's ``messages.mo`` is missing or not what its ``messages.po`` compiles to."""
    expected = render_mo(read(po_path(language), language))
    path = mo_path(language)
    if not path.is_file() or path.read_bytes() != expected:
        return [f"{language}: {path.relative_to(ROOT)} is out of date with its .po"]
    return []


def _strings(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def all_problems() -> list[str]:
    problems = stale_template()
    for language in catalogue_languages():
        problems += missing_entries(language)
        problems += placeholder_mismatches(language)
        problems += stale_compiled(language)
    for language in complete_languages():
        problems += untranslated(language)
    return problems


def statistics() -> Iterable[str]:
    template = read(POT)
    total = len(message_ids(template))
    for language in catalogue_languages():
        catalog = read(po_path(language), language)
        done = sum(
            1
            for m in catalog
            if m.id and m.id in message_ids(template) and all(_strings(m)) and not m.fuzzy
        )
        yield f"{language}: {done}/{total} translated"


def main(argv: list[str]) -> int:
    command, *rest = argv or ["check"]
    if command == "extract":
        cmd_extract()
    elif command == "merge":
        cmd_merge(guess="--guess" in rest)
    elif command == "compile":
        cmd_compile()
    elif command == "update":
        cmd_merge(cmd_extract(), guess="--guess" in rest)
        cmd_compile()
        print("\n".join(statistics()))
    elif command == "init" and len(rest) == 1:
        cmd_init(rest[0])
    elif command == "check":
        problems = all_problems()
        print("\n".join([*problems, *statistics()]))
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
