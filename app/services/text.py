"""Clean text that people type or cameras send, before it is checked, stored or exported.

Control characters break XML feeds and calendar files, a NUL byte cannot be stored in PostgreSQL, and
zero-width characters make a field look filled while nothing shows. Every form and API boundary cleans
text with these functions, so the rules are the same everywhere.
"""

from __future__ import annotations

import unicodedata

# Joiners stay inside text (they build emoji and shape some scripts); they alone never fill a field.
_JOINERS = frozenset("\u200c\u200d")


def _is_invisible(char: str) -> bool:
    """Return True for controls (Cc), format characters (Cf), and separators other than space."""
    category = unicodedata.category(char)
    return category in ("Cc", "Cf", "Cs", "Cn", "Zl", "Zp") and char not in _JOINERS


def _shows_something(text: str) -> bool:
    return any(not ch.isspace() and ch not in _JOINERS for ch in text)


def clean_line(value: str | None) -> str:
    """Return one line of visible text: controls, invisible characters and line breaks removed.

    Line breaks and tabs become spaces and runs of spaces become one; text that shows nothing (only
    spaces, zero-width or control characters) becomes ``""``, so that "required" checks see it empty.
    """
    if not value:
        return ""
    spaced = "".join(" " if ch in "\t\n\r\v\f\u2028\u2029\x85" else ch for ch in value)
    text = " ".join("".join(ch for ch in spaced if not _is_invisible(ch)).split())
    return text if _shows_something(text) else ""


def clean_lines(value: str | None) -> str:
    """Return multi-line text: like :func:`clean_line`, but tabs and line breaks (as ``\\n``) stay."""
    if not value:
        return ""
    unified = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    unified = unified.replace("\u2029", "\n").replace("\x85", "\n")
    text = "".join(ch for ch in unified if ch in "\t\n" or not _is_invisible(ch))
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    return text if _shows_something(text) else ""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return e.g. "1 change", "2 changes", "0 stickies": the count with the noun that fits it.

    The one place that picks a noun's form for a count: the command line, flash messages and
    templates (the ``plural`` filter) all use it. ``plural_form`` is for nouns the rule misses.
    """
    if count == 1:
        return f"{count} {singular}"
    if plural_form is None:
        if singular.endswith("y") and singular[-2:-1] not in "aeiou":
            plural_form = singular[:-1] + "ies"
        elif singular.endswith(("s", "x", "ch", "sh")):
            plural_form = singular + "es"
        else:
            plural_form = singular + "s"
    return f"{count} {plural_form}"


def unprintable_in(value: str) -> str | None:
    """Return a description of the first control or invisible character in ``value``, or None.

    For machine-made identifiers (scan ids, token names) that are refused rather than cleaned.
    """
    if value.isascii() and value.isprintable():  # the usual case, without a look at each character
        return None
    for index, ch in enumerate(value):
        if _is_invisible(ch) or ch in "\t\n\r" or ch in _JOINERS:
            return f"U+{ord(ch):04X} at position {index + 1}"
    return None
